"""Feeds and logs in the store: the fetch log, the item log and the health of every
feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from newsmirror.store.base import FeedResult, FeedState
from newsmirror.store.parts.db import Db
from newsmirror.store.parts.sources import Sources
from newsmirror.store.sql import moment, stored

_FEED = (
    "source, url, position, last_success, last_error, failures, etag, last_modified, "
    "last_checked, last_status, next_due"
)


class Logs:
    """Logs and feed health."""

    def __init__(self, db: Db, sources: Sources) -> None:
        self.db, self.sources = db, sources

    def log_fetch(
        self,
        source: str,
        url: str,
        status: int,
        size: int,
        elapsed: float,
        error: str,
        from_cache: bool,
        now: datetime,
    ) -> None:
        """Record one request."""
        self.db.run(
            "INSERT INTO fetch_log (at, source, url, status, bytes, elapsed_ms, error, "
            "from_cache) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (stored(now), source, url, status, size, int(elapsed * 1000), error, int(from_cache)),
        )

    def log_item(
        self,
        source: str,
        feed_url: str,
        guid: str,
        title: str,
        action: str,
        reason: str,
        now: datetime,
    ) -> None:
        """Record an entry skipped, or archived with a caveat."""
        self.db.run(
            "INSERT INTO item_log (at, source, feed_url, guid, title, action, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (stored(now), source, feed_url, guid, title, action, reason),
        )

    def item_log(self, source: str | None = None) -> list[tuple[str, str, str, str, str]]:
        """(source, guid, title, action, reason) of logged entries, oldest first."""
        sql = "SELECT source, guid, title, action, reason FROM item_log"
        params: tuple[Any, ...] = ()
        if source:
            sql, params = sql + " WHERE source = ?", (source,)
        return [
            (r["source"], r["guid"], r["title"], r["action"], r["reason"])
            for r in self.db.run(sql + " ORDER BY id", params)
        ]

    def fetch_log(self, limit: int = 100) -> list[tuple[str, str, int, int, str, bool]]:
        """(source, url, status, bytes, error, from_cache) of the latest requests."""
        rows = self.db.run(
            "SELECT source, url, status, bytes, error, from_cache FROM fetch_log "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [
            (r["source"], r["url"], r["status"], r["bytes"], r["error"], bool(r["from_cache"]))
            for r in rows
        ]

    def feed_states(self) -> list[FeedState]:
        """Every feed with its health, by source and position."""
        rows = self.db.run(f"SELECT {_FEED} FROM feeds ORDER BY source, position")
        return [
            FeedState(
                source=row["source"],
                url=row["url"],
                position=row["position"],
                last_success=moment(row["last_success"]),
                last_error=row["last_error"],
                failures=row["failures"],
                etag=row["etag"],
                last_modified=row["last_modified"],
                last_checked=moment(row["last_checked"]),
                last_status=row["last_status"],
                next_due=moment(row["next_due"]),
            )
            for row in rows
        ]

    def record_feed_result(self, source: str, url: str, result: FeedResult, now: datetime) -> None:
        """Update a feed's health after a fetch: validators, failures, next due time."""
        self.sources.ensure(source)
        self.db.run(
            "INSERT INTO feeds (source, url, position) VALUES (?, ?, 999) ON CONFLICT DO NOTHING",
            (source, url),
        )
        if result.ok:
            self.db.run(
                "UPDATE feeds SET last_success = ?, last_error = '', failures = 0, etag = ?, "
                "last_modified = ?, last_checked = ?, last_status = ?, next_due = ? "
                "WHERE source = ? AND url = ?",
                (stored(now), result.etag, result.last_modified, stored(now), result.status,
                 stored(result.next_due), source, url),
            )  # fmt: skip
        else:
            self.db.run(
                "UPDATE feeds SET last_error = ?, failures = failures + 1, last_checked = ?, "
                "last_status = ?, next_due = ? WHERE source = ? AND url = ?",
                (result.error, stored(now), result.status, stored(result.next_due), source, url),
            )
