"""Multi-label quality figures, computed the same way for CV, the quality gate and evaluate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support


def multilabel_metrics(Y_true: np.ndarray, Y_pred: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """Per-label precision/recall/F1/support, micro and macro F1, exact match, no-label accuracy."""
    Y_true = np.asarray(Y_true, dtype=int).reshape(-1, len(labels))
    Y_pred = np.asarray(Y_pred, dtype=int).reshape(-1, len(labels))
    precision, recall, f1, support = precision_recall_fscore_support(
        Y_true, Y_pred, average=None, zero_division=0
    )
    none_true = Y_true.sum(axis=1) == 0
    none_pred = Y_pred.sum(axis=1) == 0
    return {
        "macro_f1": round(float(np.mean(f1)), 4),
        "micro_f1": round(float(f1_score(Y_true, Y_pred, average="micro", zero_division=0)), 4),
        "exact_match": round(float((Y_true == Y_pred).all(axis=1).mean()), 4) if len(Y_true) else 0.0,
        "no_label_accuracy": round(float(none_pred[none_true].mean()), 4) if none_true.any() else None,
        "no_label_support": int(none_true.sum()),
        "samples": int(len(Y_true)),
        "per_label": {
            label: {
                "precision": round(float(precision[j]), 4),
                "recall": round(float(recall[j]), 4),
                "f1": round(float(f1[j]), 4),
                "support": int(support[j]),
            }
            for j, label in enumerate(labels)
        },
    }
