"""The whole store as plain records (JSON Lines export and import), and the captures as
they are written to WARC.

Records are dicts with a ``type``; the order is the one an import needs: sources,
feeds, bodies, captures, media, image URLs, each article followed by its versions and its
aliases (the other URLs it is known by), then the revisits (visits, and where each watched
article stands), then the lists and README an import of a markdown archive kept.
Captures are named by their place in the export (``ref`` 1, 2, …), not by row ids, so
that an export of an archive rebuilt from an export is the same text. Logs (fetch and
item logs) and the search index (rebuilt from the versions) are not records.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from newsmirror.errors import ArchiveFormatError, StorageError
from newsmirror.store.records import check
from newsmirror.store.watching import WATCH_COLUMNS as _WATCH
from newsmirror.types import Candidate

FORMAT = "newsmirror-jsonl"
FORMAT_VERSION = 1

_SOURCE = ("slug", "name", "id_scheme", "lowest_id")
_FEED = (
    "source", "url", "position", "etag", "last_modified", "last_success", "last_error",
    "failures", "last_checked", "last_status", "next_due",
)  # fmt: skip
_CAPTURE = ("at", "source", "kind", "url", "final_url", "status", "sha256")
_MEDIA = ("sha256", "path", "mime", "size", "width", "height", "first_seen")
_MEDIA_URL = ("url", "sha256", "status", "reason", "attempts", "at")
_ARTICLE = (
    "source", "archive_id", "path", "identity", "guid", "url", "title_key", "published_ms",
    "date_missing", "first_seen", "feed_hash", "twin",
)  # fmt: skip
_VERSION = (
    "seq", "fetched_at", "feed_url", "title", "link", "published_ms", "raw_html",
    "clean_html", "content_hash", "method", "content_url", "method_note", "file_form",
)  # fmt: skip
_ARCHIVE_FILE = ("path", "kind", "source", "style", "text", "imported_at")


@dataclass
class ImportCounts:
    """What an import of records did."""

    added: dict[str, int] = field(default_factory=dict)  # new rows per record type
    unchanged: int = 0  # records the store already held as they are
    errors: list[str] = field(default_factory=list)  # records refused, with the reason

    def add(self, kind: str) -> None:
        self.added[kind] = self.added.get(kind, 0) + 1


class PortableMixin:
    """Export and import of records; mixed into SQLiteStore (which gives _run/_one)."""

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def transaction(self) -> Any:
        raise NotImplementedError

    def _index_version_row(
        self, article_id: int, version_id: int, c: Candidate, first: bool = False
    ) -> None:
        raise NotImplementedError

    if TYPE_CHECKING:  # WatchMixin's (after this class in SQLiteStore's bases)

        def export_visits(self, refs: dict[int, int]) -> Iterator[dict[str, Any]]: ...

        def import_visit(self, record: dict[str, Any], captures: dict[int, int]) -> bool: ...

        def article_id_of(self, path: str) -> int: ...

    # -- export ----------------------------------------------------------------------

    def export_records(self) -> Iterator[dict[str, Any]]:
        """Every record of the store, in import order (see the module docstring)."""
        yield {"type": "header", "format": FORMAT, "version": FORMAT_VERSION}
        yield from self._rows("source", _SOURCE, "sources", "slug")
        yield from self._rows("feed", _FEED, "feeds", "source, position, url")
        for sha256, data in self._run("SELECT sha256, data FROM bodies ORDER BY rowid"):
            body = zlib.decompress(data)
            yield {"type": "body", "sha256": sha256, "data": base64.b64encode(body).decode()}
        refs: dict[int, int] = {}
        columns = ", ".join(_CAPTURE)
        rows = self._run(
            f"SELECT id, {columns}, request_headers, headers FROM captures ORDER BY id"
        )
        for row in rows:
            refs[int(row[0])] = len(refs) + 1
            record = {"type": "capture", "ref": refs[int(row[0])]}
            record.update(zip(_CAPTURE, row[1:-2], strict=True))
            record["request_headers"] = json.loads(row[-2])
            record["headers"] = json.loads(row[-1])
            yield record
        yield from self._rows("media", _MEDIA, "media", "rowid")
        yield from self._rows("media_url", _MEDIA_URL, "media_urls", "rowid")
        yield from self._articles(refs)
        yield from self.export_visits(refs)
        yield from self._rows("archive_file", _ARCHIVE_FILE, "archive_files", "path")

    def _rows(
        self, kind: str, columns: tuple[str, ...], table: str, order: str
    ) -> Iterator[dict[str, Any]]:
        for row in self._run(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"):
            yield {"type": kind, **dict(zip(columns, row, strict=True))}

    def _articles(self, refs: dict[int, int]) -> Iterator[dict[str, Any]]:
        articles = self._run(
            f"SELECT id, {', '.join(_ARTICLE)} FROM articles ORDER BY id"
        ).fetchall()
        for row in articles:
            article = {"type": "article", **dict(zip(_ARTICLE, row[1:], strict=True))}
            article["date_missing"] = bool(article["date_missing"])
            yield article
            versions = self._run(
                f"SELECT {', '.join(_VERSION)}, feed_capture, page_capture FROM versions "
                "WHERE article_id = ? ORDER BY seq",
                (row[0],),
            )
            for v in versions:
                version = {"type": "version", "article": article["path"]}
                version.update(zip(_VERSION, v[:-2], strict=True))
                version["feed_capture"] = refs.get(v[-2]) if v[-2] is not None else None
                version["page_capture"] = refs.get(v[-1]) if v[-1] is not None else None
                yield version
            aliases = self._run(
                "SELECT url FROM article_aliases WHERE article_id = ? ORDER BY url", (row[0],)
            )
            for (url,) in aliases:
                yield {"type": "alias", "article": article["path"], "url": url}

    # -- import ----------------------------------------------------------------------

    def import_records(self, records: Iterable[tuple[int, dict[str, Any]]]) -> ImportCounts:
        """Add (line number, record) pairs to the store in one transaction; what the store
        holds already is left as it is (importing a file twice changes nothing). A record
        that cannot be added is an error line; the rest go on. ArchiveFormatError when
        the file is not a newsmirror export at all."""
        counts = ImportCounts()
        state = _ImportState()
        with self.transaction():
            for line, record in records:
                if record.get("type") != "version":
                    self._finish_article(state, counts)  # the article before is complete
                if (
                    record.get("type") in _OF_ARTICLE
                    and str(record.get("article")) in state.refused
                ):
                    continue  # the article's own line said it was not imported
                try:
                    with self.transaction():  # a savepoint: a bad record undoes only itself
                        self._import_record(record, state, counts)
                except (KeyError, TypeError, ValueError, StorageError) as exc:
                    if isinstance(exc, ArchiveFormatError):
                        raise
                    reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
                    counts.errors.append(f"line {line}: {record.get('type', '?')}: {reason}")
                    if record.get("type") == "article" and isinstance(record.get("path"), str):
                        state.refused.add(record["path"])  # nor its versions and visits
            self._finish_article(state, counts)
        return counts

    def _import_record(
        self, record: dict[str, Any], state: _ImportState, counts: ImportCounts
    ) -> None:
        kind = record["type"]
        if kind == "header":
            if record.get("format") != FORMAT or record.get("version") != FORMAT_VERSION:
                found = f"{record.get('format')!s:.40} version {record.get('version')!s:.10}"
                raise ArchiveFormatError(
                    f"not a {FORMAT} version {FORMAT_VERSION} file (its header says {found})"
                )
            state.header = True
            return
        if not state.header:
            raise ArchiveFormatError(f"the file does not start with a {FORMAT} header line")
        check(record, state.now)
        if kind == "version":
            self._import_version(record, state, counts)
        elif kind == "source":  # name and scheme are the configuration's; ids stay below all
            update = "lowest_id = excluded.lowest_id WHERE excluded.lowest_id < lowest_id"
            self._insert("sources", _SOURCE, record, counts, kind, "slug", update)
        elif kind == "feed":  # the position is the configuration's; health the newer one
            update = ", ".join(f"{c} = excluded.{c}" for c in _FEED[3:])
            update += " WHERE excluded.last_checked > feeds.last_checked"
            self._insert("feeds", _FEED, record, counts, kind, "source, url", update)
        elif kind == "body":
            body = base64.b64decode(record["data"], validate=True)
            packed = zlib.compress(body, 6)
            row = {"sha256": record["sha256"], "size": len(body), "stored": len(packed)}
            row["data"] = packed
            columns = ("sha256", "size", "stored", "data")
            self._insert("bodies", columns, row, counts, kind, "sha256")
        elif kind == "capture":
            state.captures[int(record["ref"])] = self._import_capture(record, state, counts)
        elif kind == "media":
            self._insert("media", _MEDIA, record, counts, kind, "sha256")
        elif kind == "media_url":
            self._insert("media_urls", _MEDIA_URL, record, counts, kind, "url")
        elif kind == "visit":
            if self.import_visit(record, state.captures):
                counts.add("visit")
            else:
                counts.unchanged += 1
        elif kind == "alias":
            row = {"article_id": self.article_id_of(record["article"]), "url": record["url"]}
            self._insert(
                "article_aliases", ("url", "article_id"), row, counts, kind, "url, article_id"
            )
        elif kind == "watch":  # where the article stands: the later visit's word wins
            row = {"article_id": self.article_id_of(record["article"]), **record}
            update = ", ".join(f"{c} = excluded.{c}" for c in _WATCH)
            update += " WHERE excluded.last_visit > watch.last_visit"
            self._insert("watch", ("article_id", *_WATCH), row, counts, kind, "article_id", update)
        elif kind == "archive_file":  # a list or README kept by an import: the file's word
            update = ", ".join(f"{c} = excluded.{c}" for c in _ARCHIVE_FILE[1:])
            update += " WHERE excluded.imported_at > archive_files.imported_at"
            self._insert("archive_files", _ARCHIVE_FILE, record, counts, kind, "path", update)
        elif kind == "article":  # added with its first version (one without is not)
            row = self._one("SELECT id FROM articles WHERE path = ?", (record["path"],))
            if row is not None:
                counts.unchanged += 1
                state.article_id = int(row[0])
            else:
                state.pending = record

    def _insert(
        self,
        table: str,
        columns: tuple[str, ...],
        record: dict[str, Any],
        counts: ImportCounts,
        kind: str,
        conflict: str,
        update: str = "",
    ) -> None:
        """Insert a row; when one with the same key is there, ``update`` it (SET clause)
        or leave it."""
        before = self._one("SELECT total_changes()")[0]
        held = self._one(
            f"SELECT 1 FROM {table} WHERE "
            + " AND ".join(f"{c} = ?" for c in conflict.split(", ")),
            [record[c] for c in conflict.split(", ")],
        )
        self._run(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            f" ON CONFLICT ({conflict}) DO " + (f"UPDATE SET {update}" if update else "NOTHING"),
            [record[c] for c in columns],
        )
        if held is None:
            counts.add(kind)
        elif self._one("SELECT total_changes()")[0] == before:
            counts.unchanged += 1
        else:
            counts.add(f"{kind} (updated)")

    def _import_capture(
        self, record: dict[str, Any], state: _ImportState, counts: ImportCounts
    ) -> int:
        """The capture's row: the same exchange already held, or a new one. The n-th of
        identical captures in the file is the n-th such row held (two fetches may give
        the same answer in the same second)."""
        values = [record[c] for c in _CAPTURE]
        values += [
            json.dumps(record["request_headers"], ensure_ascii=False),
            json.dumps(record["headers"], ensure_ascii=False),
        ]
        key = tuple(values)
        nth = state.seen.get(key, 0)
        state.seen[key] = nth + 1
        where = " AND ".join(f"{c} = ?" for c in (*_CAPTURE, "request_headers", "headers"))
        row = self._one(
            f"SELECT id FROM captures WHERE {where} ORDER BY id LIMIT 1 OFFSET ?", [*values, nth]
        )
        if row is not None:
            counts.unchanged += 1
            return int(row[0])
        cursor = self._run(
            f"INSERT INTO captures ({', '.join(_CAPTURE)}, request_headers, headers) "
            f"VALUES ({', '.join('?' * (len(_CAPTURE) + 2))})",
            values,
        )
        counts.add("capture")
        return int(cursor.lastrowid or 0)

    def _import_article(self, record: dict[str, Any], counts: ImportCounts) -> int:
        self._run(
            "INSERT OR IGNORE INTO sources (slug, name) VALUES (?, ?)", (record["source"],) * 2
        )
        twin = self._one(  # its place among the files of its id here (its page's name)
            "SELECT COUNT(*) FROM articles WHERE source = ? AND archive_id = ?",
            (record["source"], record["archive_id"]),
        )[0]
        record = {**record, "twin": twin, "date_missing": int(record["date_missing"])}
        values = [record[c] for c in _ARTICLE]
        cursor = self._run(
            f"INSERT INTO articles ({', '.join(_ARTICLE)}) "
            f"VALUES ({', '.join('?' * len(_ARTICLE))})",
            values,
        )
        self._run(  # a countdown's next id stays below every id held
            "UPDATE sources SET lowest_id = MIN(lowest_id, ?) "
            "WHERE slug = ? AND id_scheme = 'countdown'",
            (record["archive_id"], record["source"]),
        )
        return int(cursor.lastrowid or 0)

    def _import_version(
        self, record: dict[str, Any], state: _ImportState, counts: ImportCounts
    ) -> None:
        """A version of the article just read (which is added now if it is new). The state
        changes only once everything is in: a failure's savepoint undoes the rows."""
        for key in _CAPTURE_REFS:  # the content matters more than the evidence behind it
            if record[key] and record[key] not in state.captures:
                counts.errors.append(
                    f"{record['article']} version {record['seq']}: its {key} {record[key]} "
                    "is not among the captures imported: kept without it"
                )
        pending = (
            state.pending if state.pending and record["article"] == state.pending["path"] else None
        )
        article_id = self._import_article(pending, counts) if pending else state.article_id
        if article_id is None:
            raise ValueError("a version before any article")
        path = self._one("SELECT path FROM articles WHERE id = ?", (article_id,))[0]
        if record["article"] != path:
            raise ValueError(f"a version of {record['article']} after the article {path}")
        held = self._one(
            "SELECT content_hash FROM versions WHERE article_id = ? AND seq = ?",
            (article_id, record["seq"]),
        )
        if held is not None:
            if held[0] != record["content_hash"]:
                raise ValueError(f"{path} version {record['seq']} differs from the one held")
            counts.unchanged += 1
            return
        captures = [state.captures.get(record[k]) if record[k] else None for k in _CAPTURE_REFS]
        self._run(
            f"INSERT INTO versions (article_id, {', '.join(_VERSION)}, feed_capture, "
            f"page_capture) VALUES ({', '.join('?' * (len(_VERSION) + 3))})",
            [article_id, *(record[c] for c in _VERSION), *captures],
        )
        if pending:
            state.pending = None
            counts.add("article")  # counted once its first version is in too
        state.article_id = article_id
        state.versions_added = True
        counts.add("version")

    def _finish_article(self, state: _ImportState, counts: ImportCounts) -> None:
        """Point the article just imported at its newest version, and index that one."""
        if state.pending is not None:
            counts.errors.append(f"article {state.pending['path']}: no version: not imported")
            state.pending = None
        article_id, state.article_id = state.article_id, None
        if article_id is None or not state.versions_added:
            return
        state.versions_added = False
        row = self._one(
            "SELECT v.id, v.title, v.clean_html, v.published_ms, a.source, a.latest_version "
            "FROM versions v JOIN articles a ON a.id = v.article_id WHERE v.article_id = ? "
            "ORDER BY v.seq DESC LIMIT 1",
            (article_id,),
        )
        if row is None or row[0] == row[5]:
            return
        self._run("UPDATE articles SET latest_version = ? WHERE id = ?", (row[0], article_id))
        self._index_version_row(article_id, int(row[0]), _for_index(*row[1:5]), row[5] is None)


_CAPTURE_REFS = ("feed_capture", "page_capture")
#: Records that belong to an article (named by its path in their "article" field).
_OF_ARTICLE = frozenset({"version", "visit", "watch"})


@dataclass
class _ImportState:
    header: bool = False  # the header line was read
    captures: dict[int, int] = field(default_factory=dict)  # ref → capture row id
    seen: dict[tuple[Any, ...], int] = field(default_factory=dict)  # identical captures read
    article_id: int | None = None  # the article whose versions come next
    pending: dict[str, Any] | None = None  # a new article, added with its first version
    versions_added: bool = False  # some of them were new
    refused: set[str] = field(default_factory=set)  # paths of articles refused
    now: datetime = field(default_factory=lambda: datetime.now(UTC))  # times are judged at


def _for_index(title: str, clean_html: str, published_ms: int, source: str) -> Candidate:
    """What the index reads of a version, as a Candidate."""
    return Candidate(
        source=source,
        identity="",
        guid="",
        url="",
        link="",
        title=title,
        published_ms=published_ms,
        date_missing=False,
        raw_html="",
        clean_html=clean_html,
        content_hash="",
        feed_url="",
    )
