"""WARC 1.1 files of the raw captures, for web archives and their tools (warcio).

Each capture becomes three records, each gzipped on its own: the ``request`` (method,
path and the headers as sent), the ``response`` (status, the headers as received, the
body) and a ``metadata`` record (which source and stage asked for it). Bodies are kept
decoded in the store (no gzip left), so a response whose server compressed it says so
in ``X-Newsmirror-Original-Content-Encoding`` and carries the decoded length in
Content-Length; the metadata record says the same. Records are named from their
content (name-based UUIDs) and dated by the capture, so the same captures always give
the same bytes: a new export rewrites only the files whose captures changed.

One file a day (``newsmirror-YYYYMMDD.warc.gz``, by the capture's UTC day), continued in
``-002``, ``-003``… when it would pass ``max_bytes`` of bodies; ``index.cdxj`` beside
them indexes every file (cdxj-indexer, the format pywb reads).
"""

from __future__ import annotations

import io
import itertools
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newsmirror import __version__
from newsmirror.errors import PublishError
from newsmirror.publish.files import atomic_stream, digest, write_atomic
from newsmirror.store.evidence import StoredCapture

MAX_BYTES = 256 * 1024 * 1024  # a segment's size, at most (one capture may pass it alone)
INDEX = "index.cdxj"
_NAMESPACE = uuid.UUID("6b1f3a52-4c0e-5b8e-9a51-2f4c6e1d7a90")  # newsmirror's records
_DROPPED = ("content-encoding", "transfer-encoding", "content-length")


@dataclass
class WarcReport:
    """What an export wrote."""

    captures: int = 0  # captures exported
    records: int = 0  # WARC records written (warcinfo records included)
    files: list[Path] = field(default_factory=list)  # every WARC file of the export
    unchanged: int = 0  # files already holding exactly these bytes
    index: Path = Path(INDEX)  # the CDXJ index


def warc_date(at: str) -> str:
    """A capture's ISO time as a WARC-Date (UTC, "Z", with microseconds when it has them)."""
    moment = datetime.fromisoformat(at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    spec = "microseconds" if moment.microsecond else "seconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def record_id(*parts: str) -> str:
    """A WARC-Record-ID made from what the record holds (the same content, the same id)."""
    return f"<urn:uuid:{uuid.uuid5(_NAMESPACE, '|'.join(parts))}>"


def http_response(stored: StoredCapture) -> StatusAndHeaders:
    """The response's status line and headers as received, adjusted to the decoded body."""
    c = stored.capture
    try:
        reason = HTTPStatus(c.status).phrase
    except ValueError:
        reason = "Unknown"
    headers = []
    for name, value in c.headers:
        if name.lower() in _DROPPED:
            if name.lower() != "content-length":
                headers.append((f"X-Newsmirror-Original-{name}", value))
            continue
        headers.append((name, value))
    headers.append(("Content-Length", str(len(c.body))))
    return StatusAndHeaders(f"{c.status} {reason}", headers, protocol="HTTP/1.1")


def http_request(stored: StoredCapture) -> StatusAndHeaders:
    """The request line and headers as sent (a Host header added when they had none)."""
    c = stored.capture
    parts = urlsplit(c.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = list(c.request_headers)
    if not any(name.lower() == "host" for name, _ in headers):
        headers.insert(0, ("Host", parts.netloc))
    return StatusAndHeaders(f"GET {target} HTTP/1.1", headers, is_http_request=True)


def capture_records(writer: WARCWriter, stored: StoredCapture) -> list[Any]:
    """The request, response and metadata records of one capture."""
    c = stored.capture
    date = warc_date(c.at)
    key = (stored.sha256, c.at, c.url, c.final_url, c.kind, stored.source)
    response_id = record_id("response", *key)
    response = writer.create_warc_record(
        c.final_url or c.url,
        "response",
        payload=io.BytesIO(c.body),
        length=len(c.body),
        http_headers=http_response(stored),
        warc_headers_dict={"WARC-Record-ID": response_id, "WARC-Date": date},
    )
    request = writer.create_warc_record(
        c.url,
        "request",
        payload=io.BytesIO(b""),
        length=0,
        http_headers=http_request(stored),
        warc_headers_dict={
            "WARC-Record-ID": record_id("request", *key),
            "WARC-Date": date,
            "WARC-Concurrent-To": response_id,
        },
    )
    fields = {
        "source": stored.source,
        "kind": c.kind,
        "requested-url": c.url,
        "body-sha256": stored.sha256,
        "note": "the body is stored decoded: any content-encoding was undone",
    }
    metadata = writer.create_warc_record(
        c.final_url or c.url,
        "metadata",
        payload=io.BytesIO("".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode()),
        warc_content_type="application/warc-fields",
        warc_headers_dict={
            "WARC-Record-ID": record_id("metadata", *key),
            "WARC-Date": date,
            "WARC-Concurrent-To": response_id,
        },
    )
    return [request, response, metadata]


def _warcinfo(writer: WARCWriter, name: str) -> Any:
    info = {
        "software": f"newsmirror {__version__}",
        "format": "WARC File Format 1.1",
        "description": "raw captures of news feeds and article pages (bodies decoded)",
    }
    return writer.create_warcinfo_record(name, info)


def _segment_bytes(name: str, captures: list[StoredCapture]) -> tuple[bytes, int]:
    """One WARC file's bytes and its number of records."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True, warc_version="1.1")
    info = _warcinfo(writer, name)
    info.rec_headers.replace_header("WARC-Record-ID", record_id("warcinfo", name))
    info.rec_headers.replace_header("WARC-Date", warc_date(captures[0].capture.at))
    writer.write_record(info)
    count = 1
    for stored in captures:
        for record in capture_records(writer, stored):
            writer.write_record(record)
            count += 1
    return buffer.getvalue(), count


def _segments(captures: Iterable[StoredCapture], max_bytes: int) -> Iterator[list[StoredCapture]]:
    """Runs of captures of one UTC day (the captures come in time order) holding at most
    ``max_bytes`` of bodies (or one capture)."""
    for _day, of_day in itertools.groupby(captures, key=lambda c: warc_date(c.capture.at)[:10]):
        segment: list[StoredCapture] = []
        size = 0
        for stored in of_day:
            if segment and size + len(stored.capture.body) > max_bytes:
                yield segment
                segment, size = [], 0
            segment.append(stored)
            size += len(stored.capture.body)
        yield segment


def write_warc(
    captures: Iterable[StoredCapture], out: Path, max_bytes: int = MAX_BYTES
) -> WarcReport:
    """Write the captures (in time order) as WARC files in ``out``, with their index."""
    report = WarcReport(index=out / INDEX)
    day, part = "", 0
    for segment in _segments(captures, max_bytes):
        this_day = warc_date(segment[0].capture.at)[:10].replace("-", "")
        day, part = this_day, (part + 1 if this_day == day else 1)
        suffix = f"-{part:03d}" if part > 1 else ""
        path = out / f"newsmirror-{day}{suffix}.warc.gz"
        data, count = _segment_bytes(path.name, segment)
        if path.is_file() and digest(path.read_bytes()) == digest(data):
            report.unchanged += 1
        else:
            write_atomic(path, data)
        report.files.append(path)
        report.records += count
        report.captures += len(segment)
    _write_index(report.files, report.index)
    return report


def _write_index(files: list[Path], index: Path) -> None:
    """The CDXJ index of the files (sorted, as replay tools expect)."""
    from cdxj_indexer.main import CDXJIndexer

    try:
        with atomic_stream(index) as handle:
            text = io.StringIO()
            if files:
                CDXJIndexer(
                    output=text,
                    inputs=[str(f) for f in files],
                    sort=True,
                    dir_root=str(index.parent),
                ).process_all()
            handle.write(text.getvalue().encode("utf-8"))
    except (OSError, ValueError) as exc:
        raise PublishError(f"cannot index the WARC files into {index}: {exc}") from exc


def read_back(path: Path) -> list[dict[str, str]]:
    """Every record of a WARC file as warcio reads it, with its digests checked: (type,
    target URI, date) of each (a self-check for tests and users)."""
    from warcio.archiveiterator import ArchiveIterator

    records = []
    with path.open("rb") as handle:
        for record in ArchiveIterator(handle, check_digests="raise"):
            record.content_stream().read()  # reading to the end checks the digests
            headers = record.rec_headers
            records.append(
                {
                    "type": record.rec_type,
                    "uri": headers.get_header("WARC-Target-URI") or "",
                    "date": headers.get_header("WARC-Date") or "",
                }
            )
    return records
