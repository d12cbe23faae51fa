"""Reading the store: what to publish, articles with their versions, counts."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from newsmirror.store.base import ArticleRow, PublishRow, SourceStats, edit_sql
from newsmirror.types import Version
from newsmirror.urls import canonical_url

#: The columns of a version, in the order of the Version dataclass.
VERSION_COLUMNS = (
    "article_id, seq, fetched_at, feed_url, title, link, published_ms, raw_html, clean_html, "
    "content_hash, method, content_url, method_note"
)


class ReadMixin:
    """Queries for publishing and reading; mixed into SQLiteStore (which gives _run/_one)."""

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def db_executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    def _ensure_source(self, slug: str) -> None:
        raise NotImplementedError

    # -- publishing ------------------------------------------------------------------

    def publish_rows(self, mode: str, force: bool = False) -> Iterator[PublishRow]:
        """Articles whose file is not recorded as holding their latest version in ``mode``."""
        sql = (
            "SELECT a.id, a.source, a.path, v.id, v.title, v.link, v.published_ms, v.raw_html, "
            "v.clean_html, a.url, v.file_form FROM articles a "
            "JOIN versions v ON v.id = a.latest_version LEFT JOIN published p ON p.path = a.path"
        )
        if not force:
            sql += " WHERE p.path IS NULL OR p.version_id IS NOT v.id OR p.mode != ?"
        cursor = self._run(sql + " ORDER BY a.id", (mode,) if not force else ())
        for row in cursor:
            yield PublishRow(*row)

    def forget_missing(self, mode: str, exists: Callable[[str], bool]) -> int:
        """Mark article files recorded as up to date but missing (deleted, or the output
        folder moved) as unpublished, so the next publish writes them again."""
        rows = self._run(
            "SELECT p.path FROM published p JOIN articles a ON a.path = p.path "
            "WHERE p.version_id = a.latest_version AND p.mode = ?",
            (mode,),
        ).fetchall()
        missing = [(row[0],) for row in rows if not exists(row[0])]
        if missing:
            self.db_executemany("UPDATE published SET version_id = NULL WHERE path = ?", missing)
        return len(missing)

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
        """An article by "slug/id", path, canonical URL or guid (the newest stored, when
        several match)."""
        found = self.find_articles(ref)
        return found[-1] if found else None

    def find_articles(self, ref: str) -> list[ArticleRow]:
        """Every article a reference names, in the order stored: "slug/id" (all the
        files of that id; "slug/id-2" the second), a path, a URL (its own or an alias, as
        given or canonical) or a guid."""
        ref = ref.strip()
        url = canonical_url(ref) or ref
        queries: list[tuple[str, tuple[Any, ...]]] = [
            ("path = ?", (ref,)),
            ("url IN (?, ?)", (ref, url)),
            ("id IN (SELECT article_id FROM article_aliases WHERE url IN (?, ?))", (ref, url)),
            ("guid = ?", (ref,)),
        ]
        slug, _, number = ref.partition("/")
        file_id, dash, twin = number.partition("-")
        if file_id.isdigit() and not dash:
            queries.insert(0, ("source = ? AND archive_id = ?", (slug, int(file_id))))
        elif file_id.isdigit() and twin.isdigit() and int(twin) >= 2:
            queries.insert(
                0,
                ("source = ? AND archive_id = ? AND twin = ?", (slug, int(file_id), int(twin) - 1)),
            )
        for where, params in queries:
            rows = self._run(
                "SELECT id, source, archive_id, path, identity, guid, url, published_ms, "
                f"date_missing, first_seen, twin FROM articles WHERE {where} ORDER BY id",
                params,
            ).fetchall()
            if rows:
                return [
                    ArticleRow(
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
                        versions=self.versions_of(row[0]),
                        twin=row[10],
                    )
                    for row in rows
                ]
        return []

    def versions_of(self, article_id: int) -> tuple[Version, ...]:
        """Every version of an article, oldest first."""
        rows = self._run(
            f"SELECT {VERSION_COLUMNS} FROM versions WHERE article_id = ? ORDER BY seq",
            (article_id,),
        ).fetchall()
        return tuple(Version(*row) for row in rows)

    def stats(self) -> list[SourceStats]:
        """Counts per source."""
        rows = self._run(
            "SELECT s.slug, COUNT(a.id), COALESCE(SUM(vc.n), 0), "
            "COALESCE(SUM(vc.edits > 0), 0), COALESCE(MAX(a.published_ms), 0), s.lowest_id "
            "FROM sources s LEFT JOIN articles a ON a.source = s.slug "
            f"LEFT JOIN (SELECT article_id, COUNT(*) AS n, SUM({edit_sql('v')}) AS edits "
            "FROM versions v GROUP BY article_id) vc "
            "ON vc.article_id = a.id GROUP BY s.slug ORDER BY s.rowid"
        ).fetchall()
        return [SourceStats(*row) for row in rows]
