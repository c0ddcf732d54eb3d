"""Split an article into paragraphs (keeping their character offsets) and a paragraph into sentences."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

MAX_WORDS = 250
_BLANK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)]?\s+(?=[\"'“‘(]?[A-Z0-9])")
# A full stop that ends a title, an initial, a month or "p.m." ("Mr.", "Gen.", "J.", "U.S.", "Sept.")
# rather than a sentence.
_ABBREVIATION = re.compile(
    r"(?:^|[\s(\"'“‘])(?:[A-Z]|(?:[A-Za-z]\.)+[A-Za-z]|Mr|Mrs|Ms|Mx|Messrs|Dr|Prof|St|Gen|Lt|Col|Capt|Cmdr|"
    r"Sgt|Maj|Brig|Adm|Gov|Sen|Rep|Rev|Hon|Amb|Pres|Insp|Supt|Jr|Sr|No|Nos|vs|approx|Fr|Mt|Ft|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.$")
_TERMINAL = re.compile(r"[.!?:;\"'”’)]\s*$")


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of a document and where it stands in it (`document[start:end] == text`)."""

    index: int
    text: str
    start: int
    end: int


def _blocks(document: str) -> list[tuple[int, int]]:
    """Spans separated by blank lines, or by single newlines when the text has no blank lines."""
    separator = _BLANK if _BLANK.search(document) else re.compile(r"\n\s*")
    spans, pos = [], 0
    for match in separator.finditer(document):
        spans.append((pos, match.start()))
        pos = match.end()
    spans.append((pos, len(document)))
    if separator is not _BLANK and _looks_hard_wrapped(document, spans):
        return [(0, len(document))]
    return spans


def _looks_hard_wrapped(document: str, spans: list[tuple[int, int]]) -> bool:
    """Lines broken at a fixed width mid-sentence belong to one paragraph."""
    lines = [document[s:e] for s, e in spans if document[s:e].strip()]
    if len(lines) < 3:
        return False
    unfinished = sum(not _TERMINAL.search(line) for line in lines[:-1])
    return unfinished / (len(lines) - 1) > 0.5


def _split_long(document: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    """Cut a block longer than `max_words` at sentence ends into pieces of at most that size."""
    text = document[start:end]
    if len(text.split()) <= max_words:
        return [(start, end)]
    cuts = _sentence_cuts(text)
    pieces, piece_start, words = [], 0, 0
    for left, right in zip(cuts, cuts[1:]):
        n = len(text[left:right].split())
        if words and words + n > max_words:
            pieces.append((start + piece_start, start + left))
            piece_start, words = left, 0
        words += n
    pieces.append((start + piece_start, end))
    return pieces


def split_paragraphs(document: str, *, max_words: int = MAX_WORDS) -> list[Paragraph]:
    """Paragraphs of `document` in order: blank-line blocks, with fallbacks for other layouts."""
    spans: list[tuple[int, int]] = []
    for start, end in _blocks(document):
        spans.extend(_split_long(document, start, end, max_words))
    paragraphs = []
    for start, end in spans:
        raw = document[start:end]
        stripped = raw.strip()
        if not stripped:
            continue
        lead = len(raw) - len(raw.lstrip())
        s = start + lead
        paragraphs.append(Paragraph(len(paragraphs), stripped, s, s + len(stripped)))
    return paragraphs


def normalise_whitespace(text: str) -> str:
    """Collapse every run of whitespace to one space: a text as one CSV line, as training reads it."""
    return " ".join(text.split())


def _sentence_cuts(text: str) -> list[int]:
    """Offsets where sentences start, plus the text's end: after . ! ? or … before a capital or
    digit, not after an abbreviation."""
    return [0] + [m.end() for m in _SENTENCE_END.finditer(text)
                  if not _ABBREVIATION.search(text, max(0, m.start() - 16), m.start() + 1)] + [len(text)]


def split_sentences(text: str) -> list[str]:
    """The sentences of a paragraph, cut where `_sentence_cuts` says."""
    cuts = _sentence_cuts(text)
    return [piece for piece in (text[a:b].strip() for a, b in itertools.pairwise(cuts)) if piece]
