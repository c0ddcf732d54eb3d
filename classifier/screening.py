"""Cheap checks that tell when a text is not something the model can judge."""

from __future__ import annotations

import re

MIN_WORDS = 3
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_ENGLISH = frozenset(
    "the of and to in a is that for on with as by at from it was are be this an or has have "
    "were will which their its not but been they also said after over more than about into "
    "between both two would can our we all new".split())


def abstain_reason(text: str) -> str | None:
    """Why the model should not label `text` (empty, too short, not English), or None."""
    words = _WORD.findall(text)
    if not text.strip() or not words:
        return "empty"
    if len(words) < MIN_WORDS:
        return "too_short"
    letters = "".join(words)
    latin = len(letters) if letters.isascii() else len(letters.encode("ascii", "ignore"))
    if latin / len(letters) < 0.7:
        return "not_english"
    if len(words) >= 12:
        common = sum(map(_ENGLISH.__contains__, map(str.lower, words)))
        if common / len(words) < 0.08:
            return "not_english"
    return None
