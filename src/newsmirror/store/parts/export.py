"""The whole store as plain records, for a JSON Lines export (see
:mod:`newsmirror.store.portable` for the records and their order)."""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterator
from typing import Any

from newsmirror.store import portable as p
from newsmirror.store.parts.db import Db
from newsmirror.store.watching import VISIT_COLUMNS, WATCH_COLUMNS


class Export:
    """Every record of the store, in import order."""

    def __init__(self, db: Db) -> None:
        self.db = db

    def export_records(self) -> Iterator[dict[str, Any]]:
        """Every record of the store, in import order (see :mod:`~newsmirror.store.portable`)."""
        yield {"type": "header", "format": p.FORMAT, "version": p.FORMAT_VERSION}
        yield from self._rows("source", p.SOURCE, "sources", "slug")
        yield from self._rows("feed", p.FEED, "feeds", "source, position, url")
        order = self.db.dialect.stored_order("bodies")
        for row in self.db.run(f"SELECT sha256, data FROM bodies ORDER BY {order}"):
            body = base64.b64encode(zlib.decompress(row["data"])).decode()
            yield {"type": "body", "sha256": row["sha256"], "data": body}
        refs: dict[int, int] = {}  # capture row id → its number in the export
        columns = ", ".join(p.CAPTURE)
        rows = self.db.run(
            f"SELECT id, {columns}, request_headers, headers FROM captures ORDER BY id"
        )
        for row in rows:
            refs[int(row["id"])] = len(refs) + 1
            record = {"type": "capture", "ref": refs[int(row["id"])]}
            record.update((c, row[c]) for c in p.CAPTURE)
            record["request_headers"] = json.loads(row["request_headers"])
            record["headers"] = json.loads(row["headers"])
            yield record
        yield from self._rows("media", p.MEDIA, "media", self.db.dialect.stored_order("media"))
        yield from self._rows(
            "media_url", p.MEDIA_URL, "media_urls", self.db.dialect.stored_order("media_urls")
        )
        yield from self._articles(refs)
        yield from self._visits(refs)
        yield from self._rows("archive_file", p.ARCHIVE_FILE, "archive_files", "path")

    def _rows(
        self, kind: str, columns: tuple[str, ...], table: str, order: str
    ) -> Iterator[dict[str, Any]]:
        for row in self.db.dicts(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"):
            yield {"type": kind, **row}

    def _articles(self, refs: dict[int, int]) -> Iterator[dict[str, Any]]:
        """Each article, followed by its versions and its aliases."""
        articles = list(
            self.db.dicts(f"SELECT {', '.join(p.ARTICLE)}, id FROM articles ORDER BY id")
        )
        for row in articles:
            article_id = row.pop("id")
            article = {"type": "article", **row, "date_missing": bool(row["date_missing"])}
            yield article
            versions = self.db.dicts(
                f"SELECT {', '.join(p.VERSION)}, feed_capture, page_capture FROM versions "
                "WHERE article_id = ? ORDER BY seq",
                (article_id,),
            )
            for v in versions:
                for ref in ("feed_capture", "page_capture"):
                    v[ref] = refs.get(v[ref]) if v[ref] is not None else None
                yield {"type": "version", "article": article["path"], **v}
            aliases = self.db.run(
                "SELECT url FROM article_aliases WHERE article_id = ? ORDER BY url", (article_id,)
            )
            for alias in aliases:
                yield {"type": "alias", "article": article["path"], "url": alias["url"]}

    def _visits(self, refs: dict[int, int]) -> Iterator[dict[str, Any]]:
        """Every visit, then every watched article's standing (a visit names its article
        by path, the version an edit added by its number, and its capture by ``refs``,
        the export's capture numbers)."""
        rows = self.db.run(
            f"SELECT a.path, {', '.join('vi.' + c for c in VISIT_COLUMNS)}, vi.turned, "
            "ve.seq, vi.capture_id FROM visits vi JOIN articles a ON a.id = vi.article_id "
            "LEFT JOIN versions ve ON ve.id = vi.version_id ORDER BY vi.id"
        )
        for row in rows:
            record = {"type": "visit", "article": row["path"]}
            record.update((c, row[c]) for c in VISIT_COLUMNS)
            record["turned"] = bool(row["turned"])
            record["version"] = row["seq"]
            capture = row["capture_id"]
            record["capture"] = refs.get(capture) if capture is not None else None
            yield record
        rows = self.db.run(
            f"SELECT a.path, {', '.join('w.' + c for c in WATCH_COLUMNS)} FROM watch w "
            "JOIN articles a ON a.id = w.article_id ORDER BY w.article_id"
        )
        for row in rows:
            yield {"type": "watch", "article": row["path"], **{c: row[c] for c in WATCH_COLUMNS}}
