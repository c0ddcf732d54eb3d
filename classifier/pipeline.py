"""Build the TF-IDF + one-vs-rest logistic regression pipeline: the only place that does."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # scikit-learn loads when a pipeline is built: the command line reads FEATURE_SETS without it
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline

FEATURE_SETS = ("word", "word+char", "word+char+presence", "word+char+presence+acronym")
# A term named once in a long paragraph gets a tiny length-normalised TF-IDF value, yet the
# guideline counts an area named in passing. The presence block (binary, not length-normalised,
# down-weighted) lets a single mention count whatever the paragraph's length.
PRESENCE_WEIGHT = 0.05
PRESENCE_MIN_DF = 3
# Lower-casing turns the abbreviation "IT" into the pronoun "it", and "AI" or "CT" into noise. A
# case-sensitive block of words written in capitals (IT, ICT, AI, 5G, FIA, ANF, CT) gives them
# features of their own, distinct from the lower-case words: binary and not length-normalised, like the block
# above, so "IT" named once in a long list still counts (at 0.1, "the ICT sector" scored 0.16; at 1.0 the
# fit took twice as long for a like result).
ACRONYM_PATTERN = r"(?u)\b(?:[A-Z][A-Z0-9]{1,5}|[0-9][A-Z])\b"
ACRONYM_WEIGHT = 0.3



def build_features(features: str = "word", min_df: int = 1) -> TfidfVectorizer | FeatureUnion:
    """Word 1-2-gram TF-IDF, optionally joined with character 2-5-grams and word presence flags."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    if features not in FEATURE_SETS:
        raise ValueError(f"features must be one of {FEATURE_SETS}, not {features!r}")
    word = TfidfVectorizer(
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=min_df,
        strip_accents="unicode",
        dtype=np.float32,
    )
    if features == "word":
        return word
    char = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 5),
        sublinear_tf=True,
        min_df=max(min_df, 2),
        strip_accents="unicode",
        dtype=np.float32,
    )
    if features == "word+char":
        return FeatureUnion([("word", word), ("char", char)])
    presence = TfidfVectorizer(
        ngram_range=(1, 2),
        binary=True,
        norm=None,
        min_df=max(min_df, PRESENCE_MIN_DF),
        strip_accents="unicode",
        dtype=np.float32,
    )
    blocks = [("word", word), ("char", char), ("presence", presence)]
    weights = {"word": 1.0, "char": 1.0, "presence": PRESENCE_WEIGHT}
    if features == "word+char+presence+acronym":
        blocks.append(("acronym", TfidfVectorizer(
            lowercase=False,
            token_pattern=ACRONYM_PATTERN,
            binary=True,
            norm=None,
            min_df=max(min_df, 2),
            strip_accents="unicode",
            dtype=np.float32,
        )))
        weights["acronym"] = ACRONYM_WEIGHT
    return FeatureUnion(blocks, transformer_weights=weights)


def build_pipeline(*, features: str = "word", C: float = 8.0, min_df: int = 1, seed: int = 0) -> Pipeline:
    """A fresh, unfitted multi-label pipeline: features, then one logistic regression per label."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import Pipeline

    classifier = LogisticRegression(
        C=C, class_weight="balanced", solver="liblinear", max_iter=1000, random_state=seed
    )
    return Pipeline(
        [
            ("features", build_features(features, min_df)),
            ("classifier", OneVsRestClassifier(classifier)),
        ]
    )
