"""Which readings of a text can be done word by word: the proofs the featurizer relies on."""

from __future__ import annotations

import re
import sys

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from coopclf.pipeline import ACRONYM_PATTERN
from coopclf.wordlocal import WHITESPACE, pattern_is_word_local, separators
from tests.classifier.test_featurizer import AWKWARD, SENTENCES

DEFAULT_PATTERN = TfidfVectorizer().token_pattern


def test_whitespace_is_every_character_split_and_backslash_s_cut_at() -> None:
    every = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    assert set(WHITESPACE) == every
    assert all(re.fullmatch(r"\s", space) for space in WHITESPACE)


@pytest.mark.parametrize("pattern", [
    DEFAULT_PATTERN, ACRONYM_PATTERN, r"(?u)\b\w+\b", r"\S+", r"(?:\w+)", r"(?i)\b[a-z]{2,}\b", r"(?>\w+)x",
    r"\d+(?:[.,]\d+)*", r"\b\w\B\w*",
])
def test_patterns_whose_matches_stay_inside_a_word(pattern: str) -> None:
    assert pattern_is_word_local(pattern)
    findall = re.compile(pattern).findall
    for text in AWKWARD + SENTENCES:
        assert findall(text) == [token for word in text.split() for token in findall(word)]


@pytest.mark.parametrize(("pattern", "why"), [
    (r"\w+\s\w+", "matches whitespace"),
    (r"[^x]+", "negated class"),
    (r"a.b", "any character"),
    (r"(?<=\s)\w+", "lookbehind"),
    (r"\w+(?= )", "lookahead"),
    (r"\w*", "empty match"),
    (r"^\w+", "anchor"),
    (r"[ -z]+", "range holding a space"),
    (r"[\s\w]+", "class holding whitespace"),
    (r"(?a)\S+", "ASCII \\S matches U+3000"),
    (r"(\w+)-\w+", "captured group"),
    (r"(?a:\w+)", "scoped flags"),
    (r"(?P<w>\w)(?P=w)", "back-reference"),
    (r"(", "not a pattern"),
])
def test_patterns_that_may_see_past_a_word_are_refused(pattern: str, why: str) -> None:
    assert not pattern_is_word_local(pattern), why


def test_unicode_accent_stripping_and_lower_casing_keep_every_space_a_separator() -> None:
    preprocess = TfidfVectorizer(strip_accents="unicode").build_preprocessor()
    assert set(separators(preprocess)) == set(WHITESPACE)
    assert set(separators(TfidfVectorizer(lowercase=False).build_preprocessor())) == set(WHITESPACE)


def test_ascii_accent_stripping_joins_words_across_the_spaces_it_drops() -> None:
    preprocess = TfidfVectorizer(strip_accents="ascii").build_preprocessor()
    kept = separators(preprocess)
    assert "\u2028" not in kept and "\x85" not in kept  # dropped, so "a\u2028b" reads as "ab"
    assert " " in kept and "\u3000" in kept  # U+3000 decomposes to a plain space
    assert preprocess("a\u2028b") == "ab"


def test_a_final_sigma_is_decided_within_its_word() -> None:
    preprocess = TfidfVectorizer().build_preprocessor()
    text = "ΟΔΟΣ\u00a0ΣΟΦΟΣ.\u3000Σ"
    assert preprocess(text).split() == [word for piece in text.split() for word in preprocess(piece).split()]
