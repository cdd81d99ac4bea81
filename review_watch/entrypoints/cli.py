"""The `review-watch` command: parses arguments, calls the service layer, prints results."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy.exc import SQLAlchemyError

from review_watch.config import ConfigError, SentimentConfig, load_config, resolve_config_path
from review_watch.domain.business_time import deadline
from review_watch.entrypoints.bootstrap import App
from review_watch.services.export import export_rows, write_csv
from review_watch.services.history import export_histories
from review_watch.services.triage import TriageFigures
from review_watch.storage.database import DatabaseError


class UsageError(Exception):
    """A bad argument, already phrased as one line."""


def _parse_instant(text: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option}: {text!r} is not an ISO 8601 date-time") from None
    if value.tzinfo is None:
        raise UsageError(f"{option}: {text!r} has no UTC offset (add Z or ±HH:MM)")
    return value


def _app(args: argparse.Namespace) -> App:
    return App(load_config(resolve_config_path(args.config)))


def cmd_init(args: argparse.Namespace) -> int:
    from review_watch.entrypoints.example_config import write_example_config

    directory = Path(args.directory)
    path = write_example_config(directory)
    app = App(load_config(path))
    app.sessions  # noqa: B018 - creates the database and applies the migrations
    print(f"wrote {path} and created the database {app.config.database.url}")
    return 0


def cmd_crawl(args: argparse.Namespace) -> int:
    from review_watch.entrypoints.crawl_runner import configure_crawl_logging, crawl_then_triage

    app = _app(args)
    configure_crawl_logging(args.verbose)
    if args.scrapyd is None:
        summaries, figures = crawl_then_triage(app, args.source)
    else:
        from review_watch.entrypoints.scrapyd_crawl import crawl_on_scrapyd, node_urls
        from review_watch.entrypoints.triage_worker import triage_backlog

        urls = node_urls(args.scrapyd or None, app.config.crawl.scrapyd)
        summaries = crawl_on_scrapyd(app, app.coordination, urls, resolve_config_path(args.config), args.source)
        figures = triage_backlog(app, lambda: app.classifier, app.coordination)
    for summary in summaries:
        print(summary.line())
    new = sum(s.figures.new for s in summaries)
    print(f"{new} new mentions stored" if new else "nothing new stored")
    print(_triage_line(figures))
    return 1 if any(s.figures.failed for s in summaries) else 0


def _triage_line(figures: TriageFigures) -> str:
    return (f"{figures.classified} classified, {figures.negative} negative, {figures.cases_opened} cases opened "
            "and their alerts queued")


def cmd_triage(args: argparse.Namespace) -> int:
    from review_watch.entrypoints.triage_worker import triage_backlog, triage_loop

    app = _app(args)
    if not args.loop:
        print(_triage_line(triage_backlog(app, lambda: app.classifier)))
        return 0
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    totals = triage_loop(app, lambda: app.classifier, args.interval, stop,
                         on_round=lambda figures: print(_triage_line(figures), flush=True))
    print(f"stopped; in all: {_triage_line(totals)}")
    return 0


def cmd_classify(args: argparse.Namespace) -> int:
    from sentiment import BadInputLine, classify_jsonl, load_classifier

    path = resolve_config_path(args.config)
    named = args.config is not None or "REVIEW_WATCH_CONFIG" in os.environ
    if named or path.exists():
        classifier = App(load_config(path)).classifier
    else:  # classifying needs nothing else from a config: with none at all, the default model
        defaults = SentimentConfig()
        classifier = load_classifier(defaults.model, threshold=defaults.threshold, precision=defaults.precision,
                                     unsure_band=defaults.unsure_band)
    skipped = []

    def report(bad: BadInputLine) -> None:
        skipped.append(bad)
        print(f"review-watch: {bad} (line skipped)", file=sys.stderr)

    with _open(args.input, "r", sys.stdin) as source, _open(args.output, "w", sys.stdout) as sink:
        written = classify_jsonl(classifier, source, sink, on_bad_line=report)
    if skipped:
        lines = "line" if len(skipped) == 1 else "lines"
        print(f"review-watch: {len(skipped)} bad {lines} skipped, {written} classified", file=sys.stderr)
        return 1
    return 0


def cmd_deadline(args: argparse.Namespace) -> int:
    app = _app(args)
    arrival = _parse_instant(args.at, "--at")
    calendar = app.config.calendar(args.calendar)
    try:
        seconds = app.config.sla_seconds(calendar, args.sla)
    except ValueError as exc:
        raise UsageError(f"--sla: {exc}") from None
    print(deadline(calendar, arrival, seconds).isoformat(timespec="seconds"))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    app = _app(args)
    since = _parse_instant(args.since, "--since") if args.since else None
    with app.unit_of_work() as uow:
        now = app.clock()
        rows = export_rows(uow, since, history_of=(lambda batch: export_histories(uow, batch, now))
                           if args.with_history else None)
        if args.format == "csv":
            write_csv(rows, sys.stdout, with_history=args.with_history)
        else:
            for row in rows:
                sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from review_watch.entrypoints.report_output import write_reports
    from review_watch.services.report import brand_report, brands

    app = _app(args)
    until = _parse_instant(args.until, "--until") if args.until else app.clock()
    since = _parse_instant(args.since, "--since") if args.since else until - timedelta(days=7)
    if since >= until:
        raise UsageError(f"--since: {args.since} is not before the report's end {until.isoformat()}")
    with app.unit_of_work() as uow:
        try:
            reports = [brand_report(uow, app.config, name, since, until)
                       for name in ([args.brand] if args.brand else brands(uow))]
        except LookupError as exc:
            raise UsageError(f"--brand: {exc.args[0]}") from None
    write_reports(reports, args.format, sys.stdout)
    return 0


def cmd_feedback_export(args: argparse.Namespace) -> int:
    from review_watch.services.feedback import training_lines

    app = _app(args)
    since = _parse_instant(args.since, "--since") if args.since else None
    with app.unit_of_work() as uow, _open(args.out, "w", sys.stdout) as sink:
        for line in training_lines(uow, since):
            sink.write(json.dumps(line, ensure_ascii=False) + "\n")
    return 0


def cmd_bot(args: argparse.Namespace) -> int:
    from bot.app import run_bot

    run_bot(_app(args), resolve_config_path(args.config))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.app import run_bot

    run_bot(_app(args), resolve_config_path(args.config), crawl_every=True)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from review_watch.entrypoints.demo import run_demo

    return run_demo(Path(args.directory) if args.directory else None)


def cmd_check_credentials(args: argparse.Namespace) -> int:
    from replies.registry import check_credentials, connectors_from_config

    connectors = connectors_from_config(load_config(resolve_config_path(args.config)))
    if not connectors.sources():
        print("no source has reply settings ([sources.reply]): replies are recorded as sent outside")
        return 0
    failed = 0
    for source, ok, detail in asyncio.run(check_credentials(connectors)):
        print(f"{source}: {'ok, posting as' if ok else 'failed:'} {' '.join(detail.split())}")
        failed += not ok
    return 1 if failed else 0


def cmd_build_model(args: argparse.Namespace) -> int:
    from sentiment import build_builtin_model

    print(f"builtin model ready in {build_builtin_model(Path(args.target) if args.target else None)}")
    return 0


class _open:
    """A file named on the command line, or the standard stream when none is."""

    def __init__(self, path: str | None, mode: str, default: IO[str]) -> None:
        self._path, self._mode, self._default = path, mode, default
        self._handle: IO[str] | None = None

    def __enter__(self) -> IO[str]:
        if self._path is None or self._path == "-":
            return self._default
        try:
            self._handle = open(self._path, self._mode, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise UsageError(f"{self._path}: {exc.strerror}") from None
        return self._handle

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.close()


def _one_line_errors() -> tuple[type[Exception], ...]:
    """The errors that are the user's to fix, of the modules this command has loaded (torch and Scrapy
    are imported only by the commands that need them)."""
    errors: list[type[Exception]] = [ConfigError, DatabaseError, UsageError]
    loaded = sys.modules
    if "sentiment.types" in loaded:
        errors.append(loaded["sentiment.types"].ModelLoadError)
    if "review_watch.entrypoints.scrapyd_crawl" in loaded:
        errors.append(loaded["review_watch.entrypoints.scrapyd_crawl"].ScrapydError)
    return tuple(errors)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS,
                        help="config file (default: $REVIEW_WATCH_CONFIG, else ./review-watch.toml)")
    parser = argparse.ArgumentParser(prog="review-watch", parents=[common],
                                     description="Finds unhappy customers' posts and hands each to a person.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    init = command("init", cmd_init, "write a commented example config and create the database")
    init.add_argument("directory", nargs="?", default=".")
    crawl = command("crawl", cmd_crawl, "crawl sources, store, classify, route and queue alerts")
    crawl.add_argument("--source", action="append", default=[], metavar="NAME", help="only this source")
    crawl.add_argument("--verbose", action="store_true", help="Scrapy's own log lines too")
    crawl.add_argument("--scrapyd", nargs="?", const="", metavar="URL[,URL...]",
                       help="run each source as a job on these Scrapyd nodes (alone: the config's crawl.scrapyd)")
    triage_cmd = command("triage", cmd_triage, "classify, route and queue what is stored and not yet judged")
    triage_cmd.add_argument("--loop", action="store_true", help="keep triaging what arrives, until stopped")
    triage_cmd.add_argument("--interval", type=float, default=10.0, metavar="SECONDS",
                            help="with --loop: seconds between rounds (default 10)")
    classify = command("classify", cmd_classify, "label JSON lines of texts with sentiment")
    classify.add_argument("--input", metavar="F")
    classify.add_argument("--output", metavar="F")
    deadline_cmd = command("deadline", cmd_deadline, "print the response deadline for an arrival instant")
    deadline_cmd.add_argument("--at", required=True, metavar="ISO8601")
    deadline_cmd.add_argument("--calendar", metavar="NAME")
    deadline_cmd.add_argument("--sla", metavar="DURATION")
    command("bot", cmd_bot, "run the Telegram bot (long polling)")
    command("run", cmd_run, "the bot plus scheduled crawls in one process")
    export = command("export", cmd_export, "every stored mention, one per line or row")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--since", metavar="ISO8601")
    export.add_argument("--with-history", action="store_true",
                        help="add each mention's author's earlier mentions of the brand and how each was handled")
    report = command("report", cmd_report, "the leads' report: volume, satisfaction, per-person figures, overdue")
    report.add_argument("--since", metavar="ISO8601", help="the period's start (default: a week before its end)")
    report.add_argument("--until", metavar="ISO8601", help="the period's end (default: now)")
    report.add_argument("--brand", metavar="NAME", help="only this brand (default: every brand)")
    report.add_argument("--format", choices=("text", "csv", "json"), default="text")
    feedback = commands.add_parser("feedback", parents=[common], help="staff's verdicts as labelled examples",
                                   description="staff's verdicts as labelled examples")
    feedback_commands = feedback.add_subparsers(dest="feedback_command", required=True, metavar="COMMAND")
    feedback_export = feedback_commands.add_parser(
        "export", parents=[common], help="write them as JSON lines in the training format (sentiment.train --extra)",
        description="write staff's verdicts as JSON lines in the training format (sentiment.train --extra)")
    feedback_export.set_defaults(handler=cmd_feedback_export)
    feedback_export.add_argument("--since", metavar="ISO8601", help="only verdicts given since then")
    feedback_export.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    command("check-credentials", cmd_check_credentials,
            "try each reply connector's credentials; one line per source")
    demo = command("demo", cmd_demo, "the whole pipeline offline on bundled sample pages")
    demo.add_argument("--directory", help="keep the demo's config and database here")
    build = command("build-model", cmd_build_model, "build the offline builtin sentiment model")
    build.add_argument("--target", help="folder to build it in (default: the per-user cache)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not hasattr(args, "config"):
        args.config = None
    try:
        status = int(args.handler(args))
        sys.stdout.flush()  # here, so that a reader gone away is caught below and not at exit
        return status
    except BrokenPipeError:
        # The reader stopped reading (`export | head`): stop quietly, with the status a shell gives on SIGPIPE.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"review-watch: database error: {reason}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not isinstance(exc, _one_line_errors()):
            raise
        print(f"review-watch: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("review-watch: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
