"""The watch jobs of an archive (mixed into :class:`~newsmirror.archive.Archive`):
revisit what is due, and say when the next revisit is."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from newsmirror.errors import DeferredError, NewsmirrorError
from newsmirror.jobs.fetch import no_progress

if TYPE_CHECKING:
    import httpx

    from newsmirror.config.settings import Config
    from newsmirror.fetch.client import AttemptLog, FetchSettings
    from newsmirror.store.base import ArticleRow
    from newsmirror.store.sqlite import SQLiteStore
    from newsmirror.store.watching import VisitRecord, WatchTarget
    from newsmirror.watch.revisit import WatchReport


#: Revisits started together (each batch waits for its slowest page).
BATCH = 1000


class WatchJobs:
    """``watch`` and what the scheduler asks of it; needs the archive's config, store,
    transport and fetch settings."""

    config: Config
    store: SQLiteStore
    transport: httpx.AsyncBaseTransport | None

    @property
    def fetch_settings(self) -> FetchSettings:
        raise NotImplementedError

    def watch(
        self, everything: bool = False, advance: Callable[[int], None] = no_progress
    ) -> WatchReport:
        """Revisit the archived articles that are due (at most the max_visits setting,
        the latest due first), or with ``everything`` every archived URL; record what
        each visit found (unchanged, edited, gone, unreachable)."""
        from newsmirror.jobs import archive as archive
        from newsmirror.watch.revisit import WatchReport, revisit_many
        from newsmirror.watch.rules import old_after, parse_schedule

        now = archive.utcnow()  # looked up at call time: tests move the clock
        schedule = parse_schedule(self.config.schedule)
        if everything:
            targets = self.store.watch_all()
        else:
            cut = now - schedule[0]
            targets = self.store.watch_due(
                now.isoformat(),
                cut.isoformat(),
                int(cut.timestamp() * 1000),
                int(old_after(schedule).total_seconds() * 1000),
                self.config.max_visits,
            )
        sources = {s.slug: s for s in self.config.sources}
        report = WatchReport(due=len(targets))
        targets = [t for t in targets if t.source in sources]  # a source no longer configured

        def store(
            target: WatchTarget, visit: VisitRecord | DeferredError, attempts: list[AttemptLog]
        ) -> None:
            if isinstance(visit, DeferredError):  # not made: the article stays due
                report.deferred += 1
                report.why_deferred = visit.what
                advance(1)
                return
            try:
                with self.store.transaction():
                    for r in attempts:
                        self.store.log_fetch(
                            target.source,
                            r.url,
                            r.status,
                            r.bytes,
                            r.elapsed,
                            r.error,
                            r.from_cache,
                            r.at or visit.at,
                        )
                    self.store.record_visit(target, visit)
            except NewsmirrorError as exc:  # one visit never stops the others
                report.errors.append(f"{target.path}: {exc}")
                return
            report.count(target.source, visit.outcome)
            advance(1)

        settings = self.fetch_settings
        pages_until = time.monotonic() + settings.time_for_pages  # for every batch in all
        for start in range(0, len(targets), BATCH):  # `--now` on a large archive: in batches
            batch = targets[start : start + BATCH]
            archive._run(
                revisit_many(
                    batch, sources, settings, now, schedule, store, self.transport, pages_until
                )
            )
        return report

    def first_revisit(self, article: ArticleRow) -> datetime:
        """When an article's first revisit is due by the schedule."""
        from newsmirror.watch.rules import appeared, first_visit, parse_schedule

        schedule = parse_schedule(self.config.schedule)
        return first_visit(appeared(article.first_seen, article.published_ms, schedule), schedule)

    def first_unvisited_due(self) -> datetime | None:
        """When the first revisit of the earliest article never revisited is due."""
        from newsmirror.jobs import archive as archive
        from newsmirror.watch.rules import parse_schedule

        first_seen = self.store.first_unvisited()
        if not first_seen:
            return None
        try:
            start = datetime.fromisoformat(first_seen)
        except ValueError:  # an unreadable time: due now
            return archive.utcnow()
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
        return start + parse_schedule(self.config.schedule)[0]
