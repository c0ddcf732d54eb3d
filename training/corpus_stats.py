"""Measure the training corpus against the data card's size, balance and originality goals."""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from coopclf.labels import DEFAULT_LABELS as LABELS

# The word a writer reaches for first; at least 30% of each label's positives must do without it.
OBVIOUS_KEYWORDS = {
    "counterterrorism": r"terror",
    "human_trafficking": r"traffick",
    "narcotics": r"narcotic|drug",
    "trade": r"\btrad(e|es|ed|ing)\b",
    "information_technology": r"information technology|(?-i:\bICT\b|\bIT\b)|technolog|digital",
    "tourism": r"touris",
}

# Hard negatives: unlabelled paragraphs on a topic the guideline's "does not cover" column names.
HARD_NEGATIVE_CUES = (
    r"securit|defen[cs]e|militar|army|naval|troops|police|crime|criminal|court|econom|growth|gdp|"
    r"migra|visa|refugee|asylum|workers|medicine|pharma|vaccine|hospital|health|media|broadcast|"
    r"newspaper|visit|delegation|ceremony|guard of honour|energy|oil|gas|electricity|school|"
    r"universit|student|climate|emission|culture|festival|museum|sport|match|football|cricket|"
    r"olympic|aid|loan|science|research|airport|airline|border|customs|smartphone"
)

PLACES = (
    "Afghanistan Albania Algeria Angola Argentina Armenia Australia Austria Azerbaijan Bahamas "
    "Bahrain Bangladesh Barbados Belarus Belgium Belize Benin Bhutan Bolivia Bosnia Botswana Brazil "
    "Brunei Bulgaria Burkina Burundi Cambodia Cameroon Canada Chad Chile China Colombia Comoros Congo "
    "Costa_Rica Croatia Cuba Cyprus Czech Denmark Djibouti Dominica Dominican_Republic Ecuador Egypt "
    "El_Salvador Eritrea Estonia Eswatini Ethiopia Fiji Finland France Gabon Gambia Georgia Germany "
    "Ghana Greece Grenada Guatemala Guinea Guyana Haiti Honduras Hungary Iceland India Indonesia Iran "
    "Iraq Ireland Israel Italy Ivory_Coast Côte_d'Ivoire Jamaica Japan Jordan Kazakhstan Kenya Kiribati "
    "Kosovo Kuwait Kyrgyzstan Laos Latvia Lebanon Lesotho Liberia Libya Lithuania Luxembourg Madagascar "
    "Malawi Malaysia Maldives Mali Malta Mauritania Mauritius Mexico Micronesia Moldova Monaco Mongolia "
    "Montenegro Morocco Mozambique Myanmar Namibia Nauru Nepal Netherlands New_Zealand Nicaragua Niger "
    "Nigeria North_Korea North_Macedonia Norway Oman Pakistan Palau Palestine Panama Papua_New_Guinea "
    "Paraguay Peru Philippines Poland Portugal Qatar Romania Russia Rwanda Samoa Saudi_Arabia Senegal "
    "Serbia Seychelles Sierra_Leone Singapore Slovakia Slovenia Solomon_Islands Somalia South_Africa "
    "South_Korea South_Sudan Spain Sri_Lanka Sudan Suriname Sweden Switzerland Syria Taiwan Tajikistan "
    "Tanzania Thailand Timor-Leste Togo Tonga Trinidad Tunisia Turkey Türkiye Turkmenistan Tuvalu Uganda "
    "Ukraine United_Arab_Emirates UAE United_Kingdom Britain UK United_States US Uruguay Uzbekistan "
    "Vanuatu Venezuela Vietnam Viet_Nam Yemen Zambia Zimbabwe "
    "ASEAN African_Union European_Union EU Interpol Europol UNODC United_Nations NATO SAARC SCO BRICS "
    "G20 G7 OECD WTO IMF World_Bank ECOWAS SADC Mercosur CARICOM OAS GCC APEC Pacific_Islands_Forum "
    "Arab_League OIC IOM ILO FATF Commonwealth BIMSTEC UNWTO ITU"
).split()


@dataclass
class Row:
    """One labelled paragraph with the file it came from."""

    source: str
    text: str
    labels: frozenset[str]


@dataclass
class CorpusStats:
    """Counts the data card reports and the corpus tests check."""

    paragraphs: int = 0
    per_label: dict[str, int] = field(default_factory=dict)
    no_label: int = 0
    hard_negatives: int = 0
    multi_label_share: float = 0.0
    pair_counts: dict[str, int] = field(default_factory=dict)
    keyword_free_share: dict[str, float] = field(default_factory=dict)
    places: int = 0
    words_min: int = 0
    words_max: int = 0
    words_median: float = 0.0
    near_duplicate_pairs: list[tuple[int, int, float]] = field(default_factory=list)
    distinct_5gram_ratio: float = 0.0


def read_rows(paths: list[Path]) -> list[Row]:
    """Read `text,labels` CSV files (labels `;`-joined) without any validation."""
    rows: list[Row] = []
    for path in paths:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for record in csv.DictReader(handle):
                labels = frozenset(p.strip() for p in (record.get("labels") or "").split(";") if p.strip())
                rows.append(Row(path.name, record["text"].strip(), labels))
    return rows


def near_duplicates(texts: list[str], threshold: float = 0.8) -> list[tuple[int, int, float]]:
    """Pairs of texts whose word 1-2-gram TF-IDF cosine similarity exceeds `threshold`."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(texts)
    sims = (matrix @ matrix.T).tocoo()
    return sorted(
        (int(i), int(j), round(float(s), 3))
        for i, j, s in zip(sims.row, sims.col, sims.data)
        if i < j and s > threshold
    )


def distinct_5gram_ratio(texts: list[str]) -> float:
    """Distinct word 5-grams divided by all word 5-grams: low values betray templates."""
    grams: Counter[tuple[str, ...]] = Counter()
    for text in texts:
        words = re.findall(r"\w+", text.lower())
        grams.update(zip(*(words[k:] for k in range(5))))
    total = sum(grams.values())
    return len(grams) / total if total else 1.0


def compute(rows: list[Row]) -> CorpusStats:
    """Compute every figure of the data card for `rows`."""
    stats = CorpusStats(paragraphs=len(rows))
    stats.per_label = {label: sum(label in r.labels for r in rows) for label in LABELS}
    negatives = [r for r in rows if not r.labels]
    stats.no_label = len(negatives)
    cue = re.compile(HARD_NEGATIVE_CUES, re.IGNORECASE)
    stats.hard_negatives = sum(bool(cue.search(r.text)) for r in negatives)
    labelled = [r for r in rows if r.labels]
    stats.multi_label_share = round(sum(len(r.labels) > 1 for r in labelled) / max(len(labelled), 1), 3)
    stats.pair_counts = {
        f"{a}+{b}": sum({a, b} <= r.labels for r in rows) for a, b in itertools.combinations(LABELS, 2)
    }
    for label, pattern in OBVIOUS_KEYWORDS.items():
        positives = [r for r in rows if label in r.labels]
        free = sum(not re.search(pattern, r.text, re.IGNORECASE) for r in positives)
        stats.keyword_free_share[label] = round(free / max(len(positives), 1), 3)
    joined = "\n".join(r.text for r in rows)
    stats.places = sum(
        bool(re.search(r"\b" + re.escape(p.replace("_", " ")) + r"\b", joined)) for p in PLACES
    )
    lengths = sorted(len(r.text.split()) for r in rows) or [0]
    stats.words_min, stats.words_max = lengths[0], lengths[-1]
    stats.words_median = lengths[len(lengths) // 2]
    texts = [r.text for r in rows]
    stats.near_duplicate_pairs = near_duplicates(texts) if len(texts) > 1 else []
    stats.distinct_5gram_ratio = round(distinct_5gram_ratio(texts), 4)
    return stats


def main(argv: list[str] | None = None) -> int:
    """Print the corpus figures as JSON; list near-duplicate pairs with their texts."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="*", type=Path, default=[Path("training/data")])
    args = parser.parse_args(argv)
    files = sorted(
        f for p in args.paths for f in ([p] if p.is_file() else p.glob("*.csv"))
    )
    rows = read_rows(files)
    stats = compute(rows)
    report = stats.__dict__ | {"near_duplicate_pairs": len(stats.near_duplicate_pairs)}
    print(json.dumps(report, indent=2))
    for i, j, sim in stats.near_duplicate_pairs:
        print(f"\nnear-duplicate {sim}:\n  [{rows[i].source}] {rows[i].text[:160]}\n  [{rows[j].source}] {rows[j].text[:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
