"""What the static site and the Atom feeds read from the store: the rows and the part of
the storage Protocol."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from newsmirror.store.evidence import MediaRecord
from newsmirror.types import ChangeKind, Version


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
    fetched_at: datetime | None  # aware UTC time the latest version was stored (None: not known)
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


class SiteViews(Protocol):
    """What the static site and the Atom feeds read. An article's "order stored" is the
    order its first version was stored in; its page is named by :attr:`Listed.page`."""

    def site_newest(self, limit: int, source: str = "", text: bool = False) -> list[Listed]:
        """The newest articles by publication time (the later stored first among equals),
        of one source or all, at most ``limit``; with their clean HTML when ``text``."""

    def site_listing(
        self,
        limit: int,
        source: str = "",
        since_ms: int | None = None,
        until_ms: int | None = None,
        after: tuple[int, int] | None = None,
    ) -> list[Listed]:
        """One page of articles newest first, as :meth:`site_newest` orders them (by
        publication time, then the later stored first): of one source or all, published
        in [``since_ms``, ``until_ms``) (either bound may be None), at most ``limit``.
        ``after``: the (``published_ms``, ``article_id``) of the last article of the page
        before: this page starts with the article that follows it in that order (a cursor,
        so that articles stored meanwhile neither shift nor repeat what a reader pages
        through)."""

    def site_source_page(self, source: str, page: int, size: int) -> list[Listed]:
        """Page ``page`` (1: the first articles stored) of ``size`` of a source's articles
        in the order stored: new articles only ever change the last page."""

    def site_source_all(self, source: str) -> Iterator[Listed]:
        """Every article of a source in the order stored."""

    def site_source_counts(self) -> dict[str, int]:
        """Articles per source slug (sources without articles are not listed)."""

    def site_day(self, start_ms: int, end_ms: int) -> list[Listed]:
        """Articles published in [start_ms, end_ms), oldest first."""

    def site_days(self, within_ms: int | None = None) -> list[int]:
        """The publication time of every article (for the days that have a page), or of
        those published within ``within_ms`` of the newest."""

    def site_marks(self) -> tuple[int, int]:
        """The newest version and visit (ascending ids, 0 when none): a publish that starts
        now shows at least these."""

    def set_site_marks(self, prefix: str, marks: tuple[int, int]) -> None:
        """Record that the site under ``prefix`` shows every version and visit up to
        ``marks`` (see :meth:`site_marks`)."""

    def site_stale(self, prefix: str, force: bool = False) -> Iterator[Stale]:
        """Every article, in the order stored, whose page (recorded with
        ``mark_published`` under ``prefix`` + ``a/<source>/<page>.html``) does not hold its
        latest version in mode "site" (or "site gone" when the article is gone now), or
        every article with ``force``; with its place among all articles and among its
        source's. After :meth:`set_site_marks`, only articles with a version or a turn
        since the marks are looked at."""

    def site_times(self, version_ids: Sequence[int]) -> list[int]:
        """The publication times of these versions (the days their pages listed them)."""

    def site_search_all(self) -> Iterator[Listed]:
        """Every article in the order stored, with its latest clean HTML."""

    def site_search_docs(self, offset: int, limit: int) -> list[Listed]:
        """Articles ``offset`` to ``offset + limit`` in the order stored, with their latest
        clean HTML."""

    def site_gone(self, article_id: int) -> tuple[datetime | None, str] | None:
        """(when, why) an article was found gone (when: aware UTC, None when not known),
        None when it is not gone."""

    def site_turns(self, limit: int) -> list[tuple[Listed, ChangeKind, datetime | None, str]]:
        """The newest visits that found an article gone or back: (the article, GONE or
        BACK, when (aware UTC), why), at most ``limit``."""

    def site_edits(self, limit: int) -> list[tuple[Listed, Version]]:
        """The newest versions that edited an article upstream (see
        :meth:`~newsmirror.store.watching.WatchStore.changes`), at most ``limit``, each
        with the article as it was then (``versions`` holds the version's number)."""


class PageReads(Protocol):
    """What making a site page reads, in a worker process's read-only view of the store
    (:func:`newsmirror.store.open_page_reader`)."""

    def versions_of(self, article_id: int) -> tuple[Version, ...]:
        """Every version of an article, oldest first."""

    def media_for(self, url: str) -> MediaRecord | None:
        """The mirrored copy of an image URL, None when there is none."""

    def site_gone(self, article_id: int) -> tuple[datetime | None, str] | None:
        """(when, why) an article was found gone (when: aware UTC, None when not known),
        None when it is not gone."""

    def close(self) -> None:
        """Close the view."""
