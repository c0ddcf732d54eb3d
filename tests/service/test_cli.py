"""The coopclf command line, run in-process through its entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coopclf.artifact import ArtifactStore
from coopclf.service.cli import main
from tests.conftest import TINY_CSV

ARTICLE = ("Customs officers seized cocaine hidden in a fruit shipment at the port.\n\n"
           "Hotel occupancy reached a record as tourists returned to the coast.\n\n"
           "The home side won the cup final after a late goal.\n")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", [[], ["train"], ["predict"], ["evaluate"], ["models"], ["serve"]])
def test_help_explains_every_command(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: coopclf" in out and "--help" in out


@pytest.mark.parametrize("pooling", ["paragraph", "sentence-mean"])
def test_train_then_list_models(capsys: pytest.CaptureFixture[str], tmp_path: Path, pooling: str) -> None:
    code, out, err = run(capsys, "train", "--data", str(TINY_CSV), "--artifacts", str(tmp_path),
                         "--features", "word", "--pooling", pooling, "--folds", "3")
    assert code == 0, err
    version = ArtifactStore(tmp_path).current()
    assert f"version {version} promoted to current" in out
    assert ArtifactStore(tmp_path).load(version).manifest["pooling"] == pooling
    code, out, _ = run(capsys, "models", "list", "--artifacts", str(tmp_path))
    assert code == 0 and out.startswith(f"* {version}")


def test_predict_text_and_file(capsys: pytest.CaptureFixture[str], tiny_artifacts: Path, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "predict", "--artifacts", str(tiny_artifacts),
                       "Customs officers seized cocaine hidden in a fruit shipment.")
    assert code == 0 and out.splitlines()[0] == "narcotics"
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE)
    code, out, _ = run(capsys, "predict", "--artifacts", str(tiny_artifacts), "--file", str(article),
                       "--format", "json", "--explain")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["paragraph"] for r in rows] == [1, 2, 3]
    assert [r["labels"] for r in rows] == [["narcotics"], ["tourism"], []]
    assert rows[0]["evidence"]["narcotics"] and rows[0]["model_version"]


def test_evaluate_writes_report(capsys: pytest.CaptureFixture[str], tiny_artifacts: Path, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "evaluate", "--artifacts", str(tiny_artifacts), "--data", str(TINY_CSV),
                       "--report", str(tmp_path / "r"))
    assert code == 0 and "macro F1" in out
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())["per_label"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["predict", "some text", "--file", "x.txt"], "either a TEXT or --file"),
        (["predict", "--file", "/nonexistent/article.txt"], "No such file"),
        (["models", "promote", "no-such-version"], "not found"),
        (["evaluate", "--data", "/nonexistent.csv"], "no such file"),
    ],
)
def test_errors_are_one_line_without_traceback(capsys: pytest.CaptureFixture[str], tiny_artifacts: Path,
                                               argv: list[str], message: str) -> None:
    code, _, err = run(capsys, *argv, "--artifacts", str(tiny_artifacts))
    assert code == 1 and err.startswith("coopclf: error:") and message in err
    assert "Traceback" not in err


def test_bad_training_data_lists_located_problems(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,labels\nSome text here,narcotic\n")
    code, _, err = run(capsys, "train", "--data", str(bad), "--artifacts", str(tmp_path / "a"))
    assert code == 1 and f"{bad}:2: column 'labels'" in err and "did you mean 'narcotics'" in err
    assert not (tmp_path / "a").exists() or not ArtifactStore(tmp_path / "a").versions()


def test_models_rollback(capsys: pytest.CaptureFixture[str], tiny_artifacts: Path) -> None:
    first = ArtifactStore(tiny_artifacts).current()
    run(capsys, "train", "--data", str(TINY_CSV), "--artifacts", str(tiny_artifacts), "--features", "word",
        "--folds", "3", "--force")
    code, out, _ = run(capsys, "models", "rollback", "--artifacts", str(tiny_artifacts))
    assert code == 0 and first in out and ArtifactStore(tiny_artifacts).current() == first
