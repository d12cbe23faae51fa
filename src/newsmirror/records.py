"""What a record of a JSON Lines export must look like (pure; the store imports them).

:func:`check` refuses a record whose fields are missing or of the wrong kind, with a
message naming the field, before anything of it reaches the store: a record written by
hand or damaged in transit must not leave values that later commands cannot read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

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
}  # fmt: skip


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


def check(record: dict[str, Any]) -> None:
    """ValueError naming what is wrong with a record (unknown type, a field missing or of
    the wrong kind, a body whose sha256 is not that of its data)."""
    kind = record.get("type")
    if kind not in FIELDS:
        raise ValueError(f"unknown record type {kind!r}")
    for name, expected in FIELDS[str(kind)].items():
        if name not in record:
            raise ValueError(f"missing field {name!r}")
        if not _is(record[name], expected):
            raise ValueError(f"field {name!r} must be {expected}, not {record[name]!r:.60}")
    if kind == "version" and record["seq"] < 1:
        raise ValueError("field 'seq' must be 1 or more")
    if kind == "body":
        try:
            data = base64.b64decode(record["data"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("field 'data' is not base64") from exc
        if hashlib.sha256(data).hexdigest() != record["sha256"]:
            raise ValueError("the body's data does not have the sha256 it names")
