"""The fitted TF-IDF feature union's matrix, computed about three times faster than scikit-learn.

The text is normalised once for all blocks (scikit-learn does it per block), word n-grams are built
once for the word blocks that share them, and a word's character-n-gram columns come from a bounded
cache. `tests/classifier/test_featurizer.py` checks the matrices equal `features.transform`.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import normalize

# Distinct words whose character-n-gram columns are remembered (least recently used go first).
# News reuses a few tens of thousands of words; a full cache of 4-11-letter words took 34 MB.
WORD_CACHE_SIZE = 1 << 16
# Longer "words" (URLs, base64, run-together text) are rare and would make entries large: a
# 50,000-character token's columns take ~280 KB. They are computed each time instead.
CACHED_WORD_CHARS = 32


@dataclass(frozen=True)
class Block:
    """One vectoriser's share of the feature matrix and how to turn its counts into values."""

    kind: str  # "word" or "char_wb"
    reading: int  # which reading of the text (case handling and token pattern) the block counts in
    ngram_range: tuple[int, int]
    vocabulary: dict[str, int]
    idf: np.ndarray | None
    binary: bool
    sublinear: bool
    norm: str | None
    weight: float
    offset: int
    dtype: Any
    # A word block whose vocabulary lies inside an earlier block's (same n-grams, fewer of them)
    # maps that block's columns instead of looking every n-gram up again.
    source: int | None = None
    remap: np.ndarray | None = None

    @property
    def width(self) -> int:
        """Number of columns this block contributes."""
        return len(self.vocabulary)

    def weigh(self, values: np.ndarray, columns: np.ndarray) -> None:
        """Turn counts into TF-IDF in place, before normalisation, as TfidfVectorizer does."""
        if self.binary:
            values.fill(1)
        elif self.sublinear:
            np.log(values, values)
            values += 1
        if self.idf is not None:
            values *= self.idf[columns]

    def values(self, counts: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """TF-IDF values of one text's distinct columns from their counts (equal to within float rounding)."""
        values = counts.astype(self.dtype)
        self.weigh(values, columns)
        if self.norm == "l2":
            values /= np.sqrt(np.dot(values, values))
        elif self.norm == "l1":
            values /= np.abs(values).sum()
        return values


class Featurizer:
    """`features.transform` for a fitted word/char_wb TF-IDF union, re-implemented for speed."""

    def __init__(self, blocks: Sequence[Block], readings: Sequence[tuple[Callable[[str], str], str]]) -> None:
        self.blocks = tuple(blocks)
        self.n_features = sum(block.width for block in self.blocks)
        # Each reading is a preprocessor (lower-casing or not, accents stripped) and a token pattern.
        self._readings = [(preprocess, re.compile(pattern).findall) for preprocess, pattern in readings]
        self._char_columns = [_cached_for_short_words(self._char_columns_of(block))
                              if block.kind == "char_wb" else None for block in self.blocks]

    @classmethod
    def from_features(cls, features: Any) -> Featurizer | None:
        """A featurizer equal to `features`, or None when it uses options this module does not reproduce."""
        if isinstance(features, FeatureUnion):
            weights = features.transformer_weights or {}
            parts = [(vectoriser, weights.get(name, 1.0)) for name, vectoriser in features.transformer_list]
        else:
            parts = [(features, 1.0)]
        if not parts or not all(_supported(vectoriser) for vectoriser, _ in parts):
            return None
        first = parts[0][0]
        if any(v.dtype != first.dtype for v, _ in parts):
            return None
        readings: dict[tuple[Any, ...], int] = {}
        preprocessors: list[tuple[Callable[[str], str], str]] = []
        blocks: list[Block] = []
        offset = 0
        for vectoriser, weight in parts:
            key = (vectoriser.lowercase, vectoriser.strip_accents, vectoriser.token_pattern)
            if key not in readings:
                readings[key] = len(preprocessors)
                preprocessors.append((vectoriser.build_preprocessor(), vectoriser.token_pattern))
            reading = readings[key]
            kind, ngram_range, vocabulary = vectoriser.analyzer, tuple(vectoriser.ngram_range), vectoriser.vocabulary_
            source, remap = _subset_of(blocks, kind, reading, ngram_range, vocabulary)
            blocks.append(Block(
                kind=kind, reading=reading, ngram_range=ngram_range, vocabulary=vocabulary,
                idf=vectoriser.idf_ if vectoriser.use_idf else None, binary=vectoriser.binary,
                sublinear=vectoriser.sublinear_tf, norm=vectoriser.norm, weight=float(weight),
                offset=offset, dtype=vectoriser.dtype, source=source, remap=remap))
            offset += len(vocabulary)
        return cls(blocks, preprocessors)

    def columns(self, text: str) -> list[np.ndarray]:
        """For each block, the column of every n-gram occurrence in `text` (repeats included)."""
        docs: dict[int, str] = {}
        words: dict[int, list[str]] = {}
        terms: dict[tuple[int, int, int], list[str]] = {}
        out = []
        for block, char_columns in zip(self.blocks, self._char_columns):
            reading = block.reading
            if reading not in docs:
                docs[reading] = self._readings[reading][0](text)
            if char_columns is not None:
                if reading not in words:
                    words[reading] = docs[reading].split()
                out.append(np.frombuffer(b"".join(map(char_columns, words[reading])), dtype=np.int32))
                continue
            if block.source is not None and block.remap is not None:
                mapped = block.remap[out[block.source]]
                out.append(mapped[mapped >= 0])
                continue
            key = (reading, *block.ngram_range)
            grams = terms.get(key)
            if grams is None:
                tokens = self._readings[reading][1](docs[reading])
                grams = terms[key] = _word_ngrams(tokens, *block.ngram_range)
            found = np.fromiter(map(block.vocabulary.get, grams, itertools.repeat(-1)), dtype=np.int32,
                                count=len(grams))
            out.append(found[found >= 0])
        return out

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """One text's non-zero feature columns and their values, without building a sparse matrix."""
        columns, values = [], []
        for block, found in zip(self.blocks, self.columns(text)):
            if len(found):
                distinct, counts = np.unique(found, return_counts=True)
                columns.append(distinct + block.offset)
                values.append(block.weight * block.values(counts, distinct).astype(np.float64))
        if not columns:
            return np.empty(0, dtype=np.intp), np.empty(0)
        return np.concatenate(columns), np.concatenate(values)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The feature matrix of `texts`, equal to the fitted union's `transform(texts)`."""
        per_block: list[list[np.ndarray]] = [[] for _ in self.blocks]
        for text in texts:
            for found, columns in zip(per_block, self.columns(text)):
                found.append(columns)
        return sp.hstack([self._block_matrix(block, found) for block, found in zip(self.blocks, per_block)],
                         format="csr", dtype=self.blocks[0].dtype)

    def _block_matrix(self, block: Block, found: list[np.ndarray]) -> sp.csr_matrix:
        indptr = np.zeros(len(found) + 1, dtype=np.int64)
        np.cumsum([len(columns) for columns in found], out=indptr[1:])
        indices = np.concatenate(found) if found else np.empty(0, dtype=np.int32)
        X = sp.csr_matrix((np.ones(len(indices), dtype=block.dtype), indices, indptr),
                          shape=(len(found), block.width))
        X.sum_duplicates()
        block.weigh(X.data, X.indices)
        if block.norm is not None:
            X = normalize(X, norm=block.norm, copy=False)
        if block.weight != 1.0:
            X.data *= block.weight
        return X

    @staticmethod
    def _char_columns_of(block: Block) -> Callable[[str], bytes]:
        low, high = block.ngram_range
        vocabulary = block.vocabulary

        def char_columns(word: str) -> bytes:
            # The n-grams of one space-padded word, exactly as TfidfVectorizer's "char_wb" slices them.
            padded = f" {word} "
            length = len(padded)
            grams = []
            for n in range(low, high + 1):
                if length <= n:
                    grams.append(padded)
                    break
                grams.extend(padded[i:i + n] for i in range(length - n + 1))
            found = np.fromiter(map(vocabulary.get, grams, itertools.repeat(-1)), dtype=np.int32,
                                count=len(grams))
            return found[found >= 0].tobytes()  # bytes: a compact cache entry, cheap to join per text

        return char_columns


def _cached_for_short_words(compute: Callable[[str], bytes]) -> Callable[[str], bytes]:
    """`compute` behind an LRU cache that only keeps words of up to CACHED_WORD_CHARS characters."""
    cached = functools.lru_cache(maxsize=WORD_CACHE_SIZE)(compute)

    def columns(word: str) -> bytes:
        return cached(word) if len(word) <= CACHED_WORD_CHARS else compute(word)

    return columns


def _subset_of(blocks: list[Block], kind: str, reading: int, ngram_range: tuple[int, int],
               vocabulary: dict[str, int]) -> tuple[int | None, np.ndarray | None]:
    """An earlier word block whose vocabulary holds all of `vocabulary`, and the column map from it."""
    if kind != "word":
        return None, None
    for index, earlier in enumerate(blocks):
        if (earlier.kind == "word" and earlier.source is None and earlier.reading == reading
                and earlier.ngram_range == ngram_range
                and len(earlier.vocabulary) >= len(vocabulary)
                and all(term in earlier.vocabulary for term in vocabulary)):
            remap = np.full(len(earlier.vocabulary), -1, dtype=np.int32)
            for term, column in vocabulary.items():
                remap[earlier.vocabulary[term]] = column
            return index, remap
    return None, None


def _word_ngrams(tokens: list[str], low: int, high: int) -> list[str]:
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high, len(tokens)) + 1):
        grams.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return grams


def _supported(vectoriser: Any) -> bool:
    if type(vectoriser) is not TfidfVectorizer or not hasattr(vectoriser, "vocabulary_"):
        return False
    params = vectoriser.get_params()
    return (params["input"] == "content" and np.dtype(params["dtype"]) in (np.float32, np.float64)
            and params["preprocessor"] is None and params["tokenizer"] is None
            and params["analyzer"] in ("word", "char_wb") and params["norm"] in ("l1", "l2", None)
            and (params["analyzer"] == "char_wb" or params["stop_words"] is None))
