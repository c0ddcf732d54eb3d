"""Train a new model version from labelled CSVs, gate it against the current one, promote it."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from coopclf.artifact import ArtifactStore
from coopclf.errors import ArtifactError
from coopclf.signing import Ed25519PrivateKey, load_private_key
from coopclf.pipeline import build_pipeline
from coopclf.predictor import Predictor
from coopclf.selection import Selection, select_model
from coopclf.training.evaluate import evaluate
from coopclf.training.ingest import Dataset, load_dataset

HOLDOUT_EVERY = 10  # one text in ten, chosen by the hash of its text, is held out for the gate
MAX_REGRESSION = 0.01


@dataclass
class TrainingResult:
    """What a training run produced and decided."""

    version: str
    promoted: bool
    reason: str
    selection: Selection
    candidate_metrics: dict[str, Any]
    current_metrics: dict[str, Any] | None


def in_holdout(text: str) -> bool:
    """Whether a text belongs to the fixed gate split (stable across runs and data files)."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) % HOLDOUT_EVERY == 0


def split_holdout(dataset: Dataset) -> tuple[Dataset, Dataset]:
    """Split a dataset into its training part and its fixed held-out part."""
    keep = [not in_holdout(t) for t in dataset.texts]

    def part(flag: bool) -> Dataset:
        rows = [(t, y) for t, y, k in zip(dataset.texts, dataset.labels, keep) if k == flag]
        return Dataset([t for t, _ in rows], [y for _, y in rows], dataset.label_set, dataset.sources)

    return part(True), part(False)


def _relative(path: str) -> str:
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:
        return Path(path).as_posix()


def train(
    data: Sequence[str | Path],
    *,
    artifacts: str | Path | ArtifactStore | None = None,
    holdout: str | Path | None = None,
    max_regression: float = MAX_REGRESSION,
    force: bool = False,
    labels: Sequence[str] | None = None,
    skip_invalid: bool = False,
    grid: dict[str, list[Any]] | None = None,
    folds: int = 5,
    seed: int = 0,
    signing_key: str | Path | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> TrainingResult:
    """Fit, cross-validate, save a new version (signed with `signing_key`, a PEM private key file, if
    given), and promote it if it passes the quality gate."""
    store = artifacts if isinstance(artifacts, ArtifactStore) else ArtifactStore(artifacts)
    key = _signing_key(store, signing_key)
    dataset = load_dataset(data, labels=labels, skip_invalid=skip_invalid)
    log(f"read {len(dataset.texts)} unique paragraphs from {len(dataset.sources)} file(s)"
        f"{f'; merged {dataset.merged} exact duplicates' if dataset.merged else ''}"
        f"{f'; skipped {dataset.skipped} invalid rows' if dataset.skipped else ''}"
        f"{f'; newer feedback overrode {dataset.overridden} earlier labels' if dataset.overridden else ''}")
    if holdout is not None:
        train_set = dataset
        held = load_dataset([holdout], labels=dataset.label_set, skip_invalid=skip_invalid)
    else:
        train_set, held = split_holdout(dataset)
    log(f"training on {len(train_set.texts)}, gate evaluated on {len(held.texts)} held-out paragraphs")
    Y = train_set.matrix()
    selection = select_model(train_set.texts, Y, dataset.label_set, grid=grid, folds=folds, seed=seed)
    log(f"cross-validation chose {selection.choice}: {selection.reason}")
    pipeline = build_pipeline(**selection.params, seed=seed).fit(train_set.texts, Y)
    manifest: dict[str, Any] = {
        "labels": list(dataset.label_set),
        "thresholds": selection.thresholds,
        "params": selection.params,
        "pooling": selection.pooling,
        "seed": seed,
        "selection": {"folds": folds, "reason": selection.reason, "candidates": selection.candidates},
        "cv_metrics": {
            "macro_f1": selection.macro_f1,
            "per_label": {label: asdict(score) for label, score in selection.per_label.items()},
        },
        "data_hash": dataset.data_hash,
        "training_data": [
            {"path": _relative(s.path), "sha256": s.sha256, "rows": s.rows} for s in dataset.sources
        ],
        "training_rows": len(train_set.texts),
        "holdout": _relative(str(holdout)) if holdout is not None else f"1 in {HOLDOUT_EVERY} by text hash",
    }
    candidate = Predictor.from_pipeline(pipeline, manifest)
    candidate_metrics = evaluate(candidate, held).metrics if held.texts else {}
    current_metrics, promote, reason = _gate(store, candidate_metrics, held, dataset.label_set,
                                             max_regression, force)
    manifest["holdout_metrics"] = {k: v for k, v in candidate_metrics.items() if k not in {"data", "model_version"}}
    version = store.save(pipeline, manifest, signing_key=key)
    if promote:
        store.promote(version)
    return TrainingResult(version, promote, reason, selection, candidate_metrics, current_metrics)


def _signing_key(store: ArtifactStore, path: str | Path | None) -> Ed25519PrivateKey | None:
    """The private key to sign with, checked before the long run: it must be one the store trusts."""
    if path is None:
        if store.trusted:
            raise ArtifactError("trusted keys are configured but no signing key was given; the new version "
                                "could not be loaded: pass --signing-key (or set COOPCLF_SIGNING_KEY)")
        return None
    key = load_private_key(path)
    if store.trusted and not store.trusted.trusts(key):
        raise ArtifactError(f"{path}: this key's public half is not among the trusted keys, so the new "
                            "version could not be loaded; add its .pub file to COOPCLF_TRUSTED_KEYS")
    return key


def _gate(
    store: ArtifactStore,
    candidate: dict[str, Any],
    held: Dataset,
    label_set: tuple[str, ...],
    max_regression: float,
    force: bool,
) -> tuple[dict[str, Any] | None, bool, str]:
    """Decide promotion: the candidate's held-out macro-F1 may trail the current one's by at most max_regression."""
    current_version = store.current()
    if current_version is None:
        return None, True, "no current version to compare with"
    try:
        current = Predictor(store.load(current_version))
    except ArtifactError as exc:
        return None, True, f"current version {current_version} is unusable ({exc})"
    if set(current.labels) != set(label_set):
        if force:
            return None, True, "label set differs from the current version; promoted because of --force"
        return None, False, (f"label set differs from current version {current_version} "
                             f"({', '.join(current.labels)}); not comparable, use --force to promote")
    if not held.texts:
        return None, force, "no held-out data to compare on" + ("; --force" if force else "")
    current_metrics = evaluate(current, held).metrics
    new, old = candidate["macro_f1"], current_metrics["macro_f1"]
    verdict = f"held-out macro-F1 {new:.4f} vs current {current_version} {old:.4f}"
    if new >= old - max_regression:
        return current_metrics, True, f"{verdict}: within the allowed regression of {max_regression}"
    if force:
        return current_metrics, True, f"{verdict}: worse by more than {max_regression}, promoted because of --force"
    return current_metrics, False, f"{verdict}: worse by more than {max_regression}; kept unpromoted"
