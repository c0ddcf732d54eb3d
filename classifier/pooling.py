"""Sentence pooling: a paragraph's score blended with the score of its most telling sentence.

The guideline labels an area named once, however long the paragraph. A whole-paragraph score
dilutes a lone mention in a long speech; the best sentence's score does not, but alone it misses
areas spread over several sentences. "sentence-mean" averages the two, per label.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from coopclf.splitter import split_sentences

if TYPE_CHECKING:  # numpy loads when scores are pooled: the command line reads POOLINGS without it
    import numpy as np

POOLINGS = ("paragraph", "sentence-mean")
# Shorter pieces ("Why?", "(Item 4.)") say too little to be scored on their own.
MIN_SENTENCE_WORDS = 3


def scored_pieces(text: str) -> tuple[list[str], list[int]]:
    """`text`'s sentence pieces and which of them are scored: those of at least MIN_SENTENCE_WORDS words, if two or more."""
    pieces = split_sentences(text)
    scored = [i for i, piece in enumerate(pieces) if len(piece.split()) >= MIN_SENTENCE_WORDS]
    return pieces, scored if len(scored) >= 2 else []


def sentence_rows(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The sentences of at least MIN_SENTENCE_WORDS words of each text that has two or more, and their text's index."""
    import numpy as np

    sentences: list[str] = []
    owners: list[int] = []
    for i, text in enumerate(texts):
        pieces, scored = scored_pieces(text)
        sentences.extend(pieces[k] for k in scored)
        owners.extend([i] * len(scored))
    return sentences, np.asarray(owners, dtype=np.intp)


def combine(pooling: str, paragraph: np.ndarray, sentence: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """Pooled probabilities from the texts' own and their sentences' (the rows `sentence_rows` gave)."""
    import numpy as np

    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
    if pooling == "paragraph":
        return paragraph
    best = paragraph.copy()  # a text without sentence rows is its own best sentence
    if len(owners):
        best[np.unique(owners)] = 0.0
        np.maximum.at(best, owners, sentence)
    return (paragraph + best) / 2


def pool(pooling: str, texts: Sequence[str], paragraph: np.ndarray,
         score: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """Pooled probabilities for `texts`, given their whole-text probabilities and a scorer for sentences."""
    if pooling == "paragraph":
        return paragraph
    import numpy as np

    sentences, owners = sentence_rows(texts)
    scores = score(sentences) if sentences else np.empty((0, paragraph.shape[1]))
    return combine(pooling, paragraph, scores, owners)
