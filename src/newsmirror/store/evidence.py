"""Captures (raw HTTP exchanges, bodies stored once) and the mirrored-image records."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import astuple, dataclass
from typing import Any

from newsmirror.errors import StorageError
from newsmirror.types import Capture


@dataclass(frozen=True)
class StoredCapture:
    """A capture as read back from the store."""

    id: int  # row id
    capture: Capture  # the exchange, body included (decompressed)
    sha256: str  # of the body
    source: str  # the source it was fetched for


@dataclass(frozen=True)
class EvidenceStats:
    """How much evidence the store holds."""

    captures: int  # capture rows
    bodies: int  # distinct bodies
    body_bytes: int  # their size, decoded
    stored_bytes: int  # their size, compressed as stored
    media: int  # mirrored images
    media_bytes: int  # their size
    media_refused: int  # image URLs refused or failed


@dataclass(frozen=True)
class MediaRecord:
    """One mirrored image."""

    sha256: str  # of the image bytes
    path: str  # "ab/abcdef....jpg", relative to the media folder
    mime: str  # e.g. "image/jpeg"
    size: int  # bytes
    width: int  # pixels
    height: int  # pixels


class EvidenceMixin:
    """Captures and media; mixed into SQLiteStore (which gives _run/_one)."""

    _capture_ids: dict[tuple[str, Capture], int]

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    # -- captures --------------------------------------------------------------------

    def save_capture(self, source: str, capture: Capture) -> int:
        """Store a capture (its body once per sha256). The same capture saved again for
        the source within one transaction gives the same row: the same object, or an
        equal copy (a worker process hands one back with each group of items it built)."""
        known = self._capture_ids.get((source, capture))
        if known is not None:
            return known
        digest = hashlib.sha256(capture.body).hexdigest()
        if self._one("SELECT 1 FROM bodies WHERE sha256 = ?", (digest,)) is None:
            packed = zlib.compress(capture.body, 6)
            self._run(
                "INSERT INTO bodies (sha256, size, stored, data) VALUES (?, ?, ?, ?)",
                (digest, len(capture.body), len(packed), packed),
            )
        cursor = self._run(
            "INSERT INTO captures (at, source, kind, url, final_url, status, request_headers, "
            "headers, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                capture.at,
                source,
                capture.kind,
                capture.url,
                capture.final_url,
                capture.status,
                json.dumps(capture.request_headers, ensure_ascii=False),
                json.dumps(capture.headers, ensure_ascii=False),
                digest,
            ),
        )
        row_id = int(cursor.lastrowid or 0)
        self._capture_ids[(source, capture)] = row_id
        return row_id

    def capture(self, capture_id: int) -> StoredCapture | None:
        """A capture by id, its body byte-identical to what was received."""
        row = self._one(
            "SELECT c.id, c.kind, c.url, c.final_url, c.status, c.request_headers, c.headers, "
            "c.at, c.sha256, c.source, b.data FROM captures c "
            "JOIN bodies b ON b.sha256 = c.sha256 WHERE c.id = ?",
            (capture_id,),
        )
        if row is None:
            return None
        body = zlib.decompress(row[10])
        if hashlib.sha256(body).hexdigest() != row[8]:
            raise StorageError(f"capture {capture_id}: the stored body does not match its hash")
        capture = Capture(
            kind=row[1],
            url=row[2],
            final_url=row[3],
            status=row[4],
            request_headers=tuple(tuple(pair) for pair in json.loads(row[5])),
            headers=tuple(tuple(pair) for pair in json.loads(row[6])),
            body=body,
            at=row[7],
        )
        return StoredCapture(int(row[0]), capture, row[8], row[9])

    def captures_in_time_order(self) -> Iterator[StoredCapture]:
        """Every capture, oldest first, each read when it is reached."""
        ids = [int(r[0]) for r in self._run("SELECT id FROM captures ORDER BY at, id")]
        for capture_id in ids:
            stored = self.capture(capture_id)
            if stored is not None:
                yield stored

    def capture_ids(self) -> list[int]:
        """Every capture id, oldest first."""
        return [int(r[0]) for r in self._run("SELECT id FROM captures ORDER BY id")]

    def evidence_stats(self) -> EvidenceStats:
        """Counts and sizes of captures and mirrored images."""
        captures = self._one("SELECT COUNT(*) FROM captures")[0]
        bodies = self._one(
            "SELECT COUNT(*), COALESCE(SUM(size), 0), COALESCE(SUM(stored), 0) FROM bodies"
        )
        media = self._one("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM media")
        refused = self._one("SELECT COUNT(*) FROM media_urls WHERE sha256 IS NULL")[0]
        return EvidenceStats(captures, bodies[0], bodies[1], bodies[2], media[0], media[1], refused)

    # -- media -----------------------------------------------------------------------

    def media_tried(self, url: str) -> bool:
        """Whether this image URL was mirrored, or refused for good, before."""
        row = self._one("SELECT status FROM media_urls WHERE url = ?", (url,))
        return row is not None and row[0] in ("mirrored", "refused")

    def record_media(self, url: str, record: MediaRecord, now: str) -> None:
        """Record a mirrored image (its file is already in place) and the URL it came from."""
        self._run(
            "INSERT OR IGNORE INTO media (sha256, path, mime, size, width, height, first_seen) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (*astuple(record), now),
        )
        self._run(
            "INSERT INTO media_urls (url, sha256, status, reason, attempts, at) "
            "VALUES (?, ?, 'mirrored', '', 1, ?) ON CONFLICT (url) DO UPDATE SET "
            "sha256 = excluded.sha256, status = 'mirrored', reason = '', "
            "attempts = attempts + 1, at = excluded.at",
            (url, record.sha256, now),
        )

    def record_media_failure(
        self, url: str, status: str, reason: str, now: str, source: str = ""
    ) -> None:
        """Record an image URL that was refused (for good), failed (tried again when an
        article uses it again) or deferred (not asked: ``source``'s next run asks)."""
        self._run(
            "INSERT INTO media_urls (url, sha256, status, reason, attempts, at, source) "
            "VALUES (?, NULL, ?, ?, 1, ?, ?) ON CONFLICT (url) DO UPDATE SET "
            "status = excluded.status, reason = excluded.reason, "
            "attempts = attempts + 1, at = excluded.at, source = excluded.source "
            "WHERE sha256 IS NULL",
            (url, status, reason, now, source),
        )

    def deferred_images(self, source: str, limit: int, tries: int) -> list[str]:
        """Image URLs deferred for ``source`` (asked fewer than ``tries`` times), the
        latest first, at most ``limit``."""
        rows = self._run(
            "SELECT url FROM media_urls WHERE source = ? AND status = 'deferred' "
            "AND sha256 IS NULL AND attempts < ? ORDER BY at DESC, rowid LIMIT ?",
            (source, tries, limit),
        )
        return [str(row[0]) for row in rows]

    def media_for(self, url: str) -> MediaRecord | None:
        """The mirrored copy of an image URL, if there is one."""
        row = self._one(
            "SELECT m.sha256, m.path, m.mime, m.size, m.width, m.height FROM media_urls u "
            "JOIN media m ON m.sha256 = u.sha256 WHERE u.url = ?",
            (url,),
        )
        return MediaRecord(*row) if row else None

    def media_failures(self) -> list[tuple[str, str, str, int]]:
        """Image URLs not mirrored: (url, status, reason, attempts)."""
        rows = self._run(
            "SELECT url, status, reason, attempts FROM media_urls WHERE sha256 IS NULL "
            "ORDER BY at DESC"
        )
        return [(r[0], r[1], r[2], int(r[3])) for r in rows]
