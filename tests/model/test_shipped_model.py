"""The shipped model: trained on the repo's corpus, and behaving as the guideline says."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from coopclf.artifact import ArtifactStore
from coopclf.predictor import Predictor
from coopclf.splitter import split_paragraphs
from tests.conftest import REPO, SHARED

ARTIFACTS = REPO / "artifacts"
DATA = REPO / "training" / "data"


@pytest.fixture(scope="module")
def shipped() -> Predictor:
    return Predictor(ArtifactStore(ARTIFACTS).load())


def test_shipped_model_was_trained_on_the_current_corpus(shipped: Predictor) -> None:
    recorded = {Path(f["path"]).as_posix(): f["sha256"] for f in shipped.manifest["training_data"]}
    actual = {p.relative_to(REPO).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
              for p in sorted(DATA.glob("*.csv"))}
    assert recorded == actual, "training/data changed since the shipped model was trained: retrain it " \
                               "with `coopclf train --data training/data/` and commit artifacts/"


def test_only_the_current_version_is_shipped() -> None:
    store = ArtifactStore(ARTIFACTS)
    assert store.versions() == [store.current()]


SEED_EXPECTED = [
    {"counterterrorism", "human_trafficking"},
    set(),
    set(),
    {"counterterrorism", "human_trafficking", "narcotics"},
    set(),
    set(),
    {"human_trafficking", "narcotics"},
    set(),
    set(),
    {"trade"},
    {"trade", "information_technology", "tourism"},
    set(),
    set(),
]


@pytest.mark.skipif(not (SHARED / "examples" / "seed-article.txt").is_file(),
                    reason="../shared/examples/seed-article.txt is absent (shared folder not checked out)")
def test_seed_article_matches_the_guideline_table(shipped: Predictor) -> None:
    paragraphs = split_paragraphs((SHARED / "examples" / "seed-article.txt").read_text(encoding="utf-8"))
    assert len(paragraphs) == 13
    predicted = [set(p.labels) for p in shipped.predict([p.text for p in paragraphs])]
    wrong = [(i, sorted(got), sorted(want)) for i, (got, want) in enumerate(zip(predicted, SEED_EXPECTED))
             if got != want]
    assert len(wrong) <= 1, wrong


EXAMPLE_EXPECTED = [
    {"trade"},
    {"counterterrorism", "human_trafficking"},
    set(),
    {"narcotics"},
    {"trade"},
    {"information_technology"},
    {"tourism"},
    set(),
    set(),
]


def test_shipped_example_article(shipped: Predictor) -> None:
    paragraphs = split_paragraphs((REPO / "examples" / "article.txt").read_text(encoding="utf-8"))
    predicted = [set(p.labels) for p in shipped.predict([p.text for p in paragraphs])]
    wrong = [(i, sorted(got), sorted(want)) for i, (got, want) in enumerate(zip(predicted, EXAMPLE_EXPECTED))
             if got != want]
    assert len(wrong) <= 1, wrong


INVARIANCE = [
    ("Police in {} seized two tonnes of cocaine hidden in a container of bananas.", ["Ecuador", "Belgium", "Kenya", "Indonesia"]),
    ("Tourist arrivals in {} rose by a fifth last year as new hotels opened on the coast.", ["Thailand", "Morocco", "Croatia", "Mexico"]),
    ("The interior ministers of {} and Pakistan agreed to share intelligence on terrorist groups.", ["Bahrain", "Germany", "Nigeria", "Brazil"]),
    ("{} signed a free trade agreement cutting tariffs on textiles and machinery.", ["Vietnam", "Chile", "Canada", "Egypt"]),
    ("The ministers of {} and Japan met at the airport and praised their long friendship.", ["Ghana", "Peru", "Norway", "Laos"]),
]


@pytest.mark.parametrize(("template", "countries"), INVARIANCE)
def test_swapping_the_country_keeps_the_labels(shipped: Predictor, template: str, countries: list[str]) -> None:
    labels = {p.labels for p in shipped.predict([template.format(c) for c in countries])}
    assert len(labels) == 1, labels


DIRECTION = [
    ("The two ministers discussed bilateral relations and regional stability.",
     " They also agreed to act together against heroin seizures at their ports and drug cartels.", "narcotics"),
    ("The delegation toured the new port and met local officials.",
     " Exports of rice and tea through the port doubled after the tariff cut.", "trade"),
    ("The president opened the new parliament building on Monday.",
     " He also announced a national cybersecurity agency to protect government networks from hackers.",
     "information_technology"),
    ("The leaders met in the capital to review their friendship.",
     " Both condemned the suicide bombing claimed by a militant group last week.", "counterterrorism"),
    ("The coast guard held an open day for schoolchildren.",
     " Officers described how they rescued migrants abandoned at sea by people smugglers.", "human_trafficking"),
    ("The city council approved a new road plan.",
     " Hotels expect a record number of foreign tourists this summer.", "tourism"),
]


@pytest.mark.parametrize(("base", "addition", "label"), DIRECTION)
def test_adding_an_area_adds_its_label(shipped: Predictor, base: str, addition: str, label: str) -> None:
    before, after = shipped.predict([base, base + addition])
    assert label not in before.labels
    assert label in after.labels
    assert after.scores[label] > before.scores[label]


SPEECH = ("Mr. President, allow me to congratulate you on your election and to thank your predecessor "
          "for his steady leadership of this Assembly. Our small nation has come a long way since "
          "independence, and we are proud of what our people have built with their own hands. {} "
          "We still face rising seas, costly loans and a world that too often forgets the smallest "
          "states when the big decisions are taken. We ask for a fairer voice in the Security Council "
          "and for climate finance that arrives when it is promised, not years later. We will keep "
          "working with every partner that respects our sovereignty and our choices.")
ONE_MENTION = [
    ("Extremist cells that plotted attacks on our churches have been dismantled.", "counterterrorism"),
    ("Young women lured abroad by false job offers and sold into forced labour need our protection.",
     "human_trafficking"),
    ("Cocaine shipments crossing our waters corrupt officials and poison our youth.", "narcotics"),
    ("High tariffs on our coffee and fish still keep us out of the richest markets.", "trade"),
    ("Hackers froze the servers of our finance ministry for a week last spring.", "information_technology"),
    ("Our beaches and reefs drew a record number of holidaymakers this year.", "tourism"),
]


@pytest.mark.parametrize(("sentence", "label"), ONE_MENTION)
def test_one_mention_in_a_long_speech_paragraph_counts(shipped: Predictor, sentence: str, label: str) -> None:
    without, with_mention = shipped.predict([SPEECH.format(""), SPEECH.format(sentence)])
    assert without.labels == ()
    assert label in with_mention.labels


@pytest.mark.skipif(not (SHARED / "examples" / "seed-article.txt").is_file(),
                    reason="../shared/examples/seed-article.txt is absent (shared folder not checked out)")
def test_seed_article_parties_pairs_and_date(shipped: Predictor) -> None:
    result = shipped.classify_document((SHARED / "examples" / "seed-article.txt").read_text(encoding="utf-8"))
    assert set(result.parties) == {"PAK", "BHR"}
    assert str(result.date) == "2025-07-12"
    labelled = [pair for (_, prediction), pair in zip(result.paragraphs, result.pairs) if prediction.labels]
    assert labelled and set(labelled) == {"BHR-PAK"}


ACRONYMS = [
    ("Both sides agreed to enhance cooperation in the IT sector.", "information_technology"),
    ("Both sides agreed to enhance cooperation in the ICT sector.", "information_technology"),
    ("The ministers listed opportunities in retail, IT, tourism and agriculture.", "information_technology"),
    ("The two countries will train officials in AI and roll out 5G networks in both capitals.",
     "information_technology"),
    ("The interior ministers agreed to deepen CT cooperation against militant groups.", "counterterrorism"),
]


@pytest.mark.parametrize(("text", "label"), ACRONYMS)
def test_acronyms_in_capitals_name_their_area(shipped: Predictor, text: str, label: str) -> None:
    assert label in shipped.predict([text])[0].labels


@pytest.mark.parametrize("text", [
    "It was agreed that both sides would meet again next year.",
    "It is the need of the hour, he said, and it will strengthen brotherly ties.",
    "Both sides agreed to enhance cooperation.",
])
def test_the_pronoun_it_and_boilerplate_add_no_label(shipped: Predictor, text: str) -> None:
    assert shipped.predict([text])[0].labels == ()


PROTOCOL = ("{host}, received {guest} at the palace, where they reviewed the brotherly relations between "
            "{a} and {b} and ways to strengthen them. {guest_short} conveyed the greetings of his leadership "
            "and wished the people of {a} further progress and prosperity.")
PROTOCOL_NAMES = [
    dict(host="Sheikh Mohammed bin Zayed Al Nahyan, President of the UAE", guest="Sheikh Tamim bin Hamad Al Thani",
         guest_short="Sheikh Tamim", a="the UAE", b="Qatar"),
    dict(host="King Hamad bin Isa Al Khalifa", guest="Interior Minister Mohsin Naqvi", guest_short="Naqvi",
         a="Bahrain", b="Pakistan"),
    dict(host="Prime Minister Sheikh Hasina", guest="Foreign Minister Subrahmanyam Jaishankar",
         guest_short="Jaishankar", a="Bangladesh", b="India"),
    dict(host="Chancellor Olaf Brandt", guest="Commerce Minister Pierre Lefèvre", guest_short="Lefèvre",
         a="Germany", b="France"),
    dict(host="Sultan Haitham bin Tarik Al Said", guest="Sheikh Sabah Al-Khalid Al-Sabah",
         guest_short="Sheikh Sabah", a="Oman", b="Kuwait"),
]


def test_swapping_officials_and_countries_keeps_a_protocol_paragraph_without_labels(shipped: Predictor) -> None:
    predictions = shipped.predict([PROTOCOL.format(**names) for names in PROTOCOL_NAMES])
    assert [p.labels for p in predictions] == [()] * len(PROTOCOL_NAMES)
    # Names do not lean towards an area: no score comes near its threshold.
    for prediction in predictions:
        for label, threshold in zip(shipped.labels, shipped.thresholds):
            assert prediction.scores[label] < threshold / 2, (label, prediction.scores)


@pytest.mark.parametrize(("text", "label"), [
    ("Thousands of pilgrims crossed the border to perform Arbaeen rituals in Karbala.", "tourism"),
    ("Saudi Arabia raised the Umrah quota and added flights for pilgrims from Pakistan.", "tourism"),
    ("The corridor will stay open so that Sikh pilgrims can visit the shrine without a visa.", "tourism"),
])
def test_religious_travel_is_tourism(shipped: Predictor, text: str, label: str) -> None:
    assert label in shipped.predict([text])[0].labels


@pytest.mark.parametrize("text", [
    "Customs officials foiled an attempt to smuggle gold bars across the border at Torkham.",
    "Border guards seized smuggled cigarettes and fuel worth two million rupees.",
    "Police detained 40 irregular migrants near the border and handed them to immigration officials.",
])
def test_smuggling_of_goods_and_bare_migration_are_not_trafficking(shipped: Predictor, text: str) -> None:
    assert "human_trafficking" not in shipped.predict([text])[0].labels


def test_drug_trafficking_alone_is_narcotics_only(shipped: Predictor) -> None:
    labels = shipped.predict(["The anti-narcotics force arrested three drug traffickers with 50 kg of heroin."])[0].labels
    assert labels == ("narcotics",)
