"""Where chunks are scored: in this process, in a local process pool, or (cluster.py) on Dask."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from coopclf.artifact import ArtifactStore
from coopclf.predictor import Predictor
from coopclf.service.batch.scorer import ChunkResult, ChunkScorer, ScoreOptions
from coopclf.service.batch.tables import SourceRow

Item = TypeVar("Item")
Pending = TypeVar("Pending")
Result = TypeVar("Result")


def in_order(items: Iterable[Item], submit: Callable[[Item], Pending], result: Callable[[Pending], Result],
             window: int) -> Iterator[Result]:
    """Submit items with at most `window` in flight and yield their results in submission order."""
    pending: deque[Pending] = deque()
    for item in items:
        pending.append(submit(item))
        if len(pending) >= window:
            yield result(pending.popleft())
    while pending:
        yield result(pending.popleft())


def local_results(scorer: ChunkScorer, chunks: Iterator[list[SourceRow]], options: ScoreOptions,
                  store: ArtifactStore, version: str) -> Iterator[ChunkResult]:
    """Score chunks in order: in this process for one job, else in a pool with bounded look-ahead."""
    if options.jobs <= 1:
        yield from map(scorer, chunks)
        return
    import multiprocessing

    global _WORKER_SCORER
    if "fork" in multiprocessing.get_all_start_methods():
        # Forked workers inherit the loaded model: one load, pages shared copy-on-write.
        context = multiprocessing.get_context("fork")
        _WORKER_SCORER, initializer, initargs = scorer, None, ()
    else:
        context = multiprocessing.get_context("spawn")
        initializer = _init_worker
        initargs = (store, version, options, scorer.columns, scorer.fmt)
    try:
        with context.Pool(options.jobs, initializer=initializer, initargs=initargs) as pool:
            yield from in_order(chunks, lambda chunk: pool.apply_async(_score_in_worker, (chunk,)),
                                lambda pending: pending.get(), 2 * options.jobs)
    finally:
        _WORKER_SCORER = None


_WORKER_SCORER: ChunkScorer | None = None


def _init_worker(store: ArtifactStore, version: str, options: ScoreOptions, columns: list[str], fmt: str) -> None:
    """Load the model once in a spawned worker (where nothing is inherited), verified as the parent's was."""
    global _WORKER_SCORER
    _WORKER_SCORER = ChunkScorer(Predictor(store.load(version)), options, columns, fmt)


def _score_in_worker(chunk: list[SourceRow]) -> Any:
    assert _WORKER_SCORER is not None
    return _WORKER_SCORER(chunk)
