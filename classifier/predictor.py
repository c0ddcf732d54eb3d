"""Turn texts into labels, probabilities and evidence with a loaded model version."""

from __future__ import annotations

import datetime
import itertools
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer, strip_accents_unicode
from sklearn.pipeline import FeatureUnion

from coopclf.artifact import ArtifactStore, LoadedModel
from coopclf.errors import ArtifactError, DeadlineExceeded, InvalidInput
from coopclf.dates import leading_date
from coopclf.featurizer import Featurizer
from coopclf.pooling import POOLINGS, combine, pool, scored_pieces
from coopclf.parties import document_parties, own_pair, paragraph_countries
from coopclf.screening import screen
from coopclf.splitter import Paragraph, split_paragraphs

Context = TypeVar("Context")

CHUNK = 256  # texts vectorised at once (and then their sentences): bounds memory, and keeps arrays in cache


@dataclass(frozen=True)
class Evidence:
    """An n-gram that pushed a label up: its weight and where it occurs in the text."""

    ngram: str
    weight: float
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Prediction:
    """The model's verdict on one text."""

    labels: tuple[str, ...]
    scores: dict[str, float]
    abstained: str | None = None
    language: str | None = None  # the language identified when the model abstained as not English
    countries: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # ISO3 -> mention spans
    pair: str | None = None  # the text's own two most mentioned countries, "BHR-PAK"
    evidence: dict[str, tuple[Evidence, ...]] | None = field(default=None)

    def to_dict(self, shift: int = 0) -> dict[str, Any]:
        """The JSON form every interface writes; evidence offsets moved by `shift` (a paragraph's start)."""
        out: dict[str, Any] = {"labels": list(self.labels), "scores": self.scores, "abstained": self.abstained}
        if self.language is not None:
            out["language"] = self.language
        out["countries"] = {code: [[start + shift, end + shift] for start, end in spans]
                            for code, spans in self.countries.items()}
        out["pair"] = self.pair
        if self.evidence is not None:
            out["evidence"] = {
                label: [{"ngram": e.ngram, "weight": e.weight,
                         "spans": [[start + shift, end + shift] for start, end in e.spans]} for e in items]
                for label, items in self.evidence.items()
            }
        return out


@dataclass(frozen=True)
class DocumentResult:
    """Every paragraph of a document with its prediction, and which paragraphs carry each label."""

    labels: tuple[str, ...]
    paragraphs: tuple[tuple[Paragraph, Prediction], ...]
    parties: tuple[str, ...] = ()  # the document's main countries (ISO3), most mentioned first
    pairs: tuple[str | None, ...] = ()  # per paragraph: its own pair, or the parties' when it names under two
    date: datetime.date | None = None

    def summary(self) -> dict[str, Any]:
        """The labels found, the paragraphs carrying each, and counts."""
        carriers: dict[str, list[int]] = {label: [] for label in self.labels}
        for paragraph, prediction in self.paragraphs:
            for label in prediction.labels:
                carriers[label].append(paragraph.index)
        found = {label: indices for label, indices in carriers.items() if indices}
        return {"labels": list(found), "paragraphs": found, "paragraph_count": len(self.paragraphs),
                "abstained_count": sum(p.abstained is not None for _, p in self.paragraphs)}

    def to_dict(self) -> dict[str, Any]:
        """JSON form: each paragraph's place and prediction (evidence offsets in the document), and the summary."""
        return {
            "date": self.date.isoformat() if self.date else None,
            "parties": list(self.parties),
            "paragraphs": [{"index": paragraph.index, "start": paragraph.start, "end": paragraph.end,
                            **prediction.to_dict(shift=paragraph.start), "pair": pair}
                           for (paragraph, prediction), pair in zip(self.paragraphs, self.pairs)],
            "summary": self.summary(),
        }


def _word_vectoriser(features: Any) -> TfidfVectorizer | None:
    if isinstance(features, TfidfVectorizer):
        return features
    if isinstance(features, FeatureUnion):
        return dict(features.transformer_list).get("word")
    return None


@dataclass(frozen=True)
class _Columns:
    """What each feature column is: its n-gram, its block, and whether evidence may show it."""

    ngrams: np.ndarray
    kinds: np.ndarray
    readable: np.ndarray


class Predictor:
    """A loaded model version, ready to label texts; safe to share between threads."""

    def __init__(self, model: LoadedModel) -> None:
        self.pipeline = model.pipeline
        try:
            self.features = model.pipeline.named_steps["features"]
            estimators = model.pipeline.named_steps["classifier"].estimators_
        except (AttributeError, KeyError) as exc:
            raise ArtifactError(f"model version {model.version!r} is not a coopclf pipeline") from exc
        manifest = model.manifest
        self.version: str = model.version
        self.manifest = manifest
        self.labels: tuple[str, ...] = tuple(manifest["labels"])
        if len(estimators) != len(self.labels):
            raise ArtifactError(f"model version {model.version!r} has {len(estimators)} outputs "
                                f"but its manifest names {len(self.labels)} labels")
        self.thresholds = np.array([manifest["thresholds"][label] for label in self.labels])
        self.pooling: str = manifest.get("pooling", "paragraph")
        if self.pooling not in POOLINGS:
            raise ArtifactError(f"model version {model.version!r} asks for pooling {self.pooling!r}; "
                                f"this coopclf knows {', '.join(POOLINGS)}")
        # One (features x labels) matrix: a batch is scored with a single sparse product.
        self.coef = np.ascontiguousarray(
            np.vstack([e.coef_.ravel() for e in estimators]).T, dtype=np.float64)
        self.intercept = np.array([float(e.intercept_[0]) for e in estimators])
        word = _word_vectoriser(self.features)
        self._token = re.compile(word.token_pattern if word is not None else r"(?u)\b\w\w+\b")
        featurizer = Featurizer.from_features(self.features)
        n_features = self.coef.shape[0]
        self._featurizer = featurizer if featurizer is not None and featurizer.n_features == n_features else None
        self._columns_built: _Columns | None = None
        self._columns_lock = threading.Lock()

    @classmethod
    def load(cls, artifacts: str | Path | None = None, version: str | None = None, *,
             allow_version_mismatch: bool = False, trusted_keys: Sequence[str | Path] = ()) -> Predictor:
        """Verify and load a version (default: the current one) from an artifacts directory."""
        store = ArtifactStore(artifacts, allow_version_mismatch=allow_version_mismatch, trusted_keys=trusted_keys)
        return cls(store.load(version))

    @classmethod
    def from_pipeline(cls, pipeline: Any, manifest: dict[str, Any]) -> Predictor:
        """A Predictor over a fitted pipeline not saved yet (a training candidate), with its manifest."""
        return cls(LoadedModel(str(manifest.get("version", "candidate")), manifest, pipeline))

    @property
    def _columns(self) -> _Columns:
        columns = self._columns_built
        if columns is None:
            with self._columns_lock:  # several threads may ask first; build once
                if self._columns_built is None:
                    self._columns_built = self._build_columns()
                columns = self._columns_built
        return columns

    def _build_columns(self) -> _Columns:
        names = self.features.get_feature_names_out()
        ngrams = np.array([str(n).split("__", 1)[-1] for n in names], dtype=object)
        kinds = np.array([str(n).split("__", 1)[0] if "__" in str(n) else "word" for n in names], dtype=object)
        # Evidence shows only features a reader can make sense of: no stop-word-only n-grams.
        readable = np.array([_readable(n, k) for n, k in zip(ngrams, kinds)])
        return _Columns(ngrams, kinds, readable)

    def prepare_explanations(self) -> None:
        """Build the per-column n-gram names `explain` needs (~60 MB of RSS) now, e.g. before forking workers."""
        _ = self._columns

    @property
    def data_hash(self) -> str:
        """Fingerprint of the data this version was trained on."""
        return str(self.manifest.get("data_hash", ""))

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probability of every label for every text, shape (len(texts), len(labels))."""
        texts = _check_texts(texts)
        out = np.empty((len(texts), len(self.labels)))
        for start in range(0, len(texts), CHUNK):
            chunk = texts[start:start + CHUNK]
            out[start:start + CHUNK] = self._scored(chunk)[0]
        return out

    def _scored(self, texts: list[str]) -> tuple[np.ndarray, Any]:
        """Pooled probabilities of `texts`, and a matrix whose first len(texts) rows are their features."""
        featurizer = self._featurizer
        if featurizer is None:
            X = self.features.transform(texts).tocsr()
            return pool(self.pooling, texts, self._sigmoid(X),
                        lambda sentences: self._sigmoid(self.features.transform(sentences).tocsr())), X
        if self.pooling == "paragraph":
            X = featurizer.transform(texts)
            return self._sigmoid(X), X
        # A paragraph's words are read once, for its own row and its sentences' rows alike.
        parts = [scored_pieces(text) for text in texts]
        X = featurizer.matrix(texts, parts)
        proba = self._sigmoid(X)
        owners = np.repeat(np.arange(len(texts)), [len(scored) for _, scored in parts])
        return combine(self.pooling, proba[:len(texts)], proba[len(texts):], owners), X

    def _sigmoid(self, X: Any) -> np.ndarray:
        z = np.asarray(X @ self.coef) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def predict(self, texts: Sequence[str], *, explain: bool = False, top_k: int = 5,
                deadline: float | None = None) -> list[Prediction]:
        """Labels, scores and (with `explain`) evidence for each text, in one vectorised pass.

        With a `deadline` (a `time.monotonic()` value), raise DeadlineExceeded once it has passed,
        checked before each chunk and each text, so a caller can bound what one call costs.
        """
        texts = _check_texts(texts)
        results: list[Prediction] = []
        for start in range(0, len(texts), CHUNK):
            _check_deadline(deadline, start)
            chunk = texts[start:start + CHUNK]
            proba, X = self._scored(chunk)
            for i, text in enumerate(chunk):
                _check_deadline(deadline, start + i)
                results.append(self._one(text, proba[i], X[i] if explain else None, top_k))
        return results

    def pipe(self, items: Iterable[tuple[str, Context]], *, batch_size: int = 1000,
             explain: bool = False) -> Iterator[tuple[Prediction, Context]]:
        """Stream (text, context) pairs through the model in batches, yielding (prediction, context).

        Like spaCy's `nlp.pipe(as_tuples=True)`: the context (an id, a row, anything) comes back
        with its text's prediction, in input order, and memory stays bounded by `batch_size`.
        """
        if batch_size < 1:
            raise InvalidInput(f"batch_size must be at least 1, not {batch_size}")
        iterator = iter(items)
        while batch := list(itertools.islice(iterator, batch_size)):
            texts = [text for text, _ in batch]
            yield from zip(self.predict(texts, explain=explain), (context for _, context in batch))

    def classify_paragraphs(self, paragraphs: Sequence[Paragraph], *, explain: bool = False,
                            date: datetime.date | None = None, deadline: float | None = None) -> DocumentResult:
        """Predictions for a document already split into paragraphs, with its parties and pairs."""
        predictions = self.predict([p.text for p in paragraphs], explain=explain, deadline=deadline)
        parties, pairs = document_parties([p.countries for p in predictions])
        return DocumentResult(self.labels, tuple(zip(paragraphs, predictions)), parties, pairs, date)

    def classify_document(self, document: str, *, explain: bool = False,
                          date: datetime.date | None = None, deadline: float | None = None) -> DocumentResult:
        """Split a document into paragraphs and label each one; `date` defaults to one written at its start."""
        if not isinstance(document, str):
            raise InvalidInput(f"document is {type(document).__name__}, not a string")
        return self.classify_paragraphs(split_paragraphs(document), explain=explain,
                                        date=date or leading_date(document), deadline=deadline)

    def _one(self, text: str, proba: np.ndarray, row: Any, top_k: int) -> Prediction:
        scores = {label: round(float(p), 4) for label, p in zip(self.labels, proba)}
        countries = paragraph_countries(text)
        place = {"countries": countries, "pair": own_pair(countries)}
        reason, language = screen(text)
        if reason is not None:
            return Prediction(labels=(), scores=scores, abstained=reason, language=language,
                              evidence={} if row is not None else None, **place)
        chosen = tuple(label for label, p, t in zip(self.labels, proba, self.thresholds) if p >= t)
        evidence = None
        if row is not None:
            tops = {label: self._top_features(row, self.labels.index(label), top_k) for label in chosen}
            spans = self._locate(text, {key for top in tops.values() for key, _ in top})
            evidence = {label: tuple(Evidence(ngram=ngram, weight=round(weight, 4), spans=spans[ngram, kind])
                                     for (ngram, kind), weight in top)
                        for label, top in tops.items()}
        return Prediction(labels=chosen, scores=scores, evidence=evidence, **place)

    def _top_features(self, row: Any, j: int, top_k: int) -> list[tuple[tuple[str, str], float]]:
        """The `top_k` readable (n-gram, kind) features that pushed label `j` up most, with their weights."""
        columns = self._columns
        contributions = row.data * self.coef[row.indices, j] * columns.readable[row.indices]
        merged: dict[tuple[str, str], float] = {}
        for k in np.flatnonzero(contributions > 0):
            feature = row.indices[k]
            kind = columns.kinds[feature] if columns.kinds[feature] in ("char", "acronym") else "word"
            key = (columns.ngrams[feature], kind)
            merged[key] = merged.get(key, 0.0) + float(contributions[k])
        return sorted(merged.items(), key=lambda item: (-item[1], item[0]))[:top_k]

    def _locate(self, text: str, features: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[tuple[int, int], ...]]:
        """Character offsets in `text` of every (n-gram, kind) feature; word n-grams in one pass over its tokens."""
        found: dict[tuple[str, str], list[tuple[int, int]]] = {key: [] for key in features}
        words = {tuple(ngram.split(" ")): (ngram, kind) for ngram, kind in features if kind == "word"}
        lowered: str | None = None
        for ngram, kind in features:
            if kind == "acronym":  # case-sensitive: "IT" the abbreviation, not "it" the pronoun
                found[ngram, kind] = [m.span() for m in re.finditer(rf"\b{re.escape(ngram)}\b", text)]
            elif kind == "char":
                lowered = strip_accents_unicode(text.lower()) if lowered is None else lowered
                needle = ngram.strip()
                if needle and len(lowered) == len(text):
                    found[ngram, kind] = [m.span() for m in re.finditer(re.escape(needle), lowered)]
        if words:
            matches = list(self._token.finditer(text))
            normal: dict[str, str] = {}  # each distinct token is normalised once
            tokens = [normal.get(m.group()) or normal.setdefault(m.group(), strip_accents_unicode(m.group().lower()))
                      for m in matches]
            sizes = sorted({len(key) for key in words})
            for i in range(len(tokens)):
                for n in sizes:
                    key = words.get(tuple(tokens[i:i + n])) if i + n <= len(tokens) else None
                    if key is not None:
                        found[key].append((matches[i].start(), matches[i + n - 1].end()))
        return {key: tuple(spans) for key, spans in found.items()}


def _readable(name: str, kind: str) -> bool:
    if kind == "char":
        core = name.strip()
        return len(core) >= 3 and any(ch.isalpha() for ch in core)
    return not all(token in ENGLISH_STOP_WORDS for token in name.split(" "))


def _check_deadline(deadline: float | None, done: int) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise DeadlineExceeded(f"stopped after {done} text(s): the deadline has passed")


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise InvalidInput("expected a list of texts, got a single string")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise InvalidInput(f"text {i} is {type(text).__name__}, not a string")
    return texts
