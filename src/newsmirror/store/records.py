"""What a record of a JSON Lines export must look like (pure; the store imports them).

:func:`check` refuses a record whose fields are missing or of the wrong kind, or whose
names and paths could not name a file in the archive (``../``, an absolute path, a NUL,
a name too long), with a message naming the field, before anything of it reaches the
store: a record written by hand or damaged in transit must not leave values that later
commands cannot read or write.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime
from typing import Any

from newsmirror import times
from newsmirror.limits import SLUG, article_path_problem, name_problem
from newsmirror.media.images import media_path
from newsmirror.types import CaptureKind, MediaStatus, VisitOutcome

_S, _I, _B = "text", "integer", "true or false"
_OPT_I = "integer or null"
_PAIRS = "list of [name, value] pairs"

FIELDS: dict[str, dict[str, str]] = {
    "header": {"format": _S, "version": _I},
    "source": {"slug": _S, "name": _S, "id_scheme": _S, "lowest_id": _I},
    "feed": {
        "source": _S, "url": _S, "position": _I, "etag": _S, "last_modified": _S,
        "last_success": _S, "last_error": _S, "failures": _I, "last_checked": _S,
        "last_status": _S, "next_due": _S,
    },
    "body": {"sha256": _S, "data": _S},
    "capture": {
        "ref": _I, "at": _S, "source": _S, "kind": _S, "url": _S, "final_url": _S,
        "status": _I, "sha256": _S, "request_headers": _PAIRS, "headers": _PAIRS,
    },
    "media": {
        "sha256": _S, "path": _S, "mime": _S, "size": _I, "width": _I, "height": _I,
        "first_seen": _S,
    },
    "media_url": {
        "url": _S, "sha256": "text or null", "status": _S, "reason": _S, "attempts": _I,
        "at": _S,
    },
    "article": {
        "source": _S, "archive_id": _I, "path": _S, "identity": _S, "guid": _S, "url": _S,
        "title_key": _S, "published_ms": _I, "date_missing": _B, "first_seen": _S,
        "feed_hash": _S,
    },
    "version": {
        "article": _S, "seq": _I, "fetched_at": _S, "feed_url": _S, "title": _S, "link": _S,
        "published_ms": _I, "raw_html": _S, "clean_html": _S, "content_hash": _S,
        "method": _S, "content_url": _S, "method_note": _S, "feed_capture": _OPT_I,
        "page_capture": _OPT_I,
    },
    "alias": {"article": _S, "url": _S},
    "visit": {
        "article": _S, "at": _S, "url": _S, "outcome": _S, "http_status": _I, "final_url": _S,
        "reason": _S, "turned": _B, "version": _OPT_I, "capture": _OPT_I,
    },
    "watch": {
        "article": _S, "status": _S, "status_at": _S, "last_visit": _S, "next_visit": _S,
        "failures": _I, "page_hash": _S, "page_title": _S,
    },
    "archive_file": {
        "path": _S, "kind": _S, "source": _S, "style": _S, "text": _S, "imported_at": _S,
    },
}  # fmt: skip

#: Fields an export may lack (written by an earlier newsmirror), with the value they
#: then have: a record is read as if it held them.
OPTIONAL: dict[str, dict[str, tuple[str, Any]]] = {
    "article": {"twin": (_I, 0)},
    "version": {"file_form": (_S, "")},
}
_KEPT_STYLES = ("current", "2020", "2020-undated", "cdt-readme", "kept")
#: Fields that hold a word of a closed set: the store reads them back as these enums.
_WORDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("capture", "kind"): tuple(CaptureKind),
    ("visit", "outcome"): tuple(VisitOutcome),
    ("media_url", "status"): tuple(MediaStatus),
}


#: Times of what happened (ISO with its offset, or ""): within the dates accepted
#: (:func:`newsmirror.times.refused`), as a date from a feed is.
_HAPPENED = frozenset(
    ("at", "fetched_at", "first_seen", "status_at", "last_visit", "last_success", "last_checked")
)
#: Times planned (ISO with its offset, or ""): any.
_PLANNED = frozenset(("next_visit", "next_due"))


def _is(value: Any, kind: str) -> bool:
    if kind == _S:
        return isinstance(value, str)
    if kind == _I:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == _B:
        return isinstance(value, bool)
    if kind == _OPT_I:
        return value is None or _is(value, _I)
    if kind == "text or null":
        return value is None or isinstance(value, str)
    return isinstance(value, list) and all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in value
    )


#: Fields that name a file or folder, per record type, and the rule each follows.
_SLUGS = {"source": "slug", "feed": "source", "article": "source"}
_ARTICLE_PATHS = {"article": "path", "version": "article", "visit": "article", "watch": "article"}


def _check_names(kind: str, record: dict[str, Any]) -> None:
    """ValueError for a name or path that would lead a later publish out of the archive
    or to a file no file system holds: slugs (folders), a source's name (its list file),
    article paths (``articles/<folder>/<id>.md``), a media file's path."""
    if kind in _SLUGS and not SLUG.match(record[_SLUGS[kind]]):
        field = _SLUGS[kind]
        raise ValueError(f"field {field!r} is not a slug (a-z, 0-9, _ -): {record[field]!r:.60}")
    if kind == "source" and name_problem(record["name"]):
        raise ValueError(f"field 'name' {name_problem(record['name'])}: {record['name']!r:.60}")
    if kind in _ARTICLE_PATHS:
        field = _ARTICLE_PATHS[kind]
        problem = article_path_problem(record[field])
        if problem:
            raise ValueError(f"field {field!r} {problem}: {record[field]!r:.80}")
    if kind == "media":
        ext = record["path"].rpartition(".")[2]
        try:
            expected = media_path(record["sha256"], ext)
        except ValueError as exc:
            raise ValueError(f"field 'path' is not a media file's path: {exc}") from exc
        if record["path"] != expected:
            raise ValueError(f"field 'path' must be {expected!r}, not {record['path']!r:.80}")


def check(record: dict[str, Any], now: datetime) -> None:
    """ValueError naming what is wrong with a record (unknown type, a field missing or of
    the wrong kind, a time that is none or outside the dates accepted at ``now``, a body
    whose sha256 is not that of its data)."""
    kind = record.get("type")
    if kind not in FIELDS:
        raise ValueError(f"unknown record type {kind!r}")
    for name, (expected, default) in OPTIONAL.get(str(kind), {}).items():
        record.setdefault(name, default)
        if not _is(record[name], expected):
            raise ValueError(f"field {name!r} must be {expected}, not {record[name]!r:.60}")
    for name, expected in FIELDS[str(kind)].items():
        if name not in record:
            raise ValueError(f"missing field {name!r}")
        if not _is(record[name], expected):
            raise ValueError(f"field {name!r} must be {expected}, not {record[name]!r:.60}")
    if kind == "archive_file":
        _check_archive_file(record)
    for (of, name), words in _WORDS.items():
        if kind == of and record[name] not in words:
            raise ValueError(f"field {name!r} must be one of {', '.join(words)}")
    for name in FIELDS[str(kind)]:
        why = _time_refused(name, record[name], now)
        if why:
            raise ValueError(f"field {name!r}: {why}")
    if kind == "version" and record["seq"] < 1:
        raise ValueError("field 'seq' must be 1 or more")
    _check_names(str(kind), record)
    if kind == "body":
        try:
            data = base64.b64decode(record["data"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("field 'data' is not base64") from exc
        if hashlib.sha256(data).hexdigest() != record["sha256"]:
            raise ValueError("the body's data does not have the sha256 it names")


def _check_archive_file(record: dict[str, Any]) -> None:
    """An imported list or README: ``lists/<name>.md`` or ``README.md``, a known dialect."""
    path = record["path"]
    if record["kind"] == "readme":
        if path != "README.md":
            raise ValueError(f"field 'path' of a README must be 'README.md', not {path!r:.60}")
    elif record["kind"] == "list":
        name = path.removeprefix("lists/").removesuffix(".md")
        if f"lists/{name}.md" != path or name_problem(name):
            raise ValueError(f"field 'path' is not lists/<name>.md: {path!r:.60}")
    else:
        raise ValueError(f"field 'kind' must be list or readme, not {record['kind']!r:.20}")
    if record["style"] not in _KEPT_STYLES:
        raise ValueError(f"field 'style' must be one of {_KEPT_STYLES}")
    if record["source"] and not SLUG.match(record["source"]):
        raise ValueError(f"field 'source' is not a slug: {record['source']!r:.60}")


def _time_refused(name: str, value: Any, now: datetime) -> str:
    """Why the time a field holds is not taken ("" when it is, or is no time)."""
    if name == "published_ms":
        why = times.refused_ms(value, now)
    elif name in _HAPPENED | _PLANNED and value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            return f"{value!r:.60} is not an ISO time with its offset"
        why = times.refused(moment, now) if name in _HAPPENED else ""
    else:
        return ""
    return f"{why} (times are taken {times.WINDOW})" if why else ""
