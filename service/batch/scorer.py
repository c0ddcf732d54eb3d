"""The chunk scorer: a list of source rows in, encoded output rows and their counts out."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from coopclf.errors import InvalidInput
from coopclf.predictor import Predictor
from coopclf.service.batch.tables import MAX_CHARS, SourceRow, encode_rows
from coopclf.splitter import split_paragraphs

CHUNK_ROWS = 2000

# What one scored chunk is: encoded rows, row count, error count and per-label counts.
ChunkResult = tuple[bytes, int, int, dict[str, int]]


@dataclass(frozen=True)
class ScoreOptions:
    """How to read the inputs and what to write."""

    text_column: str = "text"
    id_column: str | None = None
    keep_columns: tuple[str, ...] = ()
    split_paragraphs: bool = False
    explain: bool = False
    jobs: int = 1
    chunk_rows: int = CHUNK_ROWS
    engine: str = "local"
    scheduler: str | None = None
    date_column: str | None = None
    max_chars: int = MAX_CHARS


# Columns about the document rather than the model; a kept input column may not take their names.
DOCUMENT_COLUMNS = ("countries", "pair", "date", "story")


def output_columns(labels: Sequence[str], options: ScoreOptions, several_sources: bool) -> list[str]:
    """Columns of the output, in order."""
    for name in options.keep_columns:
        if name in DOCUMENT_COLUMNS:
            hint = f"; to take the date from it, pass --date-column {name}" if name == "date" else ""
            raise InvalidInput(f"cannot keep input column {name!r}: the output has its own {name!r} column{hint}")
    columns = (["source"] if several_sources else []) + ["id"]
    if options.split_paragraphs:
        columns += ["paragraph", "text"]
    columns += ["labels", *(f"score_{label}" for label in labels), "abstained"]
    if options.explain:
        columns.append("evidence")
    return columns + [*DOCUMENT_COLUMNS, "model_version", "error", *options.keep_columns]


class ChunkScorer:
    """Turns a chunk of source rows into encoded output rows; one per process or Dask worker."""

    def __init__(self, predictor: Predictor, options: ScoreOptions, columns: list[str], fmt: str) -> None:
        from coopclf.countries import CountryMatcher
        from coopclf.parties import document_countries

        if options.explain:
            predictor.prepare_explanations()  # before any fork, so forked workers share them
        CountryMatcher.default()  # built before any fork, like the explanations
        self.document_countries = document_countries
        self.predictor = predictor
        self.options = options
        self.columns = columns
        self.fmt = fmt

    def __call__(self, rows: list[SourceRow]) -> ChunkResult:
        """Encoded rows, row count, error count and label counts of one chunk."""
        out: list[dict[str, Any]] = []
        for row in rows:
            base = {"source": row.source, "id": row.id, **row.extra, "date": row.date, "story": row.story}
            error = row.error or _row_error(row.text)
            if error:
                out.append(base | {"error": error} | ({"paragraph": None} if self.options.split_paragraphs else {}))
                continue
            base["error"] = row.date_error
            if self.options.split_paragraphs:
                paragraphs = split_paragraphs(row.text)
                if not paragraphs:
                    out.append(base | {"paragraph": None, "error": "no paragraphs"})
                records = [base | {"paragraph": p.index, "text": p.text} for p in paragraphs]
            else:
                records = [base | {"text": row.text}]
            out.extend(records)
            # Countries per document, so a paragraph naming no country inherits the document's pair.
            found = self.document_countries([r["text"] for r in records])
            for record, countries, pair in zip(records, found.countries, found.pairs):
                record["countries"] = ";".join(countries)
                record["pair"] = pair
        scorable = [r for r in out if "text" in r]
        predictions = self.predictor.predict([r["text"] for r in scorable], explain=self.options.explain)
        labels: Counter[str] = Counter()
        for record, prediction in zip(scorable, predictions):
            record["labels"] = ";".join(prediction.labels)
            record["abstained"] = prediction.abstained
            labels.update(prediction.labels)
            for label, score in prediction.scores.items():
                record[f"score_{label}"] = score
            if self.options.explain:
                record["evidence"] = json.dumps(prediction.to_dict().get("evidence", {}), ensure_ascii=False)
        for record in out:
            record["model_version"] = self.predictor.version
        errors = sum(1 for r in out if r.get("error"))
        return encode_rows(out, self.columns, self.fmt), len(out), errors, dict(labels)


def _row_error(text: Any) -> str | None:
    if text is None:
        return "missing text"
    if not isinstance(text, str):
        return f"text is {type(text).__name__}, not a string"
    if not text.strip():
        return "empty text"
    return None
