"""Run batch work on a dask.distributed cluster: scoring, with the model shipped to each worker once."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from distributed import Client, LocalCluster, WorkerPlugin, get_worker

from coopclf.artifact import MANIFEST_FILE, SIGNATURE_FILE, ArtifactStore
from coopclf.manifest import file_digests
from coopclf.predictor import Predictor
from coopclf.service.batch.engines import in_order
from coopclf.service.batch.scorer import ChunkResult, ChunkScorer, ScoreOptions
from coopclf.service.batch.tables import SourceRow

PLUGIN_NAME = "coopclf-model"


class ModelPlugin(WorkerPlugin):
    """A Dask worker plugin carrying one model version's files; each worker verifies and loads it once."""

    name = PLUGIN_NAME

    def __init__(self, store: ArtifactStore, version: str, options: ScoreOptions, columns: list[str],
                 fmt: str) -> None:
        self.store = store  # its trusted keys travel with it, so workers verify as this process did
        self.version = version
        version_dir = store.root / version
        names = [MANIFEST_FILE, *file_digests(store.manifest(version))]
        if (version_dir / SIGNATURE_FILE).is_file():
            names.append(SIGNATURE_FILE)
        self.files = {name: (version_dir / name).read_bytes() for name in names}
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
        predictor = Predictor(self.store.elsewhere(root).load(self.version))
        self.scorer = ChunkScorer(predictor, self.options, self.columns, self.fmt)

    def teardown(self, worker: Any) -> None:
        """Nothing to release beyond the scorer."""
        self.scorer = None


def _score_on_worker(chunk: list[SourceRow]) -> ChunkResult:
    return get_worker().plugins[PLUGIN_NAME].scorer(chunk)


@contextlib.contextmanager
def dask_client(scheduler: str | None, workers: int) -> Iterator[Client]:
    """A client of the scheduler at `scheduler`, or of a local cluster of `workers` processes; closed after."""
    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="30s")
    else:
        cluster = LocalCluster(n_workers=max(workers, 1), threads_per_worker=1, processes=True,
                               dashboard_address=None, host="127.0.0.1")
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def dask_results(scorer: ChunkScorer, chunks: Iterator[list[SourceRow]], options: ScoreOptions,
                 store: ArtifactStore, version: str) -> Iterator[ChunkResult]:
    """Score chunks as Dask tasks (one partition each) and yield results in input order."""
    with dask_client(options.scheduler, options.jobs) as client:
        client.register_plugin(ModelPlugin(store, version, options, scorer.columns, scorer.fmt))
        workers = max(len(client.scheduler_info()["workers"]), 1)
        keys = iter(range(1 << 62))
        yield from in_order(
            chunks,
            lambda chunk: client.submit(_score_on_worker, chunk, key=f"coopclf-chunk-{next(keys)}", pure=False),
            lambda future: future.result(), 2 * workers)
