"""What the markdown archive's lists and README read from the store: an imported
archive's own list and README files, and the articles a list shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from newsmirror.store.archivefiles import ArchiveFile, ListRow
from newsmirror.store.parts.db import Db, Row
from newsmirror.store.sql import moment, stored

_FILE = "path, kind, source, style, text, imported_at"


class ArchiveFiles:
    """Imported lists and READMEs, and list entries."""

    def __init__(self, db: Db) -> None:
        self.db = db

    def archive_file(self, path: str) -> ArchiveFile | None:
        """The imported list or README at ``path``, None when none was imported."""
        row = self.db.one(f"SELECT {_FILE} FROM archive_files WHERE path = ?", (path,))
        return None if row is None else _file(row)

    def archive_files(self) -> list[ArchiveFile]:
        """Every imported list and README."""
        rows = self.db.run(f"SELECT {_FILE} FROM archive_files ORDER BY path")
        return [_file(row) for row in rows]

    def save_archive_file(self, record: ArchiveFile) -> bool:
        """Keep an imported list or README; False when it was kept already, as it is (its
        import time then stays)."""
        held = self.db.one("SELECT text, style FROM archive_files WHERE path = ?", (record.path,))
        if held is not None and (held["text"], held["style"]) == (record.text, record.style):
            return False
        self.db.run(
            f"INSERT INTO archive_files ({_FILE}) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (path) DO UPDATE SET kind = excluded.kind, source = excluded.source, "
            "style = excluded.style, text = excluded.text, imported_at = excluded.imported_at",
            (record.path, record.kind, record.source, record.style, record.text,
             stored(record.imported_at)),
        )  # fmt: skip
        return True

    def list_rows(self, source: str, limit: int, since: datetime | None = None) -> list[ListRow]:
        """The source's newest articles (smallest file id first), at most ``limit``; with
        ``since``, only those whose latest version was stored after it."""
        where = "a.source = ?"
        params: list[Any] = [source]
        if since is not None:
            where += " AND v.fetched_at > ?"
            params.append(stored(since))
        rows = self.db.run(
            "SELECT a.path, v.title, v.published_ms, v.file_form FROM articles a "
            f"JOIN versions v ON v.id = a.latest_version WHERE {where} "
            "ORDER BY a.archive_id ASC, a.path ASC LIMIT ?",
            [*params, limit],
        )
        return [
            ListRow(
                path=str(r["path"]),
                title=str(r["title"]),
                published_ms=int(r["published_ms"]),
                file_form=str(r["file_form"]),
            )
            for r in rows
        ]


def _file(row: Row) -> ArchiveFile:
    """An imported list or README as read back."""
    return ArchiveFile(
        path=row["path"],
        kind=row["kind"],
        source=row["source"],
        style=row["style"],
        text=row["text"],
        imported_at=moment(row["imported_at"]),
    )
