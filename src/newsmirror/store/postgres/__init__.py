"""The PostgreSQL backend of the store, for an archive shared by several processes and
machines: the same parts as the SQLite backend's (articles, feeds and logs, evidence,
search, site views, watch, feed memory, archive files, records), each given the
:class:`~newsmirror.store.postgres.connection.Connection` they share, composed into
:class:`PostgreSQLStore`; read-only views for worker processes; numbered migrations of
its own. psycopg 3, one connection pool per database in each process."""

from __future__ import annotations

from newsmirror.store.base import Store
from newsmirror.store.postgres.connection import is_url
from newsmirror.store.postgres.readonly import FeedMemory, PageReader
from newsmirror.store.postgres.store import PostgreSQLStore

__all__ = ["FeedMemory", "PageReader", "PostgreSQLStore", "is_url"]


def _implements_store(store: PostgreSQLStore) -> Store:
    """Never called: mypy checks here that PostgreSQLStore has every method of the Store
    Protocol, with compatible signatures."""
    return store
