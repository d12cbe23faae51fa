"""Dates from outside judged, and stored times made safe to show (pure).

A date a feed, a page or an imported record gives is used only within :data:`EARLIEST`
and :data:`AHEAD` of the moment it is read (:func:`refused` says why not). Whatever a
store holds (an archive written by an older newsmirror may hold any epoch millisecond
value or ISO text), :func:`at_ms` and :func:`parse_iso` turn it into a datetime that every
conversion to a timezone accepts, and :func:`day` and :func:`minute` write it the same
way for every year. Durations such as ``"6h"`` (the watch schedule, a source's interval)
are read by :func:`parse_duration`. :data:`Clock` is what a job is given to read the
time; :func:`utcnow` is the real one (the only function here that is not pure).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo

from newsmirror.errors import ConfigError

#: Where a job reads the time: called with nothing, it gives an aware datetime in UTC.
#: The jobs are given :func:`utcnow`; tests give one they move.
Clock = Callable[[], datetime]

#: No date before this is used: the "zero" dates of broken systems (0001-01-01,
#: 0000-00-00, 1899-12-30) come before it; back-dated archives of the web come after.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
#: How far after the moment it is read a date may lie: a server in a time zone it does
#: not say (UTC-12 written as UTC+14 is 26 hours) is late or early by less than this.
AHEAD = timedelta(days=2)
#: The window, for messages.
WINDOW = "from 1900-01-01 to 2 days after it is read"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Any time is shown within these bounds: a day inside datetime's own range, so that a
#: conversion to any timezone (at most a day away) never leaves it.
_LOWEST = datetime(1, 1, 2, tzinfo=UTC)
_HIGHEST = datetime(9999, 12, 30, tzinfo=UTC)
_LOWEST_MS = (_LOWEST - _EPOCH) // timedelta(milliseconds=1)
_HIGHEST_MS = (_HIGHEST - _EPOCH) // timedelta(milliseconds=1)


def utcnow() -> datetime:
    """The real clock: the current time, aware, in UTC."""
    return datetime.now(UTC)


def refused(when: datetime, now: datetime) -> str:
    """Why a date from outside is not used ("" when it is): before :data:`EARLIEST`, or
    more than :data:`AHEAD` after ``now``, the moment it is read."""
    if when < EARLIEST:
        return f"{when.isoformat(timespec='minutes')} is before {EARLIEST.year}"
    if when > now + AHEAD:
        return f"{when.isoformat(timespec='minutes')} is more than {AHEAD.days} days ahead"
    return ""


def refused_ms(ms: int, now: datetime) -> str:
    """:func:`refused` for an epoch millisecond value."""
    if not _LOWEST_MS <= ms <= _HIGHEST_MS:
        return f"{ms} ms is no time of the years 1 to 9999"
    return refused(at_ms(ms), now)


def at_ms(ms: int, zone: tzinfo = UTC) -> datetime:
    """An epoch millisecond value as a datetime in ``zone``; a value beyond the years
    datetime holds is shown at the nearest end of them."""
    clamped = min(max(ms, _LOWEST_MS), _HIGHEST_MS)
    return (_EPOCH + timedelta(milliseconds=clamped)).astimezone(zone)


def parse_iso(text: str) -> datetime | None:
    """A stored ISO time as an aware datetime (a naive one is UTC) that converts to any
    timezone; None when it is no ISO time."""
    try:
        moment = datetime.fromisoformat(text)
    except (ValueError, TypeError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment.year <= 1:  # a conversion to another timezone could leave datetime's years
        return _LOWEST
    if moment.year >= 9999:
        return _HIGHEST
    return moment


def iso(when: datetime | None) -> str:
    """A time as ISO text with its offset, as the store keeps it and the command line
    shows it ("" for None: never, or none planned)."""
    return "" if when is None else when.isoformat()


def day(when: datetime) -> str:
    """YYYY-MM-DD, the year in four digits whatever it is (strftime drops them on some
    platforms for years before 1000)."""
    return f"{when.year:04d}-{when.month:02d}-{when.day:02d}"


def minute(when: datetime) -> str:
    """YYYY-MM-DD HH:MM (see :func:`day`)."""
    return f"{day(when)} {when.hour:02d}:{when.minute:02d}"


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(text: str) -> timedelta:
    """A duration such as "90s", "30m", "6h", "1d", "2w"; ConfigError when unreadable."""
    match = _DURATION.match(str(text))
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"not a duration: {text!r} (write a number and s, m, h, d or w: '6h')")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def parse_schedule(steps: Sequence[str]) -> tuple[timedelta, ...]:
    """The revisit schedule: durations after an article appeared, in increasing order."""
    parsed = tuple(parse_duration(step) for step in steps)
    if not parsed:
        raise ConfigError("the watch schedule needs at least one step")
    if any(b <= a for a, b in itertools.pairwise(parsed)):
        raise ConfigError(f"the watch schedule must increase: {list(steps)}")
    return parsed
