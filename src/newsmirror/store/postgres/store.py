"""The PostgreSQL store: the store's parts (:mod:`newsmirror.store.parts`) over one
pooled psycopg connection, with a search index of tsvectors."""

from __future__ import annotations

from newsmirror.store.parts.store import PartsStore
from newsmirror.store.postgres.connection import Connection
from newsmirror.store.postgres.search import SearchIndex


class PostgreSQLStore(PartsStore):
    """The store in a PostgreSQL database, named by its URL (every psycopg error becomes
    a StorageError). Not shared between threads: open one per thread (each borrows a
    connection from the process's pool for the database).

    Its methods are the parts' (documented in :mod:`newsmirror.store.base`)."""

    def __init__(self, url: str, read_only: bool = False) -> None:
        """The database at ``url``; with ``read_only``, on a connection whose
        transactions only read (a server's, beside the archive's writer)."""
        db = Connection.read_only_view(url) if read_only else Connection.open(url)
        super().__init__(db, SearchIndex(db))
