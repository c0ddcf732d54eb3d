"""Each distinct word's feature ids, computed once: words are Zipf-distributed, so a bounded cache covers most."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence

import numpy as np

# Distinct words remembered in each of two generations. When the young one is full it becomes the old
# one: words still in use move back on their next lookup, one-off words (ids, numbers) are forgotten.
WORD_CACHE_SIZE = 1 << 16
# Longer "words" (URLs, base64, run-together text) are rare and their entries large: a
# 50,000-character token's character n-grams take ~800 KB. They are computed each time instead.
CACHED_WORD_CHARS = 32


class WordCache:
    """Thread-safe map from a word to its streams of int32 ids (token ids, n-gram columns)."""

    def __init__(self, compute: Callable[[str], tuple[bytes, ...]], streams: int,
                 size: int = WORD_CACHE_SIZE) -> None:
        self._compute = compute
        self._streams = streams
        self._size = size
        # A word's entry: how many ids each stream has, then the streams' ids, all as int32 bytes.
        self._entries: dict[str, bytes] = {}
        self._old: dict[str, bytes] = {}

    def streams(self, words: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each stream, the ids of all `words` end to end and how many each word has."""
        found = self._lookup(words)
        streams = self._streams
        sizes = np.fromiter(map(len, found), dtype=np.int64, count=len(found)) // 4
        flat = np.frombuffer(b"".join(found), dtype=np.int32)
        starts = np.cumsum(sizes) - sizes
        counts = flat[starts[:, None] + np.arange(streams)].astype(np.int64)  # (words, streams)
        begins = starts[:, None] + streams + (np.cumsum(counts, axis=1) - counts)
        out = []
        for s in range(streams):
            count = counts[:, s]
            ends = np.cumsum(count)
            at = np.repeat(begins[:, s] - (ends - count), count) + np.arange(ends[-1] if len(ends) else 0)
            out.append((flat[at], count))
        return out

    def _lookup(self, words: Sequence[str]) -> list[bytes]:
        entries = self._entries  # another thread may replace it; this call keeps reading the one it took
        found: list[bytes | None] = list(map(entries.get, words))
        missing = _positions_of_none(found)
        if not missing:
            return found
        old = self._old
        fresh: dict[str, bytes] = {}
        for i in missing:
            word = words[i]
            entry = fresh.get(word)
            if entry is None:
                entry = fresh[word] = old.get(word) or self._packed(word)
            found[i] = entry
        keep = {word: entry for word, entry in fresh.items() if len(word) <= CACHED_WORD_CHARS}
        if len(entries) + len(keep) > self._size:
            self._old, entries = entries, {}
            self._entries = entries
        entries.update(keep)
        return found

    def _packed(self, word: str) -> bytes:
        parts = self._compute(word)
        return array("i", [len(part) // 4 for part in parts]).tobytes() + b"".join(parts)


def _positions_of_none(found: list[bytes | None]) -> list[int]:
    """Where `found` holds None, by C-level scans rather than a Python loop over every item."""
    positions: list[int] = []
    try:
        at = found.index(None)
        while True:
            positions.append(at)
            at = found.index(None, at + 1)
    except ValueError:
        return positions
