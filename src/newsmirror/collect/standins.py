"""Stand-ins completed: the article pages of items whose page could not be read (the
feed's content stands in for them) are read again from the store, where their links are,
on the source's next runs, however its feed answers: a feed that did not change keeps
answering 304, and costs nothing.

Part of the collect stage (one source; it asks the store, writes nothing). A page read at
last gives a new version of its article, which completes the stand-in (no edit: see
:func:`newsmirror.decide.is_edit`); one the page does not replace (too little text),
or refused for good, settles it. A page that still cannot be read leaves things as they
are, and is tried again by the next run, for :data:`STAND_IN_DAYS` after the stand-in was
stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from newsmirror.collect.items import Batch, build_items, link_of
from newsmirror.collect.pages import PageResult, choose, fetch_pages
from newsmirror.collect.worker import Cpu
from newsmirror.fetch.client import Fetcher, proxy_of
from newsmirror.store.feedmemory import StandIn
from newsmirror.types import Entry, Source

#: How long after it was stored a stand-in's page is tried again (once per run).
STAND_IN_DAYS = 3
#: Stand-ins of one source tried in one run at most, the latest first.
STAND_INS_AT_ONCE = 50


class StandIns(Protocol):
    """What this asks the store (read-only)."""

    def stand_ins(self, source: str, since: datetime, limit: int) -> list[StandIn]: ...


async def complete_stand_ins(
    source: Source,
    fetcher: Fetcher,
    now: datetime,
    batch: Batch,
    store: StandIns,
    cpu: Cpu,
) -> None:
    """Read the pages of the source's stand-ins again (but those of the items this run
    already looked at, in ``batch``), and add what they give to the batch."""
    since = now - timedelta(days=STAND_IN_DAYS)
    handled = _handled(batch)
    waiting = [
        s
        for s in store.stand_ins(source.slug, since, STAND_INS_AT_ONCE)
        if s.link not in handled and s.url not in handled
    ]
    if not waiting:
        return
    links = [s.link for s in waiting]
    pages = await fetch_pages(source, links, fetcher, proxy_of(source), now.isoformat(), cpu)
    for feed_url, group in _by_feed(waiting, pages):
        usable = [(entry_of(s), page) for s, page in group if _settles(page)]
        for s, page in group:
            if not _settles(page):
                _note_unread(source, batch, s, page)
        if usable:
            entries, results = [e for e, _ in usable], [p for _, p in usable]
            built = await cpu.run(
                build_items, source, entries, results, (feed_url, None), now, cpu.tokenize
            )
            batch.candidates += built.candidates
            batch.notes += built.notes
            batch.errors += built.errors
            batch.unread_pages += built.unread_pages  # refused for good: said once


def entry_of(stand_in: StandIn) -> Entry:
    """The feed item a stand-in was made from, as far as the store tells: the same
    identity, title, link, date and feed content, so that its page gives the version the
    feed's own item would have."""
    when = datetime.fromtimestamp(stand_in.published_ms / 1000, UTC)
    return Entry(
        guid=stand_in.guid,
        link=stand_in.url,
        raw_link=stand_in.link,
        title=stand_in.title,
        published=None if stand_in.date_missing else when,
        updated=when if stand_in.date_missing else None,  # the time it is filed under
        content=stand_in.feed_html,
    )


def _settles(page: PageResult) -> bool:
    """Whether a page tried again settles its stand-in: it was read, or refused for good."""
    return page.extraction is not None or page.refused


def _note_unread(source: Source, batch: Batch, stand_in: StandIn, page: PageResult) -> None:
    """A page that still cannot be read: the line of the run's unread (or deferred) pages."""
    if page.deferred:
        batch.deferred_pages.append(page.deferred)
        return
    content = choose(source, entry_of(stand_in), stand_in.feed_url, page)
    batch.unread_pages.append(f"{stand_in.link}: {content.note}")


def _handled(batch: Batch) -> set[str]:
    """The links and URLs of the items this run built from the feed."""
    made = {link_of(c) for c in batch.candidates} | {c.url for c in batch.candidates if c.url}
    return made | batch.streamed


def _by_feed(
    waiting: list[StandIn], pages: Iterable[PageResult]
) -> list[tuple[str, list[tuple[StandIn, PageResult]]]]:
    """The stand-ins with their pages, by the feed that gave each (in first-seen order)."""
    groups: dict[str, list[tuple[StandIn, PageResult]]] = {}
    for stand_in, page in zip(waiting, pages, strict=True):
        groups.setdefault(stand_in.feed_url, []).append((stand_in, page))
    return list(groups.items())
