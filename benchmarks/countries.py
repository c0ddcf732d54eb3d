"""Country matching benchmark: microseconds per paragraph, next to the model's prediction in the same run.

    python benchmarks/countries.py [--rounds 5]

Paragraphs are the project's country-mention test set (tests/fixtures/country_mentions.jsonl) and
a sample of the training corpus. The goal is at most 50 µs per paragraph on average. Prints one
line per measurement and, last, one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import time
from pathlib import Path

from coopclf.countries import CountryMatcher

REPO = Path(__file__).resolve().parent.parent


def paragraphs() -> list[str]:
    """The mention test set plus every 10th corpus paragraph."""
    with (REPO / "tests" / "fixtures" / "country_mentions.jsonl").open(encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle]
    for path in sorted((REPO / "training" / "data").glob("*.csv")):
        with path.open(encoding="utf-8") as handle:
            texts += [row["text"] for i, row in enumerate(csv.DictReader(handle)) if i % 10 == 0]
    return texts


def per_text_us(function, texts: list[str], rounds: int) -> float:
    """Median over rounds of the mean microseconds per text."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for text in texts:
            function(text)
        times.append((time.perf_counter() - started) / len(texts) * 1e6)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    texts = paragraphs()
    started = time.perf_counter()
    matcher = CountryMatcher.default()
    build_ms = (time.perf_counter() - started) * 1000
    words = statistics.mean(len(t.split()) for t in texts)
    countries_us = per_text_us(matcher.countries, texts, args.rounds)
    print(f"{len(texts)} paragraphs of {words:.0f} words on average; matcher built in {build_ms:.1f} ms")
    print(f"country matching: {countries_us:.1f} µs per paragraph (goal: at most 50)")
    import coopclf

    model = coopclf.load()
    sample = texts[:400]
    predict_us = per_text_us(lambda text: model.predict([text]), sample, max(1, args.rounds // 2))
    print(f"one-text prediction, same run: {predict_us:.0f} µs; matching is {countries_us / predict_us:.1%} of it")
    print(json.dumps({"paragraphs": len(texts), "mean_words": round(words, 1), "build_ms": round(build_ms, 1),
                      "countries_us": round(countries_us, 1), "predict_us": round(predict_us, 1),
                      "share_of_predict": round(countries_us / predict_us, 4)}))


if __name__ == "__main__":
    main()
