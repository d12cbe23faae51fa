"""The whole store as plain records (JSON Lines export and import): the records, their
fields, and the part of the storage Protocol.

Records are dicts with a ``type``; the order is the one an import needs: sources,
feeds, bodies, captures, media, image URLs, each article followed by its versions and its
aliases (the other URLs it is known by), then the revisits (visits, and where each watched
article stands), then the lists and README an import of a markdown archive kept.
Captures are named by their place in the export (``ref`` 1, 2, …), not by row ids, so
that an export of an archive rebuilt from an export is the same text. Logs (fetch and
item logs) and the search index (rebuilt from the versions) are not records.
:mod:`newsmirror.store.records` checks a record before it reaches the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

FORMAT = "newsmirror-jsonl"
FORMAT_VERSION = 1

#: The fields of each record type that hold a stored value as it is, in order.
SOURCE = ("slug", "name", "id_scheme", "lowest_id")
FEED = (
    "source", "url", "position", "etag", "last_modified", "last_success", "last_error",
    "failures", "last_checked", "last_status", "next_due",
)  # fmt: skip
CAPTURE = ("at", "source", "kind", "url", "final_url", "status", "sha256")
MEDIA = ("sha256", "path", "mime", "size", "width", "height", "first_seen")
MEDIA_URL = ("url", "sha256", "status", "reason", "attempts", "at")
ARTICLE = (
    "source", "archive_id", "path", "identity", "guid", "url", "title_key", "published_ms",
    "date_missing", "first_seen", "feed_hash", "twin",
)  # fmt: skip
VERSION = (
    "seq", "fetched_at", "feed_url", "title", "link", "published_ms", "raw_html",
    "clean_html", "content_hash", "method", "content_url", "method_note", "file_form",
)  # fmt: skip
ARCHIVE_FILE = ("path", "kind", "source", "style", "text", "imported_at")


@dataclass
class ImportCounts:
    """What an import of records did."""

    added: dict[str, int] = field(default_factory=dict)  # new rows per record type
    unchanged: int = 0  # records the store already held as they are
    errors: list[str] = field(default_factory=list)  # records refused, with the reason

    def add(self, kind: str) -> None:
        self.added[kind] = self.added.get(kind, 0) + 1


class Portable(Protocol):
    """The store as records and back: an export imported into an empty store exports as
    the same records."""

    def export_records(self) -> Iterator[dict[str, Any]]:
        """Every record of the store, in import order (see the module docstring), a
        header first."""

    def import_records(
        self, records: Iterable[tuple[int, dict[str, Any]]], batch: int = 0
    ) -> ImportCounts:
        """Add (line number, record) pairs to the store in one transaction, or with
        ``batch`` in one every ``batch`` records or so (each ends with an article's last
        record: an article is never left without its versions); what the store holds
        already is left as it is (importing a file twice changes nothing; the records of
        an import cut short, imported again, add the rest). A record
        that cannot be added is an error line naming its line; the rest go on.
        ArchiveFormatError when the records are not a newsmirror export at all (no header
        first, or another format or version)."""
