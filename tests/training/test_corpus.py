"""The shipped training corpus meets the data card's size, balance and originality goals."""

from __future__ import annotations

import csv

import pytest

from coopclf.training.corpus_stats import CorpusStats, compute, near_duplicates, read_rows
from coopclf.training.ingest import load_dataset
from tests.conftest import REPO, SHARED

DATA = REPO / "training" / "data"


@pytest.fixture(scope="module")
def stats() -> CorpusStats:
    return compute(read_rows(sorted(DATA.glob("*.csv"))))


def test_corpus_loads_without_a_single_problem() -> None:
    dataset = load_dataset([DATA])
    assert len(dataset.texts) >= 3000 and dataset.skipped == 0 and dataset.merged == 0


def test_size_and_balance(stats: CorpusStats) -> None:
    assert stats.paragraphs >= 3000
    assert min(stats.per_label.values()) >= 400, stats.per_label
    assert stats.no_label >= 1200
    assert stats.hard_negatives >= 500
    assert stats.multi_label_share >= 0.20
    assert min(stats.pair_counts.values()) >= 15, stats.pair_counts


def test_positives_do_not_lean_on_one_keyword(stats: CorpusStats) -> None:
    assert min(stats.keyword_free_share.values()) >= 0.30, stats.keyword_free_share


def test_diversity_of_places_and_lengths(stats: CorpusStats) -> None:
    assert stats.places >= 80
    assert stats.words_min >= 15 and stats.words_max <= 200, (stats.words_min, stats.words_max)


def test_every_paragraph_is_original(stats: CorpusStats) -> None:
    assert stats.near_duplicate_pairs == []
    assert stats.distinct_5gram_ratio >= 0.90


@pytest.mark.skipif(not (SHARED / "eval" / "dev.csv").is_file(), reason="../shared/eval/dev.csv is absent")
def test_no_paragraph_is_taken_from_the_evaluation_set_or_seed_article() -> None:
    with (SHARED / "eval" / "dev.csv").open(encoding="utf-8") as handle:
        held_out = [row["text"] for row in csv.DictReader(handle)]
    seed = (SHARED / "examples" / "seed-article.txt").read_text(encoding="utf-8").split("\n\n")
    corpus = [row.text for row in read_rows(sorted(DATA.glob("*.csv")))]
    texts = corpus + held_out + seed
    crossing = [(i, j, s) for i, j, s in near_duplicates(texts) if i < len(corpus) <= j]
    assert crossing == []
