"""The fitted TF-IDF feature union's matrix, computed several times faster than scikit-learn.

Every block reads the text word by word (see `wordlocal`), so each distinct whitespace-separated
word is read once per process (`wordcache`): its token ids and character n-gram columns are
remembered. A batch is then a stream of word ids; word n-grams come from token ids by numpy
lookups (`ngrams`), and all rows of all blocks are counted, weighted and normalised in one numpy
pass, with the same float32 operations in the same order as scikit-learn, so the matrix is equal.

Rows may overlap: a paragraph's row and its sentences' rows come from one reading of its words
(`matrix(texts, parts)`), since a paragraph's counts are its sentences' counts plus the word
n-grams that straddle a sentence end. `tests/classifier/test_featurizer.py` checks the matrices
equal `features.transform`.
"""

from __future__ import annotations

import functools
import itertools
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from coopclf.ngrams import NOT_FOUND, NgramIndex, TokenTable
from coopclf.wordcache import WordCache
from coopclf.wordlocal import WHITESPACE, pattern_is_word_local, separators

# A text's pieces (its sentences: end to end, whitespace aside, they should be the text) and the
# indices of the pieces that get a row of their own.
Parts = tuple[Sequence[str], Sequence[int]]


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


class Featurizer:
    """`features.transform` for a fitted word/char_wb TF-IDF union, re-implemented for speed."""

    def __init__(self, blocks: Sequence[Block], readings: Sequence[tuple[Callable[[str], str], str]]) -> None:
        self.blocks = tuple(blocks)
        self.n_features = sum(block.width for block in self.blocks)
        self.dtype = np.dtype(self.blocks[0].dtype)
        self._readings = [(preprocess, _compile(pattern)) for preprocess, pattern in readings]
        self._split = _splitter(readings)
        # Streams a word yields: token ids for each reading a (non-mapped) word block counts in, then
        # the columns of each char_wb block.
        self._tables: dict[int, TokenTable] = {}
        for block in self.blocks:
            if block.kind == "word" and block.source is None and block.reading not in self._tables:
                self._tables[block.reading] = TokenTable(
                    b.vocabulary for b in self.blocks
                    if b.kind == "word" and b.source is None and b.reading == block.reading)
        self._token_stream = {reading: i for i, reading in enumerate(self._tables)}
        self._char_stream = {b: len(self._tables) + i
                             for i, b in enumerate(b for b, block in enumerate(self.blocks) if block.kind == "char_wb")}
        self._indexes = {b: NgramIndex(self._tables[block.reading], block.vocabulary, block.ngram_range)
                         for b, block in enumerate(self.blocks) if block.kind == "word" and block.source is None}
        self._cache = WordCache(self._word_streams, len(self._tables) + len(self._char_stream))

    @classmethod
    def from_features(cls, features: Any) -> Featurizer | None:
        """A featurizer equal to `features`, or None when it uses options this module does not reproduce."""
        from sklearn.pipeline import FeatureUnion

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

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The feature matrix of `texts`, equal to the fitted union's `transform(texts)`."""
        return self.matrix(texts)

    def matrix(self, texts: Sequence[str], parts: Sequence[Parts] | None = None) -> sp.csr_matrix:
        """Rows for `texts`, then a row for each chosen part of each text, in order: each equal to its
        own `transform` row. A text's words are read once for its row and its parts' rows when its
        parts end to end are its words; otherwise its parts are read on their own."""
        words: list[str] = []
        lengths: list[int] = []
        outer: list[int] = []
        inner: list[int] = []
        n_inner = 0
        split = self._split
        for t, text in enumerate(texts):
            text_words = split(text)
            words += text_words
            chosen = parts[t][1] if parts is not None else ()
            if not chosen:
                lengths.append(len(text_words))
                outer.append(t)
                inner.append(-1)
                continue
            pieces = [split(piece) for piece in parts[t][0]]  # type: ignore[index]
            rows = dict(zip(chosen, range(n_inner, n_inner + len(chosen))))
            n_inner += len(chosen)
            if text_words == list(itertools.chain.from_iterable(pieces)):
                lengths += map(len, pieces)
                outer += [t] * len(pieces)
                inner += [rows.get(k, -1) for k in range(len(pieces))]
                continue
            lengths.append(len(text_words))
            outer.append(t)
            inner.append(-1)
            for k, row in rows.items():
                words += pieces[k]
                lengths.append(len(pieces[k]))
                outer.append(-1)
                inner.append(row)
        inner_rows = np.array(inner, dtype=np.int64)
        inner_rows[inner_rows >= 0] += len(texts)
        word_rows = np.repeat(np.array([outer, inner_rows], dtype=np.int64).reshape(2, -1),
                              np.array(lengths, dtype=np.int64), axis=1)
        return self._rows(words, word_rows, len(texts) + n_inner)

    def _rows(self, words: list[str], word_rows: np.ndarray, n_rows: int) -> sp.csr_matrix:
        """The matrix whose row r counts the n-grams of the words that `word_rows` (2, n_words) puts in r."""
        streams = self._cache.streams(words)
        found: list[tuple[np.ndarray, np.ndarray]] = []  # per block: columns and (2, n) rows
        for b, block in enumerate(self.blocks):
            if block.source is not None and block.remap is not None:
                source_columns, source_rows = found[block.source]
                mapped = block.remap[source_columns]
                keep = mapped != NOT_FOUND
                found.append((mapped[keep], source_rows[:, keep]))
            elif block.kind == "char_wb":
                columns, counts = streams[self._char_stream[b]]
                rows = np.repeat(word_rows, counts, axis=1)
                known = columns != NOT_FOUND
                found.append((columns[known], rows[:, known]))
            else:
                tokens, counts = streams[self._token_stream[block.reading]]
                found.append(self._indexes[b].occurrences(tokens, np.repeat(word_rows, counts, axis=1)))
        # Count each block on its own (small keys sort fast), then interleave the blocks row by row.
        counted = [self._counted(block, columns, rows, n_rows) for block, (columns, rows) in zip(self.blocks, found)]
        per_row = [np.bincount(rows, minlength=n_rows) for rows, _, _ in counted]
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.sum(per_row, axis=0), out=indptr[1:])
        indices = np.empty(indptr[-1], dtype=np.int32)
        data = np.empty(indptr[-1], dtype=self.dtype)
        before = indptr[:-1].copy()  # where the next block's entries of each row go
        for block, (rows, columns, values), counts in zip(self.blocks, counted, per_row):
            if len(rows):
                own_start = np.cumsum(counts) - counts  # where each row's entries start in this block's arrays
                where = (before - own_start)[rows] + np.arange(len(rows))
                indices[where] = columns + block.offset
                data[where] = values
            before += counts
        return sp.csr_matrix((data, indices, indptr), shape=(n_rows, self.n_features))

    def _counted(self, block: Block, columns: np.ndarray, rows: np.ndarray,
                 n_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One block's distinct (row, column) pairs, sorted, with their TF-IDF values as the vectoriser computes them."""
        if not len(columns):
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int32), np.empty(0, dtype=self.dtype)
        width = max(block.width, 1)
        key_type = np.int32 if n_rows * width <= _INT32_MAX else np.int64
        row = rows.ravel()  # every kind of row (texts, their parts): their row ids do not overlap
        in_row = row >= 0
        key = row[in_row].astype(key_type) * key_type(width) + np.concatenate([columns] * len(rows))[in_row]
        key, counts = _distinct(key)
        row_of = key // width
        column = (key - row_of * width).astype(np.int32)
        if block.binary:
            values = np.ones(len(counts), dtype=self.dtype)
        elif block.sublinear:
            values = _sublinear(counts, self.dtype)
        else:
            values = counts.astype(self.dtype)
        if block.idf is not None:
            values = (values * block.idf[column]).astype(self.dtype)  # in float64, stored as float32: as scikit-learn
        if block.norm is not None:
            # scikit-learn sums the float products in a double, row by row in column order; so does bincount.
            terms = values * values if block.norm == "l2" else np.abs(values)
            sums = np.bincount(row_of, weights=terms, minlength=n_rows).astype(np.float64, copy=False)
            if block.norm == "l2":
                np.sqrt(sums, out=sums)
            sums[sums == 0.0] = 1.0
            values = (values / sums[row_of]).astype(self.dtype)
        if block.weight != 1.0:
            values *= block.weight
        return row_of, column, values

    def _word_streams(self, word: str) -> tuple[bytes, ...]:
        """One word's token ids per reading, then its columns per char_wb block (each as int32 bytes)."""
        docs: dict[int, str] = {}
        out: list[bytes] = []
        for reading, table in self._tables.items():
            preprocess, findall = self._readings[reading]
            docs[reading] = doc = preprocess(word)
            ids = table.ids
            out.append(array("i", map(ids.get, findall(doc), itertools.repeat(NOT_FOUND))).tobytes())
        for b in self._char_stream:
            block = self.blocks[b]
            doc = docs.get(block.reading)
            if doc is None:
                doc = docs[block.reading] = self._readings[block.reading][0](word)
            out.append(_char_columns(doc, block.ngram_range, block.vocabulary))
        return tuple(out)


_INT32_MAX = int(np.iinfo(np.int32).max)


def _distinct(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, sorted, and how often each occurs."""
    keys = np.sort(keys)
    if not len(keys):
        return keys, np.empty(0, dtype=np.int64)
    first = np.empty(len(keys), dtype=bool)
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.empty(len(starts), dtype=np.int64)
    counts[:-1] = starts[1:] - starts[:-1]
    counts[-1] = len(keys) - starts[-1]
    return keys[starts], counts


def _sublinear(counts: np.ndarray, dtype: Any) -> np.ndarray:
    """1 + log(count) in `dtype`, as TfidfTransformer computes it, read from a table of every count present."""
    if not len(counts):
        return np.empty(0, dtype=dtype)
    table = np.arange(1, int(counts.max()) + 1, dtype=dtype)
    np.log(table, out=table)
    table += 1
    return table[counts - 1]


def _char_columns(doc: str, ngram_range: tuple[int, int], vocabulary: dict[str, int]) -> bytes:
    """The column of each character n-gram of each space-padded word, exactly as "char_wb" slices them
    (NOT_FOUND for n-grams outside the vocabulary)."""
    grams: list[str] = []
    for word in doc.split():
        padded = f" {word} "
        grams += map(padded.__getitem__, _gram_slices(len(padded), ngram_range))
    return array("i", map(vocabulary.get, grams, itertools.repeat(NOT_FOUND))).tobytes()


@functools.lru_cache(maxsize=256)
def _gram_slices(length: int, ngram_range: tuple[int, int]) -> tuple[slice, ...]:
    """Where the n-grams of a padded word of `length` characters lie; a word shorter than n counts once, whole."""
    low, high = ngram_range
    slices = []
    for n in range(low, high + 1):
        if length <= n:
            slices.append(slice(0, length))
            break
        slices += [slice(i, i + n) for i in range(length - n + 1)]
    return tuple(slices)


def _compile(pattern: str) -> Callable[[str], list[str]]:
    import re

    return re.compile(pattern).findall


def _splitter(readings: Sequence[tuple[Callable[[str], str], str]]) -> Callable[[str], list[str]]:
    """Cuts a text into the pieces every reading can read on their own: at whitespace all keep whitespace."""
    import re

    kept = set(WHITESPACE)
    for preprocess, _ in readings:
        kept &= set(separators(preprocess))
    if kept == set(WHITESPACE):
        return str.split
    if not kept:
        return lambda text: [text] if text else []
    cut = re.compile(f"[{re.escape(''.join(sorted(kept)))}]+").split
    return lambda text: [piece for piece in cut(text) if piece]


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
            remap = np.full(len(earlier.vocabulary), NOT_FOUND, dtype=np.int32)
            for term, column in vocabulary.items():
                remap[earlier.vocabulary[term]] = column
            return index, remap
    return None, None


def _supported(vectoriser: Any) -> bool:
    from sklearn.feature_extraction.text import TfidfVectorizer

    if type(vectoriser) is not TfidfVectorizer or not hasattr(vectoriser, "vocabulary_"):
        return False
    params = vectoriser.get_params()
    return (params["input"] == "content" and np.dtype(params["dtype"]) in (np.float32, np.float64)
            and params["preprocessor"] is None and params["tokenizer"] is None
            and params["strip_accents"] in (None, "ascii", "unicode")
            and params["analyzer"] in ("word", "char_wb") and params["norm"] in ("l1", "l2", None)
            and (params["analyzer"] == "char_wb" or (params["stop_words"] is None
                                                     and pattern_is_word_local(params["token_pattern"]))))
