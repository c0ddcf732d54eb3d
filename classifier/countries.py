"""Country mentions in a paragraph: ISO 3166-1 alpha-3 codes with the character spans of each mention.

A mention is a country's name or common short form, its demonym or adjective, or its national
capital; see docs/countries.md for the rules. Names come from pycountry's ISO 3166-1 data; short
forms, demonyms, capitals and exclusions come from the table data/countries.csv beside this
module. All aliases are matched case-sensitively in one pass over the text (a pyahocorasick
automaton, or one compiled trie-shaped regex when pyahocorasick is not installed).

Table conventions (column `kind`):

- `name`, `demonym`, `capital`: the alias is a mention of `iso3`. A table row overrides a
  pycountry name with the same spelling. Demonyms also match with a plural "s" ("Afghans").
  An alias written "the X" matches only after the article, and its span leaves the article out
  ("the Emirates" is the country, "Emirates" alone the airline).
- An alias ending in "-" ("Sino-", "Pak-") is a combining form: its word counts only when a
  hyphen joins it to another country word ("Sino-Pak", "Pak-Afghan", "Indo-Bangla"), so
  "Indo-Pacific" gives nothing.
- `exclude`: a phrase whose matches suppress every country match lying inside them
  ("Jordan Peterson", "Indian Ocean", "Guinea pig"). An exclude equal to an alias removes that
  alias altogether ("Antarctica"). "X *" suppresses alias X when a capitalised word that is not
  itself part of a country mention follows it ("Chad Smith", "Georgia Tech"); "* X" suppresses
  X after such a word, unless that word opens a sentence ("Michael Jordan", "George Washington").
  "X ~ CUE" suppresses alias X anywhere in a text that also contains the word CUE ("Georgia ~
  Atlanta": Georgia is the US state in a paragraph about Atlanta); CUE may itself be an alias.
  "*, PLACE" suppresses any country word directly followed by ", PLACE" ("Lebanon,
  Pennsylvania": a US town).
"""

from __future__ import annotations

import csv
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pycountry

try:  # optional accelerator; the regex backend gives the same answers
    import ahocorasick
except ImportError:  # pragma: no cover - exercised only where the wheel is missing
    ahocorasick = None

TABLE_PATH = Path(__file__).parent / "data" / "countries.csv"
KINDS = ("name", "demonym", "capital", "exclude")

# Info flags kept with every automaton key.
_COUNTRY, _COMBINING, _EXCLUDE = 0, 1, 2
_FOLLOW, _PRECEDE, _CUED = 4, 8, 16  # "X *" / "* X" / "X ~ CUE" exclusions apply to this key
_CUE = 32  # a key that is only a cue word
_IS_CUE = 64  # an alias that is also a cue word
_ARTICLE = 128  # key "the X": the mention starts after the article

_HYPHENS = "-\u2010\u2011\u2013"
_APOSTROPHES = ("'", "\u2019")
_SENTENCE_OPENERS = '.!?:;"\u201c\u201d(\n'
# Capitalised words that do not make the neighbouring country word part of a person's or
# institution's name ("Chad President ...", "On Monday Jordan ...").
_NOT_A_NAME = frozenset(
    """
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May
    June July August September October November December King Queen Prince Princess Crown Emir
    Sheikh President Presidential Prime Minister Ministry Minister's Foreign Interior Government
    Army Armed Air Navy Naval Embassy Ambassador National Defence Defense Police Parliament
    Parliamentary Central Royal Hashemite Northern Southern Eastern Western Neighbouring
    Neighboring Visiting Officials Cabinet Senate State Authorities Security Forces Mission
    """.split()  # noqa: SIM905
)
_new = object.__new__
_setattr = object.__setattr__
_FOLLOWING_WORD = re.compile(r"[ \t\u00a0]+([A-Z][a-z][\w'\u2019.-]*)")
_PRECEDING_WORD = re.compile(r"([A-Z][a-z][\w'\u2019-]*)[ \t\u00a0]+$")


@dataclass(frozen=True)
class Mention:
    """One mention of a country: its ISO 3166-1 alpha-3 code and the span ``text[start:end]``."""

    iso3: str
    start: int
    end: int
    text: str


def pycountry_names() -> list[tuple[str, str]]:
    """(alias, iso3) for the names pycountry gives that read as prose ("Korea, Republic of" doesn't)."""
    names: list[tuple[str, str]] = []
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if not value or "," in value or "(" in value:
                continue
            value = value.removeprefix("the ")
            names.append((value, country.alpha_3))
    return names


# Codes outside ISO 3166-1 that the table uses, and short names a reader expects over pycountry's.
_NAMES = {"XKX": "Kosovo", "PSE": "Palestine", "TWN": "Taiwan", "IRN": "Iran", "RUS": "Russia", "SYR": "Syria",
          "KOR": "South Korea", "PRK": "North Korea", "VNM": "Vietnam", "LAO": "Laos", "BOL": "Bolivia",
          "VEN": "Venezuela", "TZA": "Tanzania", "MDA": "Moldova", "COD": "DR Congo", "FSM": "Micronesia",
          "GBR": "United Kingdom", "USA": "United States", "VAT": "Vatican City", "BRN": "Brunei",
          "CZE": "Czechia", "TUR": "Türkiye"}


def country_name(iso3: str) -> str:
    """A country's short English name for display ("Bahrain", "United States"); the code if unknown."""
    if iso3 in _NAMES:
        return _NAMES[iso3]
    country = pycountry.countries.get(alpha_3=iso3)
    if country is None:
        return iso3
    return getattr(country, "common_name", None) or country.name


def load_table(path: Path | str = TABLE_PATH) -> list[tuple[str, str, str]]:
    """Rows (alias, iso3, kind) of the country table."""
    rows: list[tuple[str, str, str]] = []
    with open(path, encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            alias, iso3, kind = row["alias"].strip(), row["iso3"].strip(), row["kind"].strip()
            bad_code = kind != "exclude" and not (len(iso3) == 3 and iso3.isalpha() and iso3.isupper())
            if kind not in KINDS or not alias or bad_code:
                raise ValueError(f"{path}:{number}: bad row {row!r}")
            rows.append((alias, iso3, kind))
    return rows


def _variants(alias: str) -> list[str]:
    """The alias and its spelling with a curly apostrophe."""
    if "'" in alias:
        return [alias, alias.replace(*_APOSTROPHES)]
    return [alias]


class CountryMatcher:
    """Finds country mentions with one pass of a multi-pattern automaton over the text."""

    _default: ClassVar[CountryMatcher | None] = None
    _default_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        rows: Iterable[tuple[str, str, str]] | None = None,
        *,
        include_pycountry: bool = True,
        backend: str = "auto",
    ) -> None:
        rows = load_table() if rows is None else list(rows)
        aliases: dict[str, tuple[str, int]] = {}
        if include_pycountry:
            for alias, iso3 in pycountry_names():
                aliases[alias] = (iso3, _COUNTRY)
        excludes: list[str] = []
        follow: set[str] = set()
        precede: set[str] = set()
        cues: dict[str, set[str]] = {}
        places: list[str] = []
        for alias, iso3, kind in rows:
            if kind != "exclude":
                combining = alias.endswith("-")
                aliases[alias.rstrip("-")] = (iso3, _COMBINING if combining else _COUNTRY)
        plurals = {
            alias + "s": (iso3, _COUNTRY)
            for alias, iso3, kind in rows
            if kind == "demonym" and not alias.endswith(("-", "s"))
        }
        for plural, value in plurals.items():
            aliases.setdefault(plural, value)
        for alias, _iso3, kind in rows:
            if kind != "exclude":
                continue
            if " ~ " in alias:
                target, _sep, cue = alias.partition(" ~ ")
                for variant in _variants(cue):
                    cues.setdefault(variant, set()).add(target)
            elif alias.startswith("*, "):
                places.append(alias[3:])
            elif alias.endswith(" *"):
                follow.add(alias[:-2])
            elif alias.startswith("* "):
                precede.add(alias[2:])
            elif alias in aliases:
                del aliases[alias]
            else:
                excludes.append(alias)
                if not alias.endswith("s"):
                    excludes.append(alias + "s")

        keys: dict[str, tuple[int, str, int]] = {}
        for alias, (iso3, flag) in aliases.items():
            if alias in follow:
                flag |= _FOLLOW
            if alias in precede:
                flag |= _PRECEDE
            if any(alias in targets for targets in cues.values()):
                flag |= _CUED
            if alias in cues:
                flag |= _IS_CUE
            variants = _variants(alias)
            if alias.startswith("the "):
                flag |= _ARTICLE
                variants += ["T" + variant[1:] for variant in variants]
            for variant in variants:
                keys[variant] = (len(variant), iso3, flag)
        for phrase in excludes:
            for variant in _variants(phrase):
                keys.setdefault(variant, (len(variant), "", _EXCLUDE))
        for cue in cues:
            if cue not in keys:
                keys[cue] = (len(cue), cue, _CUE)
            elif not keys[cue][2] & _IS_CUE:
                raise ValueError(f"cue word {cue!r} is also an exclude phrase")
        self._keys = keys
        self._cues = {cue: frozenset(targets) for cue, targets in cues.items()}
        self._place = (
            re.compile(", (?:" + "|".join(map(re.escape, sorted(places, key=len, reverse=True))) + r")\b")
            if places
            else None
        )

        if backend == "auto":
            backend = "ahocorasick" if ahocorasick is not None else "regex"
        self.backend = backend
        if backend == "ahocorasick":
            if ahocorasick is None:
                raise ImportError("pyahocorasick is not installed")
            automaton = ahocorasick.Automaton()
            for key, value in keys.items():
                automaton.add_word(key, value)
            automaton.make_automaton()
            self._automaton = automaton
        elif backend == "regex":
            self._regex = re.compile(r"(?<!\w)(?=(" + _trie_pattern(keys) + "))")
        else:
            raise ValueError(f"unknown backend {backend!r}")

    @classmethod
    def default(cls) -> CountryMatcher:
        """The matcher for the shipped table and pycountry, built once on first use."""
        if cls._default is None:
            with cls._default_lock:
                if cls._default is None:
                    cls._default = cls()
        return cls._default

    def _raw(self, text: str) -> list[tuple[int, int, tuple[int, str, int]]]:
        """Every key occurrence with word boundaries respected: (start, end, info)."""
        found = []
        size = len(text)
        if self.backend == "ahocorasick":
            for last, info in self._automaton.iter(text):
                end = last + 1
                start = end - info[0]
                if start and text[start - 1].isalnum():
                    continue
                if end < size and text[end].isalnum() and text[last].isalnum():
                    continue
                found.append((start, end, info))
        else:
            keys = self._keys
            for match in self._regex.finditer(text):
                start = match.start()
                key = match.group(1)
                found.append((start, start + len(key), keys[key]))
        return found

    def find(self, text: str) -> list[Mention]:
        """Mentions in order of position: non-overlapping, the longest match winning."""
        candidates: list[tuple[int, int, str, int]] = []  # (start, -end, iso3, flag)
        excluded: list[tuple[int, int]] = []
        cued: set[str] = set()
        special = False
        for start, end, (_n, iso3, flag) in self._raw(text):
            if not flag:
                candidates.append((start, -end, iso3, 0))
            elif flag == _EXCLUDE:
                excluded.append((start, end))
            elif flag == _CUE:
                cued.update(self._cues[iso3])
            else:
                special = True
                if flag & _IS_CUE:
                    cued.update(self._cues[text[start:end]])
                if flag & _ARTICLE:
                    start += 4
                candidates.append((start, -end, iso3, flag))
        if not candidates:
            return []
        place = self._place
        if place is not None and not special:
            special = any(text.startswith(", ", -neg_end) for _s, neg_end, _i, _f in candidates)
        if special or excluded:
            candidates = self._filter(text, candidates, excluded, cued)
        candidates.sort()
        mentions = []
        last_end = -1
        for start, neg_end, iso3, _flag in candidates:
            if start >= last_end:
                last_end = -neg_end
                mention = _new(Mention)
                # Same object the frozen dataclass's __init__ builds, at a third of the cost.
                _setattr(
                    mention, "__dict__", {"iso3": iso3, "start": start, "end": last_end, "text": text[start:last_end]}
                )
                mentions.append(mention)
        return mentions

    def _filter(
        self,
        text: str,
        candidates: list[tuple[int, int, str, int]],
        excluded: list[tuple[int, int]],
        cued: set[str],
    ) -> list[tuple[int, int, str, int]]:
        """Drop candidates that an exclusion, a missing hyphen partner or a name context rules out."""
        starts = {start for start, _e, _i, _f in candidates}
        ends = {-neg_end for _s, neg_end, _i, _f in candidates}
        place = self._place
        kept = []
        for item in candidates:
            start, end, _iso3, flag = item
            end = -end
            if excluded and any(xs <= start and end <= xe for xs, xe in excluded):
                continue
            if place is not None and place.match(text, end):
                continue
            if flag:
                if flag & _COMBINING and not self._joined(text, start, end, starts, ends):
                    continue
                if flag & _FOLLOW and self._name_follows(text, end, starts):
                    continue
                if flag & _PRECEDE and self._name_precedes(text, start, ends):
                    continue
                if flag & _CUED and text[start:end] in cued:
                    continue
            kept.append(item)
        return kept

    def countries(self, text: str) -> dict[str, list[tuple[int, int]]]:
        """iso3 -> spans of its mentions, countries in order of first mention."""
        found: dict[str, list[tuple[int, int]]] = {}
        for mention in self.find(text):
            found.setdefault(mention.iso3, []).append((mention.start, mention.end))
        return found

    @staticmethod
    def _joined(text: str, start: int, end: int, starts: set[int], ends: set[int]) -> bool:
        """True when a hyphen ties this combining form to another country word."""
        if end < len(text) and text[end] in _HYPHENS and end + 1 in starts:
            return True
        return start > 0 and text[start - 1] in _HYPHENS and start - 1 in ends

    @staticmethod
    def _name_follows(text: str, end: int, starts: set[int]) -> bool:
        match = _FOLLOWING_WORD.match(text, end)
        if match is None:
            return False
        word = match.group(1).rstrip(".")
        return word not in _NOT_A_NAME and match.start(1) not in starts

    @staticmethod
    def _name_precedes(text: str, start: int, ends: set[int]) -> bool:
        match = _PRECEDING_WORD.search(text, max(0, start - 40), start)
        if match is None or match.group(1) in _NOT_A_NAME:
            return False
        word_start = match.start(1)
        if word_start and text[word_start - 1].isalnum():
            return False
        if match.end(1) in ends:
            return False
        before = text[:word_start].rstrip()
        return bool(before) and before[-1] not in _SENTENCE_OPENERS


def _trie_pattern(keys: Iterable[str]) -> str:
    """One regex alternation shaped as a trie, longest continuation tried first."""
    root: dict = {}
    for key in keys:
        node = root
        for char in key:
            node = node.setdefault(char, {})
        node[""] = key[-1].isalnum()

    def build(node: dict) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if "" in node:
            branches.append(r"(?!\w)" if node[""] else "")
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    return build(root)


def find_mentions(text: str) -> list[Mention]:
    """Country mentions in ``text`` using the default matcher."""
    return CountryMatcher.default().find(text)
