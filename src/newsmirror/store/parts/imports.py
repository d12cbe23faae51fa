"""Records of a JSON Lines export added to the store (see
:mod:`newsmirror.store.portable`): what the store holds already is left as it is, a bad
record undoes only itself."""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from newsmirror.errors import ArchiveFormatError, StorageError
from newsmirror.store import portable as p
from newsmirror.store.parts.db import Db, Index
from newsmirror.store.parts.sources import Sources
from newsmirror.store.portable import ImportCounts
from newsmirror.store.records import check
from newsmirror.store.sql import marks
from newsmirror.store.watching import VISIT_COLUMNS, WATCH_COLUMNS
from newsmirror.types import Candidate


def _newer(columns: tuple[str, ...], table: str, when: str) -> str:
    """An upsert's SET clause: a held row takes ``columns`` of a record newer by ``when``."""
    taken = ", ".join(f"{c} = excluded.{c}" for c in columns)
    return f"{taken} WHERE excluded.{when} > {table}.{when}"


#: Records that are a row of a table as they are: (table, columns, key, what a row held
#: under the key takes of the record: an UPDATE's SET clause, "" nothing).
_ROWS: dict[str, tuple[str, tuple[str, ...], str, str]] = {
    # name and scheme are the configuration's; ids stay below all
    "source": ("sources", p.SOURCE, "slug",
               "lowest_id = excluded.lowest_id WHERE excluded.lowest_id < sources.lowest_id"),
    # the position is the configuration's; health the newer one
    "feed": ("feeds", p.FEED, "source, url", _newer(p.FEED[3:], "feeds", "last_checked")),
    "media": ("media", p.MEDIA, "sha256", ""),
    "media_url": ("media_urls", p.MEDIA_URL, "url", ""),
    # a list or README kept by an import: the file's word
    "archive_file": ("archive_files", p.ARCHIVE_FILE, "path",
                     _newer(p.ARCHIVE_FILE[1:], "archive_files", "imported_at")),
}  # fmt: skip
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


class Import:
    """Adding exported records."""

    def __init__(self, db: Db, sources: Sources, search: Index) -> None:
        self.db, self.sources, self.search = db, sources, search

    def import_records(
        self, records: Iterable[tuple[int, dict[str, Any]]], batch: int = 0
    ) -> ImportCounts:
        """Add (line number, record) pairs to the store in one transaction (with
        ``batch``, one every ``batch`` records or so, each ending with an article's last
        record); what the store holds already is left as it is (importing a file twice
        changes nothing, and the records of an import cut short add what it had not). A
        record that cannot be added is an error line; the rest go on. ArchiveFormatError
        when the file is not a newsmirror export at all."""
        counts = ImportCounts()
        state = _ImportState()
        pairs = iter(records)
        held: tuple[int, dict[str, Any]] | None = None  # the first record of the next batch
        while True:
            with self.db.transaction():
                held = self._import_batch(held, pairs, batch, state, counts)
            if held is None:
                break
        self.sources.forget()  # the records may have lowered a countdown's floor
        return counts

    def _import_batch(
        self,
        first: tuple[int, dict[str, Any]] | None,
        pairs: Iterator[tuple[int, dict[str, Any]]],
        batch: int,
        state: _ImportState,
        counts: ImportCounts,
    ) -> tuple[int, dict[str, Any]] | None:
        """Import records until ``batch`` of them are in and an article is complete (or
        until the end: then None); the record that starts the next batch."""
        done = 0
        for line, record in chain([first] if first else [], pairs):
            if record.get("type") != "version":
                self._finish_article(state, counts)  # the article before is complete
                if batch and done >= batch:
                    return line, record
            done += 1
            if record.get("type") in _OF_ARTICLE and str(record.get("article")) in state.refused:
                continue  # the article's own line said it was not imported
            try:
                with self.db.transaction():  # a savepoint: a bad record undoes only itself
                    self._import_record(record, state, counts)
            except (KeyError, TypeError, ValueError, StorageError) as exc:
                if isinstance(exc, ArchiveFormatError):
                    raise
                reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
                counts.errors.append(f"line {line}: {record.get('type', '?')}: {reason}")
                if record.get("type") == "article" and isinstance(record.get("path"), str):
                    state.refused.add(record["path"])  # nor its versions and visits
        self._finish_article(state, counts)
        return None

    def _import_record(
        self, record: dict[str, Any], state: _ImportState, counts: ImportCounts
    ) -> None:
        kind = record["type"]
        if kind == "header":
            if record.get("format") != p.FORMAT or record.get("version") != p.FORMAT_VERSION:
                found = f"{record.get('format')!s:.40} version {record.get('version')!s:.10}"
                raise ArchiveFormatError(
                    f"not a {p.FORMAT} version {p.FORMAT_VERSION} file (its header says {found})"
                )
            state.header = True
            return
        if not state.header:
            raise ArchiveFormatError(f"the file does not start with a {p.FORMAT} header line")
        check(record, state.now)
        if kind in _ROWS:
            table, columns, key, update = _ROWS[kind]
            self._insert(table, columns, record, counts, kind, key, update)
        elif kind == "version":
            self._import_version(record, state, counts)
        elif kind == "body":
            body = base64.b64decode(record["data"], validate=True)
            packed = zlib.compress(body, 6)
            row = {"sha256": record["sha256"], "size": len(body), "stored": len(packed)}
            row["data"] = packed
            self._insert(
                "bodies", ("sha256", "size", "stored", "data"), row, counts, kind, "sha256"
            )
        elif kind == "capture":
            state.captures[int(record["ref"])] = self._import_capture(record, state, counts)
        else:
            self._import_of_article(kind, record, state, counts)

    def _import_of_article(
        self, kind: str, record: dict[str, Any], state: _ImportState, counts: ImportCounts
    ) -> None:
        """An article (added with its first version: one without is not), or one of its
        visits, aliases or standing."""
        if kind == "article":
            held = self.db.one("SELECT id FROM articles WHERE path = ?", (record["path"],))
            if held is not None:
                counts.unchanged += 1
                state.article_id = int(held["id"])
            else:
                state.pending = record
        elif kind == "visit":
            if self._import_visit(record, state.captures):
                counts.add("visit")
            else:
                counts.unchanged += 1
        elif kind == "alias":
            row = {"article_id": self._article_id_of(record["article"]), "url": record["url"]}
            key = "url, article_id"
            self._insert("article_aliases", ("url", "article_id"), row, counts, kind, key)
        elif kind == "watch":  # where the article stands: the later visit's word wins
            row = {"article_id": self._article_id_of(record["article"]), **record}
            update = _newer(WATCH_COLUMNS, "watch", "last_visit")
            columns = ("article_id", *WATCH_COLUMNS)
            self._insert("watch", columns, row, counts, kind, "article_id", update)

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
        held = self.db.one(
            f"SELECT 1 FROM {table} WHERE "
            + " AND ".join(f"{c} = ?" for c in conflict.split(", ")),
            [record[c] for c in conflict.split(", ")],
        )
        changed = self.db.count(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks(len(columns))})"
            f" ON CONFLICT ({conflict}) DO " + (f"UPDATE SET {update}" if update else "NOTHING"),
            [record[c] for c in columns],
        )
        if held is None:
            counts.add(kind)
        elif not changed:
            counts.unchanged += 1
        else:
            counts.add(f"{kind} (updated)")

    def _import_capture(
        self, record: dict[str, Any], state: _ImportState, counts: ImportCounts
    ) -> int:
        """The capture's row: the same exchange already held, or a new one. The n-th of
        identical captures in the file is the n-th such row held (two fetches may give
        the same answer in the same second)."""
        values = {c: record[c] for c in p.CAPTURE}
        for headers in ("request_headers", "headers"):
            values[headers] = json.dumps(record[headers], ensure_ascii=False)
        key = tuple(values.values())
        nth = state.seen.get(key, 0)
        state.seen[key] = nth + 1
        where = " AND ".join(f"{c} = ?" for c in values)
        row = self.db.one(
            f"SELECT id FROM captures WHERE {where} ORDER BY id LIMIT 1 OFFSET ?", [*key, nth]
        )
        if row is not None:
            counts.unchanged += 1
            return int(row["id"])
        capture_id = self.db.insert("captures", values)
        counts.add("capture")
        return capture_id

    def _import_article(self, record: dict[str, Any]) -> int:
        self.sources.ensure(record["source"])
        twin = self.db.single(  # its place among the files of its id here (its page's name)
            "SELECT COUNT(*) AS n FROM articles WHERE source = ? AND archive_id = ?",
            (record["source"], record["archive_id"]),
        )
        row = {c: record[c] for c in p.ARTICLE}
        row.update(twin=twin["n"], date_missing=int(record["date_missing"]))
        article_id = self.db.insert("articles", row)
        self.sources.keep_below(record["source"], record["archive_id"])
        return article_id

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
        article_id = self._import_article(pending) if pending else state.article_id
        if article_id is None:
            raise ValueError("a version before any article")
        path = self.db.single("SELECT path FROM articles WHERE id = ?", (article_id,))["path"]
        if record["article"] != path:
            raise ValueError(f"a version of {record['article']} after the article {path}")
        held = self.db.one(
            "SELECT content_hash FROM versions WHERE article_id = ? AND seq = ?",
            (article_id, record["seq"]),
        )
        if held is not None:
            if held["content_hash"] != record["content_hash"]:
                raise ValueError(f"{path} version {record['seq']} differs from the one held")
            counts.unchanged += 1
            return
        version = {"article_id": article_id, **{c: record[c] for c in p.VERSION}}
        for ref in _CAPTURE_REFS:
            version[ref] = state.captures.get(record[ref]) if record[ref] else None
        self.db.insert("versions", version)
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
        row = self.db.one(
            "SELECT v.id, v.title, v.clean_html, v.published_ms, a.source, a.latest_version "
            "FROM versions v JOIN articles a ON a.id = v.article_id WHERE v.article_id = ? "
            "ORDER BY v.seq DESC LIMIT 1",
            (article_id,),
        )
        if row is None or row["id"] == row["latest_version"]:
            return
        self.db.run("UPDATE articles SET latest_version = ? WHERE id = ?", (row["id"], article_id))
        indexed = _for_index(row["title"], row["clean_html"], row["published_ms"], row["source"])
        self.search.index_version(
            article_id, int(row["id"]), indexed, row["latest_version"] is None
        )

    # -- revisits ----------------------------------------------------------------------

    def _article_id_of(self, path: str) -> int:
        """The row id of the article at ``path``; ValueError when there is none."""
        row = self.db.one("SELECT id FROM articles WHERE path = ?", (path,))
        if row is None:
            raise ValueError(f"no article {path} (it comes before its visits)")
        return int(row["id"])

    def _import_visit(self, record: dict[str, Any], captures: dict[int, int]) -> bool:
        """Add an exported visit (``captures``: the export's capture numbers → rows),
        unless the same one (article, time, URL, outcome) is held; whether it was
        added."""
        article_id = self._article_id_of(record["article"])
        held = self.db.one(
            "SELECT 1 FROM visits WHERE article_id = ? AND at = ? AND url = ? AND outcome = ?",
            (article_id, record["at"], record["url"], record["outcome"]),
        )
        if held is not None:
            return False
        version_id = None
        if record["version"] is not None:
            found = self.db.one(
                "SELECT id FROM versions WHERE article_id = ? AND seq = ?",
                (article_id, record["version"]),
            )
            if found is None:
                raise ValueError(f"{record['article']} has no version {record['version']}")
            version_id = int(found["id"])
        visit = {"article_id": article_id, **{c: record[c] for c in VISIT_COLUMNS}}
        visit["turned"] = int(record["turned"])
        visit["version_id"] = version_id
        visit["capture_id"] = captures.get(record["capture"]) if record["capture"] else None
        self.db.insert("visits", visit)
        return True


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
