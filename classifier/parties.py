"""Who a document is about: each paragraph's countries, the document's parties, each paragraph's pair."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from coopclf.countries import CountryMatcher

Spans = list[tuple[int, int]]
# A country is a party when it is mentioned at least this share as often as the second party (and
# more than once): a bilateral story has two parties, a summit of several states more.
PARTY_SHARE = 0.5


@dataclass(frozen=True)
class DocumentCountries:
    """Per paragraph the countries named (ISO 3166-1 alpha-3 -> mention spans); the parties; the pairs."""

    countries: tuple[dict[str, Spans], ...]
    parties: tuple[str, ...]
    pairs: tuple[str | None, ...]


def paragraph_countries(text: str) -> dict[str, Spans]:
    """The countries a text mentions, in order of first mention, each with its mention spans."""
    return CountryMatcher.default().countries(text)


def parties_of(counts: Counter[str], first: dict[str, int]) -> tuple[str, ...]:
    """The main countries: by number of mentions (ties by first mention), the top two and any close to them."""
    ranked = sorted(counts, key=lambda code: (-counts[code], first[code]))
    if len(ranked) <= 2:
        return tuple(ranked)
    floor = max(2, PARTY_SHARE * counts[ranked[1]])
    return tuple(ranked[:2]) + tuple(code for code in ranked[2:] if counts[code] >= floor)


def own_pair(countries: dict[str, Spans]) -> str | None:
    """A text's own pair: its two most mentioned countries (ties by first mention), or None."""
    order = list(countries)
    return pair_of(sorted(order, key=lambda code: (-len(countries[code]), order.index(code))))


def pair_of(codes: Sequence[str]) -> str | None:
    """Two countries as a sorted pair id, "BHR-PAK"; None for fewer than two."""
    return "-".join(sorted(codes[:2])) if len(codes) >= 2 else None


def document_countries(paragraphs: Sequence[str]) -> DocumentCountries:
    """Countries per paragraph, the document's parties, and each paragraph's pair.

    A paragraph naming two or more countries is about its own two most mentioned; one naming one
    or none ("the two sides", "his counterpart") inherits the document's two main parties.
    """
    found = tuple(paragraph_countries(text) for text in paragraphs)
    parties, pairs = document_parties(found)
    return DocumentCountries(found, parties, pairs)


def document_parties(found: Sequence[dict[str, Spans]]) -> tuple[tuple[str, ...], tuple[str | None, ...]]:
    """The parties and per-paragraph pairs of a document whose paragraphs' countries are known."""
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for index, countries in enumerate(found):
        for code, spans in countries.items():
            counts[code] += len(spans)
            first.setdefault(code, index * 1_000_000 + spans[0][0])
    parties = parties_of(counts, first)
    inherited = pair_of(parties)
    pairs = []
    for countries in found:
        if len(countries) >= 2:
            pairs.append(own_pair(countries))
        else:
            pairs.append(inherited)
    return parties, tuple(pairs)
