"""The Archive: one archive home opened, and its jobs made from what it holds.

The Archive opens the store, holds the configuration, the clock and the way to the
network, and gives each call to a job object made from them (:mod:`~newsmirror.jobs.fetch`,
:mod:`~newsmirror.jobs.watch`, :mod:`~newsmirror.jobs.publish`,
:mod:`~newsmirror.jobs.portable`, :mod:`~newsmirror.jobs.reading`). A job is made on each
call from what the archive holds at that moment (``run`` reads its configuration again
between cycles): jobs are cheap and keep nothing between calls.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, ClassVar

from newsmirror.config.settings import Config, load_config
from newsmirror.jobs.fetch import FetchJob
from newsmirror.jobs.network import Network, fetch_settings
from newsmirror.jobs.portable import ExportJob, ImportJob
from newsmirror.jobs.progress import Advance, no_progress
from newsmirror.jobs.publish import PublishJob
from newsmirror.jobs.reading import Reading
from newsmirror.jobs.watch import WatchJob, WatchPlan
from newsmirror.store import open_store
from newsmirror.times import Clock, utcnow
from newsmirror.types import Source, SourceReport

if TYPE_CHECKING:  # the fetch stages load when a fetch runs: other commands start faster
    from datetime import datetime

    import httpx

    from newsmirror.fetch.settings import FetchSettings
    from newsmirror.publish.markdown.importer import ImportReport
    from newsmirror.publish.report import PublishReport
    from newsmirror.publish.warc import WarcReport
    from newsmirror.store import ArticleRow, FeedState, SourceStats
    from newsmirror.store.base import SearchResults
    from newsmirror.store.evidence import EvidenceStats
    from newsmirror.store.portable import ImportCounts
    from newsmirror.watch.revisit import WatchReport


class Archive:
    """One archive home: its configuration, store and published files, and its jobs."""

    #: The clock of an archive opened without one: the real one. (A test of the command
    #: line, which opens archives of its own, sets the one they get here.)
    default_clock: ClassVar[Clock] = utcnow

    def __init__(
        self,
        config: Config,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        """Open the store of ``config``; ``transport`` replaces the network and ``clock``
        the real time (tests)."""
        self.config = config
        config.home.mkdir(parents=True, exist_ok=True)
        self.store = open_store(config.database_location)
        self.store.sync_sources(config.sources)
        if not config.index:
            self.store.pause_search_index()
        self.transport = transport
        self.clock: Clock = clock or type(self).default_clock
        self.workers: int | None = None  # collecting's worker processes (None: as suits)

    @functools.cached_property
    def fetch_settings(self) -> FetchSettings:
        """The Fetcher's settings (made on first use: a command that fetches nothing does
        not load the fetch stages)."""
        return fetch_settings(self.config)

    @classmethod
    def open(cls, home: str | os.PathLike[str] | None = None) -> Archive:
        """Open the archive in ``home`` (default: $NEWSMIRROR_HOME, else the current dir)."""
        return cls(load_config(home))

    def reconfigure(self, config: Config) -> None:
        """Use ``config`` from now on (its sources, settings and fetch settings); the
        store stays the one opened."""
        self.config = config
        self.fetch_settings = fetch_settings(config)
        self.store.sync_sources(config.sources)

    def close(self) -> None:
        """Release the database."""
        self.store.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the jobs, made from what the archive holds now ------------------------------

    def network(self) -> Network:
        """What the jobs fetch with: the fetch settings and the transport."""
        return Network(self.fetch_settings, self.transport)

    def fetching(self) -> FetchJob:
        return FetchJob(self.store, self.config, self.network(), self.clock, self.workers)

    def watching(self) -> WatchJob:
        return WatchJob(self.store, self.config, self.network(), self.clock)

    def planning(self) -> WatchPlan:
        return WatchPlan(self.store, self.config, self.clock)

    def publishing(self) -> PublishJob:
        return PublishJob(self.store, self.config, self.clock)

    def importing(self) -> ImportJob:
        return ImportJob(self.store, self.config, self.clock)

    def exporting(self) -> ExportJob:
        return ExportJob(self.store)

    def reading(self) -> Reading:
        return Reading(self.store, self.config)

    # -- fetch and watch -------------------------------------------------------------

    def selected_sources(self, slugs: Iterable[str] = ()) -> list[Source]:
        """The named sources (enabled or not; each once), or every enabled source."""
        return self.config.selected(slugs)

    def fetch(
        self, slugs: Iterable[str] = (), advance: Advance = no_progress, force: bool = False
    ) -> list[SourceReport]:
        """Fetch sources concurrently, store what is new or changed, report per source.

        ``force`` fetches feeds that are not due yet (backed off, or asked to wait).
        """
        return self.fetching().run(self.selected_sources(slugs), advance, force)

    def watch(self, everything: bool = False, advance: Advance = no_progress) -> WatchReport:
        """Revisit the archived articles that are due (see :meth:`WatchJob.run`)."""
        return self.watching().run(everything, advance)

    def first_revisit(self, article: ArticleRow) -> datetime:
        """When an article's first revisit is due by the schedule."""
        return self.planning().first_revisit(article)

    def first_unvisited_due(self) -> datetime | None:
        """When the first revisit of the earliest article never revisited is due."""
        return self.planning().first_unvisited_due()

    # -- publish ---------------------------------------------------------------------

    def publish_markdown(
        self,
        content: str | None = None,
        force: bool = False,
        advance: Advance = no_progress,
        images: str | None = None,
    ) -> PublishReport:
        """Write article files, lists and README.md (see :meth:`PublishJob.markdown`)."""
        return self.publishing().markdown(content, force, advance, images)

    def publish_site(
        self,
        out: str | os.PathLike[str] | None = None,
        force: bool = False,
        advance: Advance = no_progress,
    ) -> PublishReport:
        """Write the static site into ``out`` (see :meth:`PublishJob.site`)."""
        return self.publishing().site(out, force, advance)

    def publish_digests(self) -> PublishReport:
        """Today's and yesterday's digests (see :meth:`PublishJob.digests`)."""
        return self.publishing().digests()

    # -- import and export -----------------------------------------------------------

    def import_archive(
        self,
        path: str | os.PathLike[str],
        advance: Advance = no_progress,
        source: str | None = None,
    ) -> ImportReport:
        """Import a duty-machine/news checkout (see :meth:`ImportJob.archive`)."""
        return self.importing().archive(path, advance, source)

    def import_jsonl(self, path: str | os.PathLike[str]) -> ImportCounts:
        """Add what a JSON Lines export holds (see :meth:`ImportJob.jsonl`)."""
        return self.importing().jsonl(path)

    def export_jsonl(self, out: IO[bytes]) -> int:
        """Write every record of the store as JSON Lines; the number of records."""
        return self.exporting().jsonl(out)

    def export_warc(self, out: str | os.PathLike[str]) -> WarcReport:
        """Write every capture as WARC files with a CDXJ index (see :meth:`ExportJob.warc`)."""
        return self.exporting().warc(out)

    # -- reading and search ----------------------------------------------------------

    def show(self, ref: str) -> ArticleRow | None:
        """An article with every version, by "slug/id", path (relative to the output folder,
        or absolute), URL or guid; the newest stored when several match."""
        found = self.show_all(ref)
        return found[-1] if found else None

    def show_all(self, ref: str) -> list[ArticleRow]:
        """Every article a reference names (two files of one id are two articles)."""
        return self.reading().show_all(ref)

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
        """Search the latest version of every article (see :meth:`Reading.search`)."""
        return self.reading().search(text, sources, since, until, newest, limit, offset)

    def stats(self) -> list[SourceStats]:
        """Counts per source."""
        return self.store.stats()

    def evidence_stats(self) -> EvidenceStats:
        """How many captures and mirrored images the store holds, and their size."""
        return self.store.evidence_stats()

    def reindex(self, advance: Advance = no_progress) -> int:
        """Rebuild the search index; the number of articles indexed."""
        return self.store.reindex(advance)

    def feed_states(self) -> list[FeedState]:
        """Every feed with its health."""
        return self.store.feed_states()
