"""Rebuilding the SQLite store's search index whole: a bulk load in publication order,
the text tokenized in this process or, for a large archive, in worker processes that
read the versions from the database themselves, so that the process writing the index
spends its time writing it."""

from __future__ import annotations

import os
import sqlite3
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from newsmirror.store.indexing import Document, document, search_key
from newsmirror.store.sql import marks
from newsmirror.store.sqlite.connection import Connection

if TYPE_CHECKING:
    from concurrent.futures import Future

_HASH = 64 * 1024 * 1024  # FTS5 'hashsize': terms gathered in memory before a segment is written
_PARALLEL_FROM = 20_000  # a reindex of this many articles tokenizes in worker processes
_BATCH = 500  # versions read, tokenized and written at a time


def rebuild(db: Connection, progress: Callable[[int], None], workers: int | None) -> int:
    """Empty the index and index every article's latest version again, inside the
    caller's transaction; the count.

    Rows go in in batches, FTS5 gathers 64 MB of terms before writing a segment, and for
    a large archive the text is tokenized in worker processes (``workers``, default: one
    per core but one) while this one inserts.
    """
    _empty(db)
    tokens = {
        str(r["slug"]): f"s{r['token']}" for r in db.run("SELECT rowid AS token, slug FROM sources")
    }
    total = db.single("SELECT COUNT(*) AS n FROM articles WHERE latest_version IS NOT NULL")
    if workers is None:
        workers = max(1, (os.cpu_count() or 1) - 1) if total["n"] >= _PARALLEL_FROM else 0
    if db.depth > 1:  # inside a caller's transaction: workers would not see it
        workers = 0
    cursor = db.run(
        "SELECT a.id AS article_id, a.source, a.published_ms, v.id AS version_id"
        + ("" if workers else ", v.title, v.clean_html")
        + " FROM articles a JOIN versions v ON v.id = a.latest_version "
        "ORDER BY a.published_ms"
    )
    used: set[int] = set()
    count = 0
    batches = iter(lambda: cursor.fetchmany(_BATCH), [])
    for rows, documents in tokenized(batches, workers, db.path):
        index_rows, char_rows, doc_rows = [], [], []
        for row, made in zip(rows, documents, strict=True):
            key = search_key(int(row["published_ms"]))
            while key in used:
                key += 1
            used.add(key)
            token = tokens.get(str(row["source"]), "s0")
            index_rows.append((key, made.body, made.title, token))
            char_rows.append((key, f"{made.chars} {token}"))
            doc_rows.append((key, row["article_id"], row["version_id"]))
        db.many(
            "INSERT INTO search_index (rowid, body, title, src) VALUES (?, ?, ?, ?)", index_rows
        )
        db.many("INSERT INTO search_chars (rowid, chars) VALUES (?, ?)", char_rows)
        db.many("INSERT INTO search_docs (key, article_id, version_id) VALUES (?, ?, ?)", doc_rows)
        count += len(rows)
        progress(len(rows))
    return count


def _empty(db: Connection) -> None:
    """Take every document out of the index, and have FTS5 gather more terms before it
    writes a segment."""
    db.run("INSERT INTO search_index (search_index) VALUES ('delete-all')")
    db.run("INSERT INTO search_chars (search_chars) VALUES ('delete-all')")
    db.run("DELETE FROM search_docs")
    for table in ("search_index", "search_chars"):
        db.run(f"INSERT INTO {table} ({table}, rank) VALUES ('hashsize', {_HASH})")


def tokenized(
    batches: Iterator[list[sqlite3.Row]], workers: int, path: str
) -> Iterator[tuple[list[sqlite3.Row], list[Document]]]:
    """Each batch of rows with the documents of its rows, in order.

    With no ``workers``, rows hold ``title`` and ``clean_html`` and are tokenized here;
    else rows hold a ``version_id``, and ``workers`` processes (started fresh: no
    inherited connection) read and tokenize them a few batches ahead of the caller.
    """
    if workers < 1:
        for rows in batches:
            yield rows, [document(row["title"], row["clean_html"]) for row in rows]
        return
    from newsmirror.workers import worker_pool  # worker processes: when a rebuild uses them

    with worker_pool(workers, "spawn") as pool:
        pending: deque[tuple[list[sqlite3.Row], Future[list[Document]]]] = deque()
        for rows in batches:
            ids = [int(r["version_id"]) for r in rows]
            pending.append((rows, pool.submit(documents_of, path, ids)))
            if len(pending) > 2 * workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()


_READERS: dict[str, Connection] = {}  # a worker's read-only connection per database


def documents_of(path: str, version_ids: list[int]) -> list[Document]:
    """The documents of these versions, in order, read from the database at ``path`` (a
    worker process's job: it reads what the writer last committed, which a rebuild of
    the index does not change)."""
    db = _READERS.get(path)
    if db is None:
        db = _READERS[path] = Connection.read_only(path, uri=True)
    rows = db.run(
        f"SELECT id, title, clean_html FROM versions WHERE id IN ({marks(len(version_ids))})",
        version_ids,
    )
    found = {int(row["id"]): (str(row["title"]), str(row["clean_html"])) for row in rows}
    return [document(*found[version_id]) for version_id in version_ids]
