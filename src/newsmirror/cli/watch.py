"""The commands that watch the archive: ``watch`` (revisits), ``report`` (edits and
takedowns of a period), and what ``show`` prints of an article's status."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from newsmirror import times
from newsmirror.clean.article import shown_title
from newsmirror.cli.io import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, err, out, progress
from newsmirror.jobs.archive import Archive
from newsmirror.search.query import day_start_ms
from newsmirror.store.watching import ChangeRow, VisitRow, WatchState
from newsmirror.types import ChangeKind

KINDS = tuple(ChangeKind)


def cmd_watch(args: argparse.Namespace) -> int:
    """Revisit the archived articles that are due (or, with --now, every one)."""
    with Archive.open(args.home) as archive, progress("revisiting", None) as advance:
        report = archive.watch(everything=args.now, advance=advance)
        limit = archive.config.max_visits
    counts = ", ".join(f"{n} {outcome}" for outcome, n in report.outcomes.items())
    out.print(f"watch: {report.due} revisits; {counts}", markup=False)
    if report.due >= limit and not args.now:
        out.print(
            f"(at most {limit} a run, the max_visits setting: any more due wait for the next)",
            markup=False,
        )
    if report.deferred:
        out.print(report.deferred_line, markup=False)
    for slug, per in sorted(report.by_source.items()):
        found = ", ".join(f"{n} {outcome}" for outcome, n in per.items() if n)
        out.print(f"  {slug}: {found}", markup=False)
    for line in report.errors:
        err.print(line, markup=False)
    return EXIT_PARTIAL if report.errors else EXIT_OK


def period(since: str | None, until: str | None, days: int = 7) -> tuple[str, str]:
    """[since, until) as ISO times from YYYY-MM-DD days (UTC, both included); by default
    the last ``days`` days up to now. ValueError for a day that is not one."""
    end = _day(until, next_day=True) if until else datetime.now(UTC)
    start = _day(since) if since else end - timedelta(days=days)
    if start >= end:
        raise ValueError(f"the period is empty: --since {since} is after --until {until or 'now'}")
    return start.isoformat(), end.isoformat()


def _day(text: str, next_day: bool = False) -> datetime:
    return times.at_ms(day_start_ms(text, next_day))


def cmd_report(args: argparse.Namespace) -> int:
    """Edits and takedowns found in a period, per source: a table, or JSON."""
    try:
        since, until = period(args.since, args.until)
    except ValueError as exc:
        err.print(str(exc), markup=False)
        return EXIT_USAGE
    with Archive.open(args.home) as archive:
        changes = archive.store.changes(since, until)
        slugs = [s.slug for s in archive.config.sources]
    per_source = summarise(changes, slugs)
    if args.json:
        document = {
            "since": since,
            "until": until,
            "sources": per_source,
            "changes": [{**asdict(c), "title": shown_title(c.title)} for c in changes],
        }
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    _print_report(since, until, per_source, changes)
    return EXIT_OK


def summarise(changes: list[ChangeRow], slugs: list[str]) -> dict[str, dict[ChangeKind, int]]:
    """Counts of each kind of change per source (every source with a change, in the
    configuration's order, then any other)."""
    found: dict[str, dict[ChangeKind, int]] = {}
    for change in changes:
        found.setdefault(change.source, dict.fromkeys(KINDS, 0))[change.kind] += 1
    order = [s for s in slugs if s in found] + sorted(set(found) - set(slugs))
    return {slug: found[slug] for slug in order}


def _print_report(
    since: str, until: str, per_source: dict[str, dict[ChangeKind, int]], changes: list[ChangeRow]
) -> None:
    from rich.table import Table
    from rich.text import Text

    out.print(f"edits and takedowns from {since[:16]} to {until[:16]} (UTC)", markup=False)
    if not changes:
        out.print("none found", markup=False)
        return
    table = Table("source", "edited", "taken down", "back again")
    for slug, counts in per_source.items():
        table.add_row(slug, *(str(counts[k]) for k in KINDS))
    out.print(table)
    listing = Table("found", "what", "source", "title", "url", "now", "detail")
    for c in changes:
        what = {ChangeKind.GONE: "taken down", ChangeKind.BACK: "back again"}.get(c.kind, c.kind)
        title = Text(shown_title(c.title))
        listing.add_row(c.at[:16], what, c.source, title, Text(c.url), c.status, Text(c.detail))
    out.print(listing)


def print_status(
    console: Any,
    edits: int,
    state: WatchState | None,
    visits: list[VisitRow],
    now: datetime,
    planned: datetime | None = None,
) -> None:
    """Where an article stands and every revisit of it at ``now``, for ``show``
    (``planned``: its first revisit, when it has had none)."""
    from rich.table import Table

    from newsmirror.watch.rules import shown_status

    status = shown_status(bool(state and state.gone), edits)
    line = f"status: {status}"
    if state and state.gone:
        line += f" (found gone {state.status_at[:16]})"
    if state is None:
        line += "; not revisited yet"
        if planned is not None:  # one due already (an old article) is due now
            due = "due now" if planned <= now else f"{planned:%Y-%m-%d %H:%M} UTC"
            line += f", first revisit {due}"
    else:
        line += f"; last revisited {state.last_visit[:16]}"
        line += f", next {state.next_visit[:16]}" if state.next_visit else ", no revisit planned"
    console.print(line, markup=False)
    if not visits:
        return
    table = Table("revisited", "outcome", "HTTP", "reason", "version")
    for v in visits:
        reason = v.reason + (f" → {v.final_url}" if v.final_url and v.final_url != v.url else "")
        table.add_row(
            v.at[:16], v.outcome, str(v.http_status or "-"), reason, str(v.version_seq or "")
        )
    console.print(table)
