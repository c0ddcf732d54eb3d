"""The word cache: each word's streams computed once, bounded, the same from every thread."""

from __future__ import annotations

from array import array
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from coopclf.wordcache import CACHED_WORD_CHARS, WordCache


class Counting:
    """A stand-in for the featurizer: stream 0 is the word's length, stream 1 its characters' codes."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, word: str) -> tuple[bytes, ...]:
        self.calls.append(word)
        return array("i", [len(word)]).tobytes(), array("i", map(ord, word)).tobytes()


def test_streams_are_the_words_ids_end_to_end_with_a_count_per_word() -> None:
    cache = WordCache(Counting(), streams=2)
    (lengths, ones), (codes, counts) = cache.streams(["ab", "", "c", "ab"])
    assert lengths.tolist() == [2, 0, 1, 2] and ones.tolist() == [1, 1, 1, 1]
    assert codes.tolist() == [97, 98, 99, 97, 98] and counts.tolist() == [2, 0, 1, 2]


def test_each_word_is_computed_once_and_long_words_every_time() -> None:
    compute = Counting()
    cache = WordCache(compute, streams=2)
    long = "x" * (CACHED_WORD_CHARS + 1)
    cache.streams(["the", "cat", "the", long])
    cache.streams(["the", "cat", long])
    assert sorted(compute.calls) == sorted(["the", "cat", long, long])


def test_a_full_cache_keeps_the_words_still_in_use() -> None:
    compute = Counting()
    cache = WordCache(compute, streams=2, size=4)
    cache.streams(["a", "b", "c"])
    cache.streams(["d", "e"])  # the young generation overflows and becomes the old one
    cache.streams(["a", "b", "f"])  # a and b come back from the old generation, uncomputed
    assert sorted(compute.calls) == ["a", "b", "c", "d", "e", "f"]


def test_threads_share_one_cache_and_get_the_same_streams() -> None:
    cache = WordCache(Counting(), streams=2, size=64)
    words = [f"w{i % 97}" for i in range(500)]
    expected = [stream.tolist() for pair in WordCache(Counting(), streams=2).streams(words) for stream in pair]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: cache.streams(words), range(32)))
    for result in results:
        assert [stream.tolist() for pair in result for stream in pair] == expected
        assert all(isinstance(stream, np.ndarray) for pair in result for stream in pair)
