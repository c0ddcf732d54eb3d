"""Run batch scoring on a dask.distributed cluster, with the model shipped to each worker once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from distributed import Client, LocalCluster, WorkerPlugin, get_worker

from coopclf.artifact import MANIFEST_FILE, MODEL_FILE, ArtifactStore
from coopclf.predictor import Predictor
from coopclf.service.batch.engines import in_order
from coopclf.service.batch.scorer import ChunkResult, ChunkScorer, ScoreOptions
from coopclf.service.batch.tables import SourceRow

PLUGIN_NAME = "coopclf-model"


class ModelPlugin(WorkerPlugin):
    """A Dask worker plugin carrying one model version's files; each worker loads it once."""

    name = PLUGIN_NAME

    def __init__(self, version_dir: Path, options: ScoreOptions, columns: list[str], fmt: str) -> None:
        self.version = version_dir.name
        self.files = {name: (version_dir / name).read_bytes() for name in (MODEL_FILE, MANIFEST_FILE)}
        self.options = options
        self.columns = columns
        self.fmt = fmt
        self.scorer: ChunkScorer | None = None

    def setup(self, worker: Any) -> None:
        """Write the version into the worker's local directory, verify it, load it."""
        root = Path(worker.local_directory) / "coopclf-artifacts"
        (root / self.version).mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            (root / self.version / name).write_bytes(data)
        self.files = {}
        predictor = Predictor(ArtifactStore(root).load(self.version))
        self.scorer = ChunkScorer(predictor, self.options, self.columns, self.fmt)

    def teardown(self, worker: Any) -> None:
        """Nothing to release beyond the scorer."""
        self.scorer = None


def _score_on_worker(chunk: list[SourceRow]) -> ChunkResult:
    return get_worker().plugins[PLUGIN_NAME].scorer(chunk)


def dask_results(scorer: ChunkScorer, chunks: Iterator[list[SourceRow]], options: ScoreOptions,
                 version_dir: Path) -> Iterator[ChunkResult]:
    """Score chunks as Dask tasks (one partition each) and yield results in input order."""
    cluster = None
    if options.scheduler:
        client = Client(options.scheduler, timeout="30s")
    else:
        cluster = LocalCluster(n_workers=max(options.jobs, 1), threads_per_worker=1, processes=True,
                               dashboard_address=None, host="127.0.0.1")
        client = Client(cluster)
    try:
        client.register_plugin(ModelPlugin(version_dir, options, scorer.columns, scorer.fmt))
        workers = max(len(client.scheduler_info()["workers"]), 1)
        keys = iter(range(1 << 62))
        yield from in_order(
            chunks,
            lambda chunk: client.submit(_score_on_worker, chunk, key=f"coopclf-chunk-{next(keys)}", pure=False),
            lambda future: future.result(), 2 * workers)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
