"""The fetch job: collect every source concurrently, store the batches as they come,
report per source."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from newsmirror.errors import NewsmirrorError
from newsmirror.jobs.network import Network, run_async
from newsmirror.jobs.progress import Advance, no_progress
from newsmirror.publish.files import confined, flush_to_disk, sweep_temporaries, write_atomic
from newsmirror.store.evidence import MediaRecord
from newsmirror.times import Clock
from newsmirror.types import MediaStatus, Source, SourceReport, StoreStatus

if TYPE_CHECKING:  # the fetch stages load when a fetch runs: other commands start faster
    from newsmirror.collect.items import Batch
    from newsmirror.collect.source import Seen
    from newsmirror.collect.stream import Part, Stream
    from newsmirror.collect.worker import Cpu
    from newsmirror.config.settings import Config
    from newsmirror.fetch.client import Fetcher
    from newsmirror.media.mirror import ImageLimits, ImageResult
    from newsmirror.store import FeedState
    from newsmirror.store.base import Store


#: What the writer stores in one commit: the parts that come within this many seconds of
#: the first, up to this many items. Each commit writes the search index's new terms as
#: a segment (many small ones would cost more), and holds them in memory until then.
COMMIT_EVERY = 0.5
COMMIT_ITEMS = 512
#: Sources started in one turn of the event loop; the next ones wait a turn, so that these
#: requests go out at once (hundreds started together would each be built before any is
#: sent, and every answer would come back that much later). Few to a turn: the first
#: answers, which set the worker going, come sooner (200 feeds, medians of 6 runs: the
#: server had the first request 0.08–0.11 s after it was made with 4 to a turn, 0.18–0.2 s
#: with 16), while the last request goes out only a little later.
START_AT_ONCE = 4


async def _safe_collect(
    source: Source,
    fetcher: Fetcher,
    states: dict[str, FeedState],
    now: datetime,
    force: bool,
    seen: Seen,
    images: ImageLimits | None,
    cpu: Cpu,
    stream: Stream,
) -> None:
    """collect() into the stream, its batch last, with any unexpected error turned into
    that source's error line."""
    from newsmirror.collect.items import Batch
    from newsmirror.collect.source import collect
    from newsmirror.collect.stream import Part

    try:
        batch = await collect(source, fetcher, states, now, force, seen, images, cpu, stream)
    except Exception as exc:  # a bug must not stop the other sources
        batch = Batch(source)
        batch.errors.append(f"internal error: {type(exc).__name__}: {exc}")
    await stream.put(Part(batch, last=True))


@dataclass
class _Tally:
    """What a source's parts came to, as the writer stores them."""

    counts: dict[StoreStatus, int] = field(default_factory=lambda: dict.fromkeys(StoreStatus, 0))
    failed: bool = False  # a part could not be stored
    errors: list[str] = field(default_factory=list)  # why


class FetchJob:
    """``fetch``: given the store it writes, the archive's configuration, the network it
    fetches through, the clock that says when the run starts, and how many worker
    processes collect (None: as suits)."""

    def __init__(
        self,
        store: Store,
        config: Config,
        network: Network,
        clock: Clock,
        workers: int | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.network = network
        self.clock = clock
        self.workers = workers
        self._unflushed = False  # media files written and not yet flushed to the disk

    def run(
        self, sources: list[Source], advance: Advance = no_progress, force: bool = False
    ) -> list[SourceReport]:
        """Fetch these sources concurrently, store what is new or changed, report per
        source (in their order). ``force`` fetches feeds that are not due yet (backed off,
        or asked to wait)."""
        return run_async(self._fetch(sources, advance, force))

    async def _fetch(
        self, sources: list[Source], advance: Advance, force: bool
    ) -> list[SourceReport]:
        import asyncio

        from newsmirror.collect.source import record_attempt
        from newsmirror.collect.stream import Stream
        from newsmirror.collect.worker import cpu_for

        now = self.clock()
        if any(s.mirror_images for s in sources):  # the media store is written
            sweep_temporaries([self.config.media_path], recursive=True)
        states: dict[str, dict[str, FeedState]] = {}
        for state in self.store.feed_states():
            states.setdefault(state.source, {})[state.url] = state
        reports: dict[str, SourceReport] = {}
        tokenize = self.config.index and self.store.search_ready()
        stream = Stream(self.config.pending_items)
        with cpu_for(len(sources), tokenize, self.workers, self.store.path) as cpu:
            async with self.network.fetcher(now, on_attempt=record_attempt) as fetcher:
                writer = asyncio.create_task(self._write(stream, reports, now, advance))
                try:
                    await self._start(sources, fetcher, states, now, force, cpu, stream)
                finally:
                    stream.close()
                    await writer
        return [reports[s.slug] for s in sources]

    async def _start(
        self,
        sources: list[Source],
        fetcher: Fetcher,
        states: dict[str, dict[str, FeedState]],
        now: datetime,
        force: bool,
        cpu: Cpu,
        stream: Stream,
    ) -> None:
        """A collecting task per source, :data:`START_AT_ONCE` per turn of the loop; ends
        when they all have."""
        import asyncio

        tasks = set()
        for n, s in enumerate(sources, 1):
            states_of, limits = states.get(s.slug, {}), self._limits(s)
            collecting = _safe_collect(
                s, fetcher, states_of, now, force, self.store, limits, cpu, stream
            )
            tasks.add(asyncio.create_task(collecting))
            if n % START_AT_ONCE == 0:
                await asyncio.sleep(0)  # the requests started go out meanwhile
        await asyncio.gather(*tasks)

    async def _write(
        self, stream: Stream, reports: dict[str, SourceReport], now: datetime, advance: Advance
    ) -> None:
        """The single writer: store the parts of the stream as they come, those that come
        within :data:`COMMIT_EVERY` seconds of the first (at most :data:`COMMIT_ITEMS`
        items) in one commit. A crash loses only what is not committed yet, and a feed's
        validators are stored with its batch, after all its items: the next run fetches
        it again. Ends once the stream is closed and empty."""
        import asyncio

        loop = asyncio.get_running_loop()
        tallies: dict[str, _Tally] = {}
        part = await stream.get()
        while part is not None:
            closes, items = loop.time() + COMMIT_EVERY, 0
            with self.store.transaction():
                while part is not None:
                    items += self._store_part(part, tallies, reports, now, advance) + 1
                    stream.stored(part)
                    if items >= COMMIT_ITEMS:
                        break
                    await asyncio.sleep(0)  # collecting asks for more work meanwhile
                    part = await stream.get(closes - loop.time())
                if self._unflushed:  # media files reach the disk before their records
                    flush_to_disk()
                    self._unflushed = False
            part = await stream.get()

    def _store_part(
        self,
        part: Part,
        tallies: dict[str, _Tally],
        reports: dict[str, SourceReport],
        now: datetime,
        advance: Advance,
    ) -> int:
        """Store one part (inside the writer's transaction, in a savepoint: a storage
        failure is that source's error line and undoes that part alone); the items it
        held. The last part of a source makes its report."""
        batch = part.batch
        tally = tallies.setdefault(batch.source.slug, _Tally())
        try:
            with self.store.transaction():
                if part.last and not tally.failed:
                    self._store_batch(batch, now, tally)
                else:
                    self._store_candidates(batch, now, tally)
        except NewsmirrorError as exc:  # one source never stops the others
            tally.failed = True
            tally.errors.append(str(exc))
        if part.last:
            reports[batch.source.slug] = self._report(batch, tally)
            del tallies[batch.source.slug]
            advance(1)
        return len(batch.candidates)

    def _store_candidates(self, batch: Batch, now: datetime, tally: _Tally) -> None:
        for candidate in batch.candidates:
            tally.counts[self.store.store_candidate(candidate, now).status] += 1

    def _store_batch(self, batch: Batch, now: datetime, tally: _Tally) -> None:
        """A source's batch, after its parts: its logs, feed results (with the validators
        that make the next run's request conditional), what was not streamed, notes and
        images."""
        slug, stamp = batch.source.slug, now.isoformat()
        for r in batch.requests:
            self.store.log_fetch(
                slug, r.url, r.status, r.bytes, r.elapsed, r.error, r.from_cache, r.at or now
            )
        for url, result in batch.feeds.items():
            self.store.record_feed_result(slug, url, result, now)
        self._store_candidates(batch, now, tally)
        for note in batch.notes:
            self.store.log_item(
                slug, batch.feed_url, note.guid, note.title, note.action, note.reason, now
            )
        for image in batch.images:
            self._store_image(image, stamp, slug)

    def _report(self, batch: Batch, tally: _Tally) -> SourceReport:
        if tally.failed:  # its feeds' validators were not kept: the next run reads them
            errors = tuple(batch.errors) + tuple(tally.errors)
            return SourceReport(batch.source.slug, errors=errors, failed=True)
        skipped = [n for n in batch.notes if n.action == "skipped"]
        return SourceReport(
            source=batch.source.slug,
            new=tally.counts[StoreStatus.NEW],
            changed=tally.counts[StoreStatus.CHANGED],
            unchanged=tally.counts[StoreStatus.UNCHANGED] + batch.repeated,
            skipped=len(skipped),
            errors=tuple(batch.errors)
            + tuple(f"item {n.title or n.guid!r}: {n.reason}" for n in skipped),
            feed_url=batch.feed_url,
            failed=batch.failed,
            not_modified=batch.not_modified,
            deferred_until=batch.deferred_until,
        )

    def _limits(self, source: Source) -> ImageLimits | None:
        """The image limits for a source that mirrors images; None for one that does not."""
        if not self.config.mirrors_images(source):
            return None
        from newsmirror.media.mirror import ImageLimits

        max_bytes = int(self.config.max_image_mb * 1024 * 1024)
        return ImageLimits(max_bytes, self.config.min_image_side)

    def _store_image(self, image: ImageResult, stamp: str, source: str) -> None:
        """An image into the media store (the file first, then its record), or the reason
        it was not kept (a deferred one, with the source whose next run asks again)."""
        if image.info is None:
            self.store.record_media_failure(image.url, image.status, image.reason, stamp, source)
            return
        path = image.path
        try:
            target = confined(self.config.media_path, path)
            if not target.exists():
                write_atomic(target, image.body, sync=False)
                self._unflushed = True
        except NewsmirrorError as exc:  # the disk refused: the articles are kept regardless
            self.store.record_media_failure(image.url, MediaStatus.FAILED, str(exc), stamp)
            return
        info = image.info
        record = MediaRecord(image.sha256, path, info.mime, info.size, info.width, info.height)
        self.store.record_media(image.url, record, stamp)
