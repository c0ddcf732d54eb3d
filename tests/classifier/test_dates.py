"""Dates: parsing the forms news uses, and finding the date a document opens with."""

from __future__ import annotations

import datetime

import pytest

from coopclf.dates import leading_date, parse_date
from coopclf.errors import InvalidInput

DEC_8 = datetime.date(2026, 12, 8)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-08", DEC_8),
        ("2026-12-08T23:30:00", DEC_8),
        ("2026-12-08T23:30:00Z", DEC_8),
        ("2026-12-08T23:30:00+05:00", DEC_8),  # the date as written, not converted to UTC
        ("2026-12-08T01:15-0800", DEC_8),
        ("2026-12-08 23:30:00.123456", DEC_8),
        ("  2026-12-08\n", DEC_8),
        ("8 December 2026", DEC_8),
        ("8th December 2026", DEC_8),
        ("December 8, 2026", DEC_8),
        ("december 8 2026", DEC_8),
        ("Dec. 8, 2026", DEC_8),
        ("Dec 8, 2026", DEC_8),
        ("8 Dec 2026", DEC_8),
        ("Tuesday, 8 December 2026", DEC_8),
        ("Sept. 30, 2026", datetime.date(2026, 9, 30)),
        ("2026/12/08", DEC_8),
        ("2024-02-29", datetime.date(2024, 2, 29)),
    ],
)
def test_parse_date_accepts_the_forms_news_uses(value: str, expected: datetime.date) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    "value",
    ["xyz", "", "2026", "December 2026", "8 December", "2026-02-30", "2025-02-29", "2026-13-01", "31 Nov 2026",
     "12/08/2026", "2026-12-08 and more", "8 Decembre 2026", "10 killed"],
)
def test_parse_date_refuses_anything_else(value: str) -> None:
    with pytest.raises(InvalidInput, match=f"unparseable date {value!r}"):
        parse_date(value)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (" date 2025-07-12 Interior Minister Mohsin Naqvi met ...", datetime.date(2025, 7, 12)),
        ("2026-12-08\n\nBahrain and Pakistan agreed ...", DEC_8),
        ("Published: December 8, 2026. Bahrain and Pakistan ...", DEC_8),
        ("Updated on 8 Dec 2026 14:02 GMT\nThe ministers ...", DEC_8),
        ("Dated 2026/12/08 - The ministers ...", DEC_8),
        ("Tuesday, 8 December 2026 | The ministers ...", DEC_8),
        ("2026-12-08T09:00:00Z The ministers ...", DEC_8),
        # traps: no date at the very start
        ("2026 was a year of talks between Bahrain and Pakistan.", None),
        ("10 killed in an attack near the border, officials said.", None),
        ("8 December talks were postponed.", None),
        ("The ministers met on 8 December 2026 in Manama.", None),
        ("Interior Minister Naqvi said on 2026-12-08 that ...", None),
        ("Dates and figs led Bahrain's exports in 2026-12.", None),
        ("2026-02-30 is no date at all.", None),
        ("2026-12-081 records were seized.", None),
        ("", None),
    ],
)
def test_leading_date_finds_only_an_opening_date(document: str, expected: datetime.date | None) -> None:
    assert leading_date(document) == expected
