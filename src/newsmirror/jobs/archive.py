"""The Archive facade: opens a home, wires the stages, one method per job."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Coroutine, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from newsmirror.config.settings import Config, load_config
from newsmirror.jobs.fetch import Advance, FetchJobs, no_progress
from newsmirror.jobs.watch import WatchJobs
from newsmirror.publish.files import digest
from newsmirror.publish.markdown.writer import MarkdownPublisher
from newsmirror.publish.report import PublishReport
from newsmirror.search.query import Query, day_start_ms, parse_query
from newsmirror.store import ArticleRow, FeedState, SourceStats
from newsmirror.store.base import SearchResults
from newsmirror.store.evidence import EvidenceStats
from newsmirror.store.portable import ImportCounts

if TYPE_CHECKING:  # the fetch stages load when a fetch runs: other commands start faster
    import httpx

    from newsmirror.fetch.client import FetchSettings
    from newsmirror.publish.markdown.importer import ImportReport
    from newsmirror.publish.warc import WarcReport
from newsmirror.store.sqlite import SQLiteStore
from newsmirror.types import Source

T = TypeVar("T")


def utcnow() -> datetime:
    """The current time, aware, in UTC (a seam for tests)."""
    return datetime.now(UTC)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine in a new event loop: uvloop's when it is installed (a faster loop
    for hundreds of feeds), else asyncio's."""
    import asyncio  # loaded when a job needs the network: other commands start faster

    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


def fetch_settings(config: Config) -> FetchSettings:
    """The Fetcher's settings from an archive's configuration."""
    from newsmirror.fetch.client import FetchSettings

    return FetchSettings(
        timeout=config.timeout,
        read_timeout=min(config.timeout, FetchSettings.read_timeout),
        connect_timeout=min(config.timeout, FetchSettings.connect_timeout),
        max_bytes=int(config.max_body_mb * 1024 * 1024),
        user_agent=config.user_agent,
        proxy=config.proxy,
        concurrency=config.concurrency,
        per_host=config.per_host,
        retries=config.retries,
        allow_private_addresses=config.allow_private_addresses,
        time_for_pages=config.time_for_pages,
    )


class Archive(FetchJobs, WatchJobs):
    """One archive home: its configuration, store and published files."""

    def __init__(self, config: Config, transport: httpx.AsyncBaseTransport | None = None) -> None:
        """Open the store of ``config``; ``transport`` replaces the network (tests)."""
        self.config = config
        config.home.mkdir(parents=True, exist_ok=True)
        self.store = SQLiteStore(config.database_path)
        self.store.sync_sources(config.sources)
        if not config.index:
            self.store.pause_search_index()
        self.transport = transport
        self.workers: int | None = None  # collecting's worker processes (None: as suits)
        self._unflushed = False  # media files written and not yet flushed to the disk

    @functools.cached_property
    def fetch_settings(self) -> FetchSettings:
        """The Fetcher's settings (made on first use: a command that fetches nothing does
        not load the fetch stages)."""
        return fetch_settings(self.config)

    @classmethod
    def open(cls, home: str | os.PathLike[str] | None = None) -> Archive:
        """Open the archive in ``home`` (default: $NEWSMIRROR_HOME, else the current dir)."""
        return cls(load_config(home))

    def close(self) -> None:
        """Release the database."""
        self.store.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- fetch -----------------------------------------------------------------------

    def selected_sources(self, slugs: Iterable[str] = ()) -> list[Source]:
        """The named sources (enabled or not; each once), or every enabled source."""
        return self.config.selected(slugs)

    # -- publish ---------------------------------------------------------------------

    def publish_markdown(
        self,
        content: str | None = None,
        force: bool = False,
        advance: Advance = no_progress,
        images: str | None = None,
    ) -> PublishReport:
        """Write article files, lists and README.md; only what changed is written.

        ``content`` and ``images`` override the markdown_content and markdown_images
        settings; with "mirrored" images, article files link the media store's copies.
        """
        return MarkdownPublisher(self.config, self.store).run(content, force, advance, images)

    def publish_site(
        self,
        out: str | os.PathLike[str] | None = None,
        force: bool = False,
        advance: Advance = no_progress,
    ) -> PublishReport:
        """Write the static site (HTML pages and Atom feeds) into ``out`` (default: the
        site_dir setting); only what changed is written."""
        from newsmirror.publish.site.writer import SitePublisher

        target = Path(out).expanduser() if out is not None else None
        return SitePublisher(self.config, self.store).run(target, force, advance)

    # -- import ----------------------------------------------------------------------

    def import_archive(
        self,
        path: str | os.PathLike[str],
        advance: Advance = no_progress,
        source: str | None = None,
    ) -> ImportReport:
        """Import a duty-machine/news checkout (its articles, lists and README); re-importing
        the same files changes nothing. ``source``: the slug that article files outside a
        source's folder belong to (found from their links' host otherwise)."""
        from newsmirror.publish.markdown.importer import ImportReport, kept_files, read_archive

        root = Path(path).expanduser().resolve()
        report = ImportReport()
        now = utcnow()
        stamp = now.isoformat()
        flat = self.config.source(source) if source else None
        imported: dict[str, str] = {}
        with self.store.transaction():
            workers = min(2, os.cpu_count() or 1) if (os.cpu_count() or 1) >= 2 else 0
            for _, item in read_archive(
                root,
                self.config.sources,
                report.errors,
                now,
                flat,
                workers=workers,
                tokens=self.config.index and self.store.search_ready(),
            ):
                if item is not None:
                    status = self.store.import_file(item, stamp)
                    setattr(report, status, getattr(report, status) + 1)
                    imported[item.path] = item.source
                advance(1)
            for kept in kept_files(root, self.config.sources, imported, report.notes):
                if self.store.published_digest(kept.path) == digest(kept.text.encode()):
                    continue  # what newsmirror wrote there itself: not the archive's own
                if self.store.save_archive_file(replace(kept, imported_at=stamp)):
                    report.kept_lists += kept.kind == "list"
                    report.kept_readme = report.kept_readme or kept.kind == "readme"
        return report

    # -- JSON Lines ------------------------------------------------------------------

    def export_jsonl(self, out: IO[bytes]) -> int:
        """Write every record of the store as JSON Lines; the number of records."""
        from newsmirror.publish.jsonl import write_jsonl

        return write_jsonl(self.store.export_records(), out)

    def import_jsonl(self, path: str | os.PathLike[str]) -> ImportCounts:
        """Add what a JSON Lines export holds (and this archive does not) to the store;
        a file imported twice changes nothing the second time. ArchiveFormatError when
        the file is not an export (see :func:`~newsmirror.publish.jsonl.check_export`)."""
        from newsmirror.publish.jsonl import check_export, read_jsonl

        check_export(Path(path))
        unreadable: list[str] = []
        counts = self.store.import_records(read_jsonl(Path(path), unreadable))
        counts.errors[:0] = unreadable
        return counts

    def export_warc(self, out: str | os.PathLike[str]) -> WarcReport:
        """Write every capture as WARC 1.1 files (one a day) with a CDXJ index in ``out``;
        files whose captures did not change are left as they are."""
        from newsmirror.publish.warc import write_warc

        return write_warc(self.store.captures_in_time_order(), Path(out))

    # -- reading ---------------------------------------------------------------------

    def show(self, ref: str) -> ArticleRow | None:
        """An article with every version, by "slug/id", path (relative to the output folder,
        or absolute), URL or guid; the newest stored when several match."""
        found = self.show_all(ref)
        return found[-1] if found else None

    def show_all(self, ref: str) -> list[ArticleRow]:
        """Every article a reference names (two files of one id are two articles)."""
        found = self.store.find_articles(ref)
        if not found and ref.endswith(".md"):
            path = Path(ref).expanduser()
            path = path.resolve() if path.is_absolute() else (self.config.output_path / path)
            with contextlib.suppress(ValueError):
                found = self.store.find_articles(
                    path.resolve().relative_to(self.config.output_path).as_posix()
                )
        return found

    def stats(self) -> list[SourceStats]:
        """Counts per source."""
        return self.store.stats()

    def evidence_stats(self) -> EvidenceStats:
        """How many captures and mirrored images the store holds, and their size."""
        return self.store.evidence_stats()

    # -- search ----------------------------------------------------------------------

    def search(
        self,
        text: str,
        sources: Iterable[str] = (),
        since: str | None = None,
        until: str | None = None,
        newest: bool = False,
        limit: int = 20,
        offset: int = 0,
    ) -> SearchResults:
        """Search the latest version of every article (see :mod:`newsmirror.search` for
        the query language); ``since``/``until`` are days (YYYY-MM-DD, UTC, both
        included); ``sources`` slugs limit the search to them."""
        slugs = list(sources)
        for slug in slugs:
            self.config.source(slug)  # an unknown slug is a clear ConfigError
        query = Query(
            terms=parse_query(text),
            source_ids=self.store.source_ids(slugs) or ((0,) if slugs else ()),  # 0: none
            since_ms=day_start_ms(since) if since else None,
            until_ms=day_start_ms(until, next_day=True) if until else None,
            newest=newest,
            limit=max(1, limit),
            offset=max(0, offset),
        )
        return self.store.search(query)

    def reindex(self, advance: Advance = no_progress) -> int:
        """Rebuild the search index; the number of articles indexed."""
        return self.store.reindex(advance)

    def feed_states(self) -> list[FeedState]:
        """Every feed with its health."""
        return self.store.feed_states()
