"""The coopclf command line, run in-process through its entry point."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from coopclf.artifact import ArtifactStore, default_artifacts_dir
from coopclf.service.cli import main
from coopclf.signing import new_key_pair
from tests.conftest import TINY_CSV

ARTICLE = ("Customs officers seized cocaine hidden in a fruit shipment at the port.\n\n"
           "Hotel occupancy reached a record as tourists returned to the coast.\n\n"
           "The home side won the cup final after a late goal.\n")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", [[], ["train"], ["predict"], ["evaluate"], ["models"], ["serve"], ["score"],
                                     ["aggregate"]])
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


@pytest.fixture
def key_pair(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> tuple[Path, Path]:
    """A key pair made by `coopclf keys new`."""
    code, out, _ = run(capsys, "keys", "new", "--out", str(tmp_path / "keys"))
    assert code == 0 and "coopclf-signing.pub" in out
    return tmp_path / "keys" / "coopclf-signing.key", tmp_path / "keys" / "coopclf-signing.pub"


def test_a_deployment_with_trusted_keys_runs_only_signed_versions(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        key_pair: tuple[Path, Path]) -> None:
    private, public = key_pair
    artifacts = str(tmp_path / "a")
    code, out, err = run(capsys, "train", "--data", str(TINY_CSV), "--artifacts", artifacts, "--features", "word",
                         "--folds", "3", "--signing-key", str(private))
    assert code == 0, err
    signed = ArtifactStore(artifacts).current()
    _, retired = new_key_pair(tmp_path / "retired")  # several keys: any of them will do
    monkeypatch.setenv("COOPCLF_TRUSTED_KEYS", f"{retired}{os.pathsep}{public}")
    code, out, _ = run(capsys, "predict", "--artifacts", artifacts, "Customs officers seized cocaine.")
    assert code == 0 and "narcotics" in out.splitlines()[0]
    # A second version, trained without the key (as if copied in by someone else), is refused everywhere.
    monkeypatch.delenv("COOPCLF_TRUSTED_KEYS")
    code, _, err = run(capsys, "train", "--data", str(TINY_CSV), "--artifacts", artifacts, "--features", "word",
                       "--folds", "3", "--force")
    unsigned = ArtifactStore(artifacts).current()
    assert code == 0 and unsigned != signed, err
    monkeypatch.setenv("COOPCLF_TRUSTED_KEYS", str(public))
    inp = tmp_path / "in.csv"
    inp.write_text("text\nCustoms officers seized cocaine.\n")
    for argv in (["predict", "Customs officers seized cocaine."], ["models", "promote", unsigned],
                 ["score", str(inp), "-o", str(tmp_path / "out.csv")], ["models", "rollback"]):
        ArtifactStore(artifacts)._point(unsigned if argv[1] != "promote" else signed)
        code, _, err = run(capsys, *argv, "--artifacts", artifacts)
        if argv[1] == "rollback":  # back to the signed version: allowed
            assert code == 0, err
            continue
        assert code == 1 and err.startswith("coopclf: error: ") and "not signed" in err, (argv, err)
        assert len(err.splitlines()) == 1 and not (tmp_path / "out.csv").exists()
    code, out, _ = run(capsys, "models", "sign", unsigned, "--key", str(private), "--artifacts", artifacts)
    assert code == 0 and f"{unsigned} signed with key" in out
    code, _, err = run(capsys, "models", "promote", unsigned, "--artifacts", artifacts)
    assert code == 0, err


def test_the_shipped_version_can_be_signed_and_then_trusted(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        key_pair: tuple[Path, Path]) -> None:
    shipped = default_artifacts_dir()
    version = ArtifactStore(shipped).current()
    artifacts = tmp_path / "shipped"
    shutil.copytree(shipped / version, artifacts / version)
    (artifacts / "CURRENT").write_text(version + "\n")
    monkeypatch.setenv("COOPCLF_TRUSTED_KEYS", str(key_pair[1]))
    code, _, err = run(capsys, "predict", "--artifacts", str(artifacts), "Customs officers seized cocaine.")
    assert code == 1 and "not signed" in err
    code, _, err = run(capsys, "models", "sign", version, "--key", str(key_pair[0]), "--artifacts", str(artifacts))
    assert code == 0, err
    code, out, err = run(capsys, "predict", "--artifacts", str(artifacts), "Customs officers seized cocaine.")
    assert code == 0 and "narcotics" in out.splitlines()[0], err


@pytest.mark.parametrize("argv", [
    ["models", "promote", "../elsewhere"],
    ["models", "promote", "/etc"],
    ["models", "sign", "../elsewhere", "--key", "no-such-key"],
    ["predict", "--model-version", "../elsewhere", "text to label"],
])
def test_versions_outside_the_artifacts_directory_are_one_line_errors(
        capsys: pytest.CaptureFixture[str], tiny_artifacts: Path, argv: list[str]) -> None:
    code, _, err = run(capsys, *argv, "--artifacts", str(tiny_artifacts))
    assert code == 1 and err.startswith("coopclf: error: ") and "not a model version name" in err, err


@pytest.mark.parametrize("argv", [["predict", "some text"], ["models", "promote", "CURRENT"], ["models", "list"]])
def test_a_malformed_manifest_is_a_one_line_error(capsys: pytest.CaptureFixture[str], tiny_artifacts: Path,
                                                  argv: list[str]) -> None:
    version = ArtifactStore(tiny_artifacts).current()
    path = tiny_artifacts / version / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["thresholds"] = ["0.5"] * len(manifest["labels"])
    path.write_text(json.dumps(manifest))
    argv = [version if a == "CURRENT" else a for a in argv]
    code, _, err = run(capsys, *argv, "--artifacts", str(tiny_artifacts))
    assert code == 1 and err == f"coopclf: error: {path}: manifest 'thresholds' must be a mapping of label to number\n"


def test_disk_full_while_scoring_is_one_line_naming_the_path(capsys: pytest.CaptureFixture[str],
                                                             tiny_artifacts: Path, tmp_path: Path) -> None:
    inp = tmp_path / "in.csv"
    inp.write_text("text\nCustoms officers seized cocaine.\n")
    out = tmp_path / "out.csv"
    (tmp_path / "out.csv.partial").symlink_to("/dev/full")  # opens, but takes no bytes: ENOSPC
    code, _, err = run(capsys, "score", str(inp), "-o", str(out), "--jobs", "1", "--artifacts", str(tiny_artifacts))
    assert code == 1 and err == f"coopclf: error: {out}: cannot write: No space left on device\n"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 12 KiB tmpfs: too small for a model or a scored file (needs root; skipped otherwise)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_stops_train_and_score_with_one_line(capsys: pytest.CaptureFixture[str], tiny_artifacts: Path,
                                                         tmp_path: Path, tiny_disk: Path) -> None:
    code, _, err = run(capsys, "train", "--data", str(TINY_CSV), "--artifacts", str(tiny_disk / "a"),
                       "--features", "word", "--folds", "3")
    last = err.splitlines()[-1]  # after the run's progress lines
    assert code == 1 and last.startswith(f"coopclf: error: {tiny_disk / 'a'}/") and last.endswith(
        ": cannot write: No space left on device") and "Traceback" not in err, err
    assert not [p for p in (tiny_disk / "a").iterdir()]  # the half-written version is gone
    inp = tmp_path / "in.csv"
    inp.write_text("text\n" + "Customs officers seized cocaine hidden in a fruit shipment.\n" * 2000)
    code, _, err = run(capsys, "score", str(inp), "-o", str(tiny_disk / "out.csv"), "--jobs", "1",
                       "--artifacts", str(tiny_artifacts))
    assert code == 1 and err.startswith(f"coopclf: error: {tiny_disk}/out.csv") and err.endswith(
        ": cannot write: No space left on device\n") and len(err.splitlines()) == 1, err


def test_serve_refuses_to_start_on_an_unsigned_version(tiny_artifacts: Path, tmp_path: Path) -> None:
    _, public = new_key_pair(tmp_path / "keys")
    env = os.environ | {"COOPCLF_TRUSTED_KEYS": str(public), "COOPCLF_PORT": "0"}
    done = subprocess.run([sys.executable, "-m", "coopclf.service.cli", "serve", "--artifacts", str(tiny_artifacts)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1 and done.stderr.splitlines()[-1].startswith("coopclf: error: cannot serve: ")
    assert "not signed" in done.stderr and "Traceback" not in done.stderr


def test_predict_file_gives_the_documents_parties_pairs_and_date(capsys: pytest.CaptureFixture[str],
                                                                 tiny_artifacts: Path, tmp_path: Path) -> None:
    article = tmp_path / "article.txt"
    article.write_text("date 2025-07-12 Pakistan and Bahrain agreed to fight cocaine smuggling.\n\n"
                       "The two sides also discussed tourism.\n\nPakistan thanked Bahrain.\n")
    code, out, _ = run(capsys, "predict", "--artifacts", str(tiny_artifacts), "--file", str(article),
                       "--format", "json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [(r["pair"], r["date"], r["parties"]) for r in rows] == [("BHR-PAK", "2025-07-12", ["PAK", "BHR"])] * 3
    assert rows[0]["countries"] == {"PAK": [[16, 24]], "BHR": [[29, 36]]}
    assert rows[1]["countries"] == {}
