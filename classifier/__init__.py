"""coopclf: label news paragraphs with the international cooperation areas they discuss.

    import coopclf

    model = coopclf.load()                      # the shipped model, verified before loading
    model.predict(["Customs seized 300 kg of heroin."])[0].labels   # ('narcotics',)

Importing coopclf is cheap: the model, scikit-learn and numpy load on the first `load()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coopclf.errors import ArtifactError, CoopclfError, DataError, InvalidInput
from coopclf.labels import DEFAULT_LABELS

if TYPE_CHECKING:
    from coopclf.predictor import Predictor

LABELS: tuple[str, ...] = DEFAULT_LABELS
"""The six cooperation areas the shipped model labels, in its output order."""

__all__ = ["LABELS", "ArtifactError", "CoopclfError", "DataError", "InvalidInput", "Predictor",
           "__version__", "load"]


def load(version: str | None = None, artifacts: str | Path | None = None, *,
         trusted_keys: Sequence[str | Path] = ()) -> Predictor:
    """The Predictor of a model version (default: the current one of the shipped `artifacts/`).

    The manifest, its signature by one of `trusted_keys` (PEM public key files) when any are given,
    and every data file's SHA-256 are checked before anything is unpickled; a bad, unsigned or
    missing version raises ArtifactError.
    """
    from coopclf.predictor import Predictor

    return Predictor.load(artifacts, version, trusted_keys=trusted_keys)


def __getattr__(name: str) -> Any:
    """`coopclf.__version__` and `coopclf.Predictor`, resolved on first use so importing stays cheap."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("coopclf")
        except PackageNotFoundError:
            return "0+unknown"
    if name == "Predictor":
        from coopclf.predictor import Predictor

        return Predictor
    raise AttributeError(f"module 'coopclf' has no attribute {name!r}")
