"""JSON Lines: the whole store as one record a line, and back.

One JSON object a line, keys sorted, UTF-8 as it is (no \\u escapes for Chinese), so that
the same store always gives the same bytes and a diff of two exports reads well. See
:mod:`newsmirror.store.portable` for the records and their order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from newsmirror.errors import ArchiveFormatError


def line_of(record: dict[str, Any]) -> bytes:
    """A record as its line of the file (newline included)."""
    return (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def write_jsonl(records: Iterable[dict[str, Any]], out: IO[bytes]) -> int:
    """Write every record; the number written."""
    count = 0
    for record in records:
        out.write(line_of(record))
        count += 1
    return count


def read_jsonl(path: Path, errors: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) of every line of an export; a line that is not a JSON object
    is an entry of ``errors`` and the rest go on. ArchiveFormatError when the file cannot
    be read at all."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ArchiveFormatError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                errors.append(f"line {number}: not JSON: {exc}")
                continue
            if not isinstance(record, dict) or "type" not in record:
                errors.append(f"line {number}: not a record (an object with a type)")
                continue
            yield number, record
