"""Per-source collection: fetch a source's feeds in order, parse, extract, clean.

One asyncio task per source; it touches no database. It returns a :class:`Batch` of
candidates, feed results and log lines that the archive stores from its single writer.
Conditional requests: each feed is asked with the validators of its last answer, and a
304 ends the source's work at once (nothing to parse). Feeds that are not due (backed
off after failures, or asked to wait by Retry-After or max-age) are passed over; the
next feed of the source is tried instead. Parsing and cleaning run in the event loop's
thread (threads would only fight over the GIL, and slow the store's writes down); the loop
is given back between items so that the network keeps moving.
"""

from __future__ import annotations

import asyncio
import contextvars
from dataclasses import dataclass, field
from datetime import datetime

from newsmirror import decide
from newsmirror.clean import clean_html
from newsmirror.config import boilerplate_patterns
from newsmirror.errors import FetchError, HTTPStatusError, NewsmirrorError
from newsmirror.fetch import AttemptLog, Fetcher, Request
from newsmirror.parse import canonical_url, parse_feed
from newsmirror.store.base import FeedResult, FeedState
from newsmirror.types import Candidate, Entry, FetchResult, ParsedFeed, Source


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
    not_modified: bool = False  # that feed answered 304
    candidates: list[Candidate] = field(default_factory=list)  # entries to store
    requests: list[AttemptLog] = field(default_factory=list)  # every HTTP exchange
    notes: list[ItemNote] = field(default_factory=list)  # skipped or partial entries
    errors: list[str] = field(default_factory=list)  # one line per problem
    feeds: dict[str, FeedResult] = field(default_factory=dict)  # how each feed answered
    deferred_until: str = ""  # the earliest due time when no feed was due

    @property
    def failed(self) -> bool:
        """No feed of the source could be read (and some feed was tried)."""
        return not self.feed_url and not self.deferred_until


_CURRENT: contextvars.ContextVar[Batch] = contextvars.ContextVar("newsmirror_batch")


def record_attempt(log: AttemptLog) -> None:
    """The Fetcher's ``on_attempt`` hook: file the exchange under the running source."""
    batch = _CURRENT.get(None)
    if batch is not None:
        batch.requests.append(log)


async def collect(
    source: Source,
    fetcher: Fetcher,
    states: dict[str, FeedState],
    now: datetime,
    force: bool = False,
) -> Batch:
    """Fetch the source's feeds in order until one answers; build its candidates."""
    batch = Batch(source)
    _CURRENT.set(batch)
    waiting = []
    for url in source.feeds:
        state = states.get(url)
        if state and not force and not decide.is_due(state.next_due, now):
            waiting.append(state.next_due)
            continue
        parsed = await _try_feed(source, url, state, fetcher, now, batch)
        if parsed is None and batch.feed_url:
            return batch  # 304: unchanged
        if parsed is not None:
            await _add_entries(source, parsed, fetcher, now, batch)
            return batch
    if waiting and len(waiting) == len(source.feeds):
        batch.deferred_until = min(waiting)
    return batch


def without_url(message: str, url: str) -> str:
    """An error message without the URL it names (the line already starts with it)."""
    return message.replace(f"{url}: ", "").replace(f": {url}", "").strip(": ") or message


def proxy_of(source: Source) -> str | None:
    """The Request proxy for a source: "" direct, its own, or None (global/environment)."""
    if source.direct:
        return ""
    return source.proxy or None


async def _try_feed(
    source: Source,
    url: str,
    state: FeedState | None,
    fetcher: Fetcher,
    now: datetime,
    batch: Batch,
) -> ParsedFeed | None:
    request = Request(
        url, state.etag if state else "", state.last_modified if state else "", proxy_of(source)
    )
    failures = state.failures if state else 0
    try:
        result = await fetcher.fetch(request)
        if result.not_modified:
            _feed_ok(batch, url, result, now, "304")
            batch.not_modified = True
            return None
        content_type = result.headers.get("content-type", "")
        parsed = parse_feed(result.body, result.final_url, content_type)
    except NewsmirrorError as exc:
        retry_after = exc.retry_after if isinstance(exc, HTTPStatusError) else None
        due = decide.next_due(now, False, failures + 1, retry_after=retry_after)
        status = str(exc.status) if isinstance(exc, HTTPStatusError) else type(exc).__name__
        what = without_url(str(exc), url)
        message = f"{url}: {what}; next try after {due:%Y-%m-%d %H:%M} UTC"
        batch.feeds[url] = FeedResult(False, status, str(exc), next_due=due.isoformat())
        batch.errors.append(message)
        return None
    _feed_ok(batch, url, result, now, str(result.status))
    return parsed


def _feed_ok(batch: Batch, url: str, result: FetchResult, now: datetime, status: str) -> None:
    due = decide.next_due(now, True, 0, max_age=result.max_age)
    batch.feeds[url] = FeedResult(
        True, status, "", result.etag, result.last_modified, due.isoformat() if due > now else ""
    )
    batch.feed_url = url


async def _add_entries(
    source: Source, parsed: ParsedFeed, fetcher: Fetcher, now: datetime, batch: Batch
) -> None:
    entries = [
        e for e in sorted(parsed.entries, key=decide.entry_order) if decide.keep_entry(source, e)
    ]
    pages: list[str | None] = [None] * len(entries)
    if source.fulltext_selector:
        pages = list(
            await asyncio.gather(*(_full_text(source, e, fetcher, batch) for e in entries))
        )
    for index, (entry, page) in enumerate(zip(entries, pages, strict=True)):
        try:
            _add_entry(source, entry, page, now, batch)
        except NewsmirrorError as exc:  # one bad item never stops the rest
            batch.notes.append(ItemNote(entry.guid, entry.title, "skipped", str(exc)))
        if index % 16 == 15:
            await asyncio.sleep(0)  # let the network move between items


def _add_entry(source: Source, entry: Entry, page: str | None, now: datetime, batch: Batch) -> None:
    html = page or entry.content or entry.summary
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


async def _full_text(source: Source, entry: Entry, fetcher: Fetcher, batch: Batch) -> str | None:
    if not entry.link:
        return None
    from newsmirror.extract import decode_page, select_inner_html  # lxml.html: only here

    try:
        page = await fetcher.fetch(Request(entry.link, proxy=proxy_of(source)))
        text = decode_page(page.body, page.headers.get("content-type", ""))
        return select_inner_html(text, source.fulltext_selector, entry.link)
    except (FetchError, NewsmirrorError) as exc:
        batch.notes.append(
            ItemNote(
                entry.guid,
                entry.title,
                "archived",
                f"full text not taken ({exc}); kept the feed's content",
            )
        )
        batch.errors.append(
            f"{entry.link}: full text not taken ({without_url(str(exc), entry.link)}); "
            "kept the feed's content"
        )
        return None


def make_candidate(
    source: Source, entry: Entry, html: str, feed_url: str, now: datetime
) -> Candidate:
    """An entry ready for the store: link chosen, dated, cleaned, hashed."""
    link = decide.entry_link(source, entry)
    url = entry.link if link == entry.raw_link else canonical_url(link) if link else ""
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
