"""What the static site and the Atom feeds read from the store."""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from newsmirror.store.parts.db import Db, Row
from newsmirror.store.siteviews import Listed, Stale
from newsmirror.store.sql import (
    edit_sql,
    edits_sql,
    marks,
    moment,
    page_sql,
    version_columns,
    version_of,
)
from newsmirror.types import ChangeKind, Version, VisitOutcome


class PageRecord(NamedTuple):
    """A page's record in the published table."""

    path: str  # the page, under its site's prefix
    version_id: int | None  # the version it shows (None: unknown)
    mode: str  # "site", or "site gone" when it says the article was taken down


class _Article(NamedTuple):
    """An article as a pass over every page needs it."""

    id: int  # row id
    source: str  # source slug
    page: str  # its page's name
    latest_version: int | None  # its latest version (None: none yet)


_RECORD = "SELECT path, version_id, mode FROM published WHERE "


#: The columns of a list's article (named as the fields of Listed), with its clean HTML when
#: ``{text}`` is "v.clean_html" (else '').
_LISTED = (
    f"SELECT a.id AS article_id, a.source, {page_sql('a')} AS page, v.title, v.published_ms, "
    "(SELECT COUNT(*) FROM versions w WHERE w.article_id = a.id) AS versions, {text} AS text, "
    "v.link, v.fetched_at, a.path, "
    f"(SELECT CAST(COALESCE(SUM({edits_sql('w')}), 0) AS BIGINT) FROM versions w "
    "WHERE w.article_id = a.id) "
    "AS edits FROM articles a JOIN versions v ON v.id = a.latest_version "
)


class Site:
    """Queries for the static site."""

    def __init__(self, db: Db) -> None:
        self.db = db

    def _listed(self, where: str, params: Sequence[Any], tail: str, text: bool) -> list[Listed]:
        sql = _LISTED.format(text="v.clean_html" if text else "''")
        return list(self.db.rows(f"{sql}{where} {tail}", params, Listed))

    def site_newest(self, limit: int, source: str = "", text: bool = False) -> list[Listed]:
        """The newest articles (by publication time), of one source or all."""
        where, params = ("WHERE a.source = ?", [source]) if source else ("", [])
        return self._listed(
            where, [*params, limit], "ORDER BY a.published_ms DESC, a.id DESC LIMIT ?", text
        )

    def site_listing(
        self,
        limit: int,
        source: str = "",
        since_ms: int | None = None,
        until_ms: int | None = None,
        after: tuple[int, int] | None = None,
    ) -> list[Listed]:
        """A page of articles newest first, filtered, starting after a cursor."""
        terms: list[str] = []
        params: list[Any] = []
        if source:
            terms.append("a.source = ?")
            params.append(source)
        if since_ms is not None:
            terms.append("a.published_ms >= ?")
            params.append(since_ms)
        if until_ms is not None:
            terms.append("a.published_ms < ?")
            params.append(until_ms)
        if after is not None:  # the order's next: earlier, or as early and stored before
            terms.append("(a.published_ms < ? OR (a.published_ms = ? AND a.id < ?))")
            params += [after[0], after[0], after[1]]
        where = f"WHERE {' AND '.join(terms)}" if terms else ""
        tail = "ORDER BY a.published_ms DESC, a.id DESC LIMIT ?"
        return self._listed(where, [*params, limit], tail, False)

    def site_source_page(self, source: str, page: int, size: int) -> list[Listed]:
        """Page ``page`` (1: the first articles stored) of a source's articles in the order
        they were first stored: new articles only ever change the last page."""
        first = self.db.one(  # found in the index alone, without reading the rows skipped
            "SELECT id FROM articles WHERE source = ? ORDER BY id LIMIT 1 OFFSET ?",
            (source, (page - 1) * size),
        )
        if first is None:
            return []
        where = "WHERE a.source = ? AND a.id >= ?"
        return self._listed(where, [source, first["id"], size], "ORDER BY a.id LIMIT ?", False)

    def site_source_all(self, source: str) -> Iterator[Listed]:
        """Every article of a source in the order they were stored."""
        yield from self._listed("WHERE a.source = ?", [source], "ORDER BY a.id", False)

    def site_source_counts(self) -> dict[str, int]:
        """Articles per source slug."""
        rows = self.db.run("SELECT source, COUNT(*) AS n FROM articles GROUP BY source")
        return {str(r["source"]): int(r["n"]) for r in rows}

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
        rows = self.db.run(f"SELECT published_ms FROM articles {where}", params)
        return [int(r["published_ms"]) for r in rows]

    def site_marks(self) -> tuple[int, int]:
        """The newest version and visit (row ids): a publish that starts now shows at
        least these."""
        row = self.db.single(
            "SELECT (SELECT MAX(id) FROM versions) AS version, (SELECT MAX(id) FROM visits) "
            "AS visit"
        )
        return int(row["version"] or 0), int(row["visit"] or 0)

    def set_site_marks(self, prefix: str, marks: tuple[int, int]) -> None:
        """Record that the site under ``prefix`` shows every version and visit up to
        ``marks`` (see :meth:`site_marks`)."""
        self.db.run(
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
        mark = None if force else self.db.one(
            "SELECT version_mark, visit_mark FROM site_marks WHERE site = ?", (prefix,)
        )  # fmt: skip
        if mark is None:
            yield from self._stale_everywhere(prefix, force)
            return
        changed = sorted(
            int(r["id"])
            for r in self.db.run(
                "SELECT id FROM articles WHERE latest_version > ? UNION "
                "SELECT article_id FROM visits WHERE id > ? AND turned = 1",
                (int(mark["version_mark"]), int(mark["visit_mark"])),
            )
        )
        if changed:
            yield from self._stale_among(prefix, changed)

    def _stale_among(self, prefix: str, changed: list[int]) -> Iterator[Stale]:
        """site_stale() of the articles ``changed`` (row ids, in order)."""
        every = self._ids("SELECT id FROM articles ORDER BY id")
        by_source: dict[str, list[int]] = {}
        gone = set(self._ids("SELECT article_id AS id FROM watch WHERE status = 'gone'"))
        for article_id in changed:
            row = self.db.one(
                f"SELECT source, {page_sql('articles')} AS page, latest_version FROM articles "
                "WHERE id = ?",
                (article_id,),
            )
            if row is None or row["latest_version"] is None:
                continue
            source, name, latest = str(row["source"]), str(row["page"]), int(row["latest_version"])
            page = self._page_record(f"{prefix}a/{source}/{name}.html")
            if _current(page, latest, article_id in gone):
                continue
            if source not in by_source:
                sql = "SELECT id FROM articles WHERE source = ? ORDER BY id"
                by_source[source] = self._ids(sql, (source,))
            rank = bisect.bisect_left(every, article_id)
            source_rank = bisect.bisect_left(by_source[source], article_id)
            shown = page.version_id if page else None
            yield Stale(article_id, source, name, latest, rank, source_rank, shown)

    def _ids(self, sql: str, params: Sequence[Any] = ()) -> list[int]:
        return [int(r["id"]) for r in self.db.run(sql, params)]

    def _page_record(self, path: str) -> PageRecord | None:
        return next(self.db.rows(_RECORD + "path = ?", (path,), PageRecord), None)

    def _stale_everywhere(self, prefix: str, force: bool) -> Iterator[Stale]:
        """site_stale() by one pass over every article, the page records read in one
        range (all of them with ``force``)."""
        pages = prefix + "a/"
        held: dict[str, PageRecord] = {}
        if not force:
            records = self.db.rows(
                _RECORD + "path >= ? AND path < ?",
                (pages, prefix + "a0"),  # "0" follows "/": every page under a/
                PageRecord,
            )
            held = {record.path: record for record in records}
        gone = set(self._ids("SELECT article_id AS id FROM watch WHERE status = 'gone'"))
        before: dict[str, int] = {}  # articles of each source met so far
        articles = self.db.rows(
            f"SELECT id, source, {page_sql('articles')} AS page, latest_version FROM articles "
            "ORDER BY id",
            (),
            _Article,
        )
        for rank, article in enumerate(articles):
            source, latest = article.source, article.latest_version
            source_rank = before.get(source, 0)
            before[source] = source_rank + 1
            if latest is None:
                continue
            page = held.get(f"{pages}{source}/{article.page}.html")
            if not force and _current(page, latest, article.id in gone):
                continue
            shown = page.version_id if page else None
            yield Stale(article.id, source, article.page, latest, rank, source_rank, shown)

    def site_times(self, version_ids: Sequence[int]) -> list[int]:
        """The publication times of these versions (the days their pages listed them)."""
        found = []
        for start in range(0, len(version_ids), 500):
            chunk = list(version_ids[start : start + 500])
            rows = self.db.run(
                f"SELECT published_ms FROM versions WHERE id IN ({marks(len(chunk))})", chunk
            )
            found += [int(row["published_ms"]) for row in rows]
        return found

    def site_search_all(self) -> Iterator[Listed]:
        """Every article in the order stored, with its latest content."""
        yield from self.db.rows(
            f"SELECT a.id AS article_id, a.source, {page_sql('a')} AS page, v.title, "
            "v.published_ms, 0 AS versions, v.clean_html AS text, v.link, v.fetched_at "
            "FROM articles a JOIN versions v ON v.id = a.latest_version ORDER BY a.id",
            (),
            Listed,
        )

    def site_search_docs(self, offset: int, limit: int) -> list[Listed]:
        """Articles in the order they were stored, with their latest content."""
        first = self.db.one("SELECT id FROM articles ORDER BY id LIMIT 1 OFFSET ?", (offset,))
        if first is None:
            return []
        return self._listed("WHERE a.id >= ?", [first["id"], limit], "ORDER BY a.id LIMIT ?", True)

    def site_gone(self, article_id: int) -> tuple[datetime | None, str] | None:
        """(when, why) an article was found gone, or None when it is not."""
        row = self.db.one(
            "SELECT w.status_at, COALESCE((SELECT reason FROM visits v WHERE v.article_id = "
            "w.article_id AND v.turned = 1 ORDER BY v.id DESC LIMIT 1), '') AS reason "
            "FROM watch w WHERE w.article_id = ? AND w.status = 'gone'",
            (article_id,),
        )
        return None if row is None else (moment(row["status_at"]), str(row["reason"]))

    def site_turns(self, limit: int) -> list[tuple[Listed, ChangeKind, datetime | None, str]]:
        """The newest visits that found an article gone or back: (article, GONE or
        BACK, when, why)."""
        rows = self.db.run(
            f"SELECT a.id AS article_id, a.source, {page_sql('a')} AS page, v.title, "
            "v.published_ms, 0 AS versions, '' AS text, v.link, vi.at AS fetched_at, a.path, "
            "0 AS edits, vi.outcome, vi.reason FROM visits vi "
            "JOIN articles a ON a.id = vi.article_id JOIN versions v ON v.id = a.latest_version "
            "WHERE vi.turned = 1 ORDER BY vi.at DESC, vi.id DESC LIMIT ?",
            (limit,),
        )
        return [
            (_listed_of(r),
             ChangeKind.GONE if r["outcome"] == VisitOutcome.GONE else ChangeKind.BACK,
             moment(r["fetched_at"]),
             r["reason"])
            for r in rows
        ]  # fmt: skip

    def site_edits(self, limit: int) -> list[tuple[Listed, Version]]:
        """The newest versions that edited an article upstream (its second and later
        ones, except one that completes a stand-in for an unread page: see edit_sql)."""
        rows = self.db.run(
            f"SELECT a.source, {page_sql('a')} AS page, {version_columns('v')} "
            f"FROM versions v JOIN articles a ON a.id = v.article_id WHERE {edit_sql('v')} "
            "ORDER BY v.fetched_at DESC, v.id DESC LIMIT ?",
            (limit,),
        )
        found = []
        for row in rows:
            version = version_of(row)
            listed = Listed(
                article_id=version.article_id,
                source=row["source"],
                page=row["page"],
                title=version.title,
                published_ms=version.published_ms,
                versions=version.seq,
                text=version.clean_html,
                link=version.link,
                fetched_at=version.fetched_at,
            )
            found.append((listed, version))
        return found


def _listed_of(row: Row) -> Listed:
    """A list's article from a row of :data:`_LISTED`'s columns."""
    return Listed(
        article_id=row["article_id"],
        source=row["source"],
        page=row["page"],
        title=row["title"],
        published_ms=row["published_ms"],
        versions=row["versions"],
        text=row["text"],
        link=row["link"],
        fetched_at=moment(row["fetched_at"]),
        path=row["path"],
        edits=row["edits"],
    )


def _current(page: PageRecord | None, latest: int, gone: bool) -> bool:
    """Whether an article page's record (version, mode) says it shows the latest version
    and whether the article is gone."""
    if page is None:
        return False
    return page.version_id == latest and page.mode == ("site gone" if gone else "site")
