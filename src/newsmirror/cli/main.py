"""The ``newsmirror`` command line: thin commands over :class:`~newsmirror.archive.Archive`.

Exit codes (scripts may rely on them):

- 0: everything worked;
- 1: the job ran, but at least one source, file or item failed (the rest was done);
- 2: bad usage or a bad configuration, a home that holds no archive included (nothing
  was done);
- 3: the store or the file system failed;
- 4: ``run`` only: another ``newsmirror run`` holds the archive.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from newsmirror import __version__
from newsmirror.cli import export as cliexport
from newsmirror.cli import service as clirun
from newsmirror.cli import views as cliviews
from newsmirror.cli import watch as cliwatch
from newsmirror.cli.io import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    err,
    errors_exit,
    existing_home,
    home_need,
    out,
    progress,
)
from newsmirror.config.settings import CONFIG_NAME, load_config, render_template, resolve_home
from newsmirror.errors import ConfigError, NewsmirrorError, StorageError
from newsmirror.jobs.archive import Archive
from newsmirror.store import FeedState
from newsmirror.types import SourceReport

if TYPE_CHECKING:
    pass


def cmd_init(args: argparse.Namespace) -> int:
    """Write a commented newsmirror.toml (and a .gitignore for the database)."""
    if args.package is not None and not args.ci:
        err.print("--package goes with --ci (what the workflow installs)")
        return EXIT_USAGE
    home = resolve_home(args.dir or args.home)
    package = None
    if args.ci and not (home / clirun.WORKFLOW).exists():
        try:  # refused before anything is written
            package = clirun.workflow_package(args.package)
        except ConfigError as exc:
            err.print(str(exc), markup=False)
            return EXIT_USAGE
    home.mkdir(parents=True, exist_ok=True)
    config = home / CONFIG_NAME
    if config.exists():
        out.print(f"{config} exists; left as it is.")
    else:
        config.write_text(render_template(), "utf-8")
        out.print(f"wrote {config}")
    ignore = home / ".gitignore"
    if not ignore.exists():
        ignore.write_text("newsmirror.db\nnewsmirror.db-*\n", "utf-8")
    if args.ci:
        return clirun.init_ci(home, package)
    if args.systemd:
        return clirun.init_systemd(home)
    out.print(f"next: cd {home} && newsmirror fetch && newsmirror publish markdown")
    return EXIT_OK


def cmd_fetch(args: argparse.Namespace) -> int:
    """Fetch sources, store new articles and versions, print a summary per source."""
    config = load_config(args.home)
    sources = config.selected(args.source or ())  # a wrong name: refused before anything is made
    with Archive(config) as archive:
        with progress("fetching", len(sources)) as advance:
            reports = archive.fetch(args.source or (), advance, args.force)
        rows = [
            (r.source, str(r.new), str(r.changed), str(r.unchanged), str(r.skipped), _via(r))
            for r in reports
        ]
        _plain_table(("source", "new", "changed", "unchanged", "skipped", "via"), rows)
        for r in reports:
            for line in r.errors:
                err.print(f"{r.source}: {line}", markup=False)
        failed = [r.source for r in reports if r.failed]
        if args.publish:
            cmd_status = _publish(archive, None, False)
            if cmd_status != EXIT_OK:
                return cmd_status
        if failed:
            err.print(f"failed: {', '.join(failed)} (will be tried again on the next run)")
            return EXIT_PARTIAL
    return EXIT_OK


def _plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns of plain text: fast for hundreds of sources, and easy to grep in logs."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = [headers, *rows]
    text = "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _via(report: SourceReport) -> str:
    """How a source was reached in a run, for the summary table."""
    if report.deferred_until:
        return f"not due until {_minute(report.deferred_until)} UTC"
    if report.failed:
        return "FAILED"
    return report.feed_url + (" (304 not modified)" if report.not_modified else "")


def _publish(archive: Archive, content: str | None, force: bool, images: str | None = None) -> int:
    with progress("publishing", None) as advance:
        report = archive.publish_markdown(content, force, advance, images)
    out.print(
        f"markdown: {report.written} written, {report.unchanged} unchanged, "
        f"{len(report.errors)} errors → {archive.config.output_path}"
    )
    for line in report.errors:
        err.print(line, markup=False)
    for line in report.notes:
        err.print(f"note: {line}", markup=False)
    return EXIT_PARTIAL if report.errors else EXIT_OK


def cmd_publish(args: argparse.Namespace) -> int:
    """Publish the store as files: the markdown archive, or the static site."""
    if args.format == "site":
        return cliexport.publish_site(args)
    if args.out is not None:
        err.print("--out is for publish site: the markdown archive goes to the output setting")
        return EXIT_USAGE
    with Archive.open(args.home) as archive:
        return _publish(archive, args.content, args.force, args.images)


def cmd_import(args: argparse.Namespace) -> int:
    """Import an existing duty-machine/news checkout, or a JSON Lines export."""
    from newsmirror.publish.markdown.importer import article_files

    if args.format == "jsonl":
        return cliexport.import_jsonl(args)

    root = Path(args.path)
    if not (root / "articles").is_dir():
        err.print(f"{root} has no articles/ folder: not a duty-machine/news checkout")
        return EXIT_USAGE
    total = len(article_files(root.resolve()))
    with Archive.open(args.home) as archive, progress("importing", total) as advance:
        report = archive.import_archive(root, advance, args.source)
    kept_parts = []
    if report.kept_lists:
        kept_parts.append(f"{report.kept_lists} list{'s' if report.kept_lists != 1 else ''}")
    if report.kept_readme:
        kept_parts.append("the README")
    kept = f"; kept {' and '.join(kept_parts)}" if kept_parts else ""
    out.print(
        f"imported: {report.new} new, {report.changed} changed, "
        f"{report.unchanged} unchanged, {len(report.errors)} errors{kept}"
    )
    for line in report.notes:
        err.print(f"note: {line}", markup=False)
    return errors_exit(report.errors)


def cmd_sources(args: argparse.Namespace) -> int:
    """List sources and the health of their feeds; export or import them as OPML."""
    if args.action == "export":
        return _export_opml(args)
    if args.action == "import":
        return _import_opml(args)
    with Archive.open(args.home) as archive:
        states = {(f.source, f.url): f for f in archive.feed_states()}
        from rich.table import Table

        table = Table(
            "slug",
            "name",
            "on",
            "feed",
            "health",
            "last success (UTC)",
            "next due (UTC)",
            "last error",
        )
        for source in archive.config.sources:
            for i, url in enumerate(source.feeds):
                state = states.get((source.slug, url))
                table.add_row(
                    source.slug if i == 0 else "",
                    source.name if i == 0 else "",
                    ("yes" if source.enabled else "no") if i == 0 else "",
                    url,
                    _health(state),
                    _minute(state.last_success) if state and state.last_success else "-",
                    _minute(state.next_due) if state and state.next_due else "now",
                    (state.last_error[:70] if state else "") or "",
                )
        out.print(table)
    return EXIT_OK


def _minute(iso: str) -> str:
    """A stored UTC time to the minute, as the error lines write it: 2026-11-27 16:31."""
    return iso[:16].replace("T", " ")


#: What a feed's last failure was, in words, for the error classes stored as its status.
_FAILURES = {
    "ConnectTimeoutError": "no connection in time",
    "UnreachableError": "unreachable",
    "HostDownError": "host given up",
    "ForbiddenAddressError": "address refused",
    "NetworkError": "network error",
    "FetchTimeoutError": "timed out",
    "BodyTooLargeError": "too large",
    "DecompressionBombError": "too large unpacked",
    "RedirectError": "bad redirect",
    "RedirectLoopError": "redirect loop",
    "ParseError": "not a feed",
    "FetchError": "request failed",
}


def _health(state: FeedState | None) -> str:
    """One word for a feed's health: unknown, ok (the way in now), or failing N×."""
    if state is None or not state.last_checked:
        return "not tried"
    status = _FAILURES.get(state.last_status, state.last_status)
    if state.failures:
        return f"[red]failing {state.failures}×[/red] ({status})"
    return f"[green]ok[/green] ({status})"


def _export_opml(args: argparse.Namespace) -> int:
    from newsmirror.config.opml import export_opml

    text = export_opml(load_config(args.home).sources)
    if args.output:
        Path(args.output).write_text(text, "utf-8")
        out.print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _import_opml(args: argparse.Namespace) -> int:
    from newsmirror.config.opml import new_source_tables, read_opml

    if not args.path:
        err.print("give the OPML file: newsmirror sources import FILE.opml")
        return EXIT_USAGE
    try:
        data = Path(args.path).read_bytes()
    except OSError as exc:
        err.print(f"cannot read {args.path}: {exc.strerror}")
        return EXIT_USAGE
    config = load_config(args.home)
    read = read_opml(data, args.path)
    for line in read.skipped:
        err.print(f"skipped: {line}", markup=False)
    added = new_source_tables(read.sources, config.sources)
    if not added:
        out.print("no new feeds in that file")
        return EXIT_OK
    path = config.home / CONFIG_NAME
    before = path.read_text("utf-8") if path.exists() else ""
    path.write_text(before + ("\n" if before else "") + added, "utf-8")
    try:
        load_config(args.home)
    except ConfigError:
        path.write_text(before, "utf-8")
        raise
    out.print(f"added to {path}:\n{added}", markup=False)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the whole job offline against sample feeds served on loopback."""
    from newsmirror.demo import run_demo

    return run_demo(Path(args.dir), out, err)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="newsmirror",
        description="Keep a durable, republishable archive of news feeds "
        "(duty-machine/news compatible).",
    )
    parser.add_argument("--version", action="version", version=f"newsmirror {__version__}")
    parser.add_argument("--home", help="archive directory (default: $NEWSMIRROR_HOME or .)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add = _adder(sub)
    p = add("init", cmd_init, "write a commented newsmirror.toml")
    p.add_argument("dir", nargs="?", help="archive directory (default: --home or .)")
    p.add_argument("--ci", choices=["github"], help="also write a CI workflow (GitHub Actions)")
    p.add_argument(
        "--package",
        help="--ci: what the workflow pip-installs (default: what this newsmirror was "
        "installed from, pinned to its commit or hash)",
    )
    p.add_argument("--systemd", action="store_true", help="also write a systemd unit for run")
    p = add("run", clirun.cmd_run, "the scheduler: fetch when due, revisit, republish")
    p.add_argument("--once", action="store_true", help="one full cycle, then exit (cron, CI)")
    p.add_argument("--summary", metavar="FILE", help="--once: write the one-line summary here")
    p = add("digest", clirun.cmd_digest, "write a day's digest of articles per source")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the day (default: today)")
    p = add("fetch", cmd_fetch, "fetch every enabled source (or --source) and store it")
    p.add_argument("--source", action="append", metavar="SLUG", help="only this source")
    p.add_argument("--publish", action="store_true", help="publish markdown afterwards")
    p.add_argument("--force", action="store_true", help="also fetch feeds not due yet")
    p = add("publish", cmd_publish, "publish the archive as files")
    p.add_argument("format", choices=["markdown", "site"], help="what to publish")
    p.add_argument("--out", help="site: the folder (default: the site_dir setting, ./site)")
    p.add_argument("--content", choices=["original", "clean"], help="line 5 of article files")
    p.add_argument(
        "--images", choices=["original", "mirrored"], help="image links: original or mirrored"
    )
    p.add_argument("--force", action="store_true", help="re-render every file")
    p = add("import", cmd_import, "import a duty-machine/news checkout or a JSON Lines export")
    p.add_argument(
        "format", choices=["archive", "jsonl"], help="archive: a checkout; jsonl: an export"
    )
    p.add_argument("path", help="the checkout (holding articles/), or the .jsonl file")
    p.add_argument(
        "--source",
        metavar="SLUG",
        help="archive: the source of article files outside a source's folder (articles/*.md)",
    )
    p = add("export", cliexport.cmd_export, "export everything (JSON Lines) or captures (WARC)")
    p.add_argument("format", choices=["jsonl", "warc"], help="jsonl: every record; warc")
    p.add_argument(
        "--out", help="jsonl: the file (default: standard output); warc: the folder (./warc)"
    )
    p = add("sources", cmd_sources, "list sources and feed health; export/import OPML")
    p.add_argument("action", nargs="?", default="list", choices=["list", "export", "import"])
    p.add_argument("path", nargs="?", help="import: the OPML file to read")
    p.add_argument("--opml", action="store_true", help="OPML format (the only one)")
    p.add_argument("-o", "--output", help="export: write here (default: standard output)")
    p = add("show", cliviews.cmd_show, "show an article and its versions")
    p.add_argument("ref", help="slug/id (rfi/1048574), a path, a URL or a guid")
    p.add_argument("--html", type=int, metavar="N", help="also print version N's HTML")
    add("stats", cliviews.cmd_stats, "counts per source, captures and mirrored images")
    p = add("extract", cliviews.cmd_extract, "print what would be stored for one article page")
    p.add_argument("target", help="the page: an http(s) URL, or a saved HTML file")
    p.add_argument("--source", metavar="SLUG", help="use this source's rule and proxy")
    p.add_argument("--url", help="a file's original URL (resolves its relative links)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.add_argument("--text", action="store_true", help="plain text instead of HTML")
    p = add("search", cliviews.cmd_search, "search the archive (Chinese and latin words)")
    p.add_argument("query", nargs="+", help='terms (all must match), "a phrase", -excluded')
    p.add_argument("--source", action="append", metavar="SLUG", help="only this source")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="published on or after this day")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="published on or before this day")
    p.add_argument("--newest", action="store_true", help="newest first (default: relevance)")
    p.add_argument("--limit", type=int, default=20, help="results to show (default 20)")
    p.add_argument("--offset", type=int, default=0, help="results to skip (next pages)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    add("reindex", cliviews.cmd_reindex, "rebuild the search index")
    p = add("watch", cliwatch.cmd_watch, "revisit archived articles: edits and takedowns")
    p.add_argument("--now", action="store_true", help="revisit every archived URL now")
    p = add("report", cliwatch.cmd_report, "edits and takedowns of a period, per source")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="from this day (default: 7 days ago)")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="to this day, included (default: now)")
    p.add_argument("--json", action="store_true", help="JSON naming each article's URL and status")
    p = add("demo", cmd_demo, "run offline on sample feeds served on loopback")
    p.add_argument(
        "dir", nargs="?", default="newsmirror-demo", help="where (default: ./newsmirror-demo)"
    )
    return parser


def _adder(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]:
    def add(
        name: str, func: Callable[[argparse.Namespace], int], help_: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        return p

    return add


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    args = build_parser().parse_args(argv)
    try:
        existing_home(args.home, home_need(args))  # a home is never made by accident
        if args.func is clirun.cmd_run:  # `run` stops on signals its own way
            code: int = args.func(args)
        else:
            with _interrupted_by_sigterm():
                code = args.func(args)
        return code
    except ConfigError as exc:
        err.print(f"configuration error: {exc}", markup=False)
        return EXIT_USAGE
    except StorageError as exc:
        err.print(f"storage error: {exc}", markup=False)
        return EXIT_FAILURE
    except NewsmirrorError as exc:
        err.print(f"error: {exc}", markup=False)
        return EXIT_FAILURE
    except BrokenPipeError:  # the reader went away (| head): nothing more to say to it
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PARTIAL
    except OSError as exc:  # a file or folder the user named is not usable
        err.print(f"error: {exc.strerror or exc}: {exc.filename or ''}", markup=False)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        err.print("interrupted; the next run finishes the job")
        return 130


@contextlib.contextmanager
def _interrupted_by_sigterm() -> Iterator[None]:
    """SIGTERM (a CI job's timeout, a service manager stopping) ends a command as Ctrl-C
    does: what was stored is kept, a message says so, the exit code is 130."""
    import signal
    import threading

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():  # signals are the main's
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run() -> None:
    """The ``newsmirror`` executable: :func:`main`, then an immediate exit.

    By the time main returns everything is closed (the store, files, connections), so the
    process leaves without Python's teardown of its modules and objects, which takes a
    noticeable part of a short run (about 0.15 s after a fetch of hundreds of feeds).
    The garbage collector is tuned for a short run first.
    """
    # The modules' objects live as long as the process: the collector skips them, and
    # collects young objects in larger steps (a fetch allocates millions, few in cycles).
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
