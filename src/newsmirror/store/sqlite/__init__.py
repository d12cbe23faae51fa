"""The SQLite backend of the store: one part per concern (articles, feeds and logs,
evidence, search, site views, watch, feed memory, archive files, records), each given the
:class:`~newsmirror.store.sqlite.connection.Connection` they share, composed into
:class:`SQLiteStore`; and read-only views for worker processes."""

from __future__ import annotations

from newsmirror.store.base import Store
from newsmirror.store.sqlite.readonly import FeedMemory, PageReader
from newsmirror.store.sqlite.store import SQLiteStore

__all__ = ["FeedMemory", "PageReader", "SQLiteStore"]


def _implements_store(store: SQLiteStore) -> Store:
    """Never called: mypy checks here that SQLiteStore has every method of the Store
    Protocol, with compatible signatures."""
    return store
