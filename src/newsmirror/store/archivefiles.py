"""What the markdown archive's lists and README read from the store: an imported
archive's own list and README files (kept to be continued in their dialect), and the
articles a list shows; the rows and the part of the storage Protocol."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ArchiveFile:
    """A list or README of an imported archive, as it was imported."""

    path: str  # "lists/BBC.md", "README.md"
    kind: str  # "list" or "readme"
    source: str  # the source it lists ("" for a README of links to lists)
    style: str  # its dialect ("current", "2020", "2020-undated", "cdt-readme"), or "kept"
    text: str  # the file as imported
    #: Aware UTC time of the import (None: not known): versions stored after it are new to it.
    imported_at: datetime | None = None


@dataclass(frozen=True)
class ListRow:
    """An article as a list entry needs it."""

    path: str  # its file, relative ("articles/rfi/1048574.md")
    title: str  # its latest version's title, as stored
    published_ms: int  # its latest version's publication time
    file_form: str  # how its file lays out its fields ("" : newsmirror's own layout)


class ArchiveFileStore(Protocol):
    """What the markdown archive's lists and README read: an imported archive's own list
    and README files (kept to be continued in their dialect), and the articles a list
    shows."""

    def archive_file(self, path: str) -> ArchiveFile | None:
        """The imported list or README at ``path``, None when none was imported."""

    def archive_files(self) -> list[ArchiveFile]:
        """Every imported list and README, by path."""

    def save_archive_file(self, record: ArchiveFile) -> bool:
        """Keep an imported list or README (the one before at its path is replaced);
        False when it was kept already with this text and style (its import time then
        stays)."""

    def list_rows(self, source: str, limit: int, since: datetime | None = None) -> list[ListRow]:
        """The source's newest articles (smallest file id first, then path), at most
        ``limit``; with ``since`` (aware UTC), only those whose latest version was
        stored after it."""
