"""Watching in the store: which revisits are due, every visit as it went, where each
article stands (live, edited, gone), and the edits and takedowns of a period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from newsmirror.store.parts.articles import Articles
from newsmirror.store.parts.db import Db, Row
from newsmirror.store.parts.evidence import Evidence
from newsmirror.store.sql import edit_sql, edits_sql, marks, stand_in_sql
from newsmirror.store.watching import ChangeRow, VisitRecord, VisitRow, WatchState, WatchTarget
from newsmirror.types import ArticleStatus, ChangeKind, VisitOutcome

_TARGET = (
    "SELECT a.id, a.source, a.path, CASE WHEN v.link LIKE 'http%' THEN v.link ELSE a.url END "
    "AS url, v.title, v.method, v.content_hash, v.feed_url, v.link, a.published_ms, "
    "a.first_seen, CASE WHEN w.status = 'gone' THEN 1 ELSE 0 END AS gone, "
    "COALESCE(w.failures, 0) AS failures, "
    "COALESCE(w.page_hash, '') AS page_hash, COALESCE(w.page_title, '') AS page_title, "
    "{due} AS due, " + stand_in_sql("v") + " AS stand_in FROM articles a "
    "JOIN versions v ON v.id = a.latest_version LEFT JOIN watch w ON w.article_id = a.id "
)
#: An edit or a takedown (see :meth:`Watch.changes`): the columns of a ChangeRow, the
#: article's id, and whether it is gone now.
_CHANGE = (
    "{kind} AS kind, {at} AS at, a.source, a.path, a.url, lv.title, "
    "CASE WHEN w.status = 'gone' THEN 1 ELSE 0 END AS gone, {detail} AS detail, a.id AS article_id "
    "FROM {table} JOIN articles a ON a.id = {alias}.article_id "
    "JOIN versions lv ON lv.id = a.latest_version LEFT JOIN watch w ON w.article_id = a.id "
)
_WATCH_UPSERT = (
    "INSERT INTO watch (article_id, status, status_at, last_visit, next_visit, failures, "
    "page_hash, page_title) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (article_id) DO UPDATE SET status = excluded.status, "
    "status_at = CASE WHEN ? = 1 THEN excluded.status_at ELSE watch.status_at END, "
    "last_visit = excluded.last_visit, next_visit = excluded.next_visit, "
    "failures = excluded.failures, "
    "page_hash = CASE WHEN excluded.page_hash <> '' THEN excluded.page_hash "
    "ELSE watch.page_hash END, "
    "page_title = CASE WHEN excluded.page_hash <> '' THEN excluded.page_title "
    "ELSE watch.page_title END"
)


class Watch:
    """Revisits: what is due, and what they found."""

    def __init__(self, db: Db, evidence: Evidence, articles: Articles) -> None:
        self.db, self.evidence, self.articles = db, evidence, articles

    def watch_due(
        self, now: str, first_cut: str, first_cut_ms: int, span_ms: int, limit: int
    ) -> list[WatchTarget]:
        """Revisits due at ``now``, the most recently due first, at most ``limit``: those
        planned, and the first of articles never revisited whose schedule starts before
        the cut (``now`` less the schedule's first step, as ISO time and epoch ms): first
        stored before it, or published before it and more than ``span_ms`` before they
        were first stored (see :func:`newsmirror.watch.schedule_start`)."""
        planned = self.db.run(
            _TARGET.format(due="w.next_visit")
            + "WHERE w.next_visit <> '' AND w.next_visit <= ? ORDER BY w.next_visit DESC LIMIT ?",
            (now, limit),
        ).fetchall()
        fresh = self.db.run(
            _TARGET.format(due="''")
            + "WHERE w.article_id IS NULL AND (a.first_seen <= ? OR (a.published_ms <= ? AND "
            f"a.published_ms + ? < {self.db.dialect.epoch_seconds('a.first_seen')} * 1000)) "
            "ORDER BY a.id DESC LIMIT ?",
            (first_cut, first_cut_ms, span_ms, limit),
        ).fetchall()
        targets = [_target(row) for row in planned] + [_target(row) for row in fresh]
        return [t for t in targets if t.url.startswith(("http://", "https://"))][:limit]

    def watch_all(self) -> list[WatchTarget]:
        """Every archived article with a URL, newest first (``watch --now``)."""
        rows = self.db.run(_TARGET.format(due="''") + "ORDER BY a.id DESC")
        return [t for t in map(_target, rows) if t.url.startswith(("http://", "https://"))]

    def next_planned_visit(self) -> str:
        """The earliest planned revisit (ISO time), "" when none is planned."""
        row = self.db.single("SELECT MIN(next_visit) AS next FROM watch WHERE next_visit <> ''")
        return str(row["next"] or "")

    def first_unvisited(self) -> str:
        """The earliest time an article never revisited was first stored ("": none)."""
        row = self.db.single(
            "SELECT MIN(a.first_seen) AS first FROM articles a "
            "WHERE NOT EXISTS (SELECT 1 FROM watch w WHERE w.article_id = a.id)"
        )
        return "" if row["first"] is None else str(row["first"])

    def record_visit(self, target: WatchTarget, visit: VisitRecord) -> int | None:
        """Record a visit, the version an edit adds, and where the article now stands;
        one transaction. The new version's row id, or None."""
        with self.db.transaction():
            capture_id = None
            if visit.capture:
                capture_id = self.evidence.save_capture(target.source, visit.capture)
            version_id = None
            if visit.version is not None:
                version_id = self.articles.add_version(
                    target.article_id, visit.version, datetime.fromisoformat(visit.at)
                )
            turned = visit.gone != target.gone and visit.outcome is not VisitOutcome.UNREACHABLE
            self.db.run(
                "INSERT INTO visits (article_id, at, url, outcome, http_status, final_url, "
                "reason, turned, version_id, capture_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (target.article_id, visit.at, visit.url, visit.outcome, visit.http_status,
                 visit.final_url, visit.reason, int(turned), version_id, capture_id),
            )  # fmt: skip
            self.db.run(
                _WATCH_UPSERT,
                (target.article_id, ArticleStatus.GONE if visit.gone else ArticleStatus.LIVE,
                 visit.at if visit.gone or turned else "", visit.at, visit.next_visit,
                 visit.failures, visit.page_hash, visit.page_title, int(turned)),
            )  # fmt: skip
        return version_id

    def watch_state(self, article_id: int) -> WatchState | None:
        """Where an article stands, or None when it was never revisited."""
        row = self.db.one(
            "SELECT status, status_at, last_visit, next_visit FROM watch WHERE article_id = ?",
            (article_id,),
        )
        if row is None:
            return None
        return WatchState(
            gone=row["status"] == ArticleStatus.GONE,
            status_at=row["status_at"],
            last_visit=row["last_visit"],
            next_visit=row["next_visit"],
        )

    def visits_of(self, article_id: int) -> list[VisitRow]:
        """Every visit of an article, oldest first."""
        rows = self.db.run(
            "SELECT vi.at, vi.url, vi.outcome, vi.http_status, vi.final_url, vi.reason, "
            "ve.seq AS version_seq, vi.capture_id FROM visits vi "
            "LEFT JOIN versions ve ON ve.id = vi.version_id WHERE vi.article_id = ? "
            "ORDER BY vi.id",
            (article_id,),
        )
        return [
            VisitRow(
                at=row["at"],
                url=row["url"],
                outcome=VisitOutcome(row["outcome"]),
                http_status=row["http_status"],
                final_url=row["final_url"],
                reason=row["reason"],
                version_seq=row["version_seq"],
                capture_id=row["capture_id"],
            )
            for row in rows
        ]

    def changes(self, since: str, until: str, limit: int | None = None) -> list[ChangeRow]:
        """Edits (versions after the first, however found, except one that completes a
        stand-in for an unread page: see edit_sql) and takedowns (visits that found an
        article gone, or back) stored in [since, until), newest first."""
        edits = self.db.run(
            "SELECT "
            + _CHANGE.format(
                kind="'edited'",
                at="ve.fetched_at",
                detail="'version ' || ve.seq || ' (' || ve.method || ')'",
                table="versions ve",
                alias="ve",
            )
            + f"WHERE {edit_sql('ve')} AND ve.fetched_at >= ? AND ve.fetched_at < ? "
            "ORDER BY ve.fetched_at DESC LIMIT ?",
            (since, until, self.db.dialect.no_limit if limit is None else limit),
        ).fetchall()
        turns = self.db.run(
            "SELECT "
            + _CHANGE.format(
                kind="CASE WHEN vi.outcome = 'gone' THEN 'gone' ELSE 'back' END",
                at="vi.at",
                detail="vi.reason",
                table="visits vi",
                alias="vi",
            )
            + "WHERE vi.turned = 1 AND vi.at >= ? AND vi.at < ? ORDER BY vi.at DESC LIMIT ?",
            (since, until, self.db.dialect.no_limit if limit is None else limit),
        ).fetchall()
        rows = sorted(edits + turns, key=lambda r: (r["at"], r["article_id"]), reverse=True)
        counts = self._edit_counts([int(r["article_id"]) for r in rows])
        changes = [_change(r, counts.get(r["article_id"], 0)) for r in rows]
        return changes if limit is None else changes[:limit]

    def _edit_counts(self, article_ids: Sequence[int]) -> dict[int, int]:
        """How many times each of these articles was edited upstream."""
        counts: dict[int, int] = {}
        ids = sorted(set(article_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self.db.run(
                f"SELECT article_id, CAST(SUM({edits_sql('v')}) AS BIGINT) AS edits "
                f"FROM versions v WHERE article_id IN ({marks(len(chunk))}) GROUP BY article_id",
                chunk,
            )
            counts.update((int(r["article_id"]), int(r["edits"])) for r in rows)
        return counts


def _change(row: Row, edits: int) -> ChangeRow:
    """A change from a row of :data:`_CHANGE`'s columns (``edits``: its article's)."""
    return ChangeRow(
        kind=ChangeKind(row["kind"]),
        at=row["at"],
        source=row["source"],
        path=row["path"],
        url=row["url"],
        title=row["title"],
        status=ArticleStatus.shown(bool(row["gone"]), edits),
        detail=row["detail"],
    )


def _target(row: Row) -> WatchTarget:
    return WatchTarget(
        article_id=row["id"],
        source=row["source"],
        path=row["path"],
        url=row["url"] or "",
        title=row["title"],
        method=row["method"],
        content_hash=row["content_hash"],
        feed_url=row["feed_url"],
        link=row["link"],
        published_ms=row["published_ms"],
        first_seen=row["first_seen"],
        gone=bool(row["gone"]),
        failures=int(row["failures"]),
        page_hash=row["page_hash"],
        page_title=row["page_title"],
        due=row["due"] or "",
        stand_in=bool(row["stand_in"]),
    )
