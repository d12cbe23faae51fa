"""The watch jobs: revisit what is due (:class:`WatchJob`), and say when revisits are
due (:class:`WatchPlan`). When is decided by :mod:`newsmirror.watch.rules` (pure); the
visits themselves by :mod:`newsmirror.watch.revisit`."""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from newsmirror.errors import DeferredError, NewsmirrorError
from newsmirror.jobs.network import Network, run_async
from newsmirror.jobs.progress import Advance, no_progress
from newsmirror.times import Clock

if TYPE_CHECKING:
    from newsmirror.config.settings import Config
    from newsmirror.fetch.settings import AttemptLog
    from newsmirror.store.base import ArticleRow, Store
    from newsmirror.store.watching import VisitRecord, WatchTarget
    from newsmirror.watch.revisit import WatchReport


#: Revisits started together (each batch waits for its slowest page).
BATCH = 1000


class WatchJob:
    """``watch``: given the store it reads and writes, the archive's configuration (the
    schedule, the sources, max_visits), the network it revisits through, and the clock
    that says what is due."""

    def __init__(self, store: Store, config: Config, network: Network, clock: Clock) -> None:
        self.store = store
        self.config = config
        self.network = network
        self.clock = clock

    def run(self, everything: bool = False, advance: Advance = no_progress) -> WatchReport:
        """Revisit the archived articles that are due (at most the max_visits setting,
        the latest due first), or with ``everything`` every archived URL; record what
        each visit found (unchanged, edited, gone, unreachable)."""
        from newsmirror.watch.revisit import WatchReport, revisit_many
        from newsmirror.watch.rules import parse_schedule

        now = self.clock()
        schedule = parse_schedule(self.config.schedule)
        targets = self._targets(now, schedule, everything)
        sources = {s.slug: s for s in self.config.sources}
        report = WatchReport(due=len(targets))
        targets = [t for t in targets if t.source in sources]  # a source no longer configured
        record = functools.partial(self._record, report, advance)
        settings, transport = self.network.settings, self.network.transport
        pages_until = time.monotonic() + settings.time_for_pages  # for every batch in all
        for start in range(0, len(targets), BATCH):  # `--now` on a large archive: in batches
            batch = targets[start : start + BATCH]
            run_async(
                revisit_many(
                    batch, sources, settings, now, schedule, record, transport, pages_until
                )
            )
        return report

    def _targets(
        self, now: datetime, schedule: Sequence[timedelta], everything: bool
    ) -> list[WatchTarget]:
        """The articles due at ``now`` (or, with ``everything``, every archived one)."""
        from newsmirror.watch.rules import old_after

        if everything:
            return self.store.watch_all()
        cut = now - schedule[0]
        return self.store.watch_due(
            now.isoformat(),
            cut.isoformat(),
            int(cut.timestamp() * 1000),
            int(old_after(schedule).total_seconds() * 1000),
            self.config.max_visits,
        )

    def _record(
        self,
        report: WatchReport,
        advance: Advance,
        target: WatchTarget,
        visit: VisitRecord | DeferredError,
        attempts: list[AttemptLog],
    ) -> None:
        """Store one visit and its requests, and count it; a visit not made (the run's
        time for pages ran out) leaves the article due."""
        if isinstance(visit, DeferredError):
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
                        r.at or datetime.fromisoformat(visit.at),
                    )
                self.store.record_visit(target, visit)
        except NewsmirrorError as exc:  # one visit never stops the others
            report.errors.append(f"{target.path}: {exc}")
            return
        report.count(target.source, visit.outcome)
        advance(1)


class WatchPlan:
    """When revisits are due: given the store, the archive's configuration (its
    schedule) and the clock."""

    def __init__(self, store: Store, config: Config, clock: Clock) -> None:
        self.store = store
        self.config = config
        self.clock = clock

    def first_revisit(self, article: ArticleRow) -> datetime:
        """When an article's first revisit is due by the schedule."""
        from newsmirror.watch.rules import appeared, first_visit, parse_schedule

        schedule = parse_schedule(self.config.schedule)
        return first_visit(appeared(article.first_seen, article.published_ms, schedule), schedule)

    def first_unvisited_due(self) -> datetime | None:
        """When the first revisit of the earliest article never revisited is due."""
        from newsmirror.watch.rules import parse_schedule

        first_seen = self.store.first_unvisited()
        if not first_seen:
            return None
        try:
            start = datetime.fromisoformat(first_seen)
        except ValueError:  # an unreadable time: due now
            return self.clock()
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
        return start + parse_schedule(self.config.schedule)[0]
