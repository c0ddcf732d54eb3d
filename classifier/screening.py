"""Tell when a text is not something the model can judge: empty, too short, or not English."""

from __future__ import annotations

import re
from typing import NamedTuple

from coopclf.language import is_english

MIN_WORDS = 3
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


class Screening(NamedTuple):
    """Why the model abstains (None when it judges the text), and the language found when not English."""

    reason: str | None
    language: str | None = None


def screen(text: str) -> Screening:
    """Empty, too short (under MIN_WORDS words) or not English (with the language identified), else no reason."""
    words = _WORD.findall(text)
    if not text.strip() or not words:
        return Screening("empty")
    if len(words) < MIN_WORDS:
        return Screening("too_short")
    english, language = is_english(text)
    if not english:
        return Screening("not_english", language)
    return Screening(None)


def abstain_reason(text: str) -> str | None:
    """Why the model should not label `text` (empty, too_short, not_english), or None."""
    return screen(text).reason
