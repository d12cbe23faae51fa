"""Evidence in the store: captures (raw HTTP exchanges, each body stored once per
sha256, compressed) and the records of mirrored images."""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterator

from newsmirror.errors import StorageError
from newsmirror.store.evidence import EvidenceStats, MediaRecord, StoredCapture, packed
from newsmirror.store.parts.db import Db, Row
from newsmirror.types import Capture, CaptureKind, MediaStatus

_REMEMBERED = 4096  # capture rows remembered at most (then forgotten and started again)
_MEDIA = "m.sha256, m.path, m.mime, m.size, m.width, m.height"


class Evidence:
    """Captures and mirrored images."""

    def __init__(self, db: Db) -> None:
        self.db = db
        #: Captures saved (by what tells one apart), kept past commits: a source's items
        #: stored over several transactions name their feed's capture once.
        self._capture_ids: dict[tuple[str, ...], int] = {}
        db.on_rollback(self._capture_ids.clear)

    # -- captures --------------------------------------------------------------------

    def save_capture(self, source: str, capture: Capture) -> int:
        """Store a capture (its body once per sha256; packed ahead by a worker process,
        or here). The same capture saved again for the source gives the same row."""
        made = capture.packed
        digest = made.sha256 if made else hashlib.sha256(capture.body).hexdigest()
        key = (source, capture.kind, capture.url, capture.final_url, capture.at, digest)
        known = self._capture_ids.get(key)
        if known is not None:
            return known
        if self.db.one("SELECT 1 FROM bodies WHERE sha256 = ?", (digest,)) is None:
            made = made or packed(capture).packed
            assert made is not None
            self.db.run(
                "INSERT INTO bodies (sha256, size, stored, data) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (sha256) DO NOTHING",  # another writer's, meanwhile
                (digest, made.size, len(made.data), made.data),
            )
        row = {
            "at": capture.at,
            "source": source,
            "kind": capture.kind,
            "url": capture.url,
            "final_url": capture.final_url,
            "status": capture.status,
            "request_headers": json.dumps(capture.request_headers, ensure_ascii=False),
            "headers": json.dumps(capture.headers, ensure_ascii=False),
            "sha256": digest,
        }
        row_id = self.db.insert("captures", row)
        if len(self._capture_ids) >= _REMEMBERED:
            self._capture_ids.clear()
        self._capture_ids[key] = row_id
        return row_id

    def capture(self, capture_id: int) -> StoredCapture | None:
        """A capture by id, its body byte-identical to what was received."""
        row = self.db.one(
            "SELECT c.id, c.kind, c.url, c.final_url, c.status, c.request_headers, c.headers, "
            "c.at, c.sha256, c.source, b.data FROM captures c "
            "JOIN bodies b ON b.sha256 = c.sha256 WHERE c.id = ?",
            (capture_id,),
        )
        return None if row is None else _stored(row)

    def captures_in_time_order(self) -> Iterator[StoredCapture]:
        """Every capture, oldest first, each read when it is reached."""
        ids = [int(r["id"]) for r in self.db.run("SELECT id FROM captures ORDER BY at, id")]
        for capture_id in ids:
            stored = self.capture(capture_id)
            if stored is not None:
                yield stored

    def capture_ids(self) -> list[int]:
        """Every capture id, oldest first."""
        return [int(r["id"]) for r in self.db.run("SELECT id FROM captures ORDER BY id")]

    def evidence_stats(self) -> EvidenceStats:
        """Counts and sizes of captures and mirrored images."""
        row = self.db.single(
            "SELECT (SELECT COUNT(*) FROM captures) AS captures, "
            "(SELECT COUNT(*) FROM bodies) AS bodies, "
            "(SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM bodies) AS body_bytes, "
            "(SELECT CAST(COALESCE(SUM(stored), 0) AS BIGINT) FROM bodies) AS stored_bytes, "
            "(SELECT COUNT(*) FROM media) AS media, "
            "(SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM media) AS media_bytes, "
            "(SELECT COUNT(*) FROM media_urls WHERE sha256 IS NULL) AS media_refused"
        )
        return EvidenceStats(**row)

    # -- media -----------------------------------------------------------------------

    def media_tried(self, url: str) -> bool:
        """Whether this image URL was mirrored, or refused for good, before."""
        row = self.db.one("SELECT status FROM media_urls WHERE url = ?", (url,))
        return row is not None and row["status"] in (MediaStatus.MIRRORED, MediaStatus.REFUSED)

    def record_media(self, url: str, record: MediaRecord, now: str) -> None:
        """Record a mirrored image (its file is already in place) and the URL it came from."""
        self.db.run(
            "INSERT INTO media (sha256, path, mime, size, width, height, first_seen) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (record.sha256, record.path, record.mime, record.size, record.width, record.height,
             now),
        )  # fmt: skip
        self.db.run(
            "INSERT INTO media_urls (url, sha256, status, reason, attempts, at) "
            "VALUES (?, ?, 'mirrored', '', 1, ?) ON CONFLICT (url) DO UPDATE SET "
            "sha256 = excluded.sha256, status = 'mirrored', reason = '', "
            "attempts = media_urls.attempts + 1, at = excluded.at",
            (url, record.sha256, now),
        )

    def record_media_failure(
        self, url: str, status: MediaStatus, reason: str, now: str, source: str = ""
    ) -> None:
        """Record an image URL that was refused (for good), failed (tried again when an
        article uses it again) or deferred (not asked: ``source``'s next run asks)."""
        self.db.run(
            "INSERT INTO media_urls (url, sha256, status, reason, attempts, at, source) "
            "VALUES (?, NULL, ?, ?, 1, ?, ?) ON CONFLICT (url) DO UPDATE SET "
            "status = excluded.status, reason = excluded.reason, "
            "attempts = media_urls.attempts + 1, at = excluded.at, "
            "source = excluded.source WHERE media_urls.sha256 IS NULL",
            (url, status, reason, now, source),
        )

    def deferred_images(self, source: str, limit: int, tries: int) -> list[str]:
        """Image URLs deferred for ``source`` (asked fewer than ``tries`` times), the
        latest first, at most ``limit``."""
        order = self.db.dialect.stored_order("media_urls")
        rows = self.db.run(
            "SELECT url FROM media_urls WHERE source = ? AND status = 'deferred' "
            f"AND sha256 IS NULL AND attempts < ? ORDER BY at DESC, {order} LIMIT ?",
            (source, tries, limit),
        )
        return [str(row["url"]) for row in rows]

    def media_for(self, url: str) -> MediaRecord | None:
        """The mirrored copy of an image URL, if there is one."""
        row = self.db.one(
            f"SELECT {_MEDIA} FROM media_urls u JOIN media m ON m.sha256 = u.sha256 "
            "WHERE u.url = ?",
            (url,),
        )
        return MediaRecord(**row) if row else None

    def media_failures(self) -> list[tuple[str, MediaStatus, str, int]]:
        """Image URLs not mirrored: (url, status, reason, attempts)."""
        rows = self.db.run(
            "SELECT url, status, reason, attempts FROM media_urls WHERE sha256 IS NULL "
            "ORDER BY at DESC"
        )
        return [(r["url"], MediaStatus(r["status"]), r["reason"], int(r["attempts"])) for r in rows]


def _stored(row: Row) -> StoredCapture:
    """A capture row (with its body's data) as read back; StorageError when the body is
    not the one its hash names."""
    body = zlib.decompress(row["data"])
    if hashlib.sha256(body).hexdigest() != row["sha256"]:
        raise StorageError(f"capture {row['id']}: the stored body does not match its hash")
    capture = Capture(
        kind=CaptureKind(row["kind"]),
        url=row["url"],
        final_url=row["final_url"],
        status=row["status"],
        request_headers=tuple(tuple(pair) for pair in json.loads(row["request_headers"])),
        headers=tuple(tuple(pair) for pair in json.loads(row["headers"])),
        body=body,
        at=row["at"],
    )
    return StoredCapture(int(row["id"]), capture, row["sha256"], row["source"])
