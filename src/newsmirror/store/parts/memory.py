"""What collecting asks the store before it cleans anything: which article each feed
item would join (:meth:`Memory.find`, which storing asks too), the feed hash that item had
last time, and which articles still wait for their page (stand-ins).

The part works on the store's connection or on a read-only one of its own
(each backend's ``readonly.FeedMemory``), for a worker process that sorts
out a feed's items away from the store's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from newsmirror import decide
from newsmirror.store.feedmemory import StandIn
from newsmirror.store.parts.db import Db, Row
from newsmirror.store.sql import marks, stand_in_sql, stored

#: _find's query up to its WHERE: the article and what its latest version holds.
_HELD = (
    "SELECT a.id, a.archive_id, v.content_hash, v.method, v.feed_url, "
    "length(v.clean_html) AS size FROM articles a "
    "JOIN versions v ON v.id = a.latest_version WHERE a.source = ? AND "
)


@dataclass(frozen=True)
class Held:
    """The article a feed item is, as the store holds it."""

    article_id: int  # row id
    archive_id: int  # its file id
    content_hash: str  # its latest version's content hash
    way_in: tuple[str, str, int]  # its latest version's method, feed URL, clean HTML's size


class Memory:
    """The queries of feed items against the store."""

    def __init__(self, db: Db) -> None:
        self.db = db

    def seen_feed_hashes(
        self, source: str, items: Sequence[tuple[str, str, str, int]]
    ) -> list[str]:
        """For each (guid, url, title, published_ms) item, the feed hash of the article it
        would join, as the feed last gave it ("" when there is no such article, or it was
        never seen in a feed). The same article as :meth:`find` gives, in a few queries
        for a whole feed instead of two per item."""
        by_guid = self._feed_hashes_by("guid", source, {guid for guid, *_ in items if guid})
        by_url = self._feed_hashes_by("url", source, {url for _, url, *_ in items if url})
        hashes = []
        for guid, url, title, published_ms in items:
            if guid in by_guid or url in by_url:
                hashes.append(by_guid[guid] if guid in by_guid else by_url[url])
            elif guid or url:
                hashes.append("")
            else:  # neither: the article is known by its title and day
                found = self.find(source, "", "", decide.title_key(title, published_ms))
                hashes.append(self._feed_hash(found.article_id) if found else "")
        return hashes

    def _feed_hash(self, article_id: int) -> str:
        row = self.db.one("SELECT feed_hash FROM articles WHERE id = ?", (article_id,))
        return str(row["feed_hash"]) if row else ""

    def stand_ins(self, source: str, since: datetime, limit: int) -> list[StandIn]:
        """The articles of ``source`` whose latest version, stored at ``since`` or
        later, stands in for its page and was not settled since (its feed hash is still
        unknown), the latest first, at most ``limit``."""
        # the few stand-in versions first (their partial index), then their articles; not
        # every article of the source
        join = self.db.dialect.ordered_join
        rows = self.db.run(
            "SELECT a.guid, a.url, v.link, v.title, a.published_ms, a.date_missing, "
            f"v.raw_html, v.feed_url FROM versions v {join} articles a "
            "ON a.latest_version = v.id "
            f"WHERE {stand_in_sql('v')} AND v.fetched_at >= ? AND a.source = ? "
            "AND a.feed_hash = '' ORDER BY v.fetched_at DESC, v.id DESC LIMIT ?",
            (stored(since), source, limit),
        )
        return [
            StandIn(
                guid=str(r["guid"]),
                url=str(r["url"]),
                link=str(r["link"]),
                title=str(r["title"]),
                published_ms=int(r["published_ms"]),
                date_missing=bool(r["date_missing"]),
                feed_html=r["raw_html"],
                feed_url=r["feed_url"],
            )
            for r in rows
        ]

    def _feed_hashes_by(self, column: str, source: str, values: set[str]) -> dict[str, str]:
        """{guid or url: feed hash} of the newest article of ``source`` with each value (a
        URL: its own, else one of its aliases)."""
        found: dict[str, str] = {}
        ordered = sorted(values)
        for start in range(0, len(ordered), 500):  # within SQLite's limit on parameters
            chunk = ordered[start : start + 500]
            if column == "url":  # first: an alias yields to an article's own URL
                rows = self.db.run(
                    "SELECT al.url AS value, a.feed_hash FROM article_aliases al JOIN articles a "
                    "ON a.id = al.article_id WHERE a.source = ? AND a.latest_version IS NOT "
                    f"NULL AND al.url IN ({marks(len(chunk))}) ORDER BY a.id",
                    (source, *chunk),
                )
                found.update((str(r["value"]), str(r["feed_hash"])) for r in rows)
            rows = self.db.run(
                f"SELECT {column} AS value, feed_hash FROM articles WHERE source = ? "
                f"AND latest_version IS NOT NULL AND {column} IN ({marks(len(chunk))}) "
                "ORDER BY id",
                (source, *chunk),
            )
            found.update((str(r["value"]), str(r["feed_hash"])) for r in rows)  # newest last
        return found

    def find(
        self, source: str, guid: str, url: str, title_key: str, aliases: Sequence[str] = ()
    ) -> Held | None:
        """The article an item is (by guid, else URL, else one of its URLs known as the
        other's alias, else title and day), None when it is new. ``aliases``: the item's
        other URLs (a FeedBurner item's feedproxy link)."""
        row = None
        if guid:
            row = self.db.one(_HELD + "a.guid = ? ORDER BY a.id DESC LIMIT 1", (source, guid))
        if row is None and url:
            row = self.db.one(_HELD + "a.url = ? ORDER BY a.id DESC LIMIT 1", (source, url))
        if row is None and (url or aliases):
            row = self._by_alias(source, url, aliases)
        if row is None and not guid and not url:
            row = self.db.one(
                _HELD + "a.title_key = ? ORDER BY a.id DESC LIMIT 1", (source, title_key)
            )
        if row is None:
            return None
        way_in = (str(row["method"]), str(row["feed_url"]), int(row["size"]))
        return Held(int(row["id"]), int(row["archive_id"]), str(row["content_hash"]), way_in)

    def _by_alias(self, source: str, url: str, aliases: Sequence[str]) -> Row | None:
        """The newest article of ``source`` whose URL is one of ``aliases``, or one of whose
        aliases is ``url`` or one of ``aliases``."""
        urls = [u for u in dict.fromkeys((url, *aliases)) if u]
        others = [u for u in aliases if u and u != url]
        ids = f"SELECT article_id FROM article_aliases WHERE url IN ({marks(len(urls))})"
        if others:
            ids += f" UNION SELECT id FROM articles WHERE url IN ({marks(len(others))})"
        found: Row | None = self.db.one(
            _HELD + f"a.id IN ({ids}) ORDER BY a.id DESC LIMIT 1", (source, *urls, *others)
        )
        return found
