"""The web page in Debian's headless chromium (Playwright) against a real gunicorn server."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from coopclf.artifact import ArtifactStore
from coopclf.labels import display_name
from coopclf.predictor import Predictor
from coopclf.splitter import split_paragraphs
from tests.conftest import REPO
from tests.service.conftest import FEEDBACK_TOKEN
from tests.service.test_gunicorn import Server, server  # noqa: F401  (the real-gunicorn fixture)

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
ARTICLE = REPO / "examples" / "article.txt"
SCREENSHOT_COPY = Path("/tmp/coopclf-page.png")
WAIT_MS = 30_000

# Offsets (in Unicode code points) of every character inside a <mark> of a paragraph's text.
MARKED_OFFSETS_JS = """(node) => {
  const marked = [];
  let offset = 0;
  for (const child of node.childNodes) {
    const length = Array.from(child.textContent).length;
    if (child.nodeName === "MARK") for (let i = 0; i < length; i++) marked.push(offset + i);
    offset += length;
  }
  return marked;
}"""


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Debian chromium driven by Playwright; skips when either is missing."""
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright not importable (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:  # noqa: F811  (server is the imported fixture)
    """A fresh page on the served `/`, failing the test on any uncaught JavaScript error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(f"http://127.0.0.1:{server.port}/")
    opened.wait_for_function("() => document.getElementById('model-info').textContent.startsWith('Model ')")
    yield opened
    context.close()
    assert errors == [], f"uncaught JavaScript errors: {errors}"


@dataclass(frozen=True)
class Verdict:
    """What the page should show for one paragraph, from the tiny model itself."""

    text: str
    labels: list[str]
    abstained: str | None
    evidence: set[int]  # code-point offsets into the paragraph covered by an evidence n-gram


def expected_verdicts(artifacts: Path, document: str) -> list[Verdict]:
    """The Predictor's verdict on each paragraph of `document`, over the served artifacts."""
    predictor = Predictor(ArtifactStore(artifacts).load())
    paragraphs = split_paragraphs(document)
    predictions = predictor.predict([p.text for p in paragraphs], explain=True)
    verdicts = []
    for paragraph, prediction in zip(paragraphs, predictions):
        spans = [span for items in (prediction.evidence or {}).values() for item in items for span in item.spans]
        verdicts.append(Verdict(paragraph.text, list(prediction.labels), prediction.abstained,
                                {i for start, end in spans for i in range(start, end)}))
    return verdicts


def classify(page: Any, text: str, *, keyboard: bool = False) -> None:
    """Put `text` in the text area and classify it with the button (or Ctrl+Enter)."""
    page.fill("#document", text)
    page.evaluate("() => { document.getElementById('status').textContent = ''; }")  # forget the last status
    if keyboard:
        page.focus("#document")
        page.keyboard.press("Control+Enter")
    else:
        page.click("#classify")
    page.wait_for_function("() => !document.getElementById('results').hidden"
                           " && document.getElementById('status').textContent.startsWith('Classified')")


def check_paragraphs(page: Any, verdicts: list[Verdict]) -> None:
    """Chips, dimming, abstentions and highlighted evidence of every paragraph match the verdicts."""
    cards = page.locator("#paragraphs > li")
    assert cards.count() == len(verdicts)
    for i, verdict in enumerate(verdicts):
        card = cards.nth(i)
        chips = card.locator(".para-head .chip")
        assert [chips.nth(j).get_attribute("data-label") for j in range(chips.count())] == verdict.labels, i
        assert chips.all_inner_texts() == [display_name(label) for label in verdict.labels]
        classes = (card.get_attribute("class") or "").split()
        assert ("is-abstained" in classes) == (verdict.abstained is not None), i
        assert ("is-empty" in classes) == (not verdict.labels and verdict.abstained is None), i
        if verdict.abstained is not None:
            reason = card.locator(".abstain-reason").inner_text()
            assert reason.endswith(".") and "_" not in reason, reason
        elif not verdict.labels:
            assert card.locator(".tag-none").inner_text() == "No cooperation area"
        assert set(card.locator(".para-text").evaluate(MARKED_OFFSETS_JS)) == verdict.evidence, i


def test_the_page_classifies_the_example_article_and_records_a_correction(
        page: Any, server: Server, tiny_artifacts: Path, tmp_path: Path) -> None:  # noqa: F811
    article = ARTICLE.read_text(encoding="utf-8")
    verdicts = expected_verdicts(tiny_artifacts, article)
    labelled = [i for i, verdict in enumerate(verdicts) if verdict.labels]
    assert labelled and len(labelled) < len(verdicts), "the example should have paragraphs with and without areas"

    classify(page, article)
    check_paragraphs(page, verdicts)
    found = sorted({label for verdict in verdicts for label in verdict.labels})
    summary = page.locator("#summary-areas > li")
    assert sorted(summary.nth(j).get_attribute("data-label") or "" for j in range(summary.count())) == found
    assert f"of its {len(verdicts)} paragraphs" in page.inner_text("#summary-text")
    every_label = Predictor(ArtifactStore(tiny_artifacts).load()).labels
    assert page.locator(f"#paragraph-{labelled[0] + 1} .scores .bar").count() == len(every_label)

    # Correct the first labelled paragraph: keep its labels and add the first area it lacks.
    index = labelled[0]
    text, labels = verdicts[index].text, verdicts[index].labels
    extra = next(label for label in every_label if label not in labels)
    card = page.locator(f"#paragraph-{index + 1}")
    card.locator("summary").click()
    card.get_by_role("checkbox", name=display_name(extra), exact=True).check()
    card.get_by_role("button", name="Send correction").click()  # no feedback token pasted yet
    refused = card.locator(".feedback-result.is-error")
    refused.wait_for()
    assert "Paste the feedback token" in refused.inner_text()
    assert not (tmp_path / "feedback" / "feedback.csv").exists()
    page.get_by_label("Feedback token", exact=True).fill(FEEDBACK_TOKEN)  # its card was opened for the analyst
    assert page.evaluate("() => sessionStorage.getItem('coopclf.feedbackToken')") == FEEDBACK_TOKEN
    card.get_by_role("button", name="Send correction").click()
    result = card.locator(".feedback-result.is-ok")
    result.wait_for()
    assert "Saved" in result.inner_text() and display_name(extra) in result.inner_text()
    # the server fixture points COOPCLF_FEEDBACK_DIR at tmp_path / "feedback"
    with (tmp_path / "feedback" / "feedback.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    corrected = [label for label in every_label if label in {*labels, extra}]
    assert rows == [["text", "labels"], [" ".join(text.split()), ";".join(corrected)]]

    shot = tmp_path / "page.png"
    page.screenshot(path=str(shot), full_page=True)
    shutil.copyfile(shot, SCREENSHOT_COPY)

    # A two-word first paragraph is not judged; the character outside the BMP before the article
    # must not shift the highlights (the API's offsets count code points, JavaScript UTF-16 units).
    shifted = "\N{EARTH GLOBE EUROPE-AFRICA} Brief note.\n\n" + article
    verdicts = expected_verdicts(tiny_artifacts, shifted)
    assert verdicts[0].abstained is not None
    classify(page, shifted, keyboard=True)
    check_paragraphs(page, verdicts)


@pytest.mark.parametrize("server", [{"COOPCLF_MAX_BODY_BYTES": "2097152"}], ids=["default-body-limit"], indirect=True)
def test_the_page_shows_errors_in_plain_words(page: Any, server: Server, tmp_path: Path) -> None:  # noqa: F811
    error = page.locator("#error")
    assert error.get_attribute("role") == "alert"

    page.click("#classify")  # nothing typed yet
    error.wait_for()
    assert "nothing to classify" in error.inner_text()

    page.fill("#document", "x" * 50_001)  # one paragraph over COOPCLF_MAX_CHARS
    page.click("#classify")
    page.wait_for_function("() => document.getElementById('error').textContent.includes('too long')")
    message = error.inner_text()
    assert "Paragraph 1 is too long" in message and "at most 50,000" in message
    assert "{" not in message and "urn:" not in message and "422" not in message
    assert page.locator("#results").is_hidden()
    page.screenshot(path=str(tmp_path / "error.png"))

    page.fill("#document", "\n\n".join(["y" * 45_000] * 3))  # 540,000 characters counted with evidence
    page.click("#classify")
    page.wait_for_function("() => document.getElementById('error').textContent.includes('too long to classify')")
    assert "at most 125,000 characters with highlighted evidence" in error.inner_text()

    server.process.terminate()
    server.process.wait(timeout=60)
    page.fill("#document", "Customs officers seized two tonnes of cocaine hidden in a banana shipment.")
    page.click("#classify")
    page.wait_for_function("() => document.getElementById('error').textContent.includes('Could not reach')")
    assert "Could not reach the coopclf service" in error.inner_text()
