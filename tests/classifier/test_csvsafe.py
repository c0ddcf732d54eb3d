"""CSV cells are escaped so spreadsheets do not run them, and unescaped back to the same text."""

from __future__ import annotations

import pytest

from coopclf.csvsafe import escape_cell, unescape_cell


@pytest.mark.parametrize(("text", "cell"), [
    ("=HYPERLINK(\"http://evil.example\",\"click\")", "'=HYPERLINK(\"http://evil.example\",\"click\")"),
    ("+1 555 0100 was the number", "'+1 555 0100 was the number"),
    ("-5 degrees did not stop the talks", "'-5 degrees did not stop the talks"),
    ("@minister posted the agreement", "'@minister posted the agreement"),
    ("\tcmd|' /C calc'!A0", "'\tcmd|' /C calc'!A0"),
    ("\r=1+1", "'\r=1+1"),
    ("'We did not come here to talk,' said the minister", "''We did not come here to talk,' said the minister"),
    ("'=1+1", "''=1+1"),
    ("Police seized heroin = a record", "Police seized heroin = a record"),
    ("", ""),
])
def test_formula_starts_are_escaped_and_read_back_unchanged(text: str, cell: str) -> None:
    assert escape_cell(text) == cell
    assert unescape_cell(cell) == text


@pytest.mark.parametrize("cell", [
    "'We did not come here to talk,' said the minister",  # a quotation, as in the training corpus
    "'Tis the season for tourism",
    "'",
    "Plain text",
])
def test_cells_nobody_escaped_are_read_as_they_are(cell: str) -> None:
    assert unescape_cell(cell) == cell
