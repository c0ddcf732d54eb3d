"""Stories: near-copies of one article share a story; distinct articles, and late reprints, do not."""

from __future__ import annotations

import datetime
import itertools
import random
from collections import defaultdict

import pytest

from coopclf.service.batch.stories import StoryIndex, jaccard, shingles

CITIES = ["ISLAMABAD", "MANAMA", "DOHA", "RIYADH", "ANKARA", "CAIRO", "NAIROBI", "JAKARTA", "HANOI", "LIMA",
          "BOGOTA", "DHAKA", "KABUL", "TASHKENT", "BAKU", "TUNIS", "ACCRA", "MUSCAT", "AMMAN", "BEIRUT"]
COUNTRIES = ["Pakistan", "Bahrain", "Qatar", "Saudi Arabia", "Turkey", "Egypt", "Kenya", "Indonesia", "Vietnam",
             "Peru", "Colombia", "Bangladesh", "Uzbekistan", "Azerbaijan", "Tunisia", "Ghana", "Oman", "Jordan"]
OFFICIALS = ["interior minister", "foreign secretary", "trade envoy", "police chief", "customs director",
             "tourism minister", "deputy prime minister", "ambassador", "coast guard commander", "finance minister"]
ACTIONS = ["signed a memorandum on", "discussed closer work on", "agreed to expand cooperation in",
           "reviewed progress on", "pledged new funding for", "set up a joint committee on",
           "announced a training programme for", "exchanged proposals on"]
TOPICS = ["border security", "drug interdiction", "visa-free travel for tourists", "software exports",
          "the fight against human smuggling", "port logistics", "cyber crime investigations",
          "halal food certification", "textile tariffs", "pilgrim transport", "airline routes",
          "counterfeit medicines", "money laundering cases", "fisheries patrols", "solar power plants"]
DETAILS = ["The talks lasted {n} hours and ended with a joint statement.",
           "Officials said {n} experts would travel to the capital next month.",
           "A working group of {n} members will report back before the end of the year.",
           "Trade between the two countries reached {n} million dollars last year.",
           "Police reported {n} arrests in connected cases since January.",
           "The agreement covers {n} ports and several land crossings.",
           "Both delegations visited {n} sites outside the city on the second day.",
           "The {o} said the plan had been delayed for {n} months by paperwork.",
           "Analysts in {c} welcomed the step but warned that {n} earlier accords had stalled.",
           "Local media in {c} described the meeting as the most productive in {n} years.",
           "The {o} thanked the hosts and invited them to {c} for a follow-up round.",
           "Some {n} businesses have asked for simpler rules on {t}."]


def sentence(rng: random.Random) -> str:
    if rng.random() < 0.45:
        return (f"The {rng.choice(OFFICIALS)} of {rng.choice(COUNTRIES)} {rng.choice(ACTIONS)} "
                f"{rng.choice(TOPICS)} with the {rng.choice(OFFICIALS)} of {rng.choice(COUNTRIES)}.")
    return rng.choice(DETAILS).format(n=rng.randint(2, 990), o=rng.choice(OFFICIALS), c=rng.choice(COUNTRIES),
                                      t=rng.choice(TOPICS))


def article(rng: random.Random, day: datetime.date) -> tuple[str, str]:
    """(dateline, body): a synthetic article of 80-200 words."""
    dateline = f"{rng.choice(CITIES)}, {day:%b} {day.day} (Agency) -"
    body: list[str] = []
    target = rng.randint(80, 200)
    while sum(len(s.split()) for s in body) < target - 8:
        body.append(sentence(rng))
    return dateline, " ".join(body)


def near_copy(rng: random.Random, dateline: str, body: str, day: datetime.date) -> tuple[str, datetime.date]:
    """The same article lightly edited, as another outlet or a later update would run it."""
    words = body.split()
    edit = rng.choice(["swap", "sentence", "dateline"])
    if edit == "swap":
        for _ in range(rng.randint(1, 2)):
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
    if edit == "sentence":
        added = rng.choice(DETAILS).format(n=rng.randint(2, 990), o=rng.choice(OFFICIALS), c=rng.choice(COUNTRIES),
                                           t=rng.choice(TOPICS))
        words[rng.randrange(len(words)):0] = added.split()
    new_day = day + datetime.timedelta(days=rng.randint(0, 2))
    if edit == "dateline":
        dateline = f"{rng.choice(CITIES)}, {new_day:%B} {new_day.day} (Wire Service) -"
    return f"{dateline} {' '.join(words)}", new_day


def synthetic_feed(seed: int = 7) -> list[tuple[str, str, datetime.date | None, int]]:
    """(id, text, date, group) in feed order: 320 distinct articles, 180 near-copies, 20 late reprints."""
    rng = random.Random(seed)
    feed: list[tuple[str, str, datetime.date | None, int]] = []
    originals = []
    for group in range(320):
        day = datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(365))
        dateline, body = article(rng, day)
        originals.append((dateline, body, day))
        feed.append((f"a{group}", f"{dateline} {body}", day if group % 5 else None, group))
    for n in range(180):
        group = rng.randrange(320)
        dateline, body, day = originals[group]
        text, new_day = near_copy(rng, dateline, body, day)
        position = rng.randint(group + 1, len(feed))  # after its original, anywhere later
        position = max(position, next(i for i, row in enumerate(feed) if row[3] == group) + 1)
        feed.insert(position, (f"c{n}", text, new_day if n % 4 else None, group))
    for n in range(20):  # the same text run again weeks later is another story
        group = rng.choice([g for g in range(320) if g % 5])  # originals that are dated
        dateline, body, day = originals[group]
        feed.append((f"r{n}", f"{dateline} {body}", day + datetime.timedelta(days=30 + n), 1000 + n))
    return feed


def pairs(groups: dict[object, list[str]]) -> set[tuple[str, str]]:
    return {tuple(sorted(p)) for members in groups.values() for p in itertools.combinations(members, 2)}


def test_near_copies_are_found_with_high_precision_and_recall() -> None:
    feed = synthetic_feed()
    assert len({row[3] for row in feed if row[3] < 1000}) >= 300 and sum(row[0][0] == "c" for row in feed) >= 150
    index = StoryIndex()
    truth: dict[object, list[str]] = defaultdict(list)
    found: dict[object, list[str]] = defaultdict(list)
    for doc_id, text, day, group in feed:
        truth[group].append(doc_id)
        found[index.assign(doc_id, text, day.toordinal() if day else None)].append(doc_id)
    expected, predicted = pairs(truth), pairs(found)
    precision = len(expected & predicted) / len(predicted)
    recall = len(expected & predicted) / len(expected)
    print(f"duplicate pairs: {len(expected)} true, {len(predicted)} found, "
          f"precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)


def test_a_story_is_named_by_its_first_document_and_assignment_is_deterministic() -> None:
    feed = synthetic_feed(seed=3)[:200]
    runs = []
    for _ in range(2):
        index = StoryIndex()
        runs.append([index.assign(doc_id, text) for doc_id, text, _day, _group in feed])
    assert runs[0] == runs[1]
    first = {}
    for (doc_id, _text, _day, _group), story in zip(feed, runs[0]):
        first.setdefault(story, doc_id)
    assert all(story == first_id for story, first_id in first.items())


def test_restored_index_continues_exactly_where_it_stopped() -> None:
    feed = synthetic_feed(seed=5)
    whole = StoryIndex()
    expected = [whole.assign(doc_id, text) for doc_id, text, _day, _group in feed]
    first, saved = StoryIndex(), []
    stories = [first.assign(doc_id, text) for doc_id, text, _day, _group in feed[:150]]
    saved.append(first.take_new())
    stories += [first.assign(doc_id, text) for doc_id, text, _day, _group in feed[150:300]]
    saved.append(first.take_new())
    resumed = StoryIndex()
    for data in saved:
        resumed.restore(data)
    stories += [resumed.assign(doc_id, text) for doc_id, text, _day, _group in feed[300:]]
    assert stories == expected


SEIZURE = "Police seized heroin at the port of Karachi on Monday."


@pytest.mark.parametrize(
    ("first", "second", "days_apart", "same"),
    [
        (SEIZURE, SEIZURE, None, True),
        (SEIZURE, SEIZURE, 3, True),
        (SEIZURE, SEIZURE, 4, False),
        (SEIZURE, "Customs seized cocaine at the port of Lima on Friday.", None, False),
        ("10 killed", "10 killed", None, True),
    ],
)
def test_dates_and_text_decide_together(first: str, second: str, days_apart: int | None, same: bool) -> None:
    index = StoryIndex()
    a = index.assign("one", first, 700000)
    b = index.assign("two", second, 700000 + days_apart if days_apart is not None else None)
    assert (a == b) is same and a == "one"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("one two three four", "one two three four", 1.0),
        ("One, two; THREE four", "one two three four", 1.0),
        ("one two three four", "four three two one", 0.0),
        ("one two three four five", "one two three four six", 2 / 4),
        ("", "", 0.0),
    ],
)
def test_shingle_jaccard(a: str, b: str, expected: float) -> None:
    assert jaccard(shingles(a), shingles(b)) == pytest.approx(expected)


def test_repeated_ids_still_give_distinct_stories() -> None:
    index = StoryIndex()
    assert [index.assign(1, "Bahrain and Pakistan signed a treaty on narcotics control today."),
            index.assign(1, "Hotel occupancy in Antalya reached a new record this summer season.")] == ["1", "1#2"]


def test_signatures_equal_datasketch_minhash() -> None:
    from datasketch import MinHash

    from coopclf.service.batch.stories import NUM_PERM, SEED, shingles_of, signatures

    texts = [row[1] for row in synthetic_feed(seed=11)[:40]] + ["two words", "x"]
    sets = shingles_of(texts)
    assert [s.tolist() for s in sets] == [shingles(t).tolist() for t in texts]
    reference = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=int)
    for shingle_set, signature in zip(sets, signatures(sets, reference.permutations)):
        reference.clear()
        reference.update_batch(shingle_set.tolist())
        assert signature.tolist() == reference.hashvalues.tolist()
