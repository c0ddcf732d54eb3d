"""Score a model on labelled data and write the figures as a table, JSON and plots."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from coopclf.files import write_atomic
from coopclf.labels import display_name
from coopclf.predictor import Predictor
from coopclf.quality import multilabel_metrics
from coopclf.training.ingest import Dataset


@dataclass
class Evaluation:
    """Figures of one model on one dataset, with what the plots need."""

    metrics: dict[str, Any]
    y_true: np.ndarray
    proba: np.ndarray
    thresholds: dict[str, float]


def evaluate(predictor: Predictor, dataset: Dataset) -> Evaluation:
    """Metrics of `predictor` on `dataset`; an abstention counts as predicting no label."""
    predictions = predictor.predict(dataset.texts)
    positions = {label: j for j, label in enumerate(predictor.labels)}
    Y_true = np.zeros((len(dataset.texts), len(predictor.labels)), dtype=int)
    for i, labels in enumerate(dataset.labels):
        for label in labels:
            if label in positions:
                Y_true[i, positions[label]] = 1
    Y_pred = np.array([[label in p.labels for label in predictor.labels] for p in predictions], dtype=int)
    proba = np.array([[p.scores[label] for label in predictor.labels] for p in predictions])
    metrics = multilabel_metrics(Y_true, Y_pred.reshape(Y_true.shape), predictor.labels)
    metrics["model_version"] = predictor.version
    metrics["abstained"] = sum(p.abstained is not None for p in predictions)
    metrics["data"] = [{"path": s.path, "sha256": s.sha256, "rows": s.rows} for s in dataset.sources]
    thresholds = dict(zip(predictor.labels, map(float, predictor.thresholds)))
    return Evaluation(metrics, Y_true, proba.reshape(Y_true.shape), thresholds)


def format_table(metrics: dict[str, Any]) -> str:
    """A fixed-width table of the per-label and overall figures, for the terminal."""
    lines = [f"{'label':<24} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}"]
    for label, row in metrics["per_label"].items():
        lines.append(f"{label:<24} {row['precision']:>9.3f} {row['recall']:>7.3f} "
                     f"{row['f1']:>7.3f} {row['support']:>8d}")
    no_label = metrics["no_label_accuracy"]
    lines += [
        "",
        f"macro F1          {metrics['macro_f1']:.3f}",
        f"micro F1          {metrics['micro_f1']:.3f}",
        f"exact match       {metrics['exact_match']:.3f}",
        f"no-label accuracy {'n/a' if no_label is None else f'{no_label:.3f}'} "
        f"({metrics['no_label_support']} paragraphs with no label)",
        f"model version     {metrics['model_version']}",
    ]
    return "\n".join(lines)


def write_report(report_dir: str | Path, evaluation: Evaluation) -> list[Path]:
    """Write metrics.json, report.md and one precision-recall curve PNG per label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    out = Path(report_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = evaluation.metrics
    labels = list(metrics["per_label"])
    written = []
    for j, label in enumerate(labels):
        y, p = evaluation.y_true[:, j], evaluation.proba[:, j]
        fig, ax = plt.subplots(figsize=(5, 4))
        if y.any():
            precision, recall, _ = precision_recall_curve(y, p)
            ax.plot(recall, precision, label="precision-recall")
            t = evaluation.thresholds[label]
            chosen = p >= t
            tp = float((chosen & (y == 1)).sum())
            ax.plot([tp / y.sum()], [tp / chosen.sum() if chosen.sum() else 1.0], "o",
                    color="crimson", label=f"threshold {t:.3f}")
            ax.legend(loc="lower left")
        else:
            ax.text(0.5, 0.5, "no positive examples", ha="center")
        ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02),
               title=display_name(label))
        fig.tight_layout()
        path = out / f"pr_{label}.png"
        image = io.BytesIO()
        fig.savefig(image, format="png", dpi=100)
        plt.close(fig)
        write_atomic(path, image.getvalue())
        written.append(path)
    write_atomic(out / "metrics.json", (json.dumps(metrics, indent=2) + "\n").encode())
    images = "\n".join(f"![{display_name(label)}](pr_{label}.png)" for label in labels)
    report = (f"# Evaluation of model {metrics['model_version']}\n\n"
              f"Data: {', '.join(d['path'] for d in metrics['data'])} ({metrics['samples']} paragraphs)\n\n"
              f"```\n{format_table(metrics)}\n```\n\n## Precision-recall curves\n\n{images}\n")
    write_atomic(out / "report.md", report.encode())
    return written + [out / "metrics.json", out / "report.md"]
