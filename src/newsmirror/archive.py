"""The Archive facade: opens a home, wires the stages, one method per job."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Coroutine, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from newsmirror.archivewatch import WatchJobs
from newsmirror.config import Config, load_config
from newsmirror.errors import NewsmirrorError
from newsmirror.publish.files import confined, flush_to_disk, write_atomic
from newsmirror.publish.run import MarkdownPublisher, PublishReport
from newsmirror.search import Query, day_start_ms, parse_query
from newsmirror.store import ArticleRow, FeedState, SourceStats
from newsmirror.store.base import SearchResults
from newsmirror.store.evidence import EvidenceStats, MediaRecord
from newsmirror.store.portable import ImportCounts

if TYPE_CHECKING:  # the fetch stages load when a fetch runs: other commands start faster
    import asyncio

    import httpx

    from newsmirror.collect import Batch, Cpu, Seen
    from newsmirror.fetch import Fetcher, FetchSettings
    from newsmirror.importer import ImportReport
    from newsmirror.mirror import ImageLimits, ImageResult
    from newsmirror.publish.warc import WarcReport
from newsmirror.store.sqlite import SQLiteStore
from newsmirror.types import Source, SourceReport

T = TypeVar("T")

#: Called with a number of units of work done, for progress bars.
Advance = Callable[[int], None]


#: Batches ready within this many seconds of each other are stored in one commit, up to
#: COMMIT_BATCHES of them.
COMMIT_EVERY = 0.5
COMMIT_BATCHES = 64


def _noop(_: int) -> None:
    return None


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


async def _safe_collect(
    source: Source,
    fetcher: Fetcher,
    states: dict[str, FeedState],
    now: datetime,
    force: bool,
    seen: Seen,
    images: ImageLimits | None,
    cpu: Cpu,
) -> Batch:
    """collect(), with any unexpected error turned into that source's error line."""
    from newsmirror.collect import Batch, collect

    try:
        return await collect(source, fetcher, states, now, force, seen, images, cpu)
    except Exception as exc:  # a bug must not stop the other sources
        batch = Batch(source)
        batch.errors.append(f"internal error: {type(exc).__name__}: {exc}")
        return batch


def fetch_settings(config: Config) -> FetchSettings:
    """The Fetcher's settings from an archive's configuration."""
    from newsmirror.fetch import FetchSettings

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
    )


class Archive(WatchJobs):
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
        """The named sources (enabled or not), or every enabled source."""
        names = list(slugs)
        if names:
            return [self.config.source(slug) for slug in names]
        return [s for s in self.config.sources if s.enabled]

    def fetch(
        self, slugs: Iterable[str] = (), advance: Advance = _noop, force: bool = False
    ) -> list[SourceReport]:
        """Fetch sources concurrently, store what is new or changed, report per source.

        ``force`` fetches feeds that are not due yet (backed off, or asked to wait).
        """
        sources = self.selected_sources(slugs)
        return _run(self._fetch(sources, advance, force))

    async def _fetch(
        self, sources: list[Source], advance: Advance, force: bool
    ) -> list[SourceReport]:
        import asyncio

        from newsmirror.collect import cpu_for, record_attempt
        from newsmirror.fetch import Fetcher

        now = utcnow()
        states: dict[str, dict[str, FeedState]] = {}
        for state in self.store.feed_states():
            states.setdefault(state.source, {})[state.url] = state
        reports: dict[str, SourceReport] = {}
        tokenize = self.config.index and self.store.search_ready()
        with cpu_for(len(sources), tokenize, self.workers) as cpu:
            async with Fetcher(
                self.fetch_settings, self.transport, on_attempt=record_attempt
            ) as fetcher:
                pending = {
                    asyncio.create_task(
                        _safe_collect(
                            s,
                            fetcher,
                            states.get(s.slug, {}),
                            now,
                            force,
                            self.store,
                            self._limits(s),
                            cpu,
                        )
                    )
                    for s in sources
                }
                await self._store_as_ready(pending, reports, now, advance)
        return [reports[s.slug] for s in sources]

    async def _store_as_ready(
        self,
        pending: set[asyncio.Task[Batch]],
        reports: dict[str, SourceReport],
        now: datetime,
        advance: Advance,
    ) -> None:
        """Store the batches as their tasks end, a commit for those ready within
        :data:`COMMIT_EVERY` seconds of each other (at most :data:`COMMIT_BATCHES`): each
        commit also writes the search index's pending terms as a segment, and hundreds
        of feeds answering at once would otherwise make hundreds of small ones. A crash
        loses only batches not yet committed; the next run fetches them again."""
        import asyncio

        loop = asyncio.get_running_loop()
        ready: list[asyncio.Task[Batch]] = []
        first = 0.0  # when the oldest ready batch came
        while pending:
            wait = max(0.0, first + COMMIT_EVERY - loop.time()) if ready else None
            done, pending = await asyncio.wait(
                pending, timeout=wait, return_when=asyncio.FIRST_COMPLETED
            )
            if done and not ready:
                first = loop.time()
            ready += done
            if not pending or len(ready) >= COMMIT_BATCHES or loop.time() >= first + COMMIT_EVERY:
                self._store_done(ready, reports, now)
                advance(len(ready))
                ready = []

    def _store_done(
        self, done: list[asyncio.Task[Batch]], reports: dict[str, SourceReport], now: datetime
    ) -> None:
        """Store the batches that are ready, in one commit."""
        with self.store.transaction():
            for task in done:
                report = self._store_safely(task.result(), now)
                reports[report.source] = report
            if self._unflushed:  # media files reach the disk before their records
                flush_to_disk()
                self._unflushed = False

    def _limits(self, source: Source) -> ImageLimits | None:
        """The image limits for a source that mirrors images; None for one that does not."""
        if not self.config.mirrors_images(source):
            return None
        from newsmirror.mirror import ImageLimits

        max_bytes = int(self.config.max_image_mb * 1024 * 1024)
        return ImageLimits(max_bytes, self.config.min_image_side)

    def _store_safely(self, batch: Batch, now: datetime) -> SourceReport:
        """Store one source's batch; a storage failure is that source's error line."""
        try:
            return self._store_batch(batch, now)
        except NewsmirrorError as exc:  # one source never stops the others
            return SourceReport(batch.source.slug, errors=(str(exc),), failed=True)

    def _store_batch(self, batch: Batch, now: datetime) -> SourceReport:
        slug, stamp = batch.source.slug, now.isoformat()
        counts = {"new": 0, "changed": 0, "unchanged": batch.repeated}
        with self.store.transaction():
            for r in batch.requests:
                self.store.log_fetch(
                    slug, r.url, r.status, r.bytes, r.elapsed, r.error, r.from_cache, stamp
                )
            for url, result in batch.feeds.items():
                self.store.record_feed_result(slug, url, result, stamp)
            for candidate in batch.candidates:
                counts[self.store.store_candidate(candidate, stamp).status] += 1
            for note in batch.notes:
                self.store.log_item(
                    slug, batch.feed_url, note.guid, note.title, note.action, note.reason, stamp
                )
            for image in batch.images:
                self._store_image(image, stamp)
        skipped = [n for n in batch.notes if n.action == "skipped"]
        return SourceReport(
            source=slug,
            new=counts["new"],
            changed=counts["changed"],
            unchanged=counts["unchanged"],
            skipped=len(skipped),
            errors=tuple(batch.errors)
            + tuple(f"item {n.title or n.guid!r}: {n.reason}" for n in skipped),
            feed_url=batch.feed_url,
            failed=batch.failed,
            not_modified=batch.not_modified,
            deferred_until=batch.deferred_until,
        )

    def _store_image(self, image: ImageResult, stamp: str) -> None:
        """An image into the media store (the file first, then its record), or the reason
        it was not kept."""
        if image.info is None:
            self.store.record_media_failure(image.url, image.status, image.reason, stamp)
            return
        path = image.path
        try:
            target = confined(self.config.media_path, path)
            if not target.exists():
                write_atomic(target, image.body, sync=False)
                self._unflushed = True
        except NewsmirrorError as exc:  # the disk refused: the articles are kept regardless
            self.store.record_media_failure(image.url, "failed", str(exc), stamp)
            return
        info = image.info
        record = MediaRecord(image.sha256, path, info.mime, info.size, info.width, info.height)
        self.store.record_media(image.url, record, stamp)

    # -- publish ---------------------------------------------------------------------

    def publish_markdown(
        self,
        content: str | None = None,
        force: bool = False,
        advance: Advance = _noop,
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
        advance: Advance = _noop,
    ) -> PublishReport:
        """Write the static site (HTML pages and Atom feeds) into ``out`` (default: the
        site_dir setting); only what changed is written."""
        from newsmirror.publish.site import SitePublisher

        target = Path(out).expanduser() if out is not None else None
        return SitePublisher(self.config, self.store).run(target, force, advance)

    # -- import ----------------------------------------------------------------------

    def import_archive(
        self, path: str | os.PathLike[str], advance: Advance = _noop
    ) -> ImportReport:
        """Import a duty-machine/news checkout; re-importing the same files changes nothing."""
        from newsmirror.importer import ImportReport, read_archive

        root = Path(path).expanduser().resolve()
        report = ImportReport()
        stamp = utcnow().isoformat()
        with self.store.transaction():
            for _, item in read_archive(root, self.config.sources, report.errors):
                if item is not None:
                    status = self.store.import_file(item, stamp)
                    setattr(report, status, getattr(report, status) + 1)
                advance(1)
        return report

    # -- JSON Lines ------------------------------------------------------------------

    def export_jsonl(self, out: IO[bytes]) -> int:
        """Write every record of the store as JSON Lines; the number of records."""
        from newsmirror.publish.jsonl import write_jsonl

        return write_jsonl(self.store.export_records(), out)

    def import_jsonl(self, path: str | os.PathLike[str]) -> ImportCounts:
        """Add what a JSON Lines export holds (and this archive does not) to the store;
        a file imported twice changes nothing the second time."""
        from newsmirror.publish.jsonl import read_jsonl

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
        or absolute), URL or guid."""
        found = self.store.find_article(ref)
        if found is None and ref.endswith(".md"):
            path = Path(ref).expanduser()
            path = path.resolve() if path.is_absolute() else (self.config.output_path / path)
            with contextlib.suppress(ValueError):
                found = self.store.find_article(
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

    def reindex(self, advance: Advance = _noop) -> int:
        """Rebuild the search index; the number of articles indexed."""
        return self.store.reindex(advance)

    def feed_states(self) -> list[FeedState]:
        """Every feed with its health."""
        return self.store.feed_states()
