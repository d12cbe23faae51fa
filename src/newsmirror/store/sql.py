"""SQL and row reading that every backend of the store shares: the rules of
:mod:`newsmirror.decide` as SQL expressions (written so that SQLite and PostgreSQL read
them alike; the backends take ``?`` placeholders), a version's columns, the one way a
time goes into the store and comes out, and rows made into records by their columns'
names."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from newsmirror import times
from newsmirror.decide import STAND_IN
from newsmirror.errors import StorageError
from newsmirror.types import Version

T = TypeVar("T")

#: The columns of a version, named as the fields of :class:`~newsmirror.types.Version`.
VERSION_FIELDS = tuple(f.name for f in dataclasses.fields(Version))


def stored(when: datetime | None) -> str:
    """A time as the store keeps it: ISO text with its offset, which compares as text
    ("" for None: never, or none planned). Every time goes into the store through this."""
    return times.iso(when)


def moment(text: str | None) -> datetime | None:
    """A time the store keeps as an aware datetime (None for "", NULL or no ISO time).
    Every time comes out of the store through this."""
    return times.parse_iso(text) if text else None


def version_columns(alias: str = "") -> str:
    """The SELECT list of a version's columns (of table alias ``alias``)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + name for name in VERSION_FIELDS)


def version_of(row: Mapping[str, Any]) -> Version:
    """The version a row selected with :func:`version_columns` holds."""
    values = {name: row[name] for name in VERSION_FIELDS}
    values["fetched_at"] = moment(values["fetched_at"])
    return Version(**values)


def stand_in_sql(v: str) -> str:
    """SQL: whether the version of alias ``v`` stands in for an unread page (the rule of
    :func:`newsmirror.decide.is_stand_in`)."""
    return f"({v}.method = 'feed' AND {v}.method_note LIKE '%{STAND_IN}')"


def page_sql(a: str) -> str:
    """SQL: the name of article alias ``a``'s site page (``a/<slug>/<name>.html``): its file
    id, and for the second and later articles sharing one (two files of one id in an
    imported archive) ``<id>-2``, ``<id>-3``... (the rule of
    :func:`newsmirror.decide.page_name`)."""
    return (
        f"(CAST({a}.archive_id AS TEXT) || "
        f"CASE {a}.twin WHEN 0 THEN '' ELSE '-' || ({a}.twin + 1) END)"
    )


def edit_sql(v: str) -> str:
    """SQL: whether the version of alias ``v`` edited its article upstream: a version
    after the first, unless it completes a stand-in for an unread page or came from
    another of the source's feeds than the version before (the rule of
    :func:`newsmirror.decide.is_edit`; the index on (article_id, seq) finds the version
    before). SQLite gives it as 1 or 0; :func:`edits_sql` is it as a number anywhere."""
    return (
        f"({v}.seq > 1 AND NOT EXISTS (SELECT 1 FROM versions sb WHERE sb.article_id = "
        f"{v}.article_id AND sb.seq = {v}.seq - 1 AND ({stand_in_sql('sb')} OR "
        f"(sb.method = 'feed' AND {v}.method = 'feed' AND sb.feed_url <> {v}.feed_url))))"
    )


def edits_sql(v: str) -> str:
    """SQL: :func:`edit_sql` as a number (1 or 0), for a sum."""
    return f"(CASE WHEN {edit_sql(v)} THEN 1 ELSE 0 END)"


def marks(count: int) -> str:
    """``?, ?, ?``: the placeholders of ``count`` parameters."""
    return ", ".join("?" * count)


# -- rows into records ---------------------------------------------------------------

_FIELDS: dict[type, tuple[str, ...]] = {}  # the field names of each row type
_TIMES: dict[type, tuple[int, ...]] = {}  # the places of each row type's datetime fields


def record_maker(kind: type[T], names: Sequence[str]) -> Callable[[Sequence[Any]], T]:
    """What makes a query's rows, whose columns are ``names``, into ``kind`` values (a
    dataclass or a named tuple): the columns must be named as ``kind``'s fields, in their
    order (the trailing ones may be left to their defaults), which is checked here, once
    per query; each row then fills the fields as plain values, without a lookup by name
    per column. A field typed as a datetime is read with :func:`moment`."""
    expected = _fields(kind)
    if tuple(names) != expected[: len(names)]:
        raise StorageError(f"columns {tuple(names)} are not the fields of {kind.__name__}")
    timed = [i for i in _times(kind) if i < len(names)]
    if not timed:
        return lambda row: kind(*row)

    def make(row: Sequence[Any]) -> T:
        values = list(row)
        for i in timed:
            values[i] = moment(values[i])
        return kind(*values)

    return make


def _fields(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        if dataclasses.is_dataclass(kind):
            names = tuple(f.name for f in dataclasses.fields(kind))
        else:  # a named tuple
            names = tuple(getattr(kind, "_fields", ()))
        _FIELDS[kind] = names
    return names


def _times(kind: type) -> tuple[int, ...]:
    """The places of a row type's fields typed as a datetime (``datetime | None``)."""
    places = _TIMES.get(kind)
    if places is None:
        types = (
            [str(f.type) for f in dataclasses.fields(kind)]
            if dataclasses.is_dataclass(kind)
            else [str(t) for t in getattr(kind, "__annotations__", {}).values()]
        )
        places = tuple(i for i, t in enumerate(types) if t.startswith("datetime"))
        _TIMES[kind] = places
    return places
