"""Dates as news gives them: parse one value, or find the date a document opens with."""

from __future__ import annotations

import datetime
import re

from coopclf.errors import InvalidInput

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}
_MONTH = "(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday)?\.?,?\s+)?"
# Each form's groups are year, month (number or name) and day; the time of an ISO datetime and its
# zone are matched so they are consumed, but the date is kept as written.
_FORMS = [
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?Z|\s?[+-]\d{2}(?::?\d{2})?)?)?",
    r"(?P<year>\d{4})/(?P<month>\d{1,2})/(?P<day>\d{1,2})",
    _WEEKDAY + r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<year>\d{4})",
    _WEEKDAY + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})",
]
_DATES = [re.compile(form, re.IGNORECASE) for form in _FORMS]
# What may stand before a document's opening date: a word like "Published" and a colon.
_LEAD = re.compile(r"\s*(?:(?:first published|published|updated|posted|dated|date)\b(?:\s+on)?\s*:?\s*)?",
                   re.IGNORECASE)


def _build(match: re.Match[str]) -> datetime.date | None:
    month = match["month"]
    number = int(month) if month.isdigit() else _MONTHS[month.lower()]
    try:
        return datetime.date(int(match["year"]), number, int(match["day"]))
    except ValueError:
        return None


def parse_date(value: str) -> datetime.date:
    """The date in `value` (ISO 8601 date or datetime, "8 Dec 2026", "Dec. 8, 2026", "2026/12/08")."""
    text = value.strip()
    for pattern in _DATES:
        match = pattern.fullmatch(text)
        if match:
            date = _build(match)
            if date is not None:
                return date
            break
    raise InvalidInput(f"unparseable date {value!r}")


def leading_date(document: str) -> datetime.date | None:
    """The date a document opens with (optionally after "Published:" and the like), else None."""
    start = _LEAD.match(document).end()
    for pattern in _DATES:
        match = pattern.match(document, start)
        if match and not document[match.end():match.end() + 1].isalnum():
            return _build(match)
    return None
