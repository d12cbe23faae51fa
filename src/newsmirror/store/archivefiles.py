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
    article_mark: int  # the newest article (row id) when it was imported
    version_mark: int  # the newest version (row id) when it was imported


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
            "SELECT path, kind, source, style, text, article_mark, version_mark "
            "FROM archive_files WHERE path = ?",
            (path,),
        )
        return None if row is None else ArchiveFile(*row)

    def archive_files(self) -> list[ArchiveFile]:
        """Every imported list and README."""
        rows = self._run(
            "SELECT path, kind, source, style, text, article_mark, version_mark "
            "FROM archive_files ORDER BY path"
        )
        return [ArchiveFile(*row) for row in rows]

    def save_archive_file(self, path: str, kind: str, source: str, style: str, text: str) -> bool:
        """Keep an imported list or README (marked with the newest article and version
        now); False when it was kept already, as it is."""
        held = self._one("SELECT text, style FROM archive_files WHERE path = ?", (path,))
        if held is not None and tuple(held) == (text, style):
            return False
        article_mark, version_mark = self._one(
            "SELECT COALESCE((SELECT MAX(id) FROM articles), 0), "
            "COALESCE((SELECT MAX(id) FROM versions), 0)"
        )
        self._run(
            "INSERT INTO archive_files (path, kind, source, style, text, article_mark, "
            "version_mark) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET "
            "kind = excluded.kind, source = excluded.source, style = excluded.style, "
            "text = excluded.text, article_mark = excluded.article_mark, "
            "version_mark = excluded.version_mark",
            (path, kind, source, style, text, int(article_mark), int(version_mark)),
        )
        return True

    def list_rows(
        self, source: str, limit: int, since: tuple[int, int] | None = None
    ) -> list[ListRow]:
        """The source's newest articles (smallest file id first), at most ``limit``; with
        ``since`` (article mark, version mark), only those stored or changed after it."""
        where = "a.source = ?"
        params: list[Any] = [source]
        if since is not None:
            where += " AND (a.id > ? OR a.latest_version > ?)"
            params += [since[0], since[1]]
        rows = self._run(
            "SELECT a.path, v.title, v.published_ms, v.file_form FROM articles a "
            f"JOIN versions v ON v.id = a.latest_version WHERE {where} "
            "ORDER BY a.archive_id ASC, a.path ASC LIMIT ?",
            [*params, limit],
        )
        return [ListRow(str(r[0]), str(r[1]), int(r[2]), str(r[3])) for r in rows]
