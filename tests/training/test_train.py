"""Training runs: versions, the quality gate, and interruptions that leave nothing behind."""

from __future__ import annotations

import csv
from pathlib import Path

import joblib
import pytest

from coopclf.artifact import ArtifactStore
from coopclf.predictor import Predictor
from coopclf.training.train import in_holdout, split_holdout, train
from tests.conftest import QUICK_GRID, TINY_CSV, train_tiny


def scrambled_copy(tmp_path: Path) -> Path:
    """The tiny corpus with every label moved to the next one: a model trained on it is wrong."""
    order = ["counterterrorism", "human_trafficking", "narcotics", "trade", "information_technology", "tourism"]
    shift = {label: order[(i + 1) % len(order)] for i, label in enumerate(order)}
    path = tmp_path / "scrambled.csv"
    with TINY_CSV.open() as src, path.open("w", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(["text", "labels"])
        for row in csv.DictReader(src):
            writer.writerow([row["text"], ";".join(shift[x] for x in row["labels"].split(";") if x)])
    return path


def test_first_run_promotes_and_records_the_choice(tmp_path: Path) -> None:
    result = train([TINY_CSV], artifacts=tmp_path, grid=QUICK_GRID, folds=3)
    store = ArtifactStore(tmp_path)
    assert result.promoted and store.current() == result.version
    manifest = store.manifest(result.version)
    assert manifest["params"] == {"features": "word", "C": 8.0, "min_df": 1}
    assert set(manifest["thresholds"]) == set(manifest["labels"])
    assert manifest["selection"]["candidates"][0]["macro_f1"] == result.selection.macro_f1
    assert manifest["training_rows"] + len(split_holdout_of_tiny()[1]) == 54


def split_holdout_of_tiny() -> tuple[list[str], list[str]]:
    from coopclf.training.ingest import load_dataset

    train_part, held = split_holdout(load_dataset([TINY_CSV]))
    return train_part.texts, held.texts


def test_holdout_split_is_fixed_by_text() -> None:
    train_texts, held = split_holdout_of_tiny()
    assert held and all(in_holdout(t) for t in held) and not any(in_holdout(t) for t in train_texts)


def test_gate_promotes_an_equally_good_model(tiny_artifacts: Path) -> None:
    before = ArtifactStore(tiny_artifacts).current()
    result = train([TINY_CSV], artifacts=tiny_artifacts, grid=QUICK_GRID, folds=3, holdout=TINY_CSV)
    assert result.promoted, result.reason
    assert ArtifactStore(tiny_artifacts).current() == result.version != before


def test_gate_keeps_a_worse_model_unpromoted_unless_forced(tiny_artifacts: Path, tmp_path: Path) -> None:
    store = ArtifactStore(tiny_artifacts)
    before = store.current()
    bad = scrambled_copy(tmp_path)
    result = train([bad], artifacts=tiny_artifacts, grid=QUICK_GRID, folds=3, holdout=TINY_CSV)
    assert not result.promoted and "kept unpromoted" in result.reason
    assert store.current() == before and result.version in store.versions()
    assert result.candidate_metrics["macro_f1"] < result.current_metrics["macro_f1"] - 0.01
    forced = train([bad], artifacts=tiny_artifacts, grid=QUICK_GRID, folds=3, holdout=TINY_CSV, force=True)
    assert forced.promoted and store.current() == forced.version


def test_max_regression_widens_the_gate(tiny_artifacts: Path, tmp_path: Path) -> None:
    result = train([scrambled_copy(tmp_path)], artifacts=tiny_artifacts, grid=QUICK_GRID, folds=3,
                   holdout=TINY_CSV, max_regression=1.0)
    assert result.promoted


def test_interrupted_save_leaves_pointer_and_versions_untouched(
    tiny_artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ArtifactStore(tiny_artifacts)
    before_current, before_versions = store.current(), store.versions()

    def dump_half_then_interrupt(value: object, filename: str, **kwargs: object) -> None:
        Path(filename).write_bytes(b"half a model")
        raise KeyboardInterrupt

    monkeypatch.setattr(joblib, "dump", dump_half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        train_tiny(tiny_artifacts, force=True)
    assert store.current() == before_current
    assert store.versions() == before_versions
    assert sorted(p.name for p in tiny_artifacts.iterdir()) == sorted(before_versions + ["CURRENT", "HISTORY"])
    Predictor(store.load())  # the current version still loads


def test_failed_run_before_saving_changes_nothing(tiny_artifacts: Path, tmp_path: Path) -> None:
    store = ArtifactStore(tiny_artifacts)
    before = (store.current(), store.versions())
    only_one_label = tmp_path / "one.csv"
    only_one_label.write_text("text,labels\n" + "".join(f"text number {i},trade\n" for i in range(10)))
    with pytest.raises(Exception, match="label"):
        train([only_one_label], artifacts=tiny_artifacts, grid=QUICK_GRID, folds=3)
    assert (store.current(), store.versions()) == before


def test_feedback_that_contradicts_the_corpus_is_applied_and_reported(tmp_path: Path) -> None:
    with TINY_CSV.open() as handle:
        rows = list(csv.DictReader(handle))
    changed = next(r for r in rows if r["labels"] == "narcotics")
    (tmp_path / "feedback").mkdir()
    with (tmp_path / "feedback" / "feedback.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "labels"])
        writer.writerow([changed["text"], "trade"])
        writer.writerow([changed["text"], "narcotics;trade"])  # the analyst's newer answer wins
    messages: list[str] = []
    result = train([TINY_CSV, tmp_path / "feedback"], artifacts=tmp_path / "a", grid=QUICK_GRID, folds=3,
                   log=messages.append)
    assert "newer feedback overrode 2 earlier labels" in messages[0]
    assert result.version and ArtifactStore(tmp_path / "a").current() == result.version
