"""Per-source collection: fetch a source's feeds in order, parse, extract, clean.

One asyncio task per source; it writes to no database. It returns a :class:`Batch` of
candidates, feed results and log lines that the archive stores from its single writer.
Conditional requests: each feed is asked with the validators of its last answer, and a
304 ends the source's work at once (nothing to parse). Feeds that are not due (backed
off after failures, or asked to wait by Retry-After or max-age) are passed over; the
next feed of the source is tried instead.

The CPU work (parsing a feed, extracting pages, cleaning the items, and making their
search tokens) goes through a :class:`Cpu`: in the event loop's thread (threads would
only fight over the GIL), or, for a run of many sources on a machine with a core to
spare, in a worker process, while this one talks to the network and stores. A worker
gets a feed's answer whole (:func:`read_feed`): it parses it, sorts the items out
against the store (read on a connection of its own) and, when no article page is
wanted, builds them, all in one call. Otherwise items are built 16 at a time, so that
the network keeps moving in between.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from newsmirror import decide
from newsmirror.clean import clean_html
from newsmirror.config import boilerplate_patterns
from newsmirror.errors import HTTPStatusError, NewsmirrorError, StorageError, without_url
from newsmirror.fetch import AttemptLog, Fetcher, Request, proxy_of
from newsmirror.fulltext import Content, PageResult, choose, fetch_pages, wants_page
from newsmirror.mirror import ImageLimits, ImageResult, fetch_images, wanted_images
from newsmirror.offload import Cpu
from newsmirror.parse import canonical_url, parse_feed
from newsmirror.store.base import FeedResult, FeedState
from newsmirror.store.indexing import document
from newsmirror.types import Candidate, Capture, Entry, FetchResult, Source

_ITEMS_AT_ONCE = 16  # items cleaned in one go before the network gets a turn


class Remembers(Protocol):
    """What sorting a feed's items out asks the store: the feed hash an item had last time
    (the store itself, or a worker's read-only FeedMemory of it)."""

    def seen_feed_hashes(
        self, source: str, items: Sequence[tuple[str, str, str, int]]
    ) -> list[str]: ...


class Seen(Remembers, Protocol):
    """What collect may ask the store (read-only): the feed hash an item had last time,
    and whether an image was tried before."""

    def media_tried(self, url: str) -> bool: ...


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
    feed_capture: Capture | None = None  # the feed document that answered (200)
    repeated: int = 0  # items the feed repeats exactly as stored: not looked at again
    images: list[ImageResult] = field(default_factory=list)  # images tried for the candidates
    unread_pages: list[str] = field(default_factory=list)  # "link: why" of pages not read

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
    seen: Seen | None = None,
    images: ImageLimits | None = None,
    cpu: Cpu | None = None,
) -> Batch:
    """Fetch the source's feeds in order until one answers; build its candidates.

    ``seen`` lets items the feed repeats unchanged be passed over (no clean, no page), and
    images tried before be left alone; ``images`` (when given) has the candidates' images
    downloaded within these limits; ``cpu`` says where parsing and cleaning run (here
    by default).
    """
    cpu = cpu or Cpu()
    batch = Batch(source)
    _CURRENT.set(batch)
    waiting = []
    for url in source.feeds:
        state = states.get(url)
        if state and not force and not decide.is_due(state.next_due, now):
            waiting.append(state.next_due)
            continue
        read = await _try_feed(source, url, state, fetcher, now, batch, seen, cpu)
        if read is None and batch.feed_url:
            return batch  # 304: unchanged
        if read is not None:
            if read.ill_formed:  # a cut-off document: items may be missing, say so
                items = read.repeated + len(read.fresh)
                batch.errors.append(
                    f"{url}: not well-formed ({read.ill_formed}); took the {items} items "
                    "read before the fault"
                )
            await _add_entries(source, read, fetcher, now, batch, cpu)
            _note_unread_pages(batch, url)
            if images is not None and batch.candidates:
                tried = seen.media_tried if seen is not None else (lambda url: False)
                urls = wanted_images(batch.candidates, tried)
                batch.images = await fetch_images(urls, fetcher, proxy_of(source), images)
            return batch
    if waiting and len(waiting) == len(source.feeds):
        batch.deferred_until = min(waiting)
    return batch


async def _try_feed(
    source: Source,
    url: str,
    state: FeedState | None,
    fetcher: Fetcher,
    now: datetime,
    batch: Batch,
    seen: Seen | None,
    cpu: Cpu,
) -> FeedRead | None:
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
        capture = Capture.of("feed", result, now.isoformat())
        read = await cpu.run_remembering(
            read_feed,
            seen,
            source,
            (result.body, result.final_url, result.headers.get("content-type", "")),
            (url, capture),
            now,
            cpu.tokenize if cpu.pool is not None else None,
        )
        batch.feed_capture = capture
    except StorageError:
        raise  # the store's trouble, not the feed's
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
    return read


def _feed_ok(batch: Batch, url: str, result: FetchResult, now: datetime, status: str) -> None:
    due = decide.next_due(now, True, 0, max_age=result.max_age)
    batch.feeds[url] = FeedResult(
        True, status, "", result.etag, result.last_modified, due.isoformat() if due > now else ""
    )
    batch.feed_url = url


@dataclass
class FeedRead:
    """A feed's items sorted out: those to look at (not repeated as stored), their links,
    the positions of those whose article page is wanted; and, when asked for and no page
    is wanted, their candidates built."""

    fresh: list[Entry]
    links: list[str]
    wanted: list[int]
    repeated: int  # items the feed repeats exactly as stored
    ill_formed: str = ""  # why the document is not well-formed (ParsedFeed.ill_formed)
    built: Batch | None = None


def read_feed(
    seen: Remembers | None,
    source: Source,
    answer: tuple[bytes, str, str],
    feed: tuple[str, Capture | None],
    now: datetime,
    build: bool | None,
) -> FeedRead:
    """Parse a feed's answer (body, final URL, content type) and sort its items out
    (``seen``: the store, or None to look at every item); ``build`` (True or False:
    whether to make search tokens too) builds the candidates when no page is wanted.
    ``feed``: the URL asked and the answer's capture, for the candidates. One call for
    all of it, so that a worker does a source's work in one go. ParseError when the
    answer is not a feed."""
    parsed = parse_feed(*answer)
    entries = [
        e for e in sorted(parsed.entries, key=decide.entry_order) if decide.keep_entry(source, e)
    ]
    fresh = _unseen(source, entries, now, seen) if seen is not None else entries
    links = [decide.entry_link(source, e) for e in fresh]
    wanted = [
        i
        for i, (e, link) in enumerate(zip(fresh, links, strict=True))
        if wants_page(source, e, link)
    ]
    read = FeedRead(fresh, links, wanted, len(entries) - len(fresh), parsed.ill_formed)
    if build is not None and not wanted:
        read.built = build_items(source, fresh, [None] * len(fresh), feed, now, build)
    return read


async def _add_entries(
    source: Source,
    read: FeedRead,
    fetcher: Fetcher,
    now: datetime,
    batch: Batch,
    cpu: Cpu,
) -> None:
    batch.repeated += read.repeated  # as the feed gave them last time
    if read.built is not None:
        _take(batch, read.built)
        return
    fresh, links, wanted = read.fresh, read.links, read.wanted
    pages: dict[int, PageResult] = {}
    if wanted:
        results = await fetch_pages(
            source, [links[i] for i in wanted], fetcher, proxy_of(source), now.isoformat(), cpu
        )
        pages = dict(zip(wanted, results, strict=True))
    for start in range(0, len(fresh), _ITEMS_AT_ONCE):
        part = range(start, min(start + _ITEMS_AT_ONCE, len(fresh)))
        built = await cpu.run(
            build_items,
            source,
            [fresh[i] for i in part],
            [pages.get(i) for i in part],
            (batch.feed_url, batch.feed_capture),
            now,
            cpu.tokenize,
        )
        _take(batch, built)
        await asyncio.sleep(0)  # let the network move between items


def _take(batch: Batch, built: Batch) -> None:
    batch.candidates += built.candidates
    batch.notes += built.notes
    batch.errors += built.errors
    batch.unread_pages += built.unread_pages


def _note_unread_pages(batch: Batch, url: str) -> None:
    """Article pages that could not be read (their items keep the feed's content): one
    error line for them all, and the feed's validators are not kept, so that the next run
    reads the feed whole and tries them again (a 304 would pass their items over)."""
    if not batch.unread_pages:
        return
    first, more = batch.unread_pages[0], len(batch.unread_pages) - 1
    batch.errors.append(
        first + (f" (and {more} more items whose page was not read)" if more else "")
    )
    batch.feeds[url] = replace(batch.feeds[url], etag="", last_modified="")


def build_items(
    source: Source,
    entries: list[Entry],
    pages: list[PageResult | None],
    feed: tuple[str, Capture | None],
    now: datetime,
    tokenize: bool = False,
) -> Batch:
    """The candidates, notes and errors of these entries (each with its fetched page or
    None) from the feed (its URL and capture): the part of collecting that is all CPU,
    so that it can run in a worker process. ``tokenize``: make each candidate's search
    tokens too."""
    built = Batch(source, feed_url=feed[0], feed_capture=feed[1])
    for entry, page in zip(entries, pages, strict=True):
        try:
            content = choose(source, entry, built.feed_url, page)
            _add_entry(source, entry, content, now, built, tokenize)
        except NewsmirrorError as exc:  # one bad item never stops the rest
            built.notes.append(ItemNote(entry.guid, entry.title, "skipped", str(exc)))
    return built


def _unseen(source: Source, entries: list[Entry], now: datetime, seen: Remembers) -> list[Entry]:
    """The entries the store does not hold as the feed gives them now (same feed hash)."""
    keys = []
    for entry in entries:
        url = _store_url(entry, decide.entry_link(source, entry))
        keys.append((entry.guid, url, entry.title, decide.published_ms(entry, now)[0]))
    known = seen.seen_feed_hashes(source.slug, keys)
    return [e for e, k in zip(entries, known, strict=True) if not k or k != feed_hash(e)]


def feed_hash(entry: Entry) -> str:
    """Hash of an item's title and content as the feed gives them."""
    return decide.content_hash(entry.title, entry.content or entry.summary)


def _add_entry(
    source: Source, entry: Entry, content: Content, now: datetime, batch: Batch, tokenize: bool
) -> None:
    html = content.html
    if not html.strip() and not entry.title.strip():
        batch.notes.append(ItemNote(entry.guid, entry.title, "skipped", "no title and no content"))
        return
    if entry.published is None and content.published is not None:
        entry = replace(entry, published=content.published)  # the page's date fills the gap
    candidate = make_candidate(
        source,
        entry,
        html,
        batch.feed_url,
        now,
        tokenize,
        method=content.method,
        content_url=content.content_url,
        method_note=content.note,
        feed_hash="" if content.failed else feed_hash(entry),  # a failed page: try again
        feed_capture=batch.feed_capture,
        page_capture=content.capture,
    )
    batch.candidates.append(candidate)
    caveats = [content.note] if content.note else []
    if content.failed:
        batch.unread_pages.append(f"{link_of(candidate)}: {content.note}")
    if not html.strip():
        caveats.append("no content: archived the headline alone")
    if candidate.date_missing:
        caveats.append(
            "no usable publication date: filed under "
            + ("its update time" if entry.updated else "the time first seen")
        )
    if caveats:
        batch.notes.append(ItemNote(entry.guid, entry.title, "archived", "; ".join(caveats)))


def link_of(candidate: Candidate) -> str:
    """The page a candidate points to (for messages)."""
    return candidate.link or candidate.url or candidate.guid


def _store_url(entry: Entry, link: str) -> str:
    return entry.link if link == entry.raw_link else canonical_url(link) if link else ""


def make_candidate(
    source: Source,
    entry: Entry,
    html: str,
    feed_url: str,
    now: datetime,
    tokenize: bool = False,
    **provenance: Any,
) -> Candidate:
    """An entry ready for the store: link chosen, dated, cleaned, hashed; with
    ``tokenize``, its search tokens made too. ``provenance``: the Candidate's fields on
    where the content came from (method, content_url, captures...)."""
    link = decide.entry_link(source, entry)
    url = _store_url(entry, link)
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
        index_tokens=document(entry.title, clean) if tokenize else None,
        **provenance,
    )
