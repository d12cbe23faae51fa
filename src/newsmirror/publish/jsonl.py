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
from newsmirror.store.portable import FORMAT, FORMAT_VERSION


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


#: The most bytes read of a first line looking for the header (it holds about 60).
HEADER_BYTES = 64 * 1024


def check_export(path: Path) -> None:
    """ArchiveFormatError, in one line, unless ``path`` is a newsmirror JSON Lines export:
    its first line (blank lines aside) must be the export's header, a UTF-8 JSON object
    naming the format and the version this newsmirror reads. An empty file, one that is
    not UTF-8 JSON lines (numbers, HTML, a gzip file...) or that lacks the header is
    refused whole, before anything of it is read further."""
    try:
        with path.open("rb") as handle:
            first = handle.readline(HEADER_BYTES)
            while first and not first.strip():
                first = handle.readline(HEADER_BYTES)
    except OSError as exc:
        raise ArchiveFormatError(f"cannot read {path}: {exc.strerror or exc}") from exc
    why = _not_a_header(first)
    if why:
        raise ArchiveFormatError(f"{path}: not a {FORMAT} export ({why}); nothing imported")


def _not_a_header(first: bytes) -> str:
    """Why a first line is not the export's header ("" when it is)."""
    if not first:
        return "the file is empty"
    try:
        record = json.loads(first.decode("utf-8"))
    except UnicodeDecodeError:
        return "the file is not UTF-8 text"
    except json.JSONDecodeError:
        return "its first line is not JSON"
    if not isinstance(record, dict) or record.get("type") != "header":
        return "its first line is not the export's header"
    if record.get("format") != FORMAT:
        return f"its header names the format {str(record.get('format'))[:40]!r}"
    if record.get("version") != FORMAT_VERSION:
        found = str(record.get("version"))[:10]
        return f"version {found}; this newsmirror reads version {FORMAT_VERSION}"
    return ""


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
