"""Choose hyper-parameters and per-label decision thresholds by multi-label stratified CV."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold
from sklearn.base import clone

from coopclf.errors import InvalidInput
from coopclf.pipeline import build_pipeline
from coopclf.pooling import POOLINGS, combine, sentence_rows

# "word+char+presence" rather than plain "word+char": the two tied in cross-validation on the corpus
# of 2026-11-28 (macro-F1 0.9278 each, 6,107 paragraphs), and the presence block follows the
# guideline's rule that an area named once counts however long the paragraph is (on real news it
# is the better of the two). The acronym block joins it because the guideline counts "IT", "ICT",
# "AI" and "5G" as their areas, which lower-cased word features cannot see.
DEFAULT_GRID: dict[str, list[Any]] = {
    "features": ["word", "word+char+presence+acronym"],
    "C": [2.0, 8.0, 32.0],
    "min_df": [1],
    "pooling": list(POOLINGS),
}
THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.025), 3)
# F1 is averaged over this many grid steps either side before the best threshold is taken. On this
# corpus the F1 curves are flat near their peak, so the raw argmax jumped by up to 0.125 when 17
# sentences of 7,897 were reworded; with a +-0.05 window it moved by at most 0.05 (CV macro-F1 0.002 lower).
# Candidates are the thresholds with a full window: 0.1 to 0.9.
THRESHOLD_SMOOTHING = 2
# A word-only model is several times faster to serve; prefer it unless char n-grams clearly win.
SIMPLER_MARGIN = 0.01
# Sentence pooling scores every paragraph about twice. A gain smaller than the ~0.002 that rewording
# a few sentences moves CV macro-F1 by (see above) does not pay for that.
POOLING_MARGIN = 0.002


@dataclass
class LabelScore:
    """Cross-validated quality of one label at its chosen threshold."""

    threshold: float
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Selection:
    """What cross-validation chose, and the evidence it chose by."""

    params: dict[str, Any]
    thresholds: dict[str, float]
    per_label: dict[str, LabelScore]
    macro_f1: float
    folds: int
    candidates: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""
    pooling: str = "paragraph"  # how a paragraph's score is formed (classifier.pooling)

    @property
    def choice(self) -> dict[str, Any]:
        """Everything cross-validation chose but the thresholds: the pipeline's params and the pooling."""
        return self.params | {"pooling": self.pooling}


def best_threshold(y_true: np.ndarray, proba: np.ndarray) -> LabelScore:
    """The threshold on `proba` with the best F1 averaged over its neighbours (ties go to the lower one)."""
    y = y_true.astype(bool)
    predicted = proba[:, None] >= THRESHOLDS[None, :]
    tp = (predicted & y[:, None]).sum(axis=0)
    fp = (predicted & ~y[:, None]).sum(axis=0)
    fn = (~predicted & y[:, None]).sum(axis=0)
    f1 = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros(len(THRESHOLDS)), where=(2 * tp + fp + fn) > 0)
    half = THRESHOLD_SMOOTHING
    # Only thresholds with a full window of neighbours are candidates, so an end of the grid
    # cannot win on a lone spike.
    smoothed = np.convolve(f1, np.full(2 * half + 1, 1 / (2 * half + 1)), mode="valid")
    best = half + int(np.argmax(smoothed))
    precision = tp[best] / (tp[best] + fp[best]) if tp[best] + fp[best] else 0.0
    recall = tp[best] / (tp[best] + fn[best]) if tp[best] + fn[best] else 0.0
    return LabelScore(float(THRESHOLDS[best]), round(float(precision), 4), round(float(recall), 4),
                      round(float(f1[best]), 4), int(y.sum()))


def out_of_fold_proba(
    texts: Sequence[str], Y: np.ndarray, grid: dict[str, list[Any]], folds: int, seed: int
) -> dict[tuple[Any, ...], np.ndarray]:
    """Out-of-fold probabilities keyed (features, C, min_df, pooling); features are fitted once per fold."""
    splitter = MultilabelStratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    texts_arr = np.asarray(texts, dtype=object)
    poolings = grid.get("pooling", ["paragraph"])  # a grid without "pooling" scores whole paragraphs
    results: dict[tuple[Any, ...], np.ndarray] = {}
    for features, min_df in itertools.product(grid["features"], grid["min_df"]):
        for C, pooling in itertools.product(grid["C"], poolings):
            results[(features, C, min_df, pooling)] = np.zeros(Y.shape, dtype=np.float64)
        for train, test in splitter.split(np.zeros(len(Y)), Y):
            template = build_pipeline(features=features, min_df=min_df, seed=seed)
            vectoriser = clone(template.named_steps["features"])
            X_train = vectoriser.fit_transform(texts_arr[train])
            X_test = vectoriser.transform(texts_arr[test])
            sentences, owners = sentence_rows(list(texts_arr[test]))
            X_sentences = vectoriser.transform(sentences) if sentences else None
            for C in grid["C"]:
                model = clone(template.named_steps["classifier"]).set_params(estimator__C=C)
                model.fit(X_train, Y[train])
                paragraph = model.predict_proba(X_test)
                sentence = model.predict_proba(X_sentences) if X_sentences is not None else paragraph[:0]
                for pooling in poolings:
                    results[(features, C, min_df, pooling)][test] = combine(pooling, paragraph, sentence, owners)
    return results


def select_model(
    texts: Sequence[str],
    Y: np.ndarray,
    labels: Sequence[str],
    *,
    grid: dict[str, list[Any]] | None = None,
    folds: int = 5,
    seed: int = 0,
) -> Selection:
    """Cross-validate every grid point, tune each label's threshold, keep the best macro-F1."""
    grid = grid or DEFAULT_GRID
    _check_labels(Y, labels, folds)
    oof = out_of_fold_proba(texts, Y, grid, folds, seed)
    scored = []
    for (features, C, min_df, pooling), proba in oof.items():
        per_label = {label: best_threshold(Y[:, j], proba[:, j]) for j, label in enumerate(labels)}
        macro = float(np.mean([s.f1 for s in per_label.values()]))
        scored.append(({"features": features, "C": C, "min_df": min_df, "pooling": pooling},
                       per_label, round(macro, 4)))
    best, reason = choose(scored)
    chosen, per_label, macro = best
    params = {key: value for key, value in chosen.items() if key != "pooling"}
    return Selection(
        params=params,
        thresholds={label: score.threshold for label, score in per_label.items()},
        per_label=per_label,
        macro_f1=macro,
        folds=folds,
        candidates=[p | {"macro_f1": m} for p, _, m in scored],
        reason=reason,
        pooling=chosen["pooling"],
    )


def choose(scored: list[tuple[dict[str, Any], Any, float]]) -> tuple[tuple[dict[str, Any], Any, float], str]:
    """The best (params, per-label scores, macro-F1) candidate, preferring cheaper ones within a margin."""
    best = max(scored, key=lambda s: s[2])
    reason = f"highest cross-validated macro-F1 ({best[2]:.4f})"
    if best[0]["pooling"] != "paragraph":
        best, reason = _cheaper(scored, best, reason, {"pooling": "paragraph"}, POOLING_MARGIN,
                                "paragraph scores", "about half the work")
    if best[0]["features"] != "word":
        best, reason = _cheaper(scored, best, reason, {"features": "word", "pooling": best[0]["pooling"]},
                                SIMPLER_MARGIN, "word-only features", "much faster to serve")
    return best, reason


def _cheaper(scored: list[tuple[dict[str, Any], Any, float]], best: tuple[dict[str, Any], Any, float], reason: str,
             match: dict[str, Any], margin: float, what: str, why: str) -> tuple[tuple[dict[str, Any], Any, float], str]:
    """The best candidate whose params include `match`, if within `margin` of `best`; else `best` unchanged."""
    cheaper = [s for s in scored if s[0].items() >= match.items()]
    if cheaper:
        runner_up = max(cheaper, key=lambda s: s[2])
        if runner_up[2] >= best[2] - margin:
            return runner_up, (f"{what} within {margin} of the best macro-F1 "
                               f"({runner_up[2]:.4f} vs {best[2]:.4f}) and {why}")
    return best, reason


def _check_labels(Y: np.ndarray, labels: Sequence[str], folds: int) -> None:
    """Refuse data on which a fold would hold no positive or no negative of some label."""
    counts = Y.sum(axis=0)
    for label, count in zip(labels, counts):
        if count < folds or Y.shape[0] - count < folds:
            raise InvalidInput(
                f"label {label!r} has {int(count)} positive and {int(Y.shape[0] - count)} negative "
                f"examples; {folds}-fold cross-validation needs at least {folds} of each"
            )
