"""Watching in the store: which revisits are due, every visit as it went, where each
article stands (live, edited, gone), and the edits and takedowns of a period; the rows
and the part of the storage Protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from newsmirror.types import ArticleStatus, Candidate, Capture, ChangeKind, VisitOutcome


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
    outcome: VisitOutcome  # what the visit found
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
    outcome: VisitOutcome
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

    kind: ChangeKind  # an edit, or a turn (gone, back)
    at: str  # ISO time it was found
    source: str  # source slug
    path: str  # the article's file
    url: str  # the article's URL
    title: str  # its latest title
    status: ArticleStatus  # where it stands now
    detail: str  # the visit's reason, or "version N (method)"


#: A visit's columns and a watch row's, as exported (in this order).
VISIT_COLUMNS = ("at", "url", "outcome", "http_status", "final_url", "reason")
WATCH_COLUMNS = (
    "status", "status_at", "last_visit", "next_visit", "failures", "page_hash", "page_title",
)  # fmt: skip


class WatchStore(Protocol):
    """Revisits: which are due, every visit as it went, where each article stands (live,
    edited, gone), and the edits and takedowns of a period. Times are ISO strings with
    their offset; they compare as text."""

    def watch_due(
        self, now: str, first_cut: str, first_cut_ms: int, span_ms: int, limit: int
    ) -> list[WatchTarget]:
        """Revisits due at ``now``, at most ``limit``, those planned first (the most
        recently due first), then articles never revisited (the newest first) whose
        schedule starts before the cut (``now`` less the schedule's first step, as ISO time
        ``first_cut`` and epoch ms ``first_cut_ms``): first stored before it, or published
        before it and more than ``span_ms`` before they were first stored. Only articles
        with an http(s) URL."""

    def watch_all(self) -> list[WatchTarget]:
        """Every archived article with an http(s) URL, newest first (``watch --now``)."""

    def next_planned_visit(self) -> str:
        """The earliest planned revisit (ISO time), "" when none is planned."""

    def first_unvisited(self) -> str:
        """The earliest time an article never revisited was first stored ("": none)."""

    def record_visit(self, target: WatchTarget, visit: VisitRecord) -> int | None:
        """Record a visit (with its capture), the version an edit adds, and where the
        article now stands, in one transaction; the new version's row id, or None. A
        visit that finds the article gone, or back, after it was not (an unreachable one
        decides nothing) is a turn: it dates the article's status."""

    def watch_state(self, article_id: int) -> WatchState | None:
        """Where an article stands, None when it was never revisited."""

    def visits_of(self, article_id: int) -> list[VisitRow]:
        """Every visit of an article, oldest first."""

    def changes(self, since: str, until: str, limit: int | None = None) -> list[ChangeRow]:
        """Edits (versions after the first, however found, except one that completes a
        stand-in for an unread page or comes from another feed of the source) and turns
        (visits that found an article gone, or back) found in [since, until), newest
        first, at most ``limit``."""
