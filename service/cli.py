"""The `coopclf` command: the one module over the library, training, the HTTP service and batch scoring."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from coopclf.errors import CoopclfError
from coopclf.pipeline import FEATURE_SETS
from coopclf.pooling import POOLINGS

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def _artifacts_option(parser: argparse.ArgumentParser, default: object = None) -> None:
    parser.add_argument(
        "--artifacts", metavar="DIR", default=default,
        help="model versions directory (default: $COOPCLF_ARTIFACTS, else the shipped artifacts/)",
    )


def _settings(args: argparse.Namespace) -> Any:
    """The COOPCLF_* settings with this command's --artifacts, --signing-key and --max-chars over them."""
    from coopclf.service.http.settings import Settings

    def path(name: str) -> Path | None:
        value = getattr(args, name, None)
        return Path(value) if value else None

    return Settings.from_env(artifacts=path("artifacts"), signing_key=path("signing_key"),
                             max_chars=getattr(args, "max_chars", None))


def _predictor(args: argparse.Namespace) -> Any:
    from coopclf.predictor import Predictor

    settings = _settings(args)
    return Predictor.load(settings.artifacts, args.model_version,
                          allow_version_mismatch=settings.allow_version_mismatch,
                          trusted_keys=settings.trusted_keys)


def _store(args: argparse.Namespace) -> Any:
    from coopclf.artifact import ArtifactStore

    settings = _settings(args)
    return ArtifactStore(settings.artifacts, allow_version_mismatch=settings.allow_version_mismatch,
                         trusted_keys=settings.trusted_keys)


def cmd_train(args: argparse.Namespace) -> int:
    """Fit a new version and promote it if it passes the quality gate."""
    from coopclf.selection import DEFAULT_GRID
    from coopclf.training.train import train

    grid = dict(DEFAULT_GRID)
    if args.features:
        grid["features"] = [args.features]
    if args.pooling:
        grid["pooling"] = [args.pooling]
    result = train(
        args.data,
        artifacts=_store(args),
        holdout=args.holdout,
        max_regression=args.max_regression,
        force=args.force,
        labels=args.labels.split(",") if args.labels else None,
        skip_invalid=args.skip_invalid,
        grid=grid,
        folds=args.folds,
        seed=args.seed,
        signing_key=_settings(args).signing_key,
        log=lambda message: print(message, file=sys.stderr),
    )
    print(f"cross-validated macro-F1 {result.selection.macro_f1:.4f} with {result.selection.choice}")
    for label, score in result.selection.per_label.items():
        print(f"  {label:<24} f1 {score.f1:.3f}  threshold {score.threshold:.3f}")
    if result.candidate_metrics:
        print(f"held-out macro-F1 {result.candidate_metrics['macro_f1']:.4f}")
    state = "promoted to current" if result.promoted else "saved, NOT promoted"
    print(f"version {result.version} {state}: {result.reason}")
    return 0


def _read_document(path: str) -> str:
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CoopclfError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise CoopclfError(f"{path}: {exc.strerror}") from None


def cmd_predict(args: argparse.Namespace) -> int:
    """Label one text, or every paragraph of a file."""
    from coopclf.countries import country_name
    from coopclf.dates import leading_date
    from coopclf.splitter import split_paragraphs

    if (args.text is None) == (args.file is None):
        raise CoopclfError("give either a TEXT or --file PATH (use --file - for standard input)")
    predictor = _predictor(args)
    if args.file is not None:
        document = _read_document(args.file)
        result = predictor.classify_paragraphs(split_paragraphs(document), explain=args.explain,
                                               date=leading_date(document))
        texts = [paragraph.text for paragraph, _ in result.paragraphs]
        predictions = [prediction for _, prediction in result.paragraphs]
        pairs = list(result.pairs)
        context = {"date": result.date.isoformat() if result.date else None, "parties": list(result.parties)}
        if args.format == "text" and result.parties:
            print(f"parties: {' - '.join(country_name(code) for code in result.parties)}"
                  + (f" ({context['date']})" if context["date"] else ""))
    else:
        texts = [args.text]
        predictions = predictor.predict(texts, explain=args.explain)
        pairs = [predictions[0].pair]
        context = {}
    for index, (text, prediction, pair) in enumerate(zip(texts, predictions, pairs), start=1):
        if args.format == "json":
            print(json.dumps({"paragraph": index, "text": text, **prediction.to_dict(), "pair": pair, **context,
                              "model_version": predictor.version}, ensure_ascii=False))
            continue
        verdict = ", ".join(prediction.labels) or (
            f"(abstained: {prediction.abstained})" if prediction.abstained else "(no label)")
        preview = text if len(text) <= 90 else text[:87] + "..."
        print(f"[{index}] {verdict}\n    {preview}" if len(texts) > 1 else verdict)
        shown = prediction.labels if len(texts) > 1 else predictor.labels
        for label in shown:
            mark = "*" if label in prediction.labels else " "
            threshold = predictor.manifest["thresholds"][label]
            print(f"    {mark} {label:<24} {prediction.scores[label]:.3f}  (threshold {threshold:.3f})")
            for evidence in (prediction.evidence or {}).get(label, ()):
                print(f"        {evidence.ngram!r} +{evidence.weight:.3f}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score the model on labelled CSVs; optionally write a report directory."""
    from coopclf.training.evaluate import evaluate, format_table, write_report
    from coopclf.training.ingest import load_dataset

    predictor = _predictor(args)
    dataset = load_dataset(args.data, labels=predictor.labels, skip_invalid=args.skip_invalid)
    result = evaluate(predictor, dataset)
    print(format_table(result.metrics))
    if args.report:
        written = write_report(args.report, result)
        print(f"report written to {args.report} ({len(written)} files)")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    """List versions, promote one, or roll back to the previous one."""
    store = _store(args)
    if args.action == "promote":
        store.promote(args.version)
        print(f"{args.version} is now current")
    elif args.action == "sign":
        from coopclf.signing import key_id, load_private_key

        store.manifest(args.version)  # a bad version name or manifest first, then the key
        path = Path(args.key) if args.key else _settings(args).signing_key
        if path is None:
            raise CoopclfError("give the private key: --key FILE (or set COOPCLF_SIGNING_KEY)")
        key = load_private_key(path)
        store.sign(args.version, key)
        print(f"{args.version} signed with key {key_id(key.public_key())}")
    elif args.action == "rollback":
        print(f"rolled back; {store.rollback()} is now current")
    else:
        current = store.current()
        versions = store.versions()
        if not versions:
            print(f"no model versions in {store.root}")
        for version in versions:
            manifest = store.manifest(version)
            cv = manifest.get("cv_metrics", {}).get("macro_f1")
            held = manifest.get("holdout_metrics", {}).get("macro_f1")
            print(f"{'*' if version == current else ' '} {version}  labels={len(manifest['labels'])}"
                  f"  cv_macro_f1={cv}  holdout_macro_f1={held}  created={manifest['created_at']}")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    """Make an Ed25519 key pair for signing model versions."""
    from coopclf.signing import new_key_pair

    private, public = new_key_pair(args.out)
    print(f"private key: {private} (keep it secret; give it to `coopclf train --signing-key`)\n"
          f"public key:  {public} (add it to COOPCLF_TRUSTED_KEYS wherever models are loaded)")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the HTTP service under gunicorn."""
    from coopclf.service.http.server import run

    return run(host=args.host, port=args.port, workers=args.workers, artifacts=args.artifacts)


def cmd_score(args: argparse.Namespace) -> int:
    """Score files in batch: every row, or every paragraph of every document."""
    from coopclf.service.batch.scoring import ScoreOptions, expand_inputs, score_files

    settings = _settings(args)
    options = ScoreOptions(
        text_column=args.text_column,
        id_column=args.id_column,
        keep_columns=tuple(args.keep_columns.split(",")) if args.keep_columns else (),
        split_paragraphs=args.split_paragraphs,
        explain=args.explain,
        jobs=args.jobs,
        chunk_rows=args.chunk_rows,
        engine=args.engine,
        scheduler=args.scheduler,
        date_column=args.date_column,
        max_chars=settings.max_chars,
    )
    output = Path(args.output)
    files = expand_inputs(args.inputs)
    if args.output.endswith(("/", "\\")) or output.is_dir():
        targets = [([str(f)], output / f"{_stem(f)}.{args.output_format}") for f in files]
    else:
        targets = [([str(f) for f in files], output)]
    for inputs, target in targets:
        summary = score_files(inputs, target, artifacts=settings.artifacts, version=args.model_version,
                              allow_version_mismatch=settings.allow_version_mismatch,
                              trusted_keys=settings.trusted_keys, options=options, resume=args.resume,
                              progress=_progress_bar(target))
        print(summary.format(), file=sys.stderr)
    return 0


def cmd_aggregate(args: argparse.Namespace) -> int:
    """Count labelled paragraphs, documents and stories per period, country pair and area."""
    from coopclf.service.batch.aggregate import aggregate_files, write_table

    result = aggregate_files(args.inputs, by=args.by, engine=args.engine, scheduler=args.scheduler,
                             workers=args.jobs)
    write_table(result, args.output)
    print(result.format(), file=sys.stderr)
    print(f"written to {args.output}", file=sys.stderr)
    if args.plot:
        from coopclf.service.batch.chart import plot

        plot(result.rows, args.plot, by=args.by)
        print(f"chart written to {args.plot}", file=sys.stderr)
    return 0


def _stem(path: Path) -> str:
    from coopclf.files import strip_gz

    return Path(strip_gz(path.name)).stem


def _progress_bar(target: Path):
    """A tqdm bar on stderr when it is a terminal; otherwise no progress output."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = tqdm(total=None, unit="B", unit_scale=True, desc=target.name, file=sys.stderr)

    def update(rows: int, position: int, total: int) -> None:
        bar.total = total
        bar.n = position
        bar.set_postfix_str(f"{rows:,} rows, {rows / max(bar.format_dict['elapsed'], 1e-9):,.0f} rows/s")

    return update


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="coopclf",
        description="Label news paragraphs with the international cooperation areas they discuss "
                    "(counterterrorism, human_trafficking, narcotics, trade, information_technology, tourism).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("train", help="train a new model version from labelled CSVs",
                       description="Fit TF-IDF + logistic regression, choose hyper-parameters and "
                                   "per-label thresholds by cross-validation, save a new version, and "
                                   "promote it if its held-out macro-F1 is not worse than the current one's.")
    p.add_argument("--data", nargs="+", required=True, metavar="PATH",
                   help="CSV files or directories of *.csv (text,labels or text + 0/1 label columns)")
    p.add_argument("--holdout", metavar="FILE", help="gate on this labelled CSV instead of a fixed split")
    p.add_argument("--max-regression", type=float, default=0.01, metavar="F1",
                   help="largest allowed macro-F1 drop against the current version (default 0.01)")
    p.add_argument("--force", action="store_true", help="promote even if the gate fails")
    p.add_argument("--labels", metavar="A,B,...", help="label set of a `labels` column (default: the six areas)")
    p.add_argument("--skip-invalid", action="store_true", help="skip invalid rows instead of stopping")
    p.add_argument("--features", choices=list(FEATURE_SETS), help="fix the feature set instead of choosing by CV")
    p.add_argument("--pooling", choices=list(POOLINGS),
                   help="fix how a paragraph's score is formed instead of choosing by CV")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--signing-key", metavar="FILE",
                   help="sign the new version with this PEM private key (default: $COOPCLF_SIGNING_KEY)")
    _artifacts_option(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("predict", help="label a text or the paragraphs of a file",
                       description="Print the labels and per-label scores of a text, or of each "
                                   "paragraph of a document.")
    p.add_argument("text", nargs="?", help="the text to label")
    p.add_argument("--file", metavar="PATH", help="a UTF-8 document; split into paragraphs (- for stdin)")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="text (default) or json: one JSON object a line")
    p.add_argument("--explain", action="store_true", help="show the n-grams behind each label")
    p.add_argument("--model-version", metavar="VERSION", help="use this version instead of the current one")
    _artifacts_option(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("evaluate", help="measure the model on labelled CSVs",
                       description="Per-label precision, recall, F1 and support; micro and macro F1; "
                                   "exact match; no-label accuracy.")
    p.add_argument("--data", nargs="+", required=True, metavar="PATH", help="labelled CSV files or directories")
    p.add_argument("--report", metavar="DIR", help="also write report.md, metrics.json and PR-curve PNGs here")
    p.add_argument("--skip-invalid", action="store_true", help="skip invalid rows instead of stopping")
    p.add_argument("--model-version", metavar="VERSION", help="evaluate this version instead of the current one")
    _artifacts_option(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("models", help="list, promote or roll back model versions",
                       description="Manage the versions in the artifacts directory.")
    models = p.add_subparsers(dest="action", metavar="ACTION")
    lst = models.add_parser("list", help="list versions (* marks the current one)")
    promote = models.add_parser("promote", help="make VERSION current")
    promote.add_argument("version", metavar="VERSION")
    rollback = models.add_parser("rollback", help="return to the previously promoted version")
    sign = models.add_parser("sign", help="sign VERSION's manifest with a private key",
                             description="Check VERSION's files against its manifest and sign the manifest "
                                         "(writes manifest.sig beside it, replacing any signature).")
    sign.add_argument("version", metavar="VERSION")
    sign.add_argument("--key", metavar="FILE", help="PEM private key (default: $COOPCLF_SIGNING_KEY)")
    _artifacts_option(p)
    for leaf in (lst, promote, rollback, sign):
        _artifacts_option(leaf, default=argparse.SUPPRESS)
    p.set_defaults(func=cmd_models, action="list")

    p = sub.add_parser("score", help="label files of any size in batch",
                       description="Stream CSV, JSON Lines, Parquet or text files (optionally .gz) through "
                                   "the model and write labels and scores in the format the output name "
                                   "implies. Output goes to OUTPUT.partial and is renamed on success.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files or quoted glob patterns")
    p.add_argument("-o", "--output", required=True,
                   help="output file (.csv, .jsonl, .parquet, optionally .gz) or a directory ending in /")
    p.add_argument("--output-format", choices=["csv", "jsonl", "parquet"], default="csv",
                   help="format of each file when OUTPUT is a directory (default csv)")
    p.add_argument("--text-column", default="text", help="column holding the text (default: text)")
    p.add_argument("--id-column", help="column holding the row id (default: a column named id, else the row number)")
    p.add_argument("--keep-columns", metavar="A,B", help="input columns to copy to the output")
    p.add_argument("--date-column", metavar="NAME",
                   help="column holding each document's date (default: the date a text opens with, if any)")
    p.add_argument("--split-paragraphs", action="store_true",
                   help="split each text into paragraphs; one output row per paragraph")
    p.add_argument("--explain", action="store_true", help="add the n-grams behind each label")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="worker processes (default: every core)")
    p.add_argument("--chunk-rows", type=int, default=2000, help="rows per chunk (default 2000)")
    p.add_argument("--engine", choices=["local", "dask"], default="local",
                   help="local processes (default) or a dask.distributed cluster")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address, e.g. tcp://host:8786 (default: a local cluster)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from its last chunk")
    p.add_argument("--max-chars", type=int, metavar="N",
                   help="longest text scored; a longer one gets an error row (default $COOPCLF_MAX_CHARS or 50000)")
    p.add_argument("--model-version", metavar="VERSION", help="use this version instead of the current one")
    _artifacts_option(p)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("aggregate", help="count cooperation per period, country pair and area",
                       description="Read the output of `coopclf score` (CSV, JSON Lines or Parquet, optionally "
                                   ".gz) and write one CSV row per period, pair and area: period,pair,area,"
                                   "paragraphs,documents,stories. Rows without a date, a pair or a label are "
                                   "left out and counted on stderr.")
    p.add_argument("inputs", nargs="+", metavar="SCORED", help="scored files or quoted glob patterns")
    p.add_argument("-o", "--output", required=True, help="the table to write (.csv)")
    p.add_argument("--by", choices=["week", "month", "quarter", "year"], default="month",
                   help="period: ISO week (2026-W49), month (2026-12, the default), quarter (2026-Q4) or year")
    p.add_argument("--plot", metavar="PNG", help="also draw a chart of the top pairs to this PNG file")
    p.add_argument("--engine", choices=["local", "dask"], default="local",
                   help="DuckDB in this process (default) or dask.dataframe on a dask.distributed cluster")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address, e.g. tcp://host:8786 (default: a local cluster)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="worker processes of a local Dask cluster (default: every core)")
    p.set_defaults(func=cmd_aggregate)

    p = sub.add_parser("keys", help="make a key pair for signing model versions",
                       description="Signing: `train --signing-key` and `models sign` sign a version with the "
                                   "private key; every command that loads models checks the signature "
                                   "against the public keys in COOPCLF_TRUSTED_KEYS.")
    keys = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    new = keys.add_parser("new", help="write coopclf-signing.key (mode 0600) and coopclf-signing.pub (PEM)")
    new.add_argument("--out", required=True, metavar="DIR", help="directory to write the two files to")
    p.set_defaults(func=cmd_keys)

    p = sub.add_parser("serve", help="serve the current model over HTTP (gunicorn)",
                       description="Run the JSON API and web page under gunicorn. Settings also come "
                                   "from COOPCLF_* environment variables.")
    p.add_argument("--host", help="address to bind (default $COOPCLF_HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default $COOPCLF_PORT or 8000)")
    p.add_argument("--workers", type=int, help="worker processes (default $COOPCLF_WORKERS or 2)")
    _artifacts_option(p)
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; errors print one clear line, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CoopclfError as exc:
        print(f"coopclf: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("coopclf: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
