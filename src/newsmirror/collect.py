"""Per-source collection: fetch a source's feeds in order, parse, extract, clean.

Runs in worker threads and touches no database: it returns a :class:`Batch` of
candidates and log lines that the archive stores from its single writer thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from newsmirror import decide
from newsmirror.clean import clean_html
from newsmirror.config import boilerplate_patterns
from newsmirror.errors import NewsmirrorError
from newsmirror.extract import decode_page, select_inner_html
from newsmirror.fetch import Fetcher
from newsmirror.parse import canonical_url, parse_feed
from newsmirror.types import Candidate, Entry, ParsedFeed, Source


@dataclass(frozen=True)
class RequestLog:
    """One request made while collecting."""

    url: str  # what was asked for
    status: int  # HTTP status, 0 when no answer
    size: int  # body bytes
    elapsed: float  # seconds
    error: str  # "" on success
    from_cache: bool = False  # answered 304


@dataclass(frozen=True)
class ItemNote:
    """An entry skipped, or archived with a caveat."""

    guid: str  # the entry's guid
    title: str  # its title
    action: str  # "skipped" or "archived"
    reason: str  # why


@dataclass
class Batch:
    """Everything collected for one source in one run."""

    source: Source  # the source
    feed_url: str = ""  # the feed that answered
    candidates: list[Candidate] = field(default_factory=list)  # entries to store
    requests: list[RequestLog] = field(default_factory=list)  # every request made
    notes: list[ItemNote] = field(default_factory=list)  # skipped or partial entries
    errors: list[str] = field(default_factory=list)  # one line per problem
    feed_errors: dict[str, str] = field(default_factory=dict)  # feed URL → error

    @property
    def failed(self) -> bool:
        """No feed of the source could be read."""
        return not self.feed_url


def collect(source: Source, fetcher: Fetcher, now: datetime) -> Batch:
    """Fetch the source's feeds in order until one parses; build its candidates."""
    batch = Batch(source)
    parsed = _first_working_feed(source, fetcher, batch)
    if parsed is None:
        return batch
    for entry in sorted(parsed.entries, key=decide.entry_order):
        try:
            _add_entry(source, entry, fetcher, now, batch)
        except NewsmirrorError as exc:  # one bad item never stops the rest
            batch.notes.append(ItemNote(entry.guid, entry.title, "skipped", str(exc)))
    return batch


def _first_working_feed(source: Source, fetcher: Fetcher, batch: Batch) -> ParsedFeed | None:
    for url in source.feeds:
        try:
            result = fetcher.get(url, direct=source.direct)
            batch.requests.append(
                RequestLog(url, result.status, len(result.body), result.elapsed, "")
            )
            parsed = parse_feed(
                result.body, result.final_url, result.headers.get("content-type", "")
            )
        except NewsmirrorError as exc:
            message = str(exc)
            if not batch.requests or batch.requests[-1].url != url:
                batch.requests.append(RequestLog(url, getattr(exc, "status", 0), 0, 0.0, message))
            batch.feed_errors[url] = message
            batch.errors.append(f"{url}: {message}")
            continue
        batch.feed_url = url
        return parsed
    return None


def _add_entry(source: Source, entry: Entry, fetcher: Fetcher, now: datetime, batch: Batch) -> None:
    if not decide.keep_entry(source, entry):
        return
    html = entry.content or entry.summary
    if source.fulltext_selector and entry.link:
        html = _full_text(source, entry, fetcher, batch) or html
    if not html.strip() and not entry.title.strip():
        batch.notes.append(ItemNote(entry.guid, entry.title, "skipped", "no title and no content"))
        return
    candidate = make_candidate(source, entry, html, batch.feed_url, now)
    batch.candidates.append(candidate)
    caveats = []
    if not html.strip():
        caveats.append("no content: archived the headline alone")
    if candidate.date_missing:
        caveats.append(
            "no usable publication date: filed under "
            + ("its update time" if entry.updated else "the time first seen")
        )
    if caveats:
        batch.notes.append(ItemNote(entry.guid, entry.title, "archived", "; ".join(caveats)))


def _full_text(source: Source, entry: Entry, fetcher: Fetcher, batch: Batch) -> str:
    try:
        page = fetcher.get(entry.link, direct=source.direct)
        batch.requests.append(RequestLog(entry.link, page.status, len(page.body), page.elapsed, ""))
        text = decode_page(page.body, page.headers.get("content-type", ""))
        return select_inner_html(text, source.fulltext_selector, entry.link)
    except NewsmirrorError as exc:
        batch.requests.append(RequestLog(entry.link, getattr(exc, "status", 0), 0, 0.0, str(exc)))
        batch.notes.append(
            ItemNote(
                entry.guid,
                entry.title,
                "archived",
                f"full text not taken ({exc}); kept the feed's content",
            )
        )
        return ""


def make_candidate(
    source: Source, entry: Entry, html: str, feed_url: str, now: datetime
) -> Candidate:
    """An entry ready for the store: link chosen, dated, cleaned, hashed."""
    link = decide.entry_link(source, entry)
    url = canonical_url(link) if link else ""
    published, missing = decide.published_ms(entry, now)
    clean = clean_html(html, link, boilerplate_patterns(source))
    return Candidate(
        source=source.slug,
        identity=decide.identity_of(entry.guid, url, entry.title, published),
        guid=entry.guid,
        url=url,
        link=link,
        title=entry.title,
        published_ms=published,
        date_missing=missing,
        raw_html=html,
        clean_html=clean,
        content_hash=decide.content_hash(entry.title, clean),
        feed_url=feed_url,
        post_id=decide.post_id(entry.guid) if source.id_scheme == "post" else None,
    )
