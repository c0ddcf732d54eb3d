"""Reading labelled CSVs: layouts, encodings, and a located message for every problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from coopclf.errors import DataError, InvalidInput
from coopclf.training.ingest import load_dataset

GOOD = "Police seized heroin at the port of entry."


def write(tmp_path: Path, content: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def problems(path: Path, **kwargs: object) -> list[str]:
    with pytest.raises(DataError) as info:
        load_dataset([path], **kwargs)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("content", "line", "column", "message"),
    [
        ("body,labels\nsome text here,trade\n", 1, "text", "missing 'text' column"),
        (f"text,labels\n{GOOD},narcotic\n", 2, "labels", "did you mean 'narcotics'"),
        (f"text,labels\n{GOOD},agriculture\n", 2, "labels", "unknown label 'agriculture'"),
        (f"text,labels\n{GOOD},narcotics\n   ,trade\n", 3, "text", "empty text"),
        (f"text,narcotics,trade\n{GOOD},1,maybe\n", 2, "trade", "expected 0 or 1, found 'maybe'"),
        (f"text,labels\n{GOOD},narcotics,extra\n", 2, "-", "malformed row: 3 fields"),
        (f"text,labels\n{GOOD},narcotics\n\"unclosed quote,trade\n", 3, "-", "malformed row"),
        ("", 1, "-", "the file is empty"),
        (f"text,labels\n{GOOD},narcotics\nfoo,\"bar\"baz\n", 3, "-", "malformed row"),
    ],
)
def test_each_problem_names_file_line_and_column(tmp_path: Path, content: str, line: int,
                                                 column: str, message: str) -> None:
    path = write(tmp_path, content)
    found = problems(path)
    assert any(p.startswith(f"{path}:{line}: column '{column}': ") and message in p for p in found), found


def test_non_utf8_file_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, f"text,labels\n{GOOD},narcotics\nCaf\xe9 owners met tourists,tourism\n".encode("latin-1"))
    (problem,) = problems(path)
    assert problem.startswith(f"{path}:3: ") and "not UTF-8" in problem


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_utf8_with_or_without_bom(tmp_path: Path, bom: bytes) -> None:
    path = write(tmp_path, bom + f"text,labels\n{GOOD},narcotics\n".encode())
    dataset = load_dataset([path])
    assert dataset.texts == [GOOD] and dataset.labels == [{"narcotics"}]


@pytest.mark.parametrize("field", ['"trade;tourism"', '"trade,tourism"', '"trade|tourism"',
                                   '"Commerce; travel"', '" trade ;; tourism "'])
def test_label_separators_and_aliases(tmp_path: Path, field: str) -> None:
    path = write(tmp_path, f"text,labels\nHotel investors pledged money for resorts,{field}\n")
    assert load_dataset([path]).labels == [{"trade", "tourism"}]


def test_empty_labels_field_means_no_label(tmp_path: Path) -> None:
    path = write(tmp_path, "text,labels\nThe match ended in a draw,\n")
    assert load_dataset([path]).labels == [frozenset()]


def test_indicator_columns_with_alias_headers(tmp_path: Path) -> None:
    path = write(tmp_path, "id,Text,CT,drugs,trade,it,human_trafficking,travel\n"
                           "a1,Militants smuggled heroin,1,1,0,0,0,0\nb2,Nothing to see here,0,0,0,0,0,0\n")
    dataset = load_dataset([path])
    assert dataset.labels == [{"counterterrorism", "narcotics"}, frozenset()]
    assert set(dataset.label_set) == {"counterterrorism", "narcotics", "trade", "information_technology",
                                      "human_trafficking", "tourism"}


def test_custom_label_set_from_indicator_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "text,health,education\nHospitals got new beds,1,0\nSchools reopened,0,1\n")
    dataset = load_dataset([path])
    assert dataset.label_set == ("health", "education")
    assert dataset.matrix().tolist() == [[1, 0], [0, 1]]


def test_exact_duplicates_are_merged(tmp_path: Path) -> None:
    path = write(tmp_path, f"text,labels\n{GOOD},narcotics\n{GOOD},drugs\nOther text here,\n")
    dataset = load_dataset([path])
    assert dataset.texts == [GOOD, "Other text here"] and dataset.merged == 1


def test_conflicting_duplicates_are_reported_with_both_places(tmp_path: Path) -> None:
    first = write(tmp_path, f"text,labels\n{GOOD},narcotics\n", "a.csv")
    second = write(tmp_path, f"text,labels\nfiller text row,\n{GOOD},trade\n", "b.csv")
    with pytest.raises(DataError) as info:
        load_dataset([first, second])
    (problem,) = info.value.problems
    assert str(problem).startswith(f"{second}:3: column 'labels': duplicate of {first}:2")


def test_skip_invalid_keeps_good_rows_and_counts_bad_ones(tmp_path: Path) -> None:
    path = write(tmp_path, f"text,labels\n{GOOD},narcotics\n,trade\nAnother fine row,tourismm\nThird row,trade\n")
    dataset = load_dataset([path], skip_invalid=True)
    assert dataset.texts == [GOOD, "Third row"] and dataset.skipped == 2


def test_stops_after_twenty_problems(tmp_path: Path) -> None:
    rows = "".join(f"row {i},bogus\n" for i in range(50))
    path = write(tmp_path, "text,labels\n" + rows)
    with pytest.raises(DataError) as info:
        load_dataset([path])
    assert len(info.value.problems) == 20 and info.value.truncated
    assert "--skip-invalid" in str(info.value)


def test_directory_reads_every_csv_in_order_and_records_provenance(tmp_path: Path) -> None:
    write(tmp_path, f"text,labels\n{GOOD},narcotics\n", "b.csv")
    write(tmp_path, "text,labels\nTourists flocked to the beach resorts,tourism\n", "a.csv")
    write(tmp_path, "not a csv", "notes.txt")
    dataset = load_dataset([tmp_path])
    assert [Path(s.path).name for s in dataset.sources] == ["a.csv", "b.csv"]
    assert [s.rows for s in dataset.sources] == [1, 1]
    assert all(len(s.sha256) == 64 for s in dataset.sources)
    assert len(dataset.data_hash) == 64


@pytest.mark.parametrize("make", [lambda p: p / "missing.csv", lambda p: p])
def test_missing_paths_and_empty_directories_are_refused(tmp_path: Path, make) -> None:
    with pytest.raises(InvalidInput):
        load_dataset([make(tmp_path)])


def test_labels_column_validated_against_declared_label_set(tmp_path: Path) -> None:
    path = write(tmp_path, "text,labels\nHospitals got new beds,health\n")
    assert load_dataset([path], labels=["health", "education"]).labels == [{"health"}]
    assert any("unknown label 'health'" in p for p in problems(path))


def rows_with_invalid(invalid: int, total: int) -> str:
    """`total` rows of which the first `invalid` among each thousand have an unknown label."""
    return "text,labels\n" + "".join(
        f"paragraph number {i} about something,{'bogus' if i % 1000 < invalid else 'trade'}\n" for i in range(total))


@pytest.mark.parametrize("skip_invalid", [True, False])
def test_a_file_of_mostly_invalid_rows_is_refused_after_its_first_thousand(tmp_path: Path,
                                                                           skip_invalid: bool) -> None:
    path = write(tmp_path, rows_with_invalid(612, 100_000))
    with pytest.raises(DataError) as info:
        load_dataset([path], skip_invalid=skip_invalid, max_problems=10**9)
    (problem,) = info.value.problems
    assert problem.startswith(f"{path}: 612 of the first 1,000 rows are invalid; is this a coopclf training file? "
                              f"The first: {path}:2: column 'labels': unknown label 'bogus'")


def test_a_file_with_some_invalid_rows_is_read_with_skip_invalid(tmp_path: Path) -> None:
    path = write(tmp_path, rows_with_invalid(400, 3000))
    dataset = load_dataset([path], skip_invalid=True)
    assert dataset.skipped == 1200 and len(dataset.texts) == 1800


@pytest.mark.parametrize("feedback_name", ["feedback/feedback.csv", "feedback/from-analysts.csv",
                                           "exports/feedback.csv"])
@pytest.mark.parametrize("feedback_first", [False, True])
def test_newest_feedback_wins_over_training_rows_and_earlier_feedback(tmp_path: Path, feedback_name: str,
                                                                      feedback_first: bool) -> None:
    training = write(tmp_path, f"text,labels\n{GOOD},narcotics\nTourists came back,tourism\n", "train.csv")
    (tmp_path / feedback_name).parent.mkdir(exist_ok=True)
    feedback = write(tmp_path, f"text,labels\n{GOOD},trade\nTourists came back,tourism\n{GOOD},"
                               "narcotics;trade\nNew text from an analyst,\n", feedback_name)
    dataset = load_dataset([feedback, training] if feedback_first else [training, feedback])
    assert dict(zip(dataset.texts, dataset.labels)) == {
        GOOD: {"narcotics", "trade"}, "Tourists came back": {"tourism"}, "New text from an analyst": set()}
    assert dataset.overridden == 2 and dataset.merged == 1


def test_contradicting_training_files_stay_an_error_next_to_feedback(tmp_path: Path) -> None:
    first = write(tmp_path, f"text,labels\n{GOOD},narcotics\n", "a.csv")
    second = write(tmp_path, f"text,labels\n{GOOD},trade\n", "b.csv")
    (tmp_path / "feedback").mkdir()
    feedback = write(tmp_path, f"text,labels\n{GOOD},tourism\n", "feedback/feedback.csv")
    with pytest.raises(DataError) as info:
        load_dataset([first, second, feedback])
    (problem,) = info.value.problems
    assert str(problem).startswith(f"{second}:2: column 'labels': duplicate of {first}:2")
