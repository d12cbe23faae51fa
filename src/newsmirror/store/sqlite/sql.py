"""SQL the parts of the SQLite store share: the rules of :mod:`newsmirror.decide` as SQL
expressions, and a version's columns."""

from __future__ import annotations

import sqlite3
from dataclasses import fields
from datetime import datetime

from newsmirror import times
from newsmirror.decide import STAND_IN
from newsmirror.types import Version

#: The columns of a version, named as the fields of :class:`~newsmirror.types.Version`.
VERSION_FIELDS = tuple(f.name for f in fields(Version))


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


def version_of(row: sqlite3.Row) -> Version:
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
    """SQL: whether the version of alias ``v`` edited its article upstream (1 or 0): a
    version after the first, unless it completes a stand-in for an unread page or came
    from another of the source's feeds than the version before (the rule of
    :func:`newsmirror.decide.is_edit`; the index on (article_id, seq) finds the version
    before)."""
    return (
        f"({v}.seq > 1 AND NOT EXISTS (SELECT 1 FROM versions sb WHERE sb.article_id = "
        f"{v}.article_id AND sb.seq = {v}.seq - 1 AND ({stand_in_sql('sb')} OR "
        f"(sb.method = 'feed' AND {v}.method = 'feed' AND sb.feed_url <> {v}.feed_url))))"
    )


def marks(count: int) -> str:
    """``?, ?, ?``: the placeholders of ``count`` parameters."""
    return ", ".join("?" * count)
