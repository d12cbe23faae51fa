"""Reading the store: articles with their versions, counts, what the markdown
archive is to write, and the record of what it holds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from newsmirror.store.base import ArticleRow, PublishRow, SourceStats
from newsmirror.store.parts.db import Db
from newsmirror.store.sql import edits_sql, moment, version_columns
from newsmirror.types import Version
from newsmirror.urls import canonical_url

_ARTICLE = (
    "id, source, archive_id, path, identity, guid, url, published_ms, date_missing, "
    "first_seen, twin"
)


class Reading:
    """Queries for publishing and reading."""

    def __init__(self, db: Db) -> None:
        self.db = db

    # -- publishing ------------------------------------------------------------------

    def publish_rows(self, mode: str, force: bool = False) -> Iterator[PublishRow]:
        """Articles whose file is not recorded as holding their latest version in ``mode``."""
        sql = (
            "SELECT a.id AS article_id, a.source, a.path, v.id AS version_id, v.title, v.link, "
            "v.published_ms, v.raw_html, v.clean_html, a.url, v.file_form FROM articles a "
            "JOIN versions v ON v.id = a.latest_version LEFT JOIN published p ON p.path = a.path"
        )
        if not force:
            sql += (
                " WHERE p.path IS NULL OR p.version_id IS NULL OR p.version_id <> v.id"
                " OR p.mode != ?"
            )
        yield from self.db.rows(sql + " ORDER BY a.id", (mode,) if not force else (), PublishRow)

    def forget_missing(self, mode: str, exists: Callable[[str], bool]) -> int:
        """Mark article files recorded as up to date but missing (deleted, or the output
        folder moved) as unpublished, so the next publish writes them again."""
        rows = self.db.run(
            "SELECT p.path FROM published p JOIN articles a ON a.path = p.path "
            "WHERE p.version_id = a.latest_version AND p.mode = ?",
            (mode,),
        ).fetchall()
        missing = [(row["path"],) for row in rows if not exists(row["path"])]
        if missing:
            self.db.many("UPDATE published SET version_id = NULL WHERE path = ?", missing)
        return len(missing)

    def newest(self, source: str, limit: int) -> list[tuple[str, str, int]]:
        """(path, title, published_ms) of the source's newest articles, smallest id first."""
        rows = self.db.run(
            "SELECT a.path, v.title, v.published_ms FROM articles a "
            "JOIN versions v ON v.id = a.latest_version WHERE a.source = ? "
            "ORDER BY a.archive_id ASC, a.path ASC LIMIT ?",
            (source, limit),
        )
        return [(str(r["path"]), str(r["title"]), int(r["published_ms"])) for r in rows]

    def published_digest(self, path: str) -> str | None:
        """The digest recorded for a published file."""
        row = self.db.one("SELECT digest FROM published WHERE path = ?", (path,))
        return str(row["digest"]) if row else None

    def mark_published(self, path: str, digest: str, version_id: int | None, mode: str) -> None:
        """Record that ``path`` now holds these bytes."""
        self.db.run(
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
        for where, params in _lookups(ref.strip()):
            rows = self.db.run(
                f"SELECT {_ARTICLE} FROM articles WHERE {where} ORDER BY id", params
            ).fetchall()
            if rows:
                return [
                    ArticleRow(
                        id=row["id"],
                        source=row["source"],
                        archive_id=row["archive_id"],
                        path=row["path"],
                        identity=row["identity"],
                        guid=row["guid"],
                        url=row["url"],
                        published_ms=row["published_ms"],
                        date_missing=bool(row["date_missing"]),
                        first_seen=moment(row["first_seen"]),
                        versions=self.versions_of(row["id"]),
                        twin=row["twin"],
                    )
                    for row in rows
                ]
        return []

    def versions_of(self, article_id: int) -> tuple[Version, ...]:
        """Every version of an article, oldest first."""
        sql = f"SELECT {version_columns()} FROM versions WHERE article_id = ? ORDER BY seq"
        return tuple(self.db.rows(sql, (article_id,), Version))

    def stats(self) -> list[SourceStats]:
        """Counts per source."""
        order = "s." + self.db.dialect.stored_order("sources")
        rows = self.db.run(
            "SELECT s.slug AS source, COUNT(a.id) AS articles, "
            "CAST(COALESCE(SUM(vc.n), 0) AS BIGINT) AS versions, "
            "CAST(COALESCE(SUM(CASE WHEN vc.edits > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS edited, "
            "COALESCE(MAX(a.published_ms), 0) AS newest_ms, s.lowest_id "
            "FROM sources s LEFT JOIN articles a ON a.source = s.slug "
            f"LEFT JOIN (SELECT article_id, COUNT(*) AS n, SUM({edits_sql('v')}) AS edits "
            "FROM versions v GROUP BY article_id) vc "
            f"ON vc.article_id = a.id GROUP BY s.slug, {order} ORDER BY {order}"
        )
        return [SourceStats(**row) for row in rows]


def _lookups(ref: str) -> list[tuple[str, tuple[Any, ...]]]:
    """The WHERE clauses (with their parameters) that find what ``ref`` names, in the order
    they are tried."""
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
            0, ("source = ? AND archive_id = ? AND twin = ?", (slug, int(file_id), int(twin) - 1))
        )
    return queries
