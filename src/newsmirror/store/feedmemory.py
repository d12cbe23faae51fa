"""What collecting asks the store before it cleans anything: which article each feed item
would join, the feed hash that item had last time, and which articles still wait for
their page (stand-ins, :meth:`FeedMemoryMixin.stand_ins`).

A mixin of :class:`~newsmirror.store.sqlite.SQLiteStore` (which also finds the article to
join when storing), and :class:`FeedMemory`, the same queries on a read-only connection of
their own, for a worker process that sorts out a feed's items away from the store's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsmirror import decide
from newsmirror.errors import StorageError
from newsmirror.store.base import stand_in_sql


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


class FeedMemoryMixin:
    """The queries; mixed into SQLiteStore (which gives _run/_one)."""

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def seen_feed_hashes(
        self, source: str, items: Sequence[tuple[str, str, str, int]]
    ) -> list[str]:
        """For each (guid, url, title, published_ms) item, the feed hash of the article it
        would join, as the feed last gave it ("" when there is no such article, or it was
        never seen in a feed). The same article as :meth:`_find` gives, in a few queries
        for a whole feed instead of two per item."""
        by_guid = self._feed_hashes_by("guid", source, {i[0] for i in items if i[0]})
        by_url = self._feed_hashes_by("url", source, {i[1] for i in items if i[1]})
        hashes = []
        for guid, url, title, published_ms in items:
            if guid in by_guid or url in by_url:
                hashes.append(by_guid[guid] if guid in by_guid else by_url[url])
            elif guid or url:
                hashes.append("")
            else:  # neither: the article is known by its title and day
                found = self._find(source, "", "", decide.title_key(title, published_ms))
                row = found and self._one("SELECT feed_hash FROM articles WHERE id = ?", found[:1])
                hashes.append(str(row[0]) if row else "")
        return hashes

    def stand_ins(self, source: str, since: str, limit: int) -> list[StandIn]:
        """The articles of ``source`` whose latest version, stored at ``since`` (ISO) or
        later, stands in for its page and was not settled since (its feed hash is still
        unknown), the latest first, at most ``limit``."""
        rows = self._run(
            "SELECT a.guid, a.url, v.link, v.title, a.published_ms, a.date_missing, "
            # CROSS JOIN: the few stand-in versions first (their partial index), then
            # their articles; not every article of the source
            "v.raw_html, v.feed_url FROM versions v CROSS JOIN articles a "
            "ON a.latest_version = v.id "
            f"WHERE {stand_in_sql('v')} AND v.fetched_at >= ? AND a.source = ? "
            "AND a.feed_hash = '' ORDER BY v.fetched_at DESC, v.id DESC LIMIT ?",
            (since, source, limit),
        )
        return [
            StandIn(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), bool(r[5]), *r[6:8])
            for r in rows
        ]

    def _feed_hashes_by(self, column: str, source: str, values: set[str]) -> dict[str, str]:
        """{guid or url: feed hash} of the newest article of ``source`` with each value (a
        URL: its own, else one of its aliases)."""
        found: dict[str, str] = {}
        ordered = sorted(values)
        for start in range(0, len(ordered), 500):  # within SQLite's limit on parameters
            chunk = ordered[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            if column == "url":  # first: an alias yields to an article's own URL
                rows = self._run(
                    "SELECT al.url, a.feed_hash FROM article_aliases al JOIN articles a "
                    "ON a.id = al.article_id WHERE a.source = ? AND a.latest_version IS NOT "
                    f"NULL AND al.url IN ({marks}) ORDER BY a.id",
                    (source, *chunk),
                )
                found.update((str(value), str(hash_)) for value, hash_ in rows)
            rows = self._run(
                f"SELECT {column}, feed_hash FROM articles WHERE source = ? "
                f"AND latest_version IS NOT NULL AND {column} IN ({marks}) ORDER BY id",
                (source, *chunk),
            )
            found.update((str(value), str(hash_)) for value, hash_ in rows)  # newest last
        return found

    def _find(
        self, source: str, guid: str, url: str, title_key: str, aliases: Sequence[str] = ()
    ) -> tuple[int, int, str, str, str, int] | None:
        """The article an item is (by guid, else URL, else one of its URLs known as the
        other's alias, else title and day): its id, archive id, and its latest version's
        content hash, method, feed URL and clean HTML's size (in characters). ``aliases``:
        the item's other URLs (a FeedBurner item's feedproxy link)."""
        base = (
            "SELECT a.id, a.archive_id, v.content_hash, v.method, v.feed_url, "
            "length(v.clean_html) FROM articles a "
            "JOIN versions v ON v.id = a.latest_version WHERE a.source = ? AND "
        )
        row = None
        if guid:
            row = self._one(base + "a.guid = ? ORDER BY a.id DESC LIMIT 1", (source, guid))
        if row is None and url:
            row = self._one(base + "a.url = ? ORDER BY a.id DESC LIMIT 1", (source, url))
        if row is None and (url or aliases):
            row = self._by_alias(base, source, url, aliases)
        if row is None and not guid and not url:
            row = self._one(
                base + "a.title_key = ? ORDER BY a.id DESC LIMIT 1", (source, title_key)
            )
        return None if row is None else (row[0], row[1], row[2], row[3], row[4], row[5])

    def _by_alias(self, base: str, source: str, url: str, aliases: Sequence[str]) -> Any:
        """The newest article of ``source`` whose URL is one of ``aliases``, or one of whose
        aliases is ``url`` or one of ``aliases`` (``base``: _find's query up to its WHERE)."""
        urls = [u for u in dict.fromkeys((url, *aliases)) if u]
        others = [u for u in aliases if u and u != url]
        ids = f"SELECT article_id FROM article_aliases WHERE url IN ({', '.join('?' * len(urls))})"
        if others:
            ids += f" UNION SELECT id FROM articles WHERE url IN ({', '.join('?' * len(others))})"
        return self._one(
            base + f"a.id IN ({ids}) ORDER BY a.id DESC LIMIT 1", (source, *urls, *others)
        )


class FeedMemory(FeedMemoryMixin):
    """:class:`FeedMemoryMixin`'s queries on a read-only connection of its own.

    In WAL mode it reads alongside the writer: each query sees what was committed when it
    began.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA query_only = 1")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the database {self.path}: {exc}") from exc

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self.db.execute(sql, params)
        except sqlite3.Error as exc:
            raise StorageError(f"database error ({self.path}): {exc}") from exc

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._run(sql, params).fetchone()
