"""When ``newsmirror run`` fetches a source and how long it sleeps. Pure.

A source is fetched every ``interval`` (default an hour), counted from its last attempt,
varied by up to ``jitter`` of the interval so that many mirrors (and many sources) do not
all knock at the same minute; the variation is fixed for one source and one attempt, so
the decision is the same however often it is asked. A feed's own backoff after failures
and its Retry-After are decided by the fetch itself (:func:`newsmirror.decide.next_due`):
a source due here may still find its feeds resting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

#: The longest ``run`` sleeps before it looks again (settings may change, clocks jump).
MAX_SLEEP = timedelta(minutes=15)
#: The shortest sleep between cycles (a busy archive never spins).
MIN_SLEEP = timedelta(seconds=30)


def jitter_fraction(slug: str, last_attempt: str, jitter: float) -> float:
    """A fraction in [-jitter, +jitter], fixed for this source and this attempt."""
    if not jitter:
        return 0.0
    digest = hashlib.sha256(f"{slug}\x00{last_attempt}".encode()).digest()
    unit = int.from_bytes(digest[:8], "big") / 2**64  # [0, 1)
    return (unit * 2 - 1) * jitter


def source_due_at(slug: str, last_attempt: str, interval: float, jitter: float) -> datetime | None:
    """When a source is next due: its last attempt (ISO time) plus its interval, varied;
    None when it was never tried (due at once) or the time cannot be read."""
    if not last_attempt:
        return None
    try:
        last = datetime.fromisoformat(last_attempt)
    except ValueError:
        return None
    seconds = interval * (1 + jitter_fraction(slug, last_attempt, jitter))
    return last + timedelta(seconds=seconds)


def last_attempts(checked: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The latest attempt (ISO time) per source, from (source, feed's last_checked)."""
    latest: dict[str, str] = {}
    for slug, when in checked:
        if when and when > latest.get(slug, ""):
            latest[slug] = when
    return latest


def due_sources(
    intervals: Mapping[str, float],
    attempts: Mapping[str, str],
    now: datetime,
    jitter: float,
) -> list[str]:
    """The sources (slugs, in the given order) due at ``now``."""
    due = []
    for slug, interval in intervals.items():
        at = source_due_at(slug, attempts.get(slug, ""), interval, jitter)
        if at is None or at <= now:
            due.append(slug)
    return due


def sleep_for(now: datetime, upcoming: Sequence[datetime | None]) -> timedelta:
    """How long to sleep until the earliest upcoming event, within [MIN_SLEEP, MAX_SLEEP]."""
    times = [t for t in upcoming if t is not None]
    if not times:
        return MAX_SLEEP
    wait = min(times) - now
    return max(MIN_SLEEP, min(MAX_SLEEP, wait))
