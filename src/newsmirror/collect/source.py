"""Per-source collection: fetch a source's feeds in order, parse, extract, clean.

One asyncio task per source; it writes to no database. It returns a
:class:`~newsmirror.items.Batch` of candidates, feed results and log lines that the
archive stores from its single writer.
Conditional requests: each feed is asked with the validators of its last answer, and a
304 means nothing to parse. Feeds that are not due (backed off after failures, or asked
to wait by Retry-After or max-age) are passed over; the next feed of the source is tried
instead. Once a feed answered (a 304 included), what earlier runs left is asked again:
the pages of stand-ins (:mod:`newsmirror.collect.standins`), and deferred images.

The CPU work (parsing a feed, extracting pages, cleaning the items, and making their
search tokens) goes through a :class:`Cpu`: in the event loop's thread (threads would
only fight over the GIL), or, for a run of many sources on a machine with a core to
spare, in a worker process, while this one talks to the network and stores
(:mod:`newsmirror.items` holds that part). A worker gets a feed's answer whole
(:func:`~newsmirror.items.read_feed`): it parses it, sorts the items out
against the store (read on a connection of its own) and, when no article page is
wanted, builds them, all in one call. Otherwise items are built 16 at a time, so that
the network keeps moving in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from newsmirror import decide
from newsmirror.collect.items import (
    Batch,
    FeedRead,
    Remembers,
    build_items,
    link_of,
    read_feed,
)
from newsmirror.collect.pages import PageResult, fetch_pages
from newsmirror.collect.standins import StandIns, complete_stand_ins
from newsmirror.collect.stream import Part, Stream
from newsmirror.collect.worker import Cpu
from newsmirror.errors import (
    HTTPStatusError,
    NewsmirrorError,
    ParseError,
    StorageError,
    without_url,
)
from newsmirror.fetch.client import AttemptLog, Fetcher, Request, proxy_of
from newsmirror.media.mirror import ImageLimits, fetch_images, wanted_images
from newsmirror.store.base import FeedResult, FeedState
from newsmirror.types import Capture, CaptureKind, FetchResult, MediaStatus, Source

_ITEMS_AT_ONCE = 16  # items cleaned in one go before the network gets a turn
_PART = 128  # items a worker builds in one call (a part of the stream)
#: Images deferred by earlier runs asked again in one run, at most (the latest first), and
#: how many times one is asked before it is left alone.
DEFERRED_IMAGES = 1000
DEFERRED_TRIES = 6


class Seen(Remembers, StandIns, Protocol):
    """What collect may ask the store (read-only): the feed hash an item had last time,
    which articles still wait for their page, whether an image was tried before, which
    images earlier runs deferred."""

    def media_tried(self, url: str) -> bool: ...

    def deferred_images(self, source: str, limit: int, tries: int) -> list[str]: ...


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
    stream: Stream | None = None,
) -> Batch:
    """Fetch the source's feeds in order until one answers; build its candidates.

    ``seen`` lets items the feed repeats unchanged be passed over (no clean, no page), and
    images tried before be left alone; ``images`` (when given) has the candidates' images
    downloaded within these limits; ``cpu`` says where parsing and cleaning run (here
    by default); ``stream`` (for a source without images) takes the candidates a part at
    a time as they are built, instead of the batch returned.
    """
    cpu = cpu or Cpu()
    batch = Batch(source)
    _CURRENT.set(batch)
    waiting: list[datetime] = []
    if images is not None:
        stream = None  # their images are chosen from the candidates, all at the end
    for url in source.feeds:
        state = states.get(url)
        if state and state.next_due and not force and not decide.is_due(state.next_due, now):
            waiting.append(state.next_due)
            continue
        async with contextlib.AsyncExitStack() as held:  # the parsing slot, once taken
            read = await _try_feed(source, url, state, fetcher, now, batch, seen, cpu, stream, held)
            if read is not None:
                await _add_entries(source, read, fetcher, now, batch, cpu, stream)
        if read is not None:
            _note_ill_formed(batch, url, read)
        if batch.feed_url:  # it answered: with a feed, or 304 (unchanged)
            if seen is not None:  # the pages of earlier runs' stand-ins, from the store
                await complete_stand_ins(source, fetcher, now, batch, seen, cpu)
            _note_pages(batch)
            if images is not None:
                await _images(source, fetcher, batch, seen, images)
            return batch
    waiting += batch.waits
    if waiting and len(waiting) == len(source.feeds):  # not due, or asked to wait: no failure
        batch.deferred_until = min(waiting)
    return batch


async def _images(
    source: Source, fetcher: Fetcher, batch: Batch, seen: Seen | None, limits: ImageLimits
) -> None:
    """The images of the candidates, and those deferred by the source's earlier runs;
    one line for those deferred now."""
    tried = seen.media_tried if seen is not None else (lambda url: False)
    urls = wanted_images(batch.candidates, tried)
    if seen is not None:
        wanted = set(urls)
        earlier = seen.deferred_images(source.slug, DEFERRED_IMAGES, DEFERRED_TRIES)
        urls += [url for url in earlier if url not in wanted]
    if not urls:
        return
    batch.images = await fetch_images(urls, fetcher, proxy_of(source), limits)
    deferred = [image for image in batch.images if image.status is MediaStatus.DEFERRED]
    if deferred:
        batch.errors.append(
            f"{len(deferred)} images deferred to the next run ({deferred[0].reason});"
            " their articles are stored without them until then"
        )


async def _try_feed(
    source: Source,
    url: str,
    state: FeedState | None,
    fetcher: Fetcher,
    now: datetime,
    batch: Batch,
    seen: Seen | None,
    cpu: Cpu,
    stream: Stream | None = None,
    held: contextlib.AsyncExitStack | None = None,
) -> FeedRead | None:
    """Fetch one feed and read it. With a ``stream``, the feed is parsed once one of its
    parsing slots is free (taken into ``held`` after the answer came, so that the
    requests of every source go out at once; only parsing and building wait)."""
    etag, last_modified = (state.etag, state.last_modified) if state else ("", "")
    request = Request(url, etag, last_modified, proxy_of(source), configured=True)
    failures = state.failures if state else 0
    try:
        result = await fetcher.fetch(request)
        if result.not_modified:
            _feed_ok(batch, url, result, now, "304")
            batch.not_modified = True
            return None
        if stream is not None and held is not None:
            await held.enter_async_context(stream.feeds)
        capture = Capture.of(CaptureKind.FEED, result, now.isoformat())
        read = await cpu.run_remembering(
            read_feed,
            seen,
            source,
            (result.body, result.final_url, result.headers.get("content-type", "")),
            (url, capture),
            now,
            cpu.tokenize if cpu.pool is not None else None,
            _PART if stream is not None else None,
        )
        if read.ill_formed and not read.items:  # cut off before its first item: no feed
            raise ParseError(f"not well-formed ({read.ill_formed}), no item whole before it")
        batch.feed_capture = read.capture
    except StorageError:
        raise  # the store's trouble, not the feed's
    except NewsmirrorError as exc:
        retry_after = exc.retry_after if isinstance(exc, HTTPStatusError) else None
        due = decide.next_due(now, False, failures + 1, retry_after=retry_after)
        if retry_after is not None and retry_after > fetcher.settings.max_wait:
            batch.waits.append(due)  # asked to wait past this run
        status = str(exc.status) if isinstance(exc, HTTPStatusError) else exc.failure.value
        what = without_url(str(exc), url)
        message = f"{url}: {what}; next try after {due:%Y-%m-%d %H:%M} UTC"
        batch.feeds[url] = FeedResult(False, status, str(exc), next_due=due)
        batch.errors.append(message)
        return None
    _feed_ok(batch, url, result, now, str(result.status))
    return read


def _feed_ok(batch: Batch, url: str, result: FetchResult, now: datetime, status: str) -> None:
    due = decide.next_due(now, True, 0, max_age=result.max_age)
    batch.feeds[url] = FeedResult(
        True, status, "", result.etag, result.last_modified, due if due > now else None
    )
    batch.feed_url = url


async def _add_entries(
    source: Source,
    read: FeedRead,
    fetcher: Fetcher,
    now: datetime,
    batch: Batch,
    cpu: Cpu,
    stream: Stream | None = None,
) -> None:
    batch.repeated += read.repeated  # as the feed gave them last time
    if read.built is not None:
        await _take(batch, read.built, stream)
        return
    fresh, links, wanted = read.fresh, read.links, read.wanted
    pages: dict[int, PageResult] = {}
    if wanted:
        results = await fetch_pages(
            source, [links[i] for i in wanted], fetcher, proxy_of(source), now.isoformat(), cpu
        )
        pages = dict(zip(wanted, results, strict=True))
    step = _PART if cpu.pool is not None else _ITEMS_AT_ONCE
    parts = [range(i, min(i + step, len(fresh))) for i in range(0, len(fresh), step)]

    def building(part: range) -> asyncio.Task[Batch]:
        pages_of = [pages.get(i) for i in part]
        return asyncio.ensure_future(
            cpu.run(
                build_items,
                source,
                [fresh[i] for i in part],
                pages_of,
                (batch.feed_url, None),  # the capture is put back here: not sent to and fro
                now,
                cpu.tokenize,
            )
        )

    # The next part is being built while this one waits for room in the stream.
    ahead = building(parts[0]) if parts else None
    for n in range(len(parts)):
        assert ahead is not None
        built = await ahead
        ahead = building(parts[n + 1]) if n + 1 < len(parts) else None
        built.candidates = [replace(c, feed_capture=batch.feed_capture) for c in built.candidates]
        await _take(batch, built, stream)
        await asyncio.sleep(0)  # let the network move between items


async def _take(batch: Batch, built: Batch, stream: Stream | None) -> None:
    """What was built into the batch; its candidates to the stream when there is one
    (waiting for room there)."""
    if stream is not None and built.candidates:
        batch.streamed.update(link_of(c) for c in built.candidates)
        batch.streamed.update(c.url for c in built.candidates if c.url)
        await stream.put(Part(Batch(batch.source, batch.feed_url, candidates=built.candidates)))
    else:
        batch.candidates += built.candidates
    batch.notes += built.notes
    batch.errors += built.errors
    batch.unread_pages += built.unread_pages
    batch.deferred_pages += built.deferred_pages


def _note_ill_formed(batch: Batch, url: str, read: FeedRead) -> None:
    """A feed document of more items than are taken: one line. One that is not
    well-formed: one error line (items may be missing), and the feed's validators are
    not kept, so that the next run reads the feed whole again (a 304 would answer for a
    document read in part)."""
    if read.trimmed:
        batch.errors.append(f"{url}: {read.trimmed}")
    if not read.ill_formed:
        return
    taken = "the item" if read.items == 1 else f"the {read.items} items"
    batch.errors.append(
        f"{url}: not well-formed ({read.ill_formed}); took {taken} read whole before "
        "the fault; the next run reads the feed whole again"
    )
    batch.feeds[url] = replace(batch.feeds[url], etag="", last_modified="")


def _note_pages(batch: Batch) -> None:
    """Article pages that could not be read (their items keep the feed's content, and the
    next runs read them again from the store): one error line for them all; those not
    asked for lack of time, one more."""
    if batch.unread_pages:
        first, more = batch.unread_pages[0], len(batch.unread_pages) - 1
        batch.errors.append(
            first + (f" (and {more} more items whose page was not read)" if more else "")
        )
    if batch.deferred_pages:
        batch.errors.append(
            f"{len(batch.deferred_pages)} article pages deferred to the next run: "
            f"{batch.deferred_pages[0]} ran out (their items keep the feed's content until then)"
        )
