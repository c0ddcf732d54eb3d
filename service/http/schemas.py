"""Request and response models: they validate requests and generate the OpenAPI document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from coopclf.pooling import POOLINGS

_STRICT = ConfigDict(extra="forbid", strict=True)

ABSTAINED = ("the model did not judge this text: 'empty' (nothing left after normalisation), "
             "'too_short' (under 3 words) or 'not_english'; labels is then empty. "
             "null when the text was judged.")
LANGUAGE = ("with abstained 'not_english': the language identified (ISO 639-1 where one exists, e.g. 'fr'; "
            "'und' when undetermined)")


DATE = ("when the text was published, ISO 8601 (2025-07-12) or written out (12 July 2025); "
        "returned as ISO 8601")


class TextRequest(BaseModel):
    """Label one text."""

    model_config = _STRICT
    text: str = Field(description="one paragraph of news text")
    explain: bool = Field(False, description="also return the n-grams behind each assigned label")
    date: str | None = Field(None, description=DATE)


class TextsRequest(BaseModel):
    """Label several texts, each on its own (at most COOPCLF_MAX_ITEMS)."""

    model_config = _STRICT
    texts: list[str] = Field(description="paragraphs to label, in order")
    explain: bool = Field(False, description="also return the n-grams behind each assigned label")
    date: str | None = Field(None, description=DATE)


class DocumentRequest(BaseModel):
    """Split a document into paragraphs and label each, with a summary of the whole."""

    model_config = _STRICT
    document: str = Field(description="an article; paragraphs are separated by blank lines")
    explain: bool = Field(False, description="also return the n-grams behind each assigned label")
    date: str | None = Field(None, description=DATE + "; default: a date written at the document's start")


class ClassifyRequest(RootModel[TextRequest | TextsRequest | DocumentRequest]):
    """Exactly one of `text`, `texts` or `document`, plus optional `explain`."""


class EvidenceItem(BaseModel):
    """An n-gram that pushed a label up."""

    ngram: str
    weight: float = Field(description="its contribution to the label's log-odds")
    spans: list[tuple[int, int]] = Field(
        description="[start, end) character offsets (Unicode code points) where it occurs; "
                    "in the text for `text`/`texts`, in the whole document for `document`")


class Result(BaseModel):
    """The verdict on one text."""

    labels: list[str] = Field(description="assigned cooperation areas (score >= threshold)")
    scores: dict[str, float] = Field(description="probability of every label")
    thresholds: dict[str, float] = Field(description="the per-label decision thresholds used")
    abstained: str | None = Field(description=ABSTAINED)
    language: str | None = Field(default=None, description=LANGUAGE)
    countries: dict[str, list[tuple[int, int]]] = Field(
        default_factory=dict, description="countries mentioned (ISO 3166-1 alpha-3), each with its mention "
                                          "spans, in order of first mention (rules: docs/countries.md)")
    pair: str | None = Field(None, description="the two countries the text concerns, sorted, e.g. 'BHR-PAK': "
                                               "its own two most mentioned; in a document, the parties' pair "
                                               "when it names fewer than two")
    evidence: dict[str, list[EvidenceItem]] = Field(
        default_factory=dict, description="only with explain: per assigned label, the strongest n-grams")


class ParagraphResult(Result):
    """The verdict on one paragraph of a document, and where the paragraph is."""

    index: int = Field(description="0-based paragraph number")
    start: int = Field(description="offset of the paragraph's first character in the document")
    end: int = Field(description="offset just past its last character")


class DocumentSummary(BaseModel):
    """Which areas the document covers and where."""

    labels: list[str] = Field(description="areas assigned to at least one paragraph, in label order")
    paragraphs: dict[str, list[int]] = Field(description="per area found, the paragraph indices carrying it")
    paragraph_count: int
    abstained_count: int = Field(description="paragraphs the model did not judge")


class TextsResponse(BaseModel):
    """Results of `text` or `texts`, in input order."""

    model_version: str
    data_hash: str
    date: str | None = Field(None, description="ISO 8601, when the request gave one")
    country_names: dict[str, str] = Field(description="display name of every country code in the response")
    results: list[Result]


class DocumentResponse(BaseModel):
    """Results of `document`: one per paragraph, plus a summary."""

    model_version: str
    data_hash: str
    date: str | None = Field(description="ISO 8601: the request's date, else one written at the document's start")
    parties: list[str] = Field(description="the document's main countries (ISO 3166-1 alpha-3), most mentioned first")
    country_names: dict[str, str] = Field(description="display name of every country code in the response")
    paragraphs: list[ParagraphResult]
    summary: DocumentSummary


class ClassifyResponse(RootModel[TextsResponse | DocumentResponse]):
    """`results` for text/texts requests; `paragraphs` and `summary` for document requests."""


class KServeInstance(BaseModel):
    """A KServe instance given as an object."""

    model_config = _STRICT
    text: str


class KServePredictRequest(BaseModel):
    """KServe V1 inference request."""

    model_config = _STRICT
    instances: list[str | KServeInstance] = Field(description="texts, or objects with a `text` member")


class KServePrediction(BaseModel):
    """One KServe prediction."""

    labels: list[str]
    scores: dict[str, float]
    abstained: str | None = Field(description=ABSTAINED)
    language: str | None = Field(default=None, description=LANGUAGE)


class KServePredictResponse(BaseModel):
    """KServe V1 inference response (plus the model version and data hash)."""

    predictions: list[KServePrediction]
    model_version: str
    data_hash: str


class KServeExplanation(BaseModel):
    """Why one instance got its labels."""

    evidence: dict[str, list[EvidenceItem]] = Field(
        description="per assigned label, the strongest n-grams with [start, end) offsets into the instance's "
                    "text; {} when the model abstained or assigned no label")


class KServeExplainResponse(BaseModel):
    """KServe V1 explanation response: the predictions and, in the same order, their explanations."""

    predictions: list[KServePrediction]
    explanations: list[KServeExplanation]
    model_version: str
    data_hash: str


class KServeModelStatus(BaseModel):
    """KServe V1 model status."""

    name: str
    ready: bool
    version: str | None = None


class ModelInfo(BaseModel):
    """The served version's manifest metadata."""

    version: str
    labels: list[str]
    display_names: dict[str, str]
    thresholds: dict[str, float]
    trained_at: str | None = Field(description="when the version was saved (UTC, ISO 8601)")
    data_hash: str
    training_data: list[dict[str, Any]] = Field(description="source files with their SHA-256 and rows")
    metrics: dict[str, Any] = Field(description="`cv`: cross-validated, `holdout`: held-out gate metrics")
    params: dict[str, Any]
    pooling: Literal[POOLINGS] = Field(description="how a paragraph's score is formed")
    environment: dict[str, str]
    model_sha256: str


class Health(BaseModel):
    """Liveness."""

    status: str


class Readiness(BaseModel):
    """Readiness: a model is loaded and answered a probe prediction."""

    status: str
    model_version: str


class FeedbackRequest(BaseModel):
    """An analyst's labels for a text: confirms or corrects the model."""

    model_config = _STRICT
    text: str = Field(description="the paragraph (whitespace is normalised as in training data)")
    labels: list[str] = Field(description="all areas the text is about (ids or aliases); [] for none")


class FeedbackResponse(BaseModel):
    """What was recorded."""

    recorded: bool
    text: str
    labels: list[str] = Field(description="normalised label ids, as written to the CSV")
    model_version: str


class ReloadResponse(BaseModel):
    """Outcome of a reload."""

    status: str = Field(description="'reloaded' (this process switched), 'reloading' (gunicorn is "
                                    "replacing its workers) or 'unchanged'")
    version: str
    previous: str | None


class ProblemDetails(BaseModel):
    """An RFC 9457 problem document (application/problem+json)."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    instance: str
    request_id: str


class KServeError(ProblemDetails):
    """A KServe V1 error (application/json): `error` for KServe clients, plus the problem document's fields."""

    error: str = Field(description="the detail, with the fields at fault when the body was off the schema")
