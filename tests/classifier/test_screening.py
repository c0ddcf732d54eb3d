"""When the model abstains, and which language it names when a text is not English."""

from __future__ import annotations

import csv

import pytest

from coopclf.screening import Screening, screen
from tests.conftest import FIXTURES, REPO


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Screening("empty")),
        ("   \n\t", Screening("empty")),
        ("12345 !!!", Screening("empty")),
        ("Heroin seized", Screening("too_short")),
        ("Террористы атаковали пост полиции на границе вчера вечером", Screening("not_english", "ru")),
        ("Les ministres ont discuté de la coopération dans la lutte contre le terrorisme "
         "et le trafic de drogue lors de leur rencontre", Screening("not_english", "fr")),
        ("Los ministros acordaron ampliar el comercio bilateral.", Screening("not_english", "es")),
        ("Police seized heroin at the port.", Screening(None)),
        ("Frau Präsidentin, the Pakistani delegation thanks Bahrain for hosting the talks.", Screening(None)),
        ("Ministers discussed cooperation against terrorism and drug trafficking during "
         "their meeting in the capital on Thursday.", Screening(None)),
    ],
)
def test_screen(text: str, expected: Screening) -> None:
    assert screen(text) == expected


def test_at_most_two_percent_of_non_english_texts_are_taken_for_english() -> None:
    with (FIXTURES / "non_english.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 200 and len({row["language"] for row in rows}) >= 10
    accepted = [row["text"] for row in rows if screen(row["text"]).reason is None]
    assert len(accepted) <= 0.02 * len(rows), accepted


def test_at_most_a_fifth_of_a_percent_of_the_corpus_is_refused_as_not_english() -> None:
    texts = []
    for path in sorted((REPO / "training" / "data").glob("*.csv")):
        with path.open(encoding="utf-8") as handle:
            texts += [row["text"] for row in csv.DictReader(handle)]
    refused = [text for text in texts if screen(text).reason == "not_english"]
    assert len(refused) <= 0.002 * len(texts), refused[:10]
