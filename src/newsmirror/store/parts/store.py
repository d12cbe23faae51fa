"""The store made of its parts, each given the connection they share and the parts it
uses, and the :class:`~newsmirror.store.base.Store` interface over them: what every
backend is, given its connection and its search index."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from newsmirror.search.query import Query
from newsmirror.store.archivefiles import ArchiveFile, ListRow
from newsmirror.store.base import (
    ArticleRow,
    FeedResult,
    FeedState,
    ImportedFile,
    PublishRow,
    SearchResults,
    SourceStats,
)
from newsmirror.store.evidence import EvidenceStats, MediaRecord, StoredCapture
from newsmirror.store.feedmemory import StandIn
from newsmirror.store.parts.archivefiles import ArchiveFiles
from newsmirror.store.parts.articles import Articles
from newsmirror.store.parts.db import Db, Index
from newsmirror.store.parts.evidence import Evidence
from newsmirror.store.parts.export import Export
from newsmirror.store.parts.imports import Import
from newsmirror.store.parts.logs import Logs
from newsmirror.store.parts.memory import Memory
from newsmirror.store.parts.reading import Reading
from newsmirror.store.parts.site import Site
from newsmirror.store.parts.sources import Sources
from newsmirror.store.parts.watch import Watch
from newsmirror.store.portable import ImportCounts
from newsmirror.store.siteviews import Listed, Stale
from newsmirror.store.watching import ChangeRow, VisitRecord, VisitRow, WatchState, WatchTarget
from newsmirror.types import (
    Candidate,
    ChangeKind,
    MediaStatus,
    Source,
    StoreOutcome,
    StoreStatus,
    Version,
)


class PartsStore:
    """The store's parts over one connection (``db``) and the backend's search index
    (``index``, made over that connection). Not shared between threads: open one per
    thread.

    Each method below is its part's (documented in :mod:`newsmirror.store.base`)."""

    def __init__(self, db: Db, index: Index) -> None:
        """The parts over ``db``, keeping ``index`` (the backend's, over ``db``)."""
        self.connection = db
        self.sources = Sources(db)
        self.evidence = Evidence(db)
        self.index = index
        self.memory = Memory(db)
        self.articles = Articles(db, self.sources, self.evidence, self.index, self.memory)
        self.reading = Reading(db)
        self.logs = Logs(db, self.sources)
        self.site = Site(db)
        self.watch = Watch(db, self.evidence, self.articles)
        self.lists = ArchiveFiles(db)
        self.export = Export(db)
        self.imports = Import(db, self.sources, self.index)

    @property
    def path(self) -> str:
        return self.connection.path

    def close(self) -> None:
        self.connection.close()

    def transaction(self) -> AbstractContextManager[None]:
        return self.connection.transaction()

    # -- sources, articles and versions ---------------------------------------------------

    def sync_sources(self, sources: Sequence[Source]) -> None:
        self.sources.sync_sources(sources)

    def store_candidate(self, candidate: Candidate, now: datetime) -> StoreOutcome:
        return self.articles.store_candidate(candidate, now)

    def import_file(self, item: ImportedFile, now: datetime) -> StoreStatus:
        return self.articles.import_file(item, now)

    def find_article(self, ref: str) -> ArticleRow | None:
        return self.reading.find_article(ref)

    def find_articles(self, ref: str) -> list[ArticleRow]:
        return self.reading.find_articles(ref)

    def versions_of(self, article_id: int) -> tuple[Version, ...]:
        return self.reading.versions_of(article_id)

    def stats(self) -> list[SourceStats]:
        return self.reading.stats()

    # -- published files ---------------------------------------------------------------

    def publish_rows(self, mode: str, force: bool = False) -> Iterator[PublishRow]:
        return self.reading.publish_rows(mode, force)

    def forget_missing(self, mode: str, exists: Callable[[str], bool]) -> int:
        return self.reading.forget_missing(mode, exists)

    def newest(self, source: str, limit: int) -> list[tuple[str, str, int]]:
        return self.reading.newest(source, limit)

    def published_digest(self, path: str) -> str | None:
        return self.reading.published_digest(path)

    def mark_published(self, path: str, digest: str, version_id: int | None, mode: str) -> None:
        self.reading.mark_published(path, digest, version_id, mode)

    # -- feeds and logs ------------------------------------------------------------------

    def log_fetch(
        self,
        source: str,
        url: str,
        status: int,
        size: int,
        elapsed: float,
        error: str,
        from_cache: bool,
        now: datetime,
    ) -> None:
        self.logs.log_fetch(source, url, status, size, elapsed, error, from_cache, now)

    def log_item(
        self,
        source: str,
        feed_url: str,
        guid: str,
        title: str,
        action: str,
        reason: str,
        now: datetime,
    ) -> None:
        self.logs.log_item(source, feed_url, guid, title, action, reason, now)

    def item_log(self, source: str | None = None) -> list[tuple[str, str, str, str, str]]:
        return self.logs.item_log(source)

    def fetch_log(self, limit: int = 100) -> list[tuple[str, str, int, int, str, bool]]:
        return self.logs.fetch_log(limit)

    def feed_states(self) -> list[FeedState]:
        return self.logs.feed_states()

    def record_feed_result(self, source: str, url: str, result: FeedResult, now: datetime) -> None:
        self.logs.record_feed_result(source, url, result, now)

    # -- evidence ------------------------------------------------------------------------

    def capture(self, capture_id: int) -> StoredCapture | None:
        return self.evidence.capture(capture_id)

    def captures_in_time_order(self) -> Iterator[StoredCapture]:
        return self.evidence.captures_in_time_order()

    def capture_ids(self) -> list[int]:
        return self.evidence.capture_ids()

    def evidence_stats(self) -> EvidenceStats:
        return self.evidence.evidence_stats()

    def media_tried(self, url: str) -> bool:
        return self.evidence.media_tried(url)

    def record_media(self, url: str, record: MediaRecord, now: str) -> None:
        self.evidence.record_media(url, record, now)

    def record_media_failure(
        self, url: str, status: MediaStatus, reason: str, now: str, source: str = ""
    ) -> None:
        self.evidence.record_media_failure(url, status, reason, now, source)

    def deferred_images(self, source: str, limit: int, tries: int) -> list[str]:
        return self.evidence.deferred_images(source, limit, tries)

    def media_for(self, url: str) -> MediaRecord | None:
        return self.evidence.media_for(url)

    def media_failures(self) -> list[tuple[str, MediaStatus, str, int]]:
        return self.evidence.media_failures()

    # -- search --------------------------------------------------------------------------

    def search_ready(self) -> bool:
        return self.index.search_ready()

    def pause_search_index(self) -> None:
        self.index.pause_search_index()

    def reindex(
        self, progress: Callable[[int], None] = lambda n: None, workers: int | None = None
    ) -> int:
        return self.index.reindex(progress, workers)

    def search(self, query: Query) -> SearchResults:
        return self.index.search(query)

    def source_ids(self, slugs: Sequence[str]) -> tuple[int, ...]:
        return self.index.source_ids(slugs)

    def search_index_bytes(self) -> int:
        return self.index.search_index_bytes()

    # -- the static site -----------------------------------------------------------------

    def site_newest(self, limit: int, source: str = "", text: bool = False) -> list[Listed]:
        return self.site.site_newest(limit, source, text)

    def site_listing(
        self,
        limit: int,
        source: str = "",
        since_ms: int | None = None,
        until_ms: int | None = None,
        after: tuple[int, int] | None = None,
    ) -> list[Listed]:
        return self.site.site_listing(limit, source, since_ms, until_ms, after)

    def site_source_page(self, source: str, page: int, size: int) -> list[Listed]:
        return self.site.site_source_page(source, page, size)

    def site_source_all(self, source: str) -> Iterator[Listed]:
        return self.site.site_source_all(source)

    def site_source_counts(self) -> dict[str, int]:
        return self.site.site_source_counts()

    def site_day(self, start_ms: int, end_ms: int) -> list[Listed]:
        return self.site.site_day(start_ms, end_ms)

    def site_days(self, within_ms: int | None = None) -> list[int]:
        return self.site.site_days(within_ms)

    def site_marks(self) -> tuple[int, int]:
        return self.site.site_marks()

    def set_site_marks(self, prefix: str, marks: tuple[int, int]) -> None:
        self.site.set_site_marks(prefix, marks)

    def site_stale(self, prefix: str, force: bool = False) -> Iterator[Stale]:
        return self.site.site_stale(prefix, force)

    def site_times(self, version_ids: Sequence[int]) -> list[int]:
        return self.site.site_times(version_ids)

    def site_search_all(self) -> Iterator[Listed]:
        return self.site.site_search_all()

    def site_search_docs(self, offset: int, limit: int) -> list[Listed]:
        return self.site.site_search_docs(offset, limit)

    def site_gone(self, article_id: int) -> tuple[datetime | None, str] | None:
        return self.site.site_gone(article_id)

    def site_turns(self, limit: int) -> list[tuple[Listed, ChangeKind, datetime | None, str]]:
        return self.site.site_turns(limit)

    def site_edits(self, limit: int) -> list[tuple[Listed, Version]]:
        return self.site.site_edits(limit)

    # -- watching ------------------------------------------------------------------------

    def watch_due(
        self, now: str, first_cut: str, first_cut_ms: int, span_ms: int, limit: int
    ) -> list[WatchTarget]:
        return self.watch.watch_due(now, first_cut, first_cut_ms, span_ms, limit)

    def watch_all(self) -> list[WatchTarget]:
        return self.watch.watch_all()

    def next_planned_visit(self) -> str:
        return self.watch.next_planned_visit()

    def first_unvisited(self) -> str:
        return self.watch.first_unvisited()

    def record_visit(self, target: WatchTarget, visit: VisitRecord) -> int | None:
        return self.watch.record_visit(target, visit)

    def watch_state(self, article_id: int) -> WatchState | None:
        return self.watch.watch_state(article_id)

    def visits_of(self, article_id: int) -> list[VisitRow]:
        return self.watch.visits_of(article_id)

    def changes(self, since: str, until: str, limit: int | None = None) -> list[ChangeRow]:
        return self.watch.changes(since, until, limit)

    # -- feed memory -----------------------------------------------------------------------

    def seen_feed_hashes(
        self, source: str, items: Sequence[tuple[str, str, str, int]]
    ) -> list[str]:
        return self.memory.seen_feed_hashes(source, items)

    def stand_ins(self, source: str, since: datetime, limit: int) -> list[StandIn]:
        return self.memory.stand_ins(source, since, limit)

    # -- the markdown archive's lists ------------------------------------------------------

    def archive_file(self, path: str) -> ArchiveFile | None:
        return self.lists.archive_file(path)

    def archive_files(self) -> list[ArchiveFile]:
        return self.lists.archive_files()

    def save_archive_file(self, record: ArchiveFile) -> bool:
        return self.lists.save_archive_file(record)

    def list_rows(self, source: str, limit: int, since: datetime | None = None) -> list[ListRow]:
        return self.lists.list_rows(source, limit, since)

    # -- records -------------------------------------------------------------------------

    def export_records(self) -> Iterator[dict[str, Any]]:
        return self.export.export_records()

    def import_records(
        self, records: Iterable[tuple[int, dict[str, Any]]], batch: int = 0
    ) -> ImportCounts:
        return self.imports.import_records(records, batch)
