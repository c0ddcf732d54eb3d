"""Evaluation figures and the report directory."""

from __future__ import annotations

import json
from pathlib import Path

from coopclf.predictor import Predictor
from coopclf.training.evaluate import evaluate, format_table, write_report
from coopclf.training.ingest import load_dataset
from tests.conftest import TINY_CSV


def test_metrics_keys_and_ranges(tiny_predictor: Predictor) -> None:
    result = evaluate(tiny_predictor, load_dataset([TINY_CSV]))
    metrics = result.metrics
    for key in ("macro_f1", "micro_f1", "exact_match", "no_label_accuracy", "per_label", "model_version"):
        assert key in metrics
    assert metrics["model_version"] == tiny_predictor.version
    assert set(metrics["per_label"]) == set(tiny_predictor.labels)
    assert sum(row["support"] for row in metrics["per_label"].values()) == 36 + 6 * 2
    assert metrics["no_label_support"] == 12
    assert 0.8 <= metrics["macro_f1"] <= 1.0  # the model has seen these texts
    table = format_table(metrics)
    assert "macro F1" in table and "narcotics" in table


def test_perfect_and_empty_predictions_score_as_expected(tiny_predictor: Predictor, tmp_path: Path) -> None:
    path = tmp_path / "none.csv"
    path.write_text("text,labels\nThe home side won the cup final after a late goal,\n"
                    "Parliament approved the education budget after a debate,\n")
    metrics = evaluate(tiny_predictor, load_dataset([path])).metrics
    assert metrics["no_label_accuracy"] == 1.0 and metrics["exact_match"] == 1.0
    assert metrics["macro_f1"] == 0.0  # no positives at all: F1 is zero by convention


def test_report_directory(tiny_predictor: Predictor, tmp_path: Path) -> None:
    result = evaluate(tiny_predictor, load_dataset([TINY_CSV]))
    written = write_report(tmp_path / "report", result)
    names = {p.name for p in written}
    assert {"metrics.json", "report.md"} <= names
    assert {f"pr_{label}.png" for label in tiny_predictor.labels} <= names
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert metrics["macro_f1"] == result.metrics["macro_f1"]
    for png in (tmp_path / "report").glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list((tmp_path / "report").glob(".*"))
