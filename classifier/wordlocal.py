"""Whether a reading of a text (preprocessor, token pattern) can be done one whitespace-separated word at a time.

When it can, a text's tokens are its words' tokens in order, so each distinct word is read once and
remembered, and a paragraph's tokens are its sentences' tokens joined end to end. Both properties are
proved here, from the pattern's structure and from the preprocessor's behaviour on every whitespace
character, never assumed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Every character str.split() and the regex \s treat as whitespace (str.isspace; a test checks the list).
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
              "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def pattern_is_word_local(pattern: str) -> bool:
    """True when no match of `pattern` can hold whitespace or be empty, and nothing it asserts looks past a word.

    Then `findall(text)` equals the concatenation of `findall(word)` over `text.split()`: a match
    never starts at whitespace, and \\b or \\B see whitespace and a string's edge alike (neither is
    a word character). Lookarounds, anchors, back-references, capturing groups, `.` and negated
    classes are refused.
    """
    try:
        from re import _constants as constants
        from re import _parser as parser

        parsed = parser.parse(pattern)
    except Exception:  # noqa: BLE001 - an unparsable or unknown pattern simply is not proved local
        return False
    if parsed.getwidth()[0] == 0 or parsed.state.groups > 1:  # a captured group's text could be empty
        return False
    # Under re.ASCII, \S would match Unicode spaces (U+3000) that str.split() splits on.
    not_space_ok = not parsed.state.flags & constants.SRE_FLAG_ASCII
    return _items_local(list(parsed), constants, not_space_ok)


def _items_local(items: list[tuple[Any, Any]], c: Any, not_space_ok: bool) -> bool:
    for op, value in items:
        if op is c.LITERAL:
            if chr(value).isspace():
                return False
        elif op is c.IN:
            if not _class_local(value, c, not_space_ok):
                return False
        elif op is c.AT:
            if value not in (c.AT_BOUNDARY, c.AT_NON_BOUNDARY):
                return False
        elif op is c.BRANCH:
            if not all(_items_local(list(branch), c, not_space_ok) for branch in value[1]):
                return False
        elif op is c.SUBPATTERN:
            _group, add_flags, del_flags, body = value
            if add_flags or del_flags or not _items_local(list(body), c, not_space_ok):
                return False
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            if not _items_local(list(value[2]), c, not_space_ok):
                return False
        elif op is c.ATOMIC_GROUP:
            if not _items_local(list(value), c, not_space_ok):
                return False
        else:
            return False
    return True


def _class_local(members: list[tuple[Any, Any]], c: Any, not_space_ok: bool) -> bool:
    """A [...] class that can match no whitespace character."""
    for op, value in members:
        if op is c.LITERAL:
            if chr(value).isspace():
                return False
        elif op is c.RANGE:
            low, high = value
            if any(low <= ord(space) <= high for space in WHITESPACE):
                return False
        elif op is c.CATEGORY:
            allowed = (c.CATEGORY_WORD, c.CATEGORY_DIGIT) + ((c.CATEGORY_NOT_SPACE,) if not_space_ok else ())
            if value not in allowed:
                return False
        else:  # NEGATE and anything newer
            return False
    return True


def separators(preprocess: Callable[[str], str]) -> str:
    """The whitespace characters a text can be cut at before `preprocess` (lower-casing, accent stripping).

    A character qualifies when `preprocess` keeps it whitespace and lower-casing's one context rule
    (Greek final sigma) does not see across it. Others (stripping accents to ASCII drops U+2028)
    stay inside the piece they are in, which is always safe: a piece is read as a whole.
    """
    kept = []
    for space in WHITESPACE:
        mapped = preprocess(space)
        if not mapped or not mapped.isspace():
            continue
        # A capital sigma ends a word when a letter precedes it and none follows. A space is neither a
        # letter nor "case-ignorable", so the sigma's fate must not depend on what lies past it.
        if preprocess(f"A\u03a3{space}A") != preprocess("A\u03a3") + mapped + preprocess("A"):
            continue
        if preprocess(f"A{space}\u03a3A") != preprocess("A") + mapped + preprocess("\u03a3A"):
            continue
        kept.append(space)
    return "".join(kept)
