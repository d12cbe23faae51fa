"""The read-only commands (show, stats, extract, search, reindex) and how they print: an
article with its versions, the statistics, a trial extraction, search results. The
``print_*`` functions take a rich Console and plain values."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from newsmirror import decide, times
from newsmirror.clean.article import shown_title
from newsmirror.cli.io import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, err, out, progress
from newsmirror.config.settings import load_config
from newsmirror.errors import ConfigError, NewsmirrorError, SearchQueryError, StorageError
from newsmirror.jobs.archive import Archive
from newsmirror.store import ArticleRow, SearchResults, SourceStats
from newsmirror.store.evidence import EvidenceStats
from newsmirror.urls import web_href

if TYPE_CHECKING:
    from newsmirror.collect.pages import Trial


def when(ms: int) -> str:
    """Epoch milliseconds as a UTC time for people."""
    return times.minute(times.at_ms(ms)) + " UTC"


def size(count: int) -> str:
    """A byte count for people (KB, MB: powers of 1024)."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


def print_article(out: Any, article: ArticleRow, html_version: int | None) -> None:
    """An article, every version (how its content was obtained, from where), and
    optionally one version's cleaned HTML."""
    from rich.table import Table
    from rich.text import Text

    if not article.versions:  # cannot be made by newsmirror; say so rather than fail
        out.print(f"{article.path}: an article with no version stored", markup=False)
        return
    latest = article.versions[-1]
    out.print(Text(shown_title(latest.title), style="bold"))  # text, never markup
    ref = f"{article.source}/{decide.page_name(article.archive_id, article.twin)}"
    out.print(f"{article.path}  ({ref})", markup=False)
    out.print(f"url: {web_href(article.url or latest.link) or '(none)'}", markup=False)
    imported = article.versions[0].method == "import"
    missing = (
        " (no date in the file: dated when imported)"
        if imported
        else " (date missing from the feed)"
    )
    note = missing if article.date_missing else ""
    out.print(
        f"published: {when(article.published_ms)}{note}; first seen {times.iso(article.first_seen)}"
    )
    table = Table("version", "stored at", "method", "from", "title", "chars", "hash")
    for v in article.versions:
        origin = v.content_url or v.feed_url
        if v.method_note:
            origin += f" ({v.method_note})"
        table.add_row(
            str(v.seq),
            times.iso(v.fetched_at)[:19],
            v.method + (" (found by a revisit)" if v.feed_url.startswith("watch:") else ""),
            Text(origin),  # texts from outside: their brackets are not markup
            Text(shown_title(v.title)),
            str(len(v.clean_html)),
            v.content_hash[:12],
        )
    out.print(table)
    if html_version is not None:
        chosen = [v for v in article.versions if v.seq == html_version]
        out.print(chosen[0].clean_html, markup=False, soft_wrap=True)


def print_stats(
    out: Any,
    rows: list[SourceStats],
    evidence: EvidenceStats,
    failures: Sequence[tuple[str, str, str, int]] = (),
) -> None:
    """Counts per source, then captures and mirrored images, and the latest image URLs
    that were not mirrored, with the reason."""
    from rich.table import Table

    table = Table("source", "articles", "versions", "edited", "newest", "next id")
    for s in rows:
        table.add_row(
            s.source,
            str(s.articles),
            str(s.versions),
            str(s.edited),
            when(s.newest_ms) if s.newest_ms else "-",
            str(s.lowest_id - 1),
        )
    out.print(table)
    total = sum(s.articles for s in rows)
    out.print(f"{total} articles, {sum(s.versions for s in rows)} versions")
    e = evidence
    out.print(
        f"captures: {e.captures} ({e.bodies} distinct bodies, {size(e.body_bytes)}, "
        f"{size(e.stored_bytes)} stored)"
    )
    out.print(
        f"mirrored images: {e.media} ({size(e.media_bytes)}); "
        f"{e.media_refused} image URLs refused or failed"
    )
    for url, status, reason, attempts in failures[:10]:
        tries = f", {attempts} tries" if attempts > 1 else ""
        out.print(f"  {status}: {url} ({reason}{tries})", markup=False)
    if len(failures) > 10:
        out.print(f"  ... and {len(failures) - 10} more", markup=False)


def print_trial(out: Any, trial: Trial, *, as_json: bool, text: bool) -> None:
    """A trial extraction: as one JSON object, or a header and the content."""
    got = trial.extraction
    published = got.published.date().isoformat() if got.published else ""
    if as_json:
        record = {
            "url": got.url,
            "title": got.title,
            "published": published,
            "method": got.method,
            "html": trial.clean_html,
            "text": trial.text,
        }
        out.print(json.dumps(record, ensure_ascii=False, indent=2), markup=False)
        return
    out.print(f"title: {got.title or '-'}", markup=False)
    out.print(f"published: {published or '-'}", markup=False)
    out.print(f"method: {got.method}", markup=False)
    out.print(f"url: {got.url or '-'}", markup=False)
    out.print(f"characters: {sum(1 for c in trial.text if not c.isspace())}", markup=False)
    out.print("", markup=False)
    out.print(trial.text if text else trial.clean_html, markup=False, soft_wrap=True)


def print_results(out: Any, results: SearchResults, *, as_json: bool, offset: int = 0) -> None:
    """Search results: the total, then per hit its date, source, title, path and a
    snippet with the matches highlighted (or one JSON object)."""
    if as_json:
        record = {
            "total": results.total,
            "results": [
                {
                    "source": hit.source,
                    "id": hit.archive_id,
                    "path": hit.path,
                    "title": hit.title,
                    "link": web_href(hit.link),
                    "published": times.at_ms(hit.published_ms).isoformat(),
                    "snippet": hit.snippet.text,
                    "marks": [list(mark) for mark in hit.snippet.marks],
                }
                for hit in results.hits
            ],
        }
        out.print(json.dumps(record, ensure_ascii=False, indent=2), markup=False)
        return
    from rich.text import Text

    shown = f"{offset + 1}-{offset + len(results.hits)} of " if results.hits else ""
    out.print(f"{shown}{results.total} articles", markup=False)
    for hit in results.hits:
        out.print("", markup=False)
        out.print(
            Text.assemble(
                (when(hit.published_ms), "dim"),
                "  ",
                (hit.source, "cyan"),
                "  ",
                (hit.title, "bold"),
            )
        )
        out.print(Text(f"{hit.path}  {web_href(hit.link)}", style="dim"))
        snippet = Text(hit.snippet.text.replace("\n", " "))
        for start, end in hit.snippet.marks:
            snippet.stylize("bold yellow", start, end)
        out.print(snippet)


def cmd_show(args: argparse.Namespace) -> int:
    """Show one article and its versions."""
    from newsmirror.cli.watch import print_status

    with Archive.open(args.home) as archive:
        articles = archive.show_all(args.ref)
        if not articles:
            err.print(f"no article {args.ref!r} (give slug/id, a path, a URL or a guid)")
            return EXIT_PARTIAL
        if args.html is not None and any(
            args.html not in [v.seq for v in a.versions] for a in articles
        ):
            counts = ", ".join(str(len(a.versions)) for a in articles)
            err.print(f"no version {args.html}: the article has {counts}")
            return EXIT_PARTIAL
        shown = [
            (a, archive.store.watch_state(a.id), archive.store.visits_of(a.id),
             archive.first_revisit(a))
            for a in articles
        ]  # fmt: skip
        now = archive.clock()
    if len(shown) > 1:
        one_id = len({(a.source, a.archive_id) for a, *_ in shown}) == 1
        why = " (files of one id)" if one_id else ""
        out.print(f"{len(shown)} articles match {args.ref!r}{why}", markup=False)
    for n, (article, state, visits, planned) in enumerate(shown):
        if n:
            out.print()
        print_article(out, article, args.html)
        if article.versions:
            print_status(out, decide.edits(article.versions), state, visits, now, planned)
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    """Counts per source, and the evidence kept."""
    with Archive.open(args.home) as archive:
        print_stats(out, archive.stats(), archive.evidence_stats(), archive.store.media_failures())
    return EXIT_OK


def cmd_extract(args: argparse.Namespace) -> int:
    """Print what the pipeline would store for one page."""
    from newsmirror.collect.pages import try_page
    from newsmirror.jobs.network import fetch_settings, run_async

    config = load_config(args.home)
    source = config.source(args.source) if args.source else None
    try:
        trial = run_async(try_page(args.target, source, fetch_settings(config), args.url or ""))
    except (ConfigError, StorageError):
        raise
    except NewsmirrorError as exc:  # the page could not be had or read: say why
        err.print(f"error: {exc}", markup=False)
        return EXIT_PARTIAL
    print_trial(out, trial, as_json=args.json, text=args.text)
    return EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    """Search the archive."""
    with Archive.open(args.home) as archive:
        try:
            results = archive.search(
                " ".join(args.query),
                args.source or (),
                args.since,
                args.until,
                args.newest,
                args.limit,
                args.offset,
            )
        except SearchQueryError as exc:
            err.print(f"search: {exc}", markup=False)
            return EXIT_USAGE
    print_results(out, results, as_json=args.json, offset=args.offset)
    return EXIT_OK


def cmd_reindex(args: argparse.Namespace) -> int:
    """Rebuild the search index."""
    with Archive.open(args.home) as archive:
        with progress("indexing", None) as advance:
            count = archive.reindex(advance)
        index_bytes = archive.store.search_index_bytes()
    out.print(f"search index: {count} articles, {size(index_bytes)}", markup=False)
    return EXIT_OK
