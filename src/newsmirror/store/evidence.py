"""Evidence in the store: captures (raw HTTP exchanges, bodies stored once) and the
mirrored-image records; the rows and the part of the storage Protocol."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Protocol

from newsmirror.types import Capture, MediaStatus, PackedBody

#: zlib level of stored bodies: a feed of 6 MB packs in 0.1 s at 6 (0.35 at 9, which
#: saves 1% more).
LEVEL = 6


def packed(capture: Capture) -> Capture:
    """The capture with its body packed (hashed and compressed) and let go of: what a
    worker process hands the single writer, which then only writes it."""
    if capture.packed is not None:
        return capture
    body = capture.body
    made = PackedBody(hashlib.sha256(body).hexdigest(), len(body), zlib.compress(body, LEVEL))
    return replace(capture, body=b"", packed=made)


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


class EvidenceStore(Protocol):
    """Evidence: the raw HTTP exchanges behind the versions (captures, each body kept once
    per sha256) and the mirrored images."""

    def capture(self, capture_id: int) -> StoredCapture | None:
        """A capture by id, its body byte-identical to what was received; None when there
        is no such capture. StorageError when the stored body does not match its hash."""

    def captures_in_time_order(self) -> Iterator[StoredCapture]:
        """Every capture, oldest first (by time, then as stored), each read when it is
        reached (the WARC export)."""

    def capture_ids(self) -> list[int]:
        """Every capture id, in the order stored."""

    def evidence_stats(self) -> EvidenceStats:
        """Counts and sizes of captures, bodies and mirrored images."""

    def media_tried(self, url: str) -> bool:
        """Whether this image URL was mirrored, or refused for good, before (a failed or
        deferred one is tried again)."""

    def record_media(self, url: str, record: MediaRecord, now: str) -> None:
        """Record a mirrored image (its file is already in place) and the URL it came
        from; an image is kept once per sha256, however many URLs give it."""

    def record_media_failure(
        self, url: str, status: MediaStatus, reason: str, now: str, source: str = ""
    ) -> None:
        """Record an image URL that was REFUSED (for good), FAILED (tried again when an
        article uses it again) or DEFERRED (not asked: ``source``'s next run asks). A
        URL mirrored before stays mirrored."""

    def deferred_images(self, source: str, limit: int, tries: int) -> list[str]:
        """Image URLs deferred for ``source`` and asked fewer than ``tries`` times, the
        latest first, at most ``limit``."""

    def media_for(self, url: str) -> MediaRecord | None:
        """The mirrored copy of an image URL, None when there is none."""

    def media_failures(self) -> list[tuple[str, MediaStatus, str, int]]:
        """Image URLs not mirrored, the latest first: (url, status, reason, attempts)."""
