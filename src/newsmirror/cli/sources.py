"""``newsmirror sources``: the sources and the health of their feeds; OPML out and in."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from newsmirror.cli.io import EXIT_OK, EXIT_USAGE, err, minute, out
from newsmirror.config.settings import CONFIG_NAME, load_config
from newsmirror.errors import ConfigError, Failure
from newsmirror.jobs.archive import Archive
from newsmirror.store import FeedState


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
                    minute(state.last_success) if state and state.last_success else "-",
                    minute(state.next_due) if state and state.next_due else "now",
                    (state.last_error[:70] if state else "") or "",
                )
        out.print(table)
    return EXIT_OK


#: What a feed's last failure was, in words, by the kind of failure the store keeps as its
#: status (an HTTP status is kept as its number, and shown as it is).
_FAILURES = {
    Failure.CONNECT_TIMEOUT: "no connection in time",
    Failure.UNREACHABLE: "unreachable",
    Failure.HOST_DOWN: "host given up",
    Failure.ADDRESS_REFUSED: "address refused",
    Failure.NETWORK: "network error",
    Failure.TIMEOUT: "timed out",
    Failure.TOO_LARGE: "too large",
    Failure.TOO_LARGE_UNPACKED: "too large unpacked",
    Failure.BAD_REDIRECT: "bad redirect",
    Failure.REDIRECT_LOOP: "redirect loop",
    Failure.NOT_A_FEED: "not a feed",
    Failure.REQUEST: "request failed",
    Failure.DEFERRED: "deferred",
}
#: The error classes' names an archive written before the failures had words of their own
#: keeps as the status of a feed that failed then.
_EARLIER = {
    "ConnectTimeoutError": Failure.CONNECT_TIMEOUT,
    "UnreachableError": Failure.UNREACHABLE,
    "HostDownError": Failure.HOST_DOWN,
    "ForbiddenAddressError": Failure.ADDRESS_REFUSED,
    "NetworkError": Failure.NETWORK,
    "FetchTimeoutError": Failure.TIMEOUT,
    "BodyTooLargeError": Failure.TOO_LARGE,
    "DecompressionBombError": Failure.TOO_LARGE_UNPACKED,
    "RedirectError": Failure.BAD_REDIRECT,
    "RedirectLoopError": Failure.REDIRECT_LOOP,
    "ParseError": Failure.NOT_A_FEED,
    "FetchError": Failure.REQUEST,
}


def failure_words(status: str) -> str:
    """A feed's last status in words: an HTTP status as it is, a kind of failure (or the
    class name an older archive kept) as what it means."""
    known = _EARLIER.get(status) or (Failure(status) if status in set(Failure) else None)
    return _FAILURES.get(known, status) if known is not None else status


def _health(state: FeedState | None) -> str:
    """One word for a feed's health: unknown, ok (the way in now), or failing N×."""
    if state is None or not state.last_checked:
        return "not tried"
    status = failure_words(state.last_status)
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
