"""The fast featurizer must give exactly the matrix scikit-learn's fitted features give."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from coopclf.featurizer import Featurizer
from coopclf.pipeline import FEATURE_SETS, build_features
from coopclf.pooling import scored_pieces
from tests.conftest import TINY_CSV

AWKWARD = [
    "",
    "   \t\n  ",
    "a",
    "I",
    "Counter-terrorism talks in Manama; heroin seizure at Karachi port.",
    "ÉLAN café naïve Zürich — São Paulo's exports rose 4.5% (US$1.2bn).",
    "ΟΔΟΣ ΣΟΦΟΣ Σ: Greek final sigma lower-cases by position",
    "non\u00a0breaking\u2003spaces\u3000and\x1ccontrol separators",
    "a diaeresis ¨ alone and ½ fractions ﬁ ligatures ① circled",
    "combining e\u0301 accents and an emoji 🚢 at sea",
    "word " * 60,
    "x" * 300,
    "tabs\tand\nnewlines\r\nand  double  spaces",
    "12 345 678 numbers 2024-11-28 and e-mail@example.org",
    "IT and ICT firms, AI labs and 5G masts: the FIA and the ANF said CT cooperation grows, and it will.",
    "The IT sector, ICT exports and AI; 5G licences for the FIA. It was agreed.",
]
# Paragraphs whose sentences are scored on their own: the cuts fall where lower-casing, accent
# stripping and the token patterns are most likely to see across them.
SENTENCES = [
    "ΟΔΟΣ ΣΟΦΟΣ ΕΙΝΑΙ ΚΑΛΟΣ. ΣΟΦΟΣ ΔΡΟΜΟΣ ΕΚΕΙ ΠΑΝΤΑ. Σ ΑΡΧΗ ΤΟΥ ΛΟΓΟΥ.",
    "Customs seized heroin at the port.\u2028The ICT ministry said so.\u3000IT firms agreed on 5G plans.",
    "Talks on trade went well!  \"Exports will rise,\" the minister said. (Tourists came back.)",
    "Ransomware hit the servers. Why? Nobody knows yet. Officials said the data centre was safe.",
    "Élan in São Paulo rose 4.5%. Café owners in Zürich cheered. Naïve hopes, some said later.",
    "The U.S. and Gen. Smith met Mr. Khan on Jan. 5. They discussed heroin routes. IT was on the agenda.",
    "Counter-terrorism talks ended... Trafficking victims were freed. 12 345 people fled.",
]


def _tiny_texts() -> list[str]:
    with TINY_CSV.open(encoding="utf-8") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


@pytest.fixture(scope="module", params=FEATURE_SETS)
def fitted(request: pytest.FixtureRequest) -> TfidfVectorizer | FeatureUnion:
    return build_features(request.param).fit(_tiny_texts() + AWKWARD + SENTENCES)


def test_matrix_equals_scikit_learn_transform(fitted: TfidfVectorizer | FeatureUnion) -> None:
    featurizer = Featurizer.from_features(fitted)
    assert featurizer is not None
    texts = AWKWARD + SENTENCES + _tiny_texts()
    expected = fitted.transform(texts).tocsr()
    for _ in range(2):  # the second pass reads the word cache
        got = featurizer.transform(texts)
        assert got.shape == expected.shape
        assert got.dtype == expected.dtype
        assert (got != expected).nnz == 0


def test_rows_for_parts_equal_the_parts_own_rows(fitted: TfidfVectorizer | FeatureUnion) -> None:
    featurizer = Featurizer.from_features(fitted)
    texts = AWKWARD + SENTENCES + _tiny_texts()
    parts = [scored_pieces(text) for text in texts]
    assert sum(bool(chosen) for _, chosen in parts) >= 5
    chosen_texts = [pieces[k] for pieces, chosen in parts for k in chosen]
    expected = fitted.transform(texts + chosen_texts).tocsr()
    got = featurizer.matrix(texts, parts)
    assert got.shape == expected.shape
    assert (got != expected).nnz == 0


def test_parts_that_do_not_rebuild_their_text_are_read_on_their_own(fitted: TfidfVectorizer | FeatureUnion) -> None:
    featurizer = Featurizer.from_features(fitted)
    texts = ["Heroin was seized at the port. Customs officers said so.", "The ministers met. They agreed on trade."]
    parts = [(["Heroin was seized at the port.", "Officers said nothing of the kind."], [0, 1]),
             (["The ministers met.They agreed on trade."], [0])]  # different words; pieces run together
    expected = fitted.transform(texts + [p for pieces, _ in parts for p in pieces]).tocsr()
    assert (featurizer.matrix(texts, parts) != expected).nnz == 0


@pytest.mark.parametrize("settings", [
    {"norm": "l1"},
    {"norm": None, "use_idf": False},
    {"sublinear_tf": True, "binary": True},
    {"ngram_range": (1, 1)},
    {"ngram_range": (2, 3)},
    {"analyzer": "char_wb", "ngram_range": (1, 3)},
    {"analyzer": "char_wb", "ngram_range": (4, 6), "lowercase": False},
    {"strip_accents": "ascii", "token_pattern": r"(?u)\b\w+\b"},
    {"dtype": np.float64, "min_df": 2, "max_features": 50},
])
def test_other_vectoriser_settings_give_the_same_matrix(settings: dict) -> None:
    vectoriser = TfidfVectorizer(**settings).fit(_tiny_texts() + SENTENCES)
    featurizer = Featurizer.from_features(vectoriser)
    assert featurizer is not None
    texts = AWKWARD + SENTENCES + ["U+2028\u2028joins\x85words when accents are stripped to ASCII"] + _tiny_texts()
    assert (featurizer.transform(texts) != vectoriser.transform(texts)).nnz == 0


def test_a_block_inside_another_maps_its_columns_with_its_own_weight_and_norm() -> None:
    union = FeatureUnion(
        [("all", TfidfVectorizer(ngram_range=(1, 2))),
         ("frequent", TfidfVectorizer(ngram_range=(1, 2), min_df=2, binary=True, norm="l1"))],
        transformer_weights={"frequent": 0.3}).fit(_tiny_texts())
    featurizer = Featurizer.from_features(union)
    assert featurizer.blocks[1].source == 0
    texts = AWKWARD + _tiny_texts()
    assert (featurizer.transform(texts) != union.transform(texts)).nnz == 0


@pytest.mark.parametrize("options", [
    {"stop_words": "english"},
    {"analyzer": "char"},
    {"tokenizer": str.split, "token_pattern": None},
    {"preprocessor": str.lower},
])
def test_options_it_does_not_reproduce_give_none(options: dict) -> None:
    vectoriser = TfidfVectorizer(**options).fit(_tiny_texts())
    assert Featurizer.from_features(vectoriser) is None
    union = FeatureUnion([("word", TfidfVectorizer().fit(_tiny_texts())), ("other", vectoriser)])
    assert Featurizer.from_features(union) is None


def test_a_non_float_dtype_gives_none() -> None:
    with pytest.warns(UserWarning, match="dtype"):  # scikit-learn converts it to float64 with a warning
        vectoriser = TfidfVectorizer(dtype=np.int64).fit(_tiny_texts())
    assert Featurizer.from_features(vectoriser) is None


def test_blocks_that_differ_in_dtype_give_none() -> None:
    union = FeatureUnion([("a", TfidfVectorizer(dtype=np.float32)), ("b", TfidfVectorizer())]).fit(_tiny_texts())
    assert Featurizer.from_features(union) is None


@pytest.mark.parametrize("different", [
    {"lowercase": False},
    {"lowercase": False, "token_pattern": r"(?u)\b[A-Z][A-Z0-9]{1,5}\b", "binary": True, "norm": None},
    {"strip_accents": None, "ngram_range": (1, 2)},
])
def test_blocks_that_read_the_text_differently_give_the_same_matrix(different: dict) -> None:
    texts = _tiny_texts() + AWKWARD
    union = FeatureUnion([("a", TfidfVectorizer(**different)), ("b", TfidfVectorizer(strip_accents="unicode")),
                          ("c", TfidfVectorizer(**different))], transformer_weights={"c": 0.25}).fit(texts)
    featurizer = Featurizer.from_features(union)
    assert featurizer is not None
    assert (featurizer.transform(texts) != union.transform(texts)).nnz == 0


@pytest.mark.parametrize("split", [0, 5, 12])
def test_word_blocks_with_their_own_vocabularies(split: int) -> None:
    texts = _tiny_texts()
    first = TfidfVectorizer(ngram_range=(1, 2)).fit(texts[:len(texts) // 2 + split])
    second = TfidfVectorizer(ngram_range=(1, 2), binary=True, norm=None).fit(texts[len(texts) // 2:])
    union = FeatureUnion([("first", first), ("second", second)], transformer_weights={"second": 0.5})
    featurizer = Featurizer.from_features(union)
    assert featurizer is not None
    assert (featurizer.transform(texts + AWKWARD) != union.transform(texts + AWKWARD)).nnz == 0
