"""What the static site and the Atom feeds read from the store."""

from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from newsmirror.store.base import edit_sql, page_sql
from newsmirror.store.reading import VERSION_COLUMNS
from newsmirror.types import Version


def site_key(root: str) -> str:
    """The prefix of a site folder's pages in the published table: each folder a site is
    published to keeps its own record of what it holds."""
    return f"site:{root}/"


@dataclass(frozen=True)
class Listed:
    """An article as a list shows it."""

    article_id: int  # row id
    source: str  # source slug
    page: str  # its page's name: a/<source>/<page>.html (the file id, "<id>-2" for a twin)
    title: str  # latest title
    published_ms: int  # latest publication time
    versions: int  # how many versions
    text: str  # latest clean HTML (for feeds; "" where a list does not need it)
    link: str  # the original article's link
    fetched_at: str  # when the latest version was stored (ISO)
    path: str = ""  # its markdown file, "articles/rfi/1048574.md" (where a list needs it)
    edits: int = 0  # times edited upstream (see edit_sql), where a list needs it


@dataclass(frozen=True)
class Stale:
    """An article whose page is to be written."""

    article_id: int  # row id
    source: str  # source slug
    page: str  # its page's name: a/<source>/<page>.html
    version_id: int  # its latest version
    rank: int  # articles stored before it (0 for the first)
    source_rank: int  # articles of its source stored before it
    shown: int | None = None  # the version its page shows now (None: no page yet)


class SiteMixin:
    """Queries for the static site; mixed into SQLiteStore (which gives _run/_one)."""

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _listed(self, where: str, params: Sequence[Any], tail: str, text: bool) -> list[Listed]:
        content = "v.clean_html" if text else "''"
        rows = self._run(
            f"SELECT a.id, a.source, {page_sql('a')}, v.title, v.published_ms, "
            f"(SELECT COUNT(*) FROM versions w WHERE w.article_id = a.id), {content}, v.link, "
            f"v.fetched_at, a.path, (SELECT COALESCE(SUM({edit_sql('w')}), 0) FROM versions w "
            "WHERE w.article_id = a.id) "
            f"FROM articles a JOIN versions v ON v.id = a.latest_version {where} {tail}",
            params,
        )
        return [Listed(*row) for row in rows]

    def site_newest(self, limit: int, source: str = "", text: bool = False) -> list[Listed]:
        """The newest articles (by publication time), of one source or all."""
        where, params = ("WHERE a.source = ?", [source]) if source else ("", [])
        return self._listed(
            where, [*params, limit], "ORDER BY a.published_ms DESC, a.id DESC LIMIT ?", text
        )

    def site_source_page(self, source: str, page: int, size: int) -> list[Listed]:
        """Page ``page`` (1: the first articles stored) of a source's articles in the order
        they were first stored: new articles only ever change the last page."""
        first = self._one(  # found in the index alone, without reading the rows skipped
            "SELECT id FROM articles WHERE source = ? ORDER BY id LIMIT 1 OFFSET ?",
            (source, (page - 1) * size),
        )
        if first is None:
            return []
        tail = "ORDER BY a.id LIMIT ?"
        return self._listed(
            "WHERE a.source = ? AND a.id >= ?", [source, first[0], size], tail, False
        )

    def site_source_all(self, source: str) -> Iterator[Listed]:
        """Every article of a source in the order they were stored."""
        yield from self._listed("WHERE a.source = ?", [source], "ORDER BY a.id", False)

    def site_source_counts(self) -> dict[str, int]:
        """Articles per source slug."""
        rows = self._run("SELECT source, COUNT(*) FROM articles GROUP BY source")
        return {str(slug): int(n) for slug, n in rows}

    def site_day(self, start_ms: int, end_ms: int) -> list[Listed]:
        """Articles published in [start, end), oldest first."""
        return self._listed(
            "WHERE a.published_ms >= ? AND a.published_ms < ?",
            [start_ms, end_ms],
            "ORDER BY a.published_ms, a.id",
            False,
        )

    def site_days(self, within_ms: int | None = None) -> list[int]:
        """The publication time of every article (for the days that have a page), or of
        those within ``within_ms`` of the newest."""
        where = "WHERE latest_version IS NOT NULL"
        params: list[int] = []
        if within_ms is not None:
            where += " AND published_ms >= (SELECT MAX(published_ms) FROM articles) - ?"
            params.append(within_ms)
        return [int(r[0]) for r in self._run(f"SELECT published_ms FROM articles {where}", params)]

    def site_marks(self) -> tuple[int, int]:
        """The newest version and visit (row ids): a publish that starts now shows at
        least these."""
        row = self._one("SELECT (SELECT MAX(id) FROM versions), (SELECT MAX(id) FROM visits)")
        return int(row[0] or 0), int(row[1] or 0)

    def set_site_marks(self, prefix: str, marks: tuple[int, int]) -> None:
        """Record that the site under ``prefix`` shows every version and visit up to
        ``marks`` (see :meth:`site_marks`)."""
        self._run(
            "INSERT INTO site_marks (site, version_mark, visit_mark) VALUES (?, ?, ?) "
            "ON CONFLICT (site) DO UPDATE SET version_mark = excluded.version_mark, "
            "visit_mark = excluded.visit_mark",
            (prefix, *marks),
        )

    def site_stale(self, prefix: str, force: bool = False) -> Iterator[Stale]:
        """Every article whose page (recorded under ``prefix``) does not hold its latest
        version, or does not say whether it is gone as it is now (every article with
        ``force``), with its place among all articles and among its source's.

        After a publish recorded its marks, only the articles with a version or a
        takedown (or return) since are looked at; else every article, in one pass."""
        mark = None if force else self._one(
            "SELECT version_mark, visit_mark FROM site_marks WHERE site = ?", (prefix,)
        )  # fmt: skip
        if mark is None:
            yield from self._stale_everywhere(prefix, force)
            return
        changed = sorted(
            int(r[0])
            for r in self._run(
                "SELECT id FROM articles WHERE latest_version > ? UNION "
                "SELECT article_id FROM visits WHERE id > ? AND turned = 1",
                (int(mark[0]), int(mark[1])),
            )
        )
        if not changed:
            return
        every = [int(r[0]) for r in self._run("SELECT id FROM articles ORDER BY id")]
        by_source: dict[str, list[int]] = {}
        gone = {int(r[0]) for r in self._run("SELECT article_id FROM watch WHERE status = 'gone'")}
        for article_id in changed:
            row = self._one(
                f"SELECT source, {page_sql('articles')}, latest_version FROM articles WHERE id = ?",
                (article_id,),
            )
            if row is None or row[2] is None:
                continue
            source, name, latest = str(row[0]), str(row[1]), int(row[2])
            page = self._one(
                "SELECT version_id, mode FROM published WHERE path = ?",
                (f"{prefix}a/{source}/{name}.html",),
            )
            if _current(page, latest, article_id in gone):
                continue
            if source not in by_source:
                by_source[source] = [
                    int(r[0])
                    for r in self._run(
                        "SELECT id FROM articles WHERE source = ? ORDER BY id", (source,)
                    )
                ]
            rank = bisect.bisect_left(every, article_id)
            source_rank = bisect.bisect_left(by_source[source], article_id)
            shown = int(page[0]) if page and page[0] is not None else None
            yield Stale(article_id, source, name, latest, rank, source_rank, shown)

    def _stale_everywhere(self, prefix: str, force: bool) -> Iterator[Stale]:
        """site_stale() by one pass over every article, the page records read in one
        range (all of them with ``force``)."""
        pages = prefix + "a/"
        held: dict[str, tuple[int | None, str]] = {}
        if not force:
            rows = self._run(
                "SELECT path, version_id, mode FROM published WHERE path >= ? AND path < ?",
                (pages, prefix + "a0"),  # "0" follows "/": every page under a/
            )
            held = {str(path): (version, str(mode)) for path, version, mode in rows}
        gone = {int(r[0]) for r in self._run("SELECT article_id FROM watch WHERE status = 'gone'")}
        before: dict[str, int] = {}  # articles of each source met so far
        rows = self._run(
            f"SELECT id, source, {page_sql('articles')}, latest_version FROM articles ORDER BY id"
        )
        for rank, (article_id, source, name, latest) in enumerate(rows):
            source_rank = before.get(source, 0)
            before[source] = source_rank + 1
            if latest is None:
                continue
            page = held.get(f"{pages}{source}/{name}.html")
            if not force and _current(page, latest, article_id in gone):
                continue
            shown = page[0] if page else None
            yield Stale(article_id, source, name, latest, rank, source_rank, shown)

    def site_times(self, version_ids: Sequence[int]) -> list[int]:
        """The publication times of these versions (the days their pages listed them)."""
        found = []
        for start in range(0, len(version_ids), 500):
            chunk = list(version_ids[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            rows = self._run(f"SELECT published_ms FROM versions WHERE id IN ({marks})", chunk)
            found += [int(row[0]) for row in rows]
        return found

    def site_search_all(self) -> Iterator[Listed]:
        """Every article in the order stored, with its latest content."""
        cursor = self._run(
            f"SELECT a.id, a.source, {page_sql('a')}, v.title, v.published_ms, 0, v.clean_html, "
            "v.link, v.fetched_at FROM articles a JOIN versions v ON v.id = a.latest_version "
            "ORDER BY a.id"
        )
        for row in cursor:
            yield Listed(*row)

    def site_search_docs(self, offset: int, limit: int) -> list[Listed]:
        """Articles in the order they were stored, with their latest content."""
        first = self._one("SELECT id FROM articles ORDER BY id LIMIT 1 OFFSET ?", (offset,))
        if first is None:
            return []
        return self._listed("WHERE a.id >= ?", [first[0], limit], "ORDER BY a.id LIMIT ?", True)

    def site_gone(self, article_id: int) -> tuple[str, str] | None:
        """(when, why) an article was found gone, or None when it is not."""
        row = self._one(
            "SELECT w.status_at, COALESCE((SELECT reason FROM visits v WHERE v.article_id = "
            "w.article_id AND v.turned = 1 ORDER BY v.id DESC LIMIT 1), '') FROM watch w "
            "WHERE w.article_id = ? AND w.status = 'gone'",
            (article_id,),
        )
        return None if row is None else (str(row[0]), str(row[1]))

    def site_turns(self, limit: int) -> list[tuple[Listed, str, str, str]]:
        """The newest visits that found an article gone or back: (article, "gone" or
        "back", when, why)."""
        rows = self._run(
            f"SELECT a.id, a.source, {page_sql('a')}, v.title, v.published_ms, 0, '', v.link, "
            "vi.at, a.path, vi.outcome, vi.reason FROM visits vi "
            "JOIN articles a ON a.id = vi.article_id JOIN versions v ON v.id = a.latest_version "
            "WHERE vi.turned = 1 ORDER BY vi.at DESC, vi.id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            (Listed(*row[:10]), "gone" if row[10] == "gone" else "back", row[8], row[11])
            for row in rows
        ]

    def site_edits(self, limit: int) -> list[tuple[Listed, Version]]:
        """The newest versions that edited an article upstream (its second and later
        ones, except one that completes a stand-in for an unread page: see edit_sql)."""
        rows = self._run(
            f"SELECT v.id, a.id, a.source, {page_sql('a')}, {_prefixed(VERSION_COLUMNS)} "
            f"FROM versions v JOIN articles a ON a.id = v.article_id WHERE {edit_sql('v')} "
            "ORDER BY v.fetched_at DESC, v.id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        found = []
        for row in rows:
            version = Version(*row[4:])
            listed = Listed(
                row[1], row[2], row[3], version.title, version.published_ms, version.seq,
                version.clean_html, version.link, version.fetched_at,
            )  # fmt: skip
            found.append((listed, version))
        return found


def _prefixed(columns: str) -> str:
    return ", ".join(f"v.{c.strip()}" for c in columns.split(","))


def _current(page: Sequence[Any] | None, latest: int, gone: bool) -> bool:
    """Whether an article page's record (version, mode) says it shows the latest version
    and whether the article is gone."""
    return page is not None and page[0] == latest and page[1] == ("site gone" if gone else "site")
