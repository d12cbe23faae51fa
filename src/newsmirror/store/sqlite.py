"""The SQLite store (WAL mode, one writer). Every sqlite3 error becomes a StorageError."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from newsmirror import decide
from newsmirror.errors import StorageError
from newsmirror.store.archivefiles import ArchiveFilesMixin
from newsmirror.store.base import ImportedFile
from newsmirror.store.evidence import EvidenceMixin
from newsmirror.store.feedmemory import FeedMemoryMixin
from newsmirror.store.logs import LogMixin
from newsmirror.store.portable import PortableMixin
from newsmirror.store.reading import VERSION_COLUMNS, ReadMixin
from newsmirror.store.schema import migrate
from newsmirror.store.searching import SearchMixin
from newsmirror.store.siteviews import SiteMixin
from newsmirror.store.watching import WatchMixin
from newsmirror.types import ID_CEILING, Candidate, Capture, Source, StoreOutcome

#: Seconds a connection waits for another process's lock (a migration, a write).
_WAIT = 30.0


def _write_ahead(db: sqlite3.Connection) -> None:
    """Put the database in WAL mode. Another process opening it at the same moment may
    hold a lock, and SQLite answers "database is locked" to this change at once instead
    of waiting for it: wait here, as for any other lock."""
    deadline = time.monotonic() + _WAIT
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class SQLiteStore(
    ReadMixin,
    LogMixin,
    EvidenceMixin,
    SearchMixin,
    PortableMixin,
    SiteMixin,
    WatchMixin,
    FeedMemoryMixin,
    ArchiveFilesMixin,
):
    """The embedded store. Not shared between threads: open one per thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=_WAIT)
            self.db.execute("PRAGMA page_size = 8192")  # new databases only: articles are big
            _write_ahead(self.db)
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            migrate(self.db)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the database {self.path}: {exc}") from exc
        self._depth = 0
        self._known: set[str] = set()  # source slugs known to be in the table
        self._schemes: dict[str, str] = {}  # id scheme per source, as synced
        self._lowest: dict[str, int] = {}  # countdown floor per source, as last written
        self._capture_ids: dict[tuple[str, Capture], int] = {}  # this transaction's captures
        self._search_ready: bool | None = None  # the index is current (None: not checked)
        self._search_paused = False  # no index kept (the archive's search.index = false)
        self._source_tokens: dict[str, str] = {}  # index token per source slug
        self._key_hints: dict[int, int] = {}  # index key wanted → first one not known taken
        self._search_ready = self.search_ready()  # a new store's empty index is ready now

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
                self._forget()
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
            self._forget()
            raise
        self._depth = 0
        self._capture_ids.clear()
        self._run("COMMIT")

    def _forget(self) -> None:
        """Drop what this connection remembers of the database: after a rollback, what
        the undone writes taught it is void."""
        self._known.clear()
        self._schemes.clear()
        self._lowest.clear()
        self._capture_ids.clear()
        self._source_tokens.clear()
        self._key_hints.clear()
        self._search_ready = None

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self.db.execute(sql, params)
        except sqlite3.Error as exc:
            raise StorageError(f"database error ({self.path}): {exc}") from exc

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.db_executemany(sql, rows)

    def db_executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for many rows."""
        try:
            self.db.executemany(sql, rows)
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
                self._run(  # a feed no longer configured goes after the others, for good
                    "UPDATE feeds SET position = 1000 + position % 1000 WHERE source = ?",
                    (source.slug,),
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
        """Add a new article or version when the content is new; else change nothing.

        Inside a caller's transaction it joins that one (the caller's savepoint decides
        what a failure undoes); alone it is a transaction of its own.
        """
        c = candidate
        with self.transaction() if not self._depth else contextlib.nullcontext():
            title_key = decide.title_key(c.title, c.published_ms)
            found = self._find(c.source, c.guid, c.url, title_key, c.aliases)
            status = decide.classify(found[2] if found else None, c.content_hash)
            latest = (found[3], found[4], found[5]) if found else None
            if latest and status == "changed" and decide.lesser_way_in(c.way_in(), latest):
                status = "unchanged"  # the archive holds more of it from another feed
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
                self._note_feed_hash(article_id, c.feed_hash)
            if c.aliases:
                self._note_aliases(article_id, (c.url, *c.aliases))
        return StoreOutcome(status=status, article_id=article_id, archive_id=archive_id)

    def _note_aliases(self, article_id: int, urls: Sequence[str]) -> None:
        """Keep the URLs an item of the article was given under, other than the article's
        own, as its aliases (a FeedBurner item's feedproxy link; the origLink of an article
        stored earlier under its feedproxy link)."""
        for url in dict.fromkeys(urls):
            if url:
                self._run(
                    "INSERT OR IGNORE INTO article_aliases (url, article_id) SELECT ?, id "
                    "FROM articles WHERE id = ? AND url <> ?",
                    (url, article_id, url),
                )

    def _note_feed_hash(self, article_id: int, feed_hash: str) -> None:
        if feed_hash:
            self._run(
                "UPDATE articles SET feed_hash = ? WHERE id = ? AND feed_hash <> ?",
                (feed_hash, article_id, feed_hash),
            )

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
        lowest = self._lowest.get(source)
        if lowest is None:
            lowest = int(self._one("SELECT lowest_id FROM sources WHERE slug = ?", (source,))[0])
        try:
            candidate = decide.next_countdown_id(lowest)
            while post_scheme and self._id_used(source, candidate):
                candidate = decide.next_countdown_id(candidate)
        except ValueError as exc:
            raise StorageError(f"{source}: no archive id left below {lowest}") from exc
        self._run("UPDATE sources SET lowest_id = ? WHERE slug = ?", (candidate, source))
        self._lowest[source] = candidate  # a rolled-back allocation only leaves a gap
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
            c.feed_hash,
        )
        try:
            cursor = self.db.execute(
                "INSERT INTO articles (source, archive_id, path, identity, guid, url, "
                "title_key, published_ms, date_missing, first_seen, feed_hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
        except sqlite3.IntegrityError as exc:
            raise StorageError(f"{path} belongs to another article; not overwritten") from exc
        except sqlite3.Error as exc:
            raise StorageError(f"database error ({self.path}): {exc}") from exc
        article_id = int(cursor.lastrowid or 0)
        self._add_version(article_id, c, now, seq=1)
        return article_id

    def _add_version(self, article_id: int, c: Candidate, now: str, seq: int = 0) -> int:
        """Add a version; ``seq`` 0 means the next one after the article's last. Its
        row id."""
        if not seq:
            seq = self._one(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM versions WHERE article_id = ?",
                (article_id,),
            )[0]
        feed_capture = self.save_capture(c.source, c.feed_capture) if c.feed_capture else None
        page_capture = self.save_capture(c.source, c.page_capture) if c.page_capture else None
        cursor = self._run(
            f"INSERT INTO versions ({VERSION_COLUMNS}, feed_capture, page_capture) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                c.method,
                c.content_url or c.feed_url,
                c.method_note,
                feed_capture,
                page_capture,
            ),
        )
        version_id = int(cursor.lastrowid or 0)
        self._run("UPDATE articles SET latest_version = ? WHERE id = ?", (version_id, article_id))
        self._index_version_row(article_id, version_id, c, seq == 1)  # the same transaction
        return version_id

    def import_file(self, item: ImportedFile, now: str) -> str:
        """Record an imported file by its path: "new", "changed" or "unchanged".

        Inside a caller's transaction it joins that one, without a savepoint of its own:
        a savepoint makes SQLite's full-text index write its pending terms out, a segment
        per file, which cost more than the rest of the import together."""
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
            method="import",
            index_tokens=item.index_tokens,
        )
        with self.transaction() if not self._depth else contextlib.nullcontext():
            self._ensure_source(item.source)
            row = self._one(
                "SELECT a.id, v.content_hash, v.raw_html, v.link, v.published_ms, v.title, "
                "v.file_form FROM articles a JOIN versions v ON v.id = a.latest_version "
                "WHERE a.path = ?",
                (item.path,),
            )
            if row is None:
                self._insert_imported(item, candidate, now)
                return "new"
            held = (item.raw_html, item.link, item.published_ms, item.title, item.file_form)
            if tuple(row[2:7]) == held:  # the file as it was: unchanged, however it cleans
                return "unchanged"
            self._set_form(self._add_version(int(row[0]), candidate, now), item.file_form)
            return "changed"

    def _set_form(self, version_id: int, file_form: str) -> None:
        if file_form:
            self._run("UPDATE versions SET file_form = ? WHERE id = ?", (file_form, version_id))

    def _insert_imported(self, item: ImportedFile, c: Candidate, now: str) -> int:
        twin = self._one(  # files of one id are articles of their own, each with its page
            "SELECT COUNT(*) FROM articles WHERE source = ? AND archive_id = ?",
            (item.source, item.archive_id),
        )[0]
        cursor = self._run(
            "INSERT INTO articles (source, archive_id, path, identity, guid, url, title_key, "
            "published_ms, date_missing, first_seen, twin) "
            "VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?)",
            (
                item.source,
                item.archive_id,
                item.path,
                item.identity,
                item.url,
                item.title_key,
                item.published_ms,
                int(item.date_missing),
                now,
                twin,
            ),
        )
        article_id = int(cursor.lastrowid or 0)
        self._set_form(self._add_version(article_id, c, now), item.file_form)
        if not self._post_scheme(item.source) and item.archive_id <= ID_CEILING:
            self._run(
                "UPDATE sources SET lowest_id = MIN(lowest_id, ?) WHERE slug = ?",
                (item.archive_id, item.source),
            )
            self._lowest.pop(item.source, None)
        return article_id

    def _post_scheme(self, source: str) -> bool:
        if source not in self._schemes:
            row = self._one("SELECT id_scheme FROM sources WHERE slug = ?", (source,))
            self._schemes[source] = str(row[0]) if row else "countdown"
        return self._schemes[source] == "post"
