"""A request's parameters read and checked (pure): days, limits, cursors, sources, sort
orders. Anything that cannot be read is a :class:`~newsmirror.errors.BadRequestError`
whose message says which parameter and what it takes (the reader answers 400)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from newsmirror.errors import BadRequestError, SearchQueryError
from newsmirror.search.query import day_start_ms

MAX_OFFSET = 10_000  # results a cursor of a search (or of changes) may skip at most
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_PAGE = re.compile(r"[1-9]\d{0,8}(-[2-9]|-[1-9]\d{1,4})?")  # an article page's name
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def one(query: Mapping[str, str], name: str, default: str = "") -> str:
    """A parameter's value, stripped ("" or ``default`` when absent or blank)."""
    return query.get(name, "").strip() or default


def day(value: str, name: str) -> str:
    """A YYYY-MM-DD day as given ("" for none)."""
    if not value:
        return ""
    try:
        if not _DAY.fullmatch(value):
            raise SearchQueryError(value)
        day_start_ms(value)
    except SearchQueryError:
        raise BadRequestError(f"{name}: not a day: {value[:40]!r} (use YYYY-MM-DD)") from None
    return value


def span_ms(since: str, until: str) -> tuple[int | None, int | None]:
    """[start, end) in epoch ms of the days ``since`` and ``until`` (UTC, both included;
    "" for no bound); BadRequestError when the span is empty."""
    start = day_start_ms(since) if since else None
    end = day_start_ms(until, next_day=True) if until else None
    if start is not None and end is not None and start >= end:
        raise BadRequestError(f"the period is empty: since {since} is after until {until}")
    return start, end


def number(value: str, name: str, default: int, least: int, most: int) -> int:
    """A whole number within [least, most] (``default`` when absent)."""
    if not value:
        return default
    if not value.isdigit() or len(value) > 9 or not least <= int(value) <= most:
        raise BadRequestError(f"{name}: not a whole number from {least} to {most}: {value[:20]!r}")
    return int(value)


def choice(value: str, name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first when absent)."""
    if not value:
        return choices[0]
    if value not in choices:
        raise BadRequestError(f"{name}: one of {', '.join(choices)}, not {value[:20]!r}")
    return value


def source(value: str, known: Collection[str]) -> str:
    """A source's slug among ``known`` ("" for all)."""
    if value and value not in known:
        raise BadRequestError(f"source: no such source: {value[:40]!r}")
    return value


def is_page_name(slug: str, page: str) -> bool:
    """Whether ``slug``/``page`` could name an article page (``rfi``/``1048574``,
    ``cdt``/``398389-2``)."""
    return bool(_SLUG.fullmatch(slug) and _PAGE.fullmatch(page))


@dataclass(frozen=True)
class Cursor:
    """Where the next page of a listing starts: after an article (newest first), or after
    so many results (of a search, of the changes)."""

    published_ms: int = 0  # the last article's publication time (a listing)
    article_id: int = 0  # and its row id
    offset: int = 0  # results already given (a search, changes)

    def encode(self) -> str:
        text = f"o{self.offset}" if self.offset else f"a{self.published_ms}.{self.article_id}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def cursor(value: str) -> Cursor | None:
    """The cursor a page gave as its ``next`` (None when absent)."""
    if not value:
        return None
    refused = BadRequestError(f"cursor: not one this server gave: {value[:40]!r}")
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise refused from None
    if found := re.fullmatch(r"o([1-9]\d{0,8})", text):
        offset = int(found.group(1))
        if offset > MAX_OFFSET:
            raise BadRequestError(f"cursor: at most {MAX_OFFSET} results are paged through")
        return Cursor(offset=offset)
    if found := re.fullmatch(r"a(-?\d{1,16})\.(\d{1,18})", text):
        return Cursor(int(found.group(1)), int(found.group(2)))
    raise refused
