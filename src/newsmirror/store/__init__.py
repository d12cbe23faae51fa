"""The store: the system of record. All SQL of newsmirror lives in this package.

Takes candidates (cleaned items), imported files, visits, logs and records; gives back
articles with their versions, what to publish, search results and site views.
:class:`Store` (``base.py``, one Protocol per concern) is the interface every layer above
uses; :class:`SQLiteStore` (``sqlite/``, one part per concern sharing one connection) is
the embedded implementation. One writer, many readers: the archive writes from one
thread; SQLite runs in WAL mode so readers never block it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from newsmirror.store.base import (
    ArticleRow,
    FeedResult,
    FeedState,
    Hit,
    ImportedFile,
    PublishRow,
    SearchResults,
    SourceStats,
    Store,
)
from newsmirror.store.feedmemory import FeedMemoryStore
from newsmirror.store.sqlite import FeedMemory, PageReader, SQLiteStore

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "ArticleRow",
    "FeedResult",
    "FeedState",
    "Hit",
    "ImportedFile",
    "PublishRow",
    "SQLiteStore",
    "SearchResults",
    "SourceStats",
    "Store",
    "open_feed_memory",
    "open_page_reader",
    "open_reader",
    "open_store",
]


def open_store(location: str | Path) -> Store:
    """The store at ``location``, opened (and migrated) for the layers above, which see
    only the :class:`Store` Protocol: today a SQLite file's path."""
    return SQLiteStore(location)


def open_reader(location: str | Path) -> Store:
    """The store at ``location`` (made by :func:`open_store` before) on a connection of
    its own that only reads, for each thread of a server beside the archive's one
    writer: every query sees what was committed when it began and never waits for the
    writer (WAL); a write through it is a StorageError."""
    return SQLiteStore(location, read_only=True)


def open_feed_memory(location: str | Path) -> FeedMemoryStore:
    """A read-only view of the store at ``location`` with what collecting asks before it
    cleans anything, for a worker process (its own connection)."""
    return FeedMemory(location)


def open_page_reader(location: str | Path) -> PageReader:
    """A read-only view of the store at ``location`` with what making a site page reads
    (versions, mirrored images, takedowns), for a worker process."""
    return PageReader(location)
