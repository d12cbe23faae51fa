"""How the read-only commands print: an article with its versions, the statistics, and
a trial extraction. Each function takes a rich Console and plain values."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from newsmirror.fulltext import Trial
from newsmirror.store import ArticleRow, SourceStats
from newsmirror.store.evidence import EvidenceStats


def when(ms: int) -> str:
    """Epoch milliseconds as a UTC time for people."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


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

    latest = article.versions[-1]
    out.print(f"[bold]{latest.title}[/bold]", markup=True)
    out.print(f"{article.path}  ({article.source}/{article.archive_id})", markup=False)
    out.print(f"url: {article.url or latest.link}", markup=False)
    note = " (date missing from the feed)" if article.date_missing else ""
    out.print(f"published: {when(article.published_ms)}{note}; first seen {article.first_seen}")
    table = Table("version", "stored at", "method", "from", "title", "chars", "hash")
    for v in article.versions:
        origin = v.content_url or v.feed_url
        if v.method_note:
            origin += f" ({v.method_note})"
        table.add_row(
            str(v.seq),
            v.fetched_at[:19],
            v.method,
            origin,
            v.title,
            str(len(v.clean_html)),
            v.content_hash[:12],
        )
    out.print(table)
    if html_version is not None:
        chosen = [v for v in article.versions if v.seq == html_version]
        out.print(chosen[0].clean_html, markup=False, soft_wrap=True)


def print_stats(out: Any, rows: list[SourceStats], evidence: EvidenceStats) -> None:
    """Counts per source, then captures and mirrored images."""
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
