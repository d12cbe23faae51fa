"""Watching in the store: which revisits are due, every visit as it went, where each
article stands (live, edited, gone), and the edits and takedowns of a period."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from newsmirror.store.base import edit_sql, stand_in_sql
from newsmirror.types import Candidate, Capture


@dataclass(frozen=True)
class WatchTarget:
    """An archived article to revisit, with what the visit compares against."""

    article_id: int  # row id
    source: str  # source slug
    path: str  # its file, "articles/rfi/1048574.md"
    url: str  # the page to revisit
    title: str  # the latest version's title
    method: str  # how the latest version's content was obtained
    content_hash: str  # the latest version's content hash
    feed_url: str  # the feed the latest version came from
    link: str  # the latest version's link
    published_ms: int  # publication time
    first_seen: str  # ISO time it was first stored
    gone: bool  # the last visit that could check found it gone
    failures: int  # unreachable visits in a row
    page_hash: str  # the page's extracted content as last seen ("" never seen)
    page_title: str  # the page's title as last seen
    due: str  # ISO time the visit was due ("" when revisited on demand)
    stand_in: bool = False  # the feed's content stands in for a page never read


@dataclass(frozen=True)
class VisitRecord:
    """One revisit to record."""

    at: str  # ISO time
    url: str  # the URL revisited
    outcome: str  # unchanged, edited, gone or unreachable
    http_status: int  # 0 when no answer came
    final_url: str  # where redirects ended
    reason: str  # what the outcome rests on
    gone: bool  # the article is gone after this visit
    failures: int  # unreachable visits in a row after this one
    next_visit: str  # ISO time of the next visit ("" for none)
    page_hash: str  # the page's content as seen now ("" when not seen)
    page_title: str  # the page's title as seen now
    capture: Capture | None  # the page as fetched
    version: Candidate | None  # the new version an edit adds


@dataclass(frozen=True)
class VisitRow:
    """A recorded visit, as read back."""

    at: str
    url: str
    outcome: str
    http_status: int
    final_url: str
    reason: str
    version_seq: int | None  # the version an edit added
    capture_id: int | None  # the page as fetched


@dataclass(frozen=True)
class WatchState:
    """Where one article stands."""

    gone: bool  # taken down (as last seen)
    status_at: str  # ISO time of the visit that found it gone, or back
    last_visit: str  # ISO time of the latest visit ("" never)
    next_visit: str  # ISO time of the next one ("" none planned)


@dataclass(frozen=True)
class ChangeRow:
    """An edit or a takedown of a period, for reports and feeds."""

    kind: str  # "edited", "gone" or "back"
    at: str  # ISO time it was found
    source: str  # source slug
    path: str  # the article's file
    url: str  # the article's URL
    title: str  # its latest title
    status: str  # where it stands now: live, edited or gone
    detail: str  # the visit's reason, or "version N (method)"


#: A visit's columns and a watch row's, as exported (in this order).
VISIT_COLUMNS = ("at", "url", "outcome", "http_status", "final_url", "reason")
WATCH_COLUMNS = (
    "status", "status_at", "last_visit", "next_visit", "failures", "page_hash", "page_title",
)  # fmt: skip

_TARGET = (
    "SELECT a.id, a.source, a.path, CASE WHEN v.link LIKE 'http%' THEN v.link ELSE a.url END, "
    "v.title, v.method, v.content_hash, v.feed_url, v.link, a.published_ms, a.first_seen, "
    "COALESCE(w.status = 'gone', 0), COALESCE(w.failures, 0), COALESCE(w.page_hash, ''), "
    "COALESCE(w.page_title, ''), {due}, " + stand_in_sql("v") + " FROM articles a "
    "JOIN versions v ON v.id = a.latest_version LEFT JOIN watch w ON w.article_id = a.id "
)


class WatchMixin:
    """Revisits in the store; mixed into SQLiteStore (which gives _run/_one and more)."""

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def save_capture(self, source: str, capture: Capture) -> int:
        raise NotImplementedError

    def _add_version(self, article_id: int, c: Candidate, now: str, seq: int = 0) -> int:
        raise NotImplementedError

    def watch_due(
        self, now: str, first_cut: str, first_cut_ms: int, span_ms: int, limit: int
    ) -> list[WatchTarget]:
        """Revisits due at ``now``, the most recently due first, at most ``limit``: those
        planned, and the first of articles never revisited whose schedule starts before
        the cut (``now`` less the schedule's first step, as ISO time and epoch ms): first
        stored before it, or published before it and more than ``span_ms`` before they
        were first stored (see :func:`newsmirror.watch.schedule_start`)."""
        planned = self._run(
            _TARGET.format(due="w.next_visit")
            + "WHERE w.next_visit <> '' AND w.next_visit <= ? ORDER BY w.next_visit DESC LIMIT ?",
            (now, limit),
        ).fetchall()
        fresh = self._run(
            _TARGET.format(due="''")
            + "WHERE w.article_id IS NULL AND (a.first_seen <= ? OR (a.published_ms <= ? AND "
            "a.published_ms + ? < CAST(strftime('%s', a.first_seen) AS INTEGER) * 1000)) "
            "ORDER BY a.id DESC LIMIT ?",
            (first_cut, first_cut_ms, span_ms, limit),
        ).fetchall()
        targets = [_target(row) for row in planned] + [_target(row) for row in fresh]
        return [t for t in targets if t.url.startswith(("http://", "https://"))][:limit]

    def watch_all(self) -> list[WatchTarget]:
        """Every archived article with a URL, newest first (``watch --now``)."""
        rows = self._run(_TARGET.format(due="''") + "ORDER BY a.id DESC").fetchall()
        return [t for t in map(_target, rows) if t.url.startswith(("http://", "https://"))]

    def next_planned_visit(self) -> str:
        """The earliest planned revisit (ISO time), "" when none is planned."""
        row = self._one("SELECT MIN(next_visit) FROM watch WHERE next_visit <> ''")
        return str(row[0] or "")

    def first_unvisited(self) -> str:
        """The earliest time an article never revisited was first stored ("": none)."""
        row = self._one(
            "SELECT MIN(a.first_seen) FROM articles a "
            "WHERE NOT EXISTS (SELECT 1 FROM watch w WHERE w.article_id = a.id)"
        )
        return "" if row is None or row[0] is None else str(row[0])

    def record_visit(self, target: WatchTarget, visit: VisitRecord) -> int | None:
        """Record a visit, the version an edit adds, and where the article now stands;
        one transaction. The new version's row id, or None."""
        with self.transaction():
            capture_id = self.save_capture(target.source, visit.capture) if visit.capture else None
            version_id = None
            if visit.version is not None:
                version_id = self._add_version(target.article_id, visit.version, visit.at)
            turned = visit.gone != target.gone and visit.outcome != "unreachable"
            self._run(
                "INSERT INTO visits (article_id, at, url, outcome, http_status, final_url, "
                "reason, turned, version_id, capture_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    target.article_id,
                    visit.at,
                    visit.url,
                    visit.outcome,
                    visit.http_status,
                    visit.final_url,
                    visit.reason,
                    int(turned),
                    version_id,
                    capture_id,
                ),
            )
            self._run(
                "INSERT INTO watch (article_id, status, status_at, last_visit, next_visit, "
                "failures, page_hash, page_title) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (article_id) DO UPDATE SET status = excluded.status, "
                "status_at = CASE WHEN ? THEN excluded.status_at ELSE watch.status_at END, "
                "last_visit = excluded.last_visit, next_visit = excluded.next_visit, "
                "failures = excluded.failures, "
                "page_hash = CASE WHEN excluded.page_hash <> '' THEN excluded.page_hash "
                "ELSE watch.page_hash END, "
                "page_title = CASE WHEN excluded.page_hash <> '' THEN excluded.page_title "
                "ELSE watch.page_title END",
                (
                    target.article_id,
                    "gone" if visit.gone else "live",
                    visit.at if visit.gone or turned else "",
                    visit.at,
                    visit.next_visit,
                    visit.failures,
                    visit.page_hash,
                    visit.page_title,
                    int(turned),
                ),
            )
        return version_id

    def watch_state(self, article_id: int) -> WatchState | None:
        """Where an article stands, or None when it was never revisited."""
        row = self._one(
            "SELECT status, status_at, last_visit, next_visit FROM watch WHERE article_id = ?",
            (article_id,),
        )
        return None if row is None else WatchState(row[0] == "gone", row[1], row[2], row[3])

    def visits_of(self, article_id: int) -> list[VisitRow]:
        """Every visit of an article, oldest first."""
        rows = self._run(
            "SELECT vi.at, vi.url, vi.outcome, vi.http_status, vi.final_url, vi.reason, "
            "ve.seq, vi.capture_id FROM visits vi LEFT JOIN versions ve ON ve.id = vi.version_id "
            "WHERE vi.article_id = ? ORDER BY vi.id",
            (article_id,),
        ).fetchall()
        return [VisitRow(*row) for row in rows]

    def changes(self, since: str, until: str, limit: int | None = None) -> list[ChangeRow]:
        """Edits (versions after the first, however found, except one that completes a
        stand-in for an unread page: see edit_sql) and takedowns (visits that found an
        article gone, or back) stored in [since, until), newest first."""
        edits = self._run(
            "SELECT 'edited', ve.fetched_at, a.source, a.path, a.url, lv.title, "
            "COALESCE(w.status = 'gone', 0), 'version ' || ve.seq || ' (' || ve.method || ')', "
            "a.id FROM versions ve JOIN articles a ON a.id = ve.article_id "
            "JOIN versions lv ON lv.id = a.latest_version "
            "LEFT JOIN watch w ON w.article_id = a.id "
            f"WHERE {edit_sql('ve')} AND ve.fetched_at >= ? AND ve.fetched_at < ? "
            "ORDER BY ve.fetched_at DESC LIMIT ?",
            (since, until, -1 if limit is None else limit),
        ).fetchall()
        turns = self._run(
            "SELECT CASE WHEN vi.outcome = 'gone' THEN 'gone' ELSE 'back' END, vi.at, "
            "a.source, a.path, a.url, lv.title, COALESCE(w.status = 'gone', 0), vi.reason, a.id "
            "FROM visits vi JOIN articles a ON a.id = vi.article_id "
            "JOIN versions lv ON lv.id = a.latest_version "
            "LEFT JOIN watch w ON w.article_id = a.id "
            "WHERE vi.turned = 1 AND vi.at >= ? AND vi.at < ? ORDER BY vi.at DESC LIMIT ?",
            (since, until, -1 if limit is None else limit),
        ).fetchall()
        rows = sorted(edits + turns, key=lambda r: (r[1], r[8]), reverse=True)
        counts = self._edit_counts([int(r[8]) for r in rows])
        changes = [
            ChangeRow(
                kind=r[0],
                at=r[1],
                source=r[2],
                path=r[3],
                url=r[4],
                title=r[5],
                status="gone" if r[6] else "edited" if counts.get(r[8], 0) else "live",
                detail=r[7],
            )
            for r in rows
        ]
        return changes if limit is None else changes[:limit]

    def export_visits(self, refs: dict[int, int]) -> Iterator[dict[str, Any]]:
        """Every visit, then every watched article's standing, as export records (a
        visit names its article by path, the version an edit added by its number, and
        its capture by ``refs``, the export's capture numbers)."""
        rows = self._run(
            f"SELECT a.path, {', '.join('vi.' + c for c in VISIT_COLUMNS)}, vi.turned, ve.seq, "
            "vi.capture_id FROM visits vi JOIN articles a ON a.id = vi.article_id "
            "LEFT JOIN versions ve ON ve.id = vi.version_id ORDER BY vi.id"
        )
        for row in rows:
            record = {
                "type": "visit",
                "article": row[0],
                **dict(zip(VISIT_COLUMNS, row[1:7], strict=True)),
            }
            record["turned"] = bool(row[7])
            record["version"] = row[8]
            record["capture"] = refs.get(row[9]) if row[9] is not None else None
            yield record
        rows = self._run(
            f"SELECT a.path, {', '.join('w.' + c for c in WATCH_COLUMNS)} FROM watch w "
            "JOIN articles a ON a.id = w.article_id ORDER BY w.article_id"
        )
        for row in rows:
            yield {
                "type": "watch",
                "article": row[0],
                **dict(zip(WATCH_COLUMNS, row[1:], strict=True)),
            }

    def article_id_of(self, path: str) -> int:
        """The row id of the article at ``path``; ValueError when there is none."""
        row = self._one("SELECT id FROM articles WHERE path = ?", (path,))
        if row is None:
            raise ValueError(f"no article {path} (it comes before its visits)")
        return int(row[0])

    def import_visit(self, record: dict[str, Any], captures: dict[int, int]) -> bool:
        """Add an exported visit (``captures``: the export's capture numbers → rows),
        unless the same one (article, time, URL, outcome) is held; whether it was
        added."""
        article_id = self.article_id_of(record["article"])
        held = self._one(
            "SELECT 1 FROM visits WHERE article_id = ? AND at = ? AND url = ? AND outcome = ?",
            (article_id, record["at"], record["url"], record["outcome"]),
        )
        if held is not None:
            return False
        version_id = None
        if record["version"] is not None:
            found = self._one(
                "SELECT id FROM versions WHERE article_id = ? AND seq = ?",
                (article_id, record["version"]),
            )
            if found is None:
                raise ValueError(f"{record['article']} has no version {record['version']}")
            version_id = int(found[0])
        capture = captures.get(record["capture"]) if record["capture"] else None
        self._run(
            f"INSERT INTO visits (article_id, {', '.join(VISIT_COLUMNS)}, turned, version_id, "
            f"capture_id) VALUES ({', '.join('?' * (len(VISIT_COLUMNS) + 4))})",
            [
                article_id,
                *(record[c] for c in VISIT_COLUMNS),
                int(record["turned"]),
                version_id,
                capture,
            ],
        )
        return True

    def _edit_counts(self, article_ids: Sequence[int]) -> dict[int, int]:
        """How many times each of these articles was edited upstream."""
        counts: dict[int, int] = {}
        ids = sorted(set(article_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self._run(
                f"SELECT article_id, SUM({edit_sql('v')}) FROM versions v WHERE article_id IN "
                f"({', '.join('?' * len(chunk))}) GROUP BY article_id",
                chunk,
            )
            counts.update((int(a), int(n)) for a, n in rows)
        return counts


def _target(row: Sequence[Any]) -> WatchTarget:
    return WatchTarget(
        article_id=row[0],
        source=row[1],
        path=row[2],
        url=row[3] or "",
        title=row[4],
        method=row[5],
        content_hash=row[6],
        feed_url=row[7],
        link=row[8],
        published_ms=row[9],
        first_seen=row[10],
        gone=bool(row[11]),
        failures=int(row[12]),
        page_hash=row[13],
        page_title=row[14],
        due=row[15] or "",
        stand_in=bool(row[16]),
    )
