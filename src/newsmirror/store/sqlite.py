"""The SQLite store (WAL mode, one writer). Every sqlite3 error becomes a StorageError."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from newsmirror import decide
from newsmirror.errors import StorageError
from newsmirror.store.base import (
    ArticleRow,
    FeedResult,
    FeedState,
    ImportedFile,
    PublishRow,
    SourceStats,
)
from newsmirror.store.schema import migrate
from newsmirror.types import ID_CEILING, Candidate, Source, StoreOutcome, Version

_VERSION_COLUMNS = (
    "article_id, seq, fetched_at, feed_url, title, link, published_ms, raw_html, clean_html, "
    "content_hash"
)


class SQLiteStore:
    """The embedded store. Not shared between threads: open one per thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            migrate(self.db)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the database {self.path}: {exc}") from exc
        self._depth = 0
        self._known: set[str] = set()  # source slugs known to be in the table
        self._schemes: dict[str, str] = {}  # id scheme per source, as synced

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction; a nested call is a savepoint inside the outer one, so a
        failure undoes exactly its own writes."""
        if self._depth:
            name = f"sp{self._depth}"
            self._run(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield
            except BaseException:
                self.db.execute(f"ROLLBACK TO {name}")
                raise
            finally:
                self._depth -= 1
                self.db.execute(f"RELEASE {name}")
            return
        self._run("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self.db.execute("ROLLBACK")
            self._known.clear()  # what the rolled-back writes taught us is void
            self._schemes.clear()
            raise
        self._depth = 0
        self._run("COMMIT")

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self.db.execute(sql, params)
        except sqlite3.Error as exc:
            raise StorageError(f"database error ({self.path}): {exc}") from exc

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._run(sql, params).fetchone()

    # -- sources ---------------------------------------------------------------------

    def sync_sources(self, sources: Sequence[Source]) -> None:
        """Record sources and the order of their feeds; never removes anything."""
        self._schemes.clear()
        with self.transaction():
            for source in sources:
                self._run(
                    "INSERT INTO sources (slug, name, id_scheme) VALUES (?, ?, ?) "
                    "ON CONFLICT (slug) DO UPDATE SET name = excluded.name, "
                    "id_scheme = excluded.id_scheme",
                    (source.slug, source.name, source.id_scheme),
                )
                self._run(
                    "UPDATE feeds SET position = position + 1000 WHERE source = ?", (source.slug,)
                )
                for position, url in enumerate(source.feeds):
                    self._run(
                        "INSERT INTO feeds (source, url, position) VALUES (?, ?, ?) "
                        "ON CONFLICT (source, url) DO UPDATE SET position = excluded.position",
                        (source.slug, url, position),
                    )

    def _ensure_source(self, slug: str) -> None:
        if slug not in self._known:  # sources never go away, so once is enough
            self._run("INSERT OR IGNORE INTO sources (slug, name) VALUES (?, ?)", (slug, slug))
            self._known.add(slug)

    # -- articles --------------------------------------------------------------------

    def store_candidate(self, candidate: Candidate, now: str) -> StoreOutcome:
        """Add a new article or version when the content is new; else change nothing."""
        c = candidate
        with self.transaction():
            title_key = decide.title_key(c.title, c.published_ms)
            found = self._find(c.source, c.guid, c.url, title_key)
            status = decide.classify(found[2] if found else None, c.content_hash)
            if found is None:
                archive_id = self._allocate(c.source, c.post_id)
                article_id = self._insert_article(c, archive_id, title_key, now)
            else:
                article_id, archive_id = found[0], found[1]
                if status == "changed":
                    self._add_version(article_id, c, now)
                    self._run(
                        "UPDATE articles SET published_ms = ?, date_missing = ?, "
                        "guid = CASE WHEN guid = '' THEN ? ELSE guid END WHERE id = ?",
                        (c.published_ms, int(c.date_missing), c.guid, article_id),
                    )
                elif c.guid:
                    self._run(
                        "UPDATE articles SET guid = ? WHERE id = ? AND guid = ''",
                        (c.guid, article_id),
                    )
        return StoreOutcome(status=status, article_id=article_id, archive_id=archive_id)

    def _find(
        self, source: str, guid: str, url: str, title_key: str
    ) -> tuple[int, int, str] | None:
        base = (
            "SELECT a.id, a.archive_id, v.content_hash FROM articles a "
            "JOIN versions v ON v.id = a.latest_version WHERE a.source = ? AND "
        )
        if guid:
            row = self._one(base + "a.guid = ? ORDER BY a.id DESC LIMIT 1", (source, guid))
            if row:
                return (row[0], row[1], row[2])
        if url:
            row = self._one(base + "a.url = ? ORDER BY a.id DESC LIMIT 1", (source, url))
            if row:
                return (row[0], row[1], row[2])
        if not guid and not url:
            row = self._one(
                base + "a.title_key = ? ORDER BY a.id DESC LIMIT 1", (source, title_key)
            )
            if row:
                return (row[0], row[1], row[2])
        return None

    def _allocate(self, source: str, post_number: int | None) -> int:
        """The next archive id: the post's own (CDT) when free, else the countdown's.

        A countdown source's ``lowest_id`` is below every id it holds (imports lower it),
        so the next one down is free; a post-scheme source checks, since post ids land
        anywhere.
        """
        self._ensure_source(source)
        post_scheme = self._post_scheme(source)
        if post_number is not None:
            wanted = decide.post_archive_id(post_number)
            if wanted >= 0 and not self._id_used(source, wanted):
                return wanted
        lowest = int(self._one("SELECT lowest_id FROM sources WHERE slug = ?", (source,))[0])
        try:
            candidate = decide.next_countdown_id(lowest)
            while post_scheme and self._id_used(source, candidate):
                candidate = decide.next_countdown_id(candidate)
        except ValueError as exc:
            raise StorageError(f"{source}: no archive id left below {lowest}") from exc
        self._run("UPDATE sources SET lowest_id = ? WHERE slug = ?", (candidate, source))
        return candidate

    def _id_used(self, source: str, archive_id: int) -> bool:
        return (
            self._one(
                "SELECT 1 FROM articles WHERE source = ? AND archive_id = ? LIMIT 1",
                (source, archive_id),
            )
            is not None
        )

    def _insert_article(self, c: Candidate, archive_id: int, title_key: str, now: str) -> int:
        path = f"articles/{c.source}/{archive_id}.md"
        row = (
            c.source,
            archive_id,
            path,
            c.identity,
            c.guid,
            c.url,
            title_key,
            c.published_ms,
            int(c.date_missing),
            now,
        )
        try:
            cursor = self.db.execute(
                "INSERT INTO articles (source, archive_id, path, identity, guid, url, "
                "title_key, published_ms, date_missing, first_seen) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
        except sqlite3.IntegrityError as exc:
            raise StorageError(f"{path} belongs to another article; not overwritten") from exc
        except sqlite3.Error as exc:
            raise StorageError(f"database error ({self.path}): {exc}") from exc
        article_id = int(cursor.lastrowid or 0)
        self._add_version(article_id, c, now, seq=1)
        return article_id

    def _add_version(self, article_id: int, c: Candidate, now: str, seq: int = 0) -> None:
        """Add a version; ``seq`` 0 means the next one after the article's last."""
        if not seq:
            seq = self._one(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM versions WHERE article_id = ?",
                (article_id,),
            )[0]
        cursor = self._run(
            f"INSERT INTO versions ({_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                article_id,
                seq,
                now,
                c.feed_url,
                c.title,
                c.link,
                c.published_ms,
                c.raw_html,
                c.clean_html,
                c.content_hash,
            ),
        )
        self._run(
            "UPDATE articles SET latest_version = ? WHERE id = ?", (cursor.lastrowid, article_id)
        )

    def import_file(self, item: ImportedFile, now: str) -> str:
        """Record an imported file by its path: "new", "changed" or "unchanged"."""
        candidate = Candidate(
            source=item.source,
            identity=item.identity,
            guid="",
            url=item.url,
            link=item.link,
            title=item.title,
            published_ms=item.published_ms,
            date_missing=False,
            raw_html=item.raw_html,
            clean_html=item.clean_html,
            content_hash=item.content_hash,
            feed_url=f"import:{item.path}",
        )
        with self.transaction():
            self._ensure_source(item.source)
            row = self._one(
                "SELECT a.id, v.content_hash, v.raw_html, v.link, v.published_ms FROM articles a "
                "JOIN versions v ON v.id = a.latest_version WHERE a.path = ?",
                (item.path,),
            )
            if row is None:
                self._insert_imported(item, candidate, now)
                return "new"
            if tuple(row[1:]) == (item.content_hash, item.raw_html, item.link, item.published_ms):
                return "unchanged"
            self._add_version(int(row[0]), candidate, now)
            return "changed"

    def _insert_imported(self, item: ImportedFile, c: Candidate, now: str) -> int:
        cursor = self._run(
            "INSERT INTO articles (source, archive_id, path, identity, guid, url, title_key, "
            "published_ms, date_missing, first_seen) VALUES (?, ?, ?, ?, '', ?, ?, ?, 0, ?)",
            (
                item.source,
                item.archive_id,
                item.path,
                item.identity,
                item.url,
                item.title_key,
                item.published_ms,
                now,
            ),
        )
        article_id = int(cursor.lastrowid or 0)
        self._add_version(article_id, c, now)
        if not self._post_scheme(item.source) and item.archive_id <= ID_CEILING:
            self._run(
                "UPDATE sources SET lowest_id = MIN(lowest_id, ?) WHERE slug = ?",
                (item.archive_id, item.source),
            )
        return article_id

    def _post_scheme(self, source: str) -> bool:
        if source not in self._schemes:
            row = self._one("SELECT id_scheme FROM sources WHERE slug = ?", (source,))
            self._schemes[source] = str(row[0]) if row else "countdown"
        return self._schemes[source] == "post"

    # -- publishing ------------------------------------------------------------------

    def publish_rows(self, mode: str, force: bool = False) -> Iterator[PublishRow]:
        """Articles whose file is not recorded as holding their latest version in ``mode``."""
        sql = (
            "SELECT a.id, a.source, a.path, v.id, v.title, v.link, v.published_ms, v.raw_html, "
            "v.clean_html, a.url FROM articles a JOIN versions v ON v.id = a.latest_version "
            "LEFT JOIN published p ON p.path = a.path"
        )
        if not force:
            sql += " WHERE p.path IS NULL OR p.version_id IS NOT v.id OR p.mode != ?"
        cursor = self._run(sql + " ORDER BY a.id", (mode,) if not force else ())
        for row in cursor:
            yield PublishRow(*row)

    def newest(self, source: str, limit: int) -> list[tuple[str, str, int]]:
        """(path, title, published_ms) of the source's newest articles, smallest id first."""
        rows = self._run(
            "SELECT a.path, v.title, v.published_ms FROM articles a "
            "JOIN versions v ON v.id = a.latest_version WHERE a.source = ? "
            "ORDER BY a.archive_id ASC, a.path ASC LIMIT ?",
            (source, limit),
        ).fetchall()
        return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]

    def published_digest(self, path: str) -> str | None:
        """The digest recorded for a published file."""
        row = self._one("SELECT digest FROM published WHERE path = ?", (path,))
        return str(row[0]) if row else None

    def mark_published(self, path: str, digest: str, version_id: int | None, mode: str) -> None:
        """Record that ``path`` now holds these bytes."""
        self._run(
            "INSERT INTO published (path, digest, version_id, mode) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (path) DO UPDATE SET digest = excluded.digest, "
            "version_id = excluded.version_id, mode = excluded.mode",
            (path, digest, version_id, mode),
        )

    # -- reading ---------------------------------------------------------------------

    def find_article(self, ref: str) -> ArticleRow | None:
        """An article by "slug/id", path, canonical URL or guid."""
        ref = ref.strip()
        queries: list[tuple[str, tuple[Any, ...]]] = [
            ("path = ?", (ref,)),
            ("url = ?", (ref,)),
            ("guid = ?", (ref,)),
        ]
        slug, _, number = ref.partition("/")
        if number.isdigit():
            queries.insert(0, ("source = ? AND archive_id = ?", (slug, int(number))))
        for where, params in queries:
            row = self._one(
                "SELECT id, source, archive_id, path, identity, guid, url, published_ms, "
                f"date_missing, first_seen FROM articles WHERE {where} ORDER BY id DESC LIMIT 1",
                params,
            )
            if row:
                return ArticleRow(
                    id=row[0],
                    source=row[1],
                    archive_id=row[2],
                    path=row[3],
                    identity=row[4],
                    guid=row[5],
                    url=row[6],
                    published_ms=row[7],
                    date_missing=bool(row[8]),
                    first_seen=row[9],
                    versions=self._versions(row[0]),
                )
        return None

    def _versions(self, article_id: int) -> tuple[Version, ...]:
        rows = self._run(
            f"SELECT {_VERSION_COLUMNS} FROM versions WHERE article_id = ? ORDER BY seq",
            (article_id,),
        ).fetchall()
        return tuple(Version(*row) for row in rows)

    def stats(self) -> list[SourceStats]:
        """Counts per source."""
        rows = self._run(
            "SELECT s.slug, COUNT(a.id), COALESCE(SUM(vc.n), 0), "
            "COALESCE(SUM(vc.n > 1), 0), COALESCE(MAX(a.published_ms), 0), s.lowest_id "
            "FROM sources s LEFT JOIN articles a ON a.source = s.slug "
            "LEFT JOIN (SELECT article_id, COUNT(*) AS n FROM versions GROUP BY article_id) vc "
            "ON vc.article_id = a.id GROUP BY s.slug ORDER BY s.rowid"
        ).fetchall()
        return [SourceStats(*row) for row in rows]

    # -- logs and feed health --------------------------------------------------------

    def log_fetch(
        self,
        source: str,
        url: str,
        status: int,
        size: int,
        elapsed: float,
        error: str,
        from_cache: bool,
        now: str,
    ) -> None:
        """Record one request."""
        self._run(
            "INSERT INTO fetch_log (at, source, url, status, bytes, elapsed_ms, error, "
            "from_cache) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (now, source, url, status, size, int(elapsed * 1000), error, int(from_cache)),
        )

    def log_item(
        self, source: str, feed_url: str, guid: str, title: str, action: str, reason: str, now: str
    ) -> None:
        """Record an entry skipped, or archived with a caveat."""
        self._run(
            "INSERT INTO item_log (at, source, feed_url, guid, title, action, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (now, source, feed_url, guid, title, action, reason),
        )

    def item_log(self, source: str | None = None) -> list[tuple[str, str, str, str, str]]:
        """(source, guid, title, action, reason) of logged entries, oldest first."""
        sql = "SELECT source, guid, title, action, reason FROM item_log"
        params: tuple[Any, ...] = ()
        if source:
            sql, params = sql + " WHERE source = ?", (source,)
        return [tuple(r) for r in self._run(sql + " ORDER BY id", params).fetchall()]

    def fetch_log(self, limit: int = 100) -> list[tuple[str, str, int, int, str, bool]]:
        """(source, url, status, bytes, error, from_cache) of the latest requests."""
        rows = self._run(
            "SELECT source, url, status, bytes, error, from_cache FROM fetch_log "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]

    def feed_states(self) -> list[FeedState]:
        """Every feed with its health, by source and position."""
        rows = self._run(
            "SELECT source, url, position, last_success, last_error, failures, etag, "
            "last_modified, last_checked, last_status, next_due FROM feeds "
            "ORDER BY source, position"
        ).fetchall()
        return [FeedState(*row) for row in rows]

    def record_feed_result(self, source: str, url: str, result: FeedResult, now: str) -> None:
        """Update a feed's health after a fetch: validators, failures, next due time."""
        self._ensure_source(source)
        self._run(
            "INSERT OR IGNORE INTO feeds (source, url, position) VALUES (?, ?, 999)", (source, url)
        )
        if result.ok:
            self._run(
                "UPDATE feeds SET last_success = ?, last_error = '', failures = 0, etag = ?, "
                "last_modified = ?, last_checked = ?, last_status = ?, next_due = ? "
                "WHERE source = ? AND url = ?",
                (
                    now,
                    result.etag,
                    result.last_modified,
                    now,
                    result.status,
                    result.next_due,
                    source,
                    url,
                ),
            )
        else:
            self._run(
                "UPDATE feeds SET last_error = ?, failures = failures + 1, last_checked = ?, "
                "last_status = ?, next_due = ? WHERE source = ? AND url = ?",
                (result.error, now, result.status, result.next_due, source, url),
            )

    def feed_failures(self, source: str, url: str) -> int:
        """Consecutive failures recorded for a feed (0 when unknown)."""
        row = self._one("SELECT failures FROM feeds WHERE source = ? AND url = ?", (source, url))
        return int(row[0]) if row else 0
