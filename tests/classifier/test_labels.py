"""Label ids, display names and alias normalisation."""

from __future__ import annotations

import pytest

from coopclf.errors import InvalidInput
from coopclf.labels import DEFAULT_LABELS, display_name, normalise_label, normalise_labels, suggest_label


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("counterterrorism", "counterterrorism"),
        ("  Counterterrorism ", "counterterrorism"),
        ("CT", "counterterrorism"),
        ("terrorism", "counterterrorism"),
        ("Counter-Terrorism", "counterterrorism"),
        ("trafficking", "human_trafficking"),
        ("anti-human trafficking", "human_trafficking"),
        ("Human Smuggling", "human_trafficking"),
        ("human trafficking", "human_trafficking"),
        ("drugs", "narcotics"),
        ("anti-narcotics", "narcotics"),
        ("counter-narcotics", "narcotics"),
        ("commerce", "trade"),
        ("investment", "trade"),
        ("Trade and Investment", "trade"),
        ("it", "information_technology"),
        ("ICT", "information_technology"),
        ("information technology", "information_technology"),
        ("tech", "information_technology"),
        ("digital", "information_technology"),
        ("travel", "tourism"),
        ("TOURISM", "tourism"),
    ],
)
def test_aliases_map_to_label_ids(raw: str, expected: str) -> None:
    assert normalise_label(raw) == expected


@pytest.mark.parametrize(("raw", "hint"), [("tourisme", "tourism"), ("narcotic", "narcotics"),
                                           ("counterterorism", "counterterrorism")])
def test_unknown_label_suggests_closest(raw: str, hint: str) -> None:
    with pytest.raises(InvalidInput, match=f"did you mean '{hint}'"):
        normalise_label(raw)
    assert suggest_label(raw) == hint


def test_unknown_label_without_close_match_lists_known_labels() -> None:
    with pytest.raises(InvalidInput, match="known labels: counterterrorism"):
        normalise_label("agriculture")


def test_alias_only_applies_when_target_is_in_the_label_set() -> None:
    assert normalise_label("Health", known=("health", "education")) == "health"
    with pytest.raises(InvalidInput):
        normalise_label("drugs", known=("health", "education"))


def test_normalise_labels_ignores_blanks_and_merges_aliases() -> None:
    assert normalise_labels(["drugs", " ", "narcotics", "ct"]) == {"narcotics", "counterterrorism"}


def test_every_default_label_has_a_display_name() -> None:
    assert all(display_name(label) != label for label in DEFAULT_LABELS)
    assert display_name("health_policy") == "Health policy"
