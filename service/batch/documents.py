"""Per document, in input order and in the main process, before scoring: its date and its story."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from coopclf.dates import leading_date, parse_date
from coopclf.errors import InvalidInput
from coopclf.files import strip_gz
from coopclf.service.batch.stories import StoryIndex
from coopclf.service.batch.tables import SourceRow


def as_date(value: Any) -> datetime.date | None:
    """A date column's value as a date: None when empty; InvalidInput when it is not a date."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return parse_date(str(value))


class DocumentAnnotator:
    """Sets each row's date (ISO text or None), date error and story; stories need input order."""

    def __init__(self, date_column: str | None = None, story_directory: Path | None = None) -> None:
        self.date_column = date_column
        self.stories = StoryIndex(story_directory)

    def annotate(self, rows: list[SourceRow]) -> list[SourceRow]:
        """Annotate one chunk of rows in place, and return it."""
        documents = []
        for row in rows:
            day = self._date(row)
            row.date = day.isoformat() if day else None
            if isinstance(row.text, str) and row.text.strip():
                documents.append((row.id, row.text, day.toordinal() if day else None))
        stories = iter(self.stories.assign_all(documents))
        for row in rows:
            if isinstance(row.text, str) and row.text.strip():
                row.story = next(stories)
        return rows

    def _date(self, row: SourceRow) -> datetime.date | None:
        # Plain text files have no columns: their date is the one they open with.
        if self.date_column and not strip_gz(row.source).lower().endswith(".txt"):
            try:
                return as_date(row.date)
            except InvalidInput as exc:
                row.date_error = f"{exc} in column {self.date_column!r}"
                return None
        return leading_date(row.text) if isinstance(row.text, str) else None
