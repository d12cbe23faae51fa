"""The SQLite store: the store's parts (:mod:`newsmirror.store.parts`) over one SQLite
connection, with SQLite's full-text search index."""

from __future__ import annotations

from pathlib import Path

from newsmirror.store.parts.store import PartsStore
from newsmirror.store.sqlite.connection import Connection
from newsmirror.store.sqlite.search import SearchIndex


class SQLiteStore(PartsStore):
    """The embedded store (WAL mode, one writer; every sqlite3 error becomes a
    StorageError). Not shared between threads: open one per thread.

    Its methods are the parts' (documented in :mod:`newsmirror.store.base`)."""

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        """``read_only``: on a connection that only reads (the database must exist)."""
        db = Connection.read_only(path) if read_only else Connection.open(path)
        self.db = db.db  # the sqlite3 connection itself
        super().__init__(db, SearchIndex(db))
