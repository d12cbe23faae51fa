"""``newsmirror run``: the long-running scheduler, and ``run --once`` for cron and CI.

A cycle has three steps: fetch the sources that are due (with ``--once``: every enabled
source, the cron or CI schedule being the interval), revisit the articles that are due
(:meth:`~newsmirror.jobs.archive.Archive.watch`), and republish what the ``run.publish``
setting names (markdown, site, digest); every publisher writes only what changed. Between
cycles the runner sleeps until the next source or revisit is due.

One runner per archive: a lock on ``<database>-lock`` (``flock``; the kernel releases it
when the process ends, however it ends) makes a second ``run`` say so and exit. SIGTERM
and Ctrl-C let the current step finish, skip the rest and exit; a second one stops at
once (the store's transactions and the atomic file writes keep even that safe). A kill
leaves at most temporary files (``.newsmirror-<pid>-<n>.tmp``) of writes that never
finished: the next run removes those of processes that are gone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import os
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from newsmirror import times
from newsmirror.config.settings import CONFIG_NAME
from newsmirror.errors import LockedError, NewsmirrorError
from newsmirror.jobs.archive import Archive
from newsmirror.schedule import rules as schedule
from newsmirror.times import Clock
from newsmirror.types import SourceReport, VisitOutcome

if TYPE_CHECKING:
    from newsmirror.publish.report import PublishReport
    from newsmirror.watch.revisit import WatchReport

Say = Callable[[str], None]


@contextlib.contextmanager
def run_lock(database: Path) -> Iterator[Path]:
    """Hold the archive's run lock; LockedError (naming the holder) when another has it."""
    path = database.with_name(database.name + "-lock")
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held for the whole run)
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise LockedError(
                f"another newsmirror run holds this archive ({holder}; lock {path})"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        yield path
    finally:
        handle.close()  # releases the lock


@dataclass
class CycleReport:
    """What one cycle did."""

    started: datetime
    fetched: list[SourceReport] = field(default_factory=list)
    watched: WatchReport | None = None
    published: dict[str, PublishReport] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # failures, one line each
    stopped: bool = False  # a signal cut the cycle short

    @property
    def failed(self) -> bool:
        """Something failed, or a stop cut the cycle short (the next run does the rest)."""
        return bool(self.errors) or self.stopped or any(r.failed for r in self.fetched)

    def summary(self) -> str:
        """One line for logs and commit messages: what is new, edited, taken down."""
        new = sum(r.new for r in self.fetched)
        changed = sum(r.changed for r in self.fetched)
        per = ", ".join(f"{r.source} {r.new}" for r in self.fetched if r.new)
        parts = [f"{new} new" + (f" ({per})" if per else "")]
        if changed:
            parts.append(f"{changed} with a new version")  # a feed's change, or a page read
        if self.watched is not None:
            found = self.watched.outcomes
            if found[VisitOutcome.EDITED]:
                parts.append(f"{found[VisitOutcome.EDITED]} edited upstream")
            if found[VisitOutcome.GONE]:
                parts.append(f"{found[VisitOutcome.GONE]} found taken down")
        failed = [r.source for r in self.fetched if r.failed]
        if failed:
            parts.append("failed: " + " ".join(failed))
        if self.stopped:
            parts.append("stopped before the end of the cycle")
        return f"news {self.started:%Y-%m-%d %H:%M} UTC: " + ", ".join(parts)


class Runner:
    """Cycles of fetch, watch and publish over one open archive: given the archive (whose
    jobs it runs), where to say what it does, the event that stops it, and the clock that
    says what is due (the archive's by default)."""

    def __init__(
        self,
        archive: Archive,
        say: Say,
        stop: threading.Event | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.archive = archive
        self.say = say
        self.stop = stop or threading.Event()
        self.clock = clock or archive.clock
        self._config_file = archive.config.home / CONFIG_NAME
        self._had_file = self._config_file.exists()

    def reload(self) -> None:
        """Read the configuration again (a long run notices edits between cycles); a
        broken one is reported and the one in force kept."""
        from newsmirror.config.settings import load_config
        from newsmirror.errors import ConfigError

        if self._had_file and not self._config_file.exists():
            self.say(f"{self._config_file} is gone: keeping the settings in force")
            return
        try:
            config = load_config(self.archive.config.home)
        except ConfigError as exc:
            self.say(f"configuration error, keeping the settings in force: {exc}")
            return
        old = self.archive.config
        for key in ("database", "output", "site_dir"):
            if getattr(config, key) != getattr(old, key):
                self.say(f"{key} changed: restart run to use it; it keeps {getattr(old, key)!r}")
                config = dataclasses.replace(config, **{key: getattr(old, key)})
        if config != self.archive.config:
            self.archive.reconfigure(config)
            self.say("configuration read again: changed")

    def cycle(self, once: bool = False) -> CycleReport:
        """One cycle; each step is skipped once a stop was asked for."""
        config = self.archive.config
        report = CycleReport(self.clock())
        enabled = [s for s in config.sources if s.enabled]
        if once:
            slugs = [s.slug for s in enabled]
        else:
            attempts = self._attempts()
            intervals = {s.slug: s.interval for s in enabled}
            slugs = schedule.due_sources(intervals, attempts, report.started, config.jitter)
        if slugs:
            self._step(report, "fetch", lambda: self._fetch(report, slugs))
        if config.watch:
            self._step(report, "watch", lambda: self._watch(report))
        for what in config.publish:
            self._step(report, f"publish {what}", functools.partial(self._publish, report, what))
        report.stopped = self.stop.is_set()
        return report

    def _step(self, report: CycleReport, name: str, step: Callable[[], None]) -> None:
        if self.stop.is_set():
            return
        try:
            step()
        except NewsmirrorError as exc:  # one step failing never stops the next ones
            report.errors.append(f"{name}: {exc}")
            self.say(f"{name} failed: {exc}")

    def _fetch(self, report: CycleReport, slugs: list[str]) -> None:
        report.fetched = self.archive.fetch(slugs)
        new = sum(r.new for r in report.fetched)
        changed = sum(r.changed for r in report.fetched)
        resting = [r.source for r in report.fetched if r.deferred_until]
        tried = len(slugs) - len(resting)
        line = f"fetched {_count(tried, 'source')}: {new} new, {changed} changed; " if tried else ""
        if resting:
            line += f"backed off, not tried: {' '.join(resting)}"
        self.say(line.rstrip("; "))
        for r in report.fetched:
            for line in r.errors:
                self.say(f"{r.source}: {line}")

    def _watch(self, report: CycleReport) -> None:
        watched = self.archive.watch()
        report.watched = watched
        report.errors += watched.errors
        if watched.due:
            found = ", ".join(f"{n} {k}" for k, n in watched.outcomes.items() if n)
            self.say(f"revisited {watched.due}: {found}")
        if watched.deferred:
            self.say(watched.deferred_line)

    def _publish(self, report: CycleReport, what: str) -> None:
        if what == "markdown":
            result = self.archive.publish_markdown()
        elif what == "site":
            result = self.archive.publish_site()
        else:
            result = self.archive.publish_digests()
        report.published[what] = result
        report.errors += result.errors
        if result.written:
            self.say(f"{what}: {_count(result.written, 'file')} written")

    def next_wake(self, now: datetime) -> timedelta:
        """How long to sleep: until the next source or revisit is due."""
        config = self.archive.config
        attempts = self._attempts()
        upcoming: list[datetime | None] = [
            schedule.source_due_at(s.slug, attempts.get(s.slug, ""), s.interval, config.jitter)
            for s in config.sources
            if s.enabled
        ]
        if config.watch:
            planned = self.archive.store.next_planned_visit()
            upcoming.append(datetime.fromisoformat(planned) if planned else None)
            first = self.archive.first_unvisited_due()
            upcoming.append(first)
        return schedule.sleep_for(now, upcoming)

    def _attempts(self) -> dict[str, str]:
        """Each source's last attempt (ISO time, as the store keeps it: its jitter is
        drawn from that text), from its feeds' health."""
        states = self.archive.feed_states()
        return schedule.last_attempts((f.source, times.iso(f.last_checked)) for f in states)

    def loop(self) -> None:
        """Cycles until a stop is asked for."""
        first = True
        while not self.stop.is_set():
            if not first:
                self.reload()
            first = False
            report = self.cycle()
            self.say(report.summary())
            if self.stop.is_set():
                break
            wait = self.next_wake(self.clock())
            self.say(f"next cycle in {int(wait.total_seconds())} s")
            self.stop.wait(wait.total_seconds())


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event, say: Say) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` (the current step finishes); a second one stops at
    once. The previous handlers come back afterwards."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        name = signal.Signals(signum).name
        say(f"{name}: stopping after the current step (again to stop at once)")

    previous: dict[signal.Signals, Any] = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
