"""What the markdown archive's lists and README read from the store: an imported
archive's own list and README files (kept to be continued in their dialect), and the
articles a list shows."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ArchiveFile:
    """A list or README of an imported archive, as it was imported."""

    path: str  # "lists/BBC.md", "README.md"
    kind: str  # "list" or "readme"
    source: str  # the source it lists ("" for a README of links to lists)
    style: str  # its dialect ("current", "2020", "2020-undated", "cdt-readme"), or "kept"
    text: str  # the file as imported
    imported_at: str = ""  # ISO time of the import: versions stored after it are new to it


@dataclass(frozen=True)
class ListRow:
    """An article as a list entry needs it."""

    path: str  # its file, relative ("articles/rfi/1048574.md")
    title: str  # its latest version's title, as stored
    published_ms: int  # its latest version's publication time
    file_form: str  # how its file lays out its fields ("" : newsmirror's own layout)


class ArchiveFilesMixin:
    """Queries for the markdown archive's lists; mixed into SQLiteStore."""

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def archive_file(self, path: str) -> ArchiveFile | None:
        """The imported list or README at ``path``, None when none was imported."""
        row = self._one(
            "SELECT path, kind, source, style, text, imported_at FROM archive_files WHERE path = ?",
            (path,),
        )
        return None if row is None else ArchiveFile(*row)

    def archive_files(self) -> list[ArchiveFile]:
        """Every imported list and README."""
        rows = self._run(
            "SELECT path, kind, source, style, text, imported_at FROM archive_files ORDER BY path"
        )
        return [ArchiveFile(*row) for row in rows]

    def save_archive_file(self, record: ArchiveFile) -> bool:
        """Keep an imported list or README; False when it was kept already, as it is (its
        import time then stays)."""
        held = self._one("SELECT text, style FROM archive_files WHERE path = ?", (record.path,))
        if held is not None and tuple(held) == (record.text, record.style):
            return False
        self._run(
            "INSERT INTO archive_files (path, kind, source, style, text, imported_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET kind = excluded.kind, "
            "source = excluded.source, style = excluded.style, text = excluded.text, "
            "imported_at = excluded.imported_at",
            (record.path, record.kind, record.source, record.style, record.text,
             record.imported_at),
        )  # fmt: skip
        return True

    def list_rows(self, source: str, limit: int, since: str = "") -> list[ListRow]:
        """The source's newest articles (smallest file id first), at most ``limit``; with
        ``since`` (an ISO time), only those whose latest version was stored after it."""
        where = "a.source = ?"
        params: list[Any] = [source]
        if since:
            where += " AND v.fetched_at > ?"
            params.append(since)
        rows = self._run(
            "SELECT a.path, v.title, v.published_ms, v.file_form FROM articles a "
            f"JOIN versions v ON v.id = a.latest_version WHERE {where} "
            "ORDER BY a.archive_id ASC, a.path ASC LIMIT ?",
            [*params, limit],
        )
        return [ListRow(str(r[0]), str(r[1]), int(r[2]), str(r[3])) for r in rows]
