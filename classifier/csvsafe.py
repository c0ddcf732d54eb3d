"""CSV cells a spreadsheet will not run as formulas, and read back unchanged by coopclf.

OWASP's CSV-injection advice: a cell that begins with =, +, -, @, a tab or a carriage return is a
formula to Excel, LibreOffice and Google Sheets; a leading apostrophe makes it plain text, and the
spreadsheet hides the apostrophe. A text that itself begins with an apostrophe gets a second one,
so `unescape_cell` can tell the two apart: `unescape_cell(escape_cell(text)) == text` for any text.
"""

from __future__ import annotations

ESCAPE = "'"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED_STARTS = (*FORMULA_STARTS, ESCAPE)


def escape_cell(text: str) -> str:
    """`text` as a CSV cell that no spreadsheet takes for a formula."""
    return ESCAPE + text if text.startswith(_ESCAPED_STARTS) else text


def unescape_cell(cell: str) -> str:
    """The text `escape_cell` made `cell` from; a cell it did not escape comes back as it is."""
    return cell[1:] if cell.startswith(ESCAPE) and cell[1:].startswith(_ESCAPED_STARTS) else cell
