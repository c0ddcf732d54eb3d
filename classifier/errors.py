"""Exceptions the library raises; callers map them to exit codes or HTTP statuses."""

from __future__ import annotations


class CoopclfError(Exception):
    """Base of every error coopclf raises on purpose."""


class InvalidInput(CoopclfError):
    """The caller passed something the model cannot take (wrong type, unknown label, ...)."""


class ArtifactError(CoopclfError):
    """A model version is missing, incomplete, tampered with or incompatible."""


class DataError(CoopclfError):
    """Training or evaluation data has problems; each names its file, line and column."""

    def __init__(self, problems: list[object], *, truncated: bool = False) -> None:
        self.problems = list(problems)
        self.truncated = truncated
        lines = [str(p) for p in self.problems]
        if truncated:
            lines.append("(stopped after the first problems; fix these or use --skip-invalid)")
        super().__init__(f"{len(self.problems)} problem(s) in the data:\n" + "\n".join(lines))


class DeadlineExceeded(CoopclfError):
    """Work stopped unfinished because it ran past the deadline its caller set."""
