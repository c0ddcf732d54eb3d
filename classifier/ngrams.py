"""Word n-gram columns from a stream of token ids, with numpy lookups instead of joining strings.

A word block's vocabulary holds n-grams written as tokens joined by single spaces. Every token of
every n-gram gets an id; an n-gram's tokens then form a chain of (prefix id, next token id) keys,
one sorted array per length, so the n-grams of a whole batch are found with one `searchsorted`
per length. Tokens of a word-local pattern hold no space, so splitting a term recovers its tokens.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping

import numpy as np

NOT_FOUND = -1


class TokenTable:
    """An id for every token that occurs in some n-gram of some vocabulary of one reading of the text."""

    def __init__(self, vocabularies: Iterable[Mapping[str, int]]) -> None:
        tokens: dict[str, None] = {}
        for vocabulary in vocabularies:
            tokens.update(dict.fromkeys(" ".join(vocabulary).split(" ")))
        self.ids = dict(zip(tokens, range(len(tokens))))

    def __len__(self) -> int:
        return len(self.ids)


class NgramIndex:
    """One word block's vocabulary as chains of sorted integer keys over a TokenTable's ids."""

    def __init__(self, table: TokenTable, vocabulary: Mapping[str, int], ngram_range: tuple[int, int]) -> None:
        self.low, self.high = ngram_range
        size = len(table)
        self._size = np.int64(max(size, 1))
        terms = list(vocabulary)
        columns = np.fromiter(vocabulary.values(), dtype=np.int32, count=len(terms))
        lengths = np.fromiter(map(str.count, terms, itertools.repeat(" ")), dtype=np.int64, count=len(terms)) + 1
        tokens = np.fromiter(map(table.ids.__getitem__, " ".join(terms).split(" ")), dtype=np.int64,
                             count=int(lengths.sum()))
        starts = np.cumsum(lengths) - lengths
        # Length 1: a token id's own column; the extra last entry answers id -1 (an unknown token).
        self._unigram = np.full(size + 1, NOT_FOUND, dtype=np.int32)
        single = lengths == 1
        self._unigram[tokens[starts[single]]] = columns[single]
        # Lengths 2..high: the sorted (prefix id * size + token id) keys, and each key's column.
        self._keys: list[np.ndarray] = []
        self._columns: list[np.ndarray] = []
        prefix = tokens[starts]  # each term's id for its first n-1 tokens (at n = 2, its first token)
        for n in range(2, self.high + 1):
            longer = lengths >= n
            key = prefix[longer] * self._size + tokens[starts[longer] + n - 1]
            order = np.argsort(key)
            ordered = key[order]
            first = np.empty(len(ordered), dtype=bool)
            first[:1] = True
            np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
            position = np.empty(len(key), dtype=np.int64)  # each term's key's place among the distinct keys
            position[order] = np.cumsum(first) - 1
            column_n = np.full(int(first.sum()) + 1, NOT_FOUND, dtype=np.int32)
            exact = lengths[longer] == n
            column_n[position[exact]] = columns[longer][exact]
            self._keys.append(ordered[first])
            self._columns.append(column_n)
            prefix = np.full(len(terms), NOT_FOUND, dtype=np.int64)
            prefix[longer] = position

    def occurrences(self, tokens: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every n-gram occurrence in a token-id stream: (columns, rows), rows as given per token.

        `rows` is one or more (n_tokens,) arrays of row ids (-1: in no row) stacked as (k, n_tokens); an
        n-gram belongs to a row when its first and last tokens do (rows are runs of consecutive tokens).
        The result's rows are (k, n_occurrences).
        """
        columns, found_rows = [], []
        if not len(tokens):
            return np.empty(0, dtype=np.int32), np.empty((len(rows), 0), dtype=rows.dtype)
        if self.low <= 1:
            unigram = self._unigram[tokens]
            keep = unigram != NOT_FOUND
            columns.append(unigram[keep])
            found_rows.append(rows[:, keep])
        prefix = tokens.astype(np.int64)
        for n in range(2, self.high + 1):
            keys_n = self._keys[n - 2]
            width = len(tokens) - n + 1
            if width <= 0 or not len(keys_n):
                break
            head, last = prefix[:width], tokens[n - 1:]
            key = head * self._size + last
            order = np.argsort(key)  # sorted queries walk the sorted keys in order: far fewer cache misses
            where = np.empty_like(order)
            where[order] = np.minimum(np.searchsorted(keys_n, key[order]), len(keys_n) - 1)
            hit = (head >= 0) & (last >= 0) & (keys_n[where] == key)
            prefix = np.where(hit, where, NOT_FOUND)
            if n >= self.low:
                column = self._columns[n - 2][prefix]
                start, end = rows[:, :width], rows[:, n - 1:]
                same = (start == end) & (start >= 0)
                keep = (column != NOT_FOUND) & same.any(axis=0)
                columns.append(column[keep])
                found_rows.append(np.where(same[:, keep], start[:, keep], -1))
        if not columns:
            return np.empty(0, dtype=np.int32), np.empty((len(rows), 0), dtype=rows.dtype)
        return np.concatenate(columns), np.concatenate(found_rows, axis=1)
