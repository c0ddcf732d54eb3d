"""The installed distribution: one import name, a cheap import, the public API and the README's example."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import coopclf
from coopclf.errors import CoopclfError
from coopclf.predictor import Prediction, Predictor
from tests.conftest import REPO

TOP_LEVEL = {"classifier", "training", "service", "artifacts"}
NOT_SHIPPED = shutil.ignore_patterns(".git", ".venv", "__pycache__", "build", "dist", "*.egg-info",
                                     ".pytest_cache", "feedback", "tests", "benchmarks", "docs")


def _python(code: str, cwd: Path, env: dict[str, str] | None = None, python: str = sys.executable) -> str:
    done = subprocess.run([python, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_coopclf_loads_no_model_and_no_heavy_library(tmp_path: Path) -> None:
    out = _python("import sys, coopclf; print(sorted(m for m in ('numpy', 'sklearn', 'scipy', 'flask', "
                  "'pyarrow', 'joblib', 'coopclf.predictor') if m in sys.modules))", tmp_path)
    assert out.strip() == "[]"


def test_the_editable_install_exposes_only_coopclf(tmp_path: Path) -> None:
    code = ("import importlib.util as u, coopclf.service.http.web as web; "
            "print([n for n in %r if u.find_spec(n)], web.STATIC.joinpath('index.html').is_file())"
            % sorted(TOP_LEVEL))
    assert _python(code, tmp_path).strip() == "[] True"


def test_public_api() -> None:
    assert coopclf.LABELS == ("counterterrorism", "human_trafficking", "narcotics", "trade",
                              "information_technology", "tourism")
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", coopclf.__version__)
    assert issubclass(coopclf.InvalidInput, CoopclfError) and issubclass(coopclf.ArtifactError, CoopclfError)
    assert coopclf.Predictor is Predictor
    with pytest.raises(AttributeError):
        coopclf.no_such_name  # noqa: B018
    with pytest.raises(coopclf.ArtifactError, match="not found"):
        coopclf.load("no-such-version")


def test_load_takes_a_version_and_an_artifacts_directory(tiny_artifacts: Path) -> None:
    version = (tiny_artifacts / "CURRENT").read_text().strip()
    model = coopclf.load(version, tiny_artifacts)
    assert model.version == version
    assert model.predict(["Police seized heroin at the airport."])[0].labels == ("narcotics",)


@pytest.mark.parametrize("batch_size", [1, 2, 3, 1000])
def test_pipe_passes_each_context_back_with_its_own_prediction(tiny_predictor: Predictor, batch_size: int) -> None:
    texts = ["Customs officers seized cocaine hidden in a fruit shipment.",
             "Hotel occupancy reached a record as tourists returned.",
             "The two countries signed a free trade agreement.",
             "The home side won the cup final after a late goal.",
             "Traffickers lured workers abroad with false job offers."]
    contexts = [{"row": i} for i in range(len(texts))]
    piped = list(tiny_predictor.pipe(iter(zip(texts, contexts)), batch_size=batch_size))
    assert [context for _, context in piped] == contexts
    assert [p for p, _ in piped] == tiny_predictor.predict(texts)


def test_pipe_is_lazy_and_refuses_a_zero_batch(tiny_predictor: Predictor) -> None:
    def endless():
        while True:
            yield "Police seized heroin at the port.", None

    first = next(tiny_predictor.pipe(endless(), batch_size=4))
    assert isinstance(first[0], Prediction)
    with pytest.raises(coopclf.InvalidInput, match="batch_size"):
        next(tiny_predictor.pipe([("text", 1)], batch_size=0))


def test_classify_document_labels_each_paragraph_in_place(tiny_predictor: Predictor) -> None:
    document = ("Customs officers seized cocaine hidden in a fruit shipment at the port.\n\n"
                "The home side won the cup final after a late goal.\n\n"
                "Hotel occupancy reached a record as tourists returned to the coast.")
    result = tiny_predictor.classify_document(document, explain=True)
    assert [p.index for p, _ in result.paragraphs] == [0, 1, 2]
    assert [p.labels for _, p in result.paragraphs] == [("narcotics",), (), ("tourism",)]
    out = result.to_dict()
    assert out["summary"] == {"labels": ["narcotics", "tourism"], "paragraphs": {"narcotics": [0], "tourism": [2]},
                              "paragraph_count": 3, "abstained_count": 0}
    for paragraph in out["paragraphs"]:
        for items in paragraph["evidence"].values():
            for item in items:
                for start, end in item["spans"]:  # offsets are in the document, not the paragraph
                    assert document[start:end].lower() == item["ngram"] or item["ngram"] in document[start:end].lower()
    with pytest.raises(coopclf.InvalidInput):
        tiny_predictor.classify_document(None)  # type: ignore[arg-type]


def test_the_readmes_python_example_runs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    out = _python(code, REPO)
    assert out.splitlines()[0].startswith("('narcotics',)")
    assert re.search(r"^1 \(.*'human_trafficking'", out, re.M) and re.search(r"^2 \(.*'tourism'", out, re.M)


@pytest.mark.slow
def test_the_wheel_installs_one_top_level_package_that_works(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=NOT_SHIPPED)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheels), str(source)], check=True, capture_output=True, timeout=300)
    wheel = next(wheels.glob("coopclf-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    site = Path(_python("import sysconfig; print(sysconfig.get_paths()['purelib'])", tmp_path, python=python).strip())
    before = {p.name for p in site.iterdir()}
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    added = {p.name for p in site.iterdir()} - before
    assert {name for name in added if not name.endswith(".dist-info")} == {"coopclf"}
    # The dependencies come from this environment's site-packages; coopclf only from the wheel.
    env = os.environ | {"PYTHONPATH": sysconfig.get_paths()["purelib"]}
    out = _python("import coopclf, coopclf.service.http.web as web; m = coopclf.load(); "
                  "print(coopclf.__file__); print(m.predict(['Police seized heroin at the port.'])[0].labels); "
                  "print(web.STATIC.joinpath('app.js').is_file(), m.version)", tmp_path, env=env, python=python)
    where, labels, static = out.splitlines()
    assert Path(where).is_relative_to(site)
    assert labels == "('narcotics',)"
    assert static == f"True {(REPO / 'artifacts' / 'CURRENT').read_text().strip()}"
