"""Splitting articles into paragraphs with exact offsets."""

from __future__ import annotations

import pytest

from coopclf.splitter import split_paragraphs, split_sentences


def _check_offsets(document: str) -> list[str]:
    paragraphs = split_paragraphs(document)
    for i, p in enumerate(paragraphs):
        assert p.index == i
        assert document[p.start:p.end] == p.text
    return [p.text for p in paragraphs]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("First paragraph.\n\nSecond one.\n\n\nThird.", ["First paragraph.", "Second one.", "Third."]),
        ("  Leading space.\r\n\r\nWindows line ends.\r\n", ["Leading space.", "Windows line ends."]),
        ("One.\n   \nTwo after a whitespace-only line.", ["One.", "Two after a whitespace-only line."]),
        ("Line one ends here.\nLine two ends here.\nLine three.", ["Line one ends here.", "Line two ends here.", "Line three."]),
        ("", []),
        ("\n\n  \n", []),
        ("Just one paragraph with no breaks.", ["Just one paragraph with no breaks."]),
    ],
)
def test_paragraphs_and_offsets(document: str, expected: list[str]) -> None:
    assert _check_offsets(document) == expected


def test_hard_wrapped_lines_form_one_paragraph() -> None:
    document = ("The ministers met in the capital on\nThursday to discuss cooperation against\n"
                "drug smuggling and agreed to meet\nagain next year.")
    texts = _check_offsets(document)
    assert len(texts) == 1 and texts[0].endswith("next year.")


def test_very_long_block_is_cut_at_sentence_ends() -> None:
    sentence = "The delegation discussed trade and investment in the region at length. "
    document = sentence * 60  # 660 words, no line breaks
    texts = _check_offsets(document)
    assert len(texts) >= 3
    assert all(len(t.split()) <= 250 for t in texts)
    assert all(t.endswith(".") for t in texts)
    assert sum(len(t.split()) for t in texts) == len(document.split())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Talks began. They ended at noon!", ["Talks began.", "They ended at noon!"]),
        ("Is it over? 2024 was a record year.", ["Is it over?", "2024 was a record year."]),
        ('He said "no." Then he left.', ['He said "no."', "Then he left."]),
        ("Exports rose 3.5 percent. e.g. not a new sentence", ["Exports rose 3.5 percent. e.g. not a new sentence"]),
        ("One sentence without an end", ["One sentence without an end"]),
        ("Mr. Naqvi met Gen. Rashid. Talks followed.", ["Mr. Naqvi met Gen. Rashid.", "Talks followed."]),
        ("The U.S. Coast Guard seized cocaine. J. K. Smith said so.",
         ["The U.S. Coast Guard seized cocaine.", "J. K. Smith said so."]),
        ("No. 10 declined to comment. It rained.", ["No. 10 declined to comment.", "It rained."]),
        ("The talks ended on Sept. 14 in Doha. Trade was discussed.",
         ["The talks ended on Sept. 14 in Doha.", "Trade was discussed."]),
        ("Ms. Rahman landed at 4 p.m. Monday and met Amb. Khan. Both spoke.",
         ["Ms. Rahman landed at 4 p.m. Monday and met Amb. Khan.", "Both spoke."]),
        ("Seizures rose in Jan. 2026 and fell in Feb. 2026. Police said so.",
         ["Seizures rose in Jan. 2026 and fell in Feb. 2026.", "Police said so."]),
        ("", []),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_long_blocks_are_not_cut_after_an_abbreviation() -> None:
    sentence = "Gen. Rashid met Mr. Naqvi on Sept. 14 at 4 p.m. in Manama to discuss narcotics and trafficking. "
    document = sentence * 30  # about 500 words in one block: cut at sentence ends only
    texts = [p.text for p in split_paragraphs(document)]
    assert len(texts) >= 2
    assert all(t.startswith("Gen. Rashid") and t.endswith("trafficking.") for t in texts)
