"""What collecting asks the store before it cleans anything: the feed hash each feed
item had last time, and which articles still wait for their page (stand-ins); the row and
the part of the storage Protocol. A worker process asks a read-only view of the store
(:class:`newsmirror.store.sqlite.FeedMemory`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class StandIn:
    """An article whose latest version stands in for a page that could not be read, with
    what its item was: enough to read the page again and complete it."""

    guid: str  # the item's guid ("" when none)
    url: str  # the article's canonical URL
    link: str  # the page: the link the version was stored with
    title: str  # the version's title
    published_ms: int  # the article's publication time
    date_missing: bool  # the feed gave no date (published_ms is another time)
    feed_html: str  # the feed's content that stands in (the version's raw HTML)
    feed_url: str  # the feed that gave it


class FeedMemoryStore(Protocol):
    """What collecting asks the store before it cleans anything (read-only)."""

    def seen_feed_hashes(
        self, source: str, items: Sequence[tuple[str, str, str, int]]
    ) -> list[str]:
        """For each (guid, url, title, published_ms) item, the feed hash of the article it
        would join, as the feed last gave it ("" when there is no such article, or it was
        never seen in a feed). The article is the one ``store_candidate`` would join: by
        guid, else by URL (its own, else an alias), else, for an item with neither, by
        title and day."""

    def stand_ins(self, source: str, since: datetime, limit: int) -> list[StandIn]:
        """The articles of ``source`` whose latest version, stored at ``since`` (aware UTC) or
        later, stands in for its page and was not settled since (no feed hash is known
        for it), the latest first, at most ``limit``."""
