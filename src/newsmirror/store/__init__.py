"""The store: the system of record. All SQL of newsmirror lives in this package.

Takes candidates (cleaned items), imported files, visits, logs and records; gives back
articles with their versions, what to publish, search results and site views.
:class:`Store` (``base.py``, one Protocol per concern) is the interface every layer above
uses; :class:`SQLiteStore` (``sqlite/``, one part per concern sharing one connection) is
the embedded implementation. One writer, many readers: the archive writes from one
thread; SQLite runs in WAL mode so readers never block it.
"""

from __future__ import annotations

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
from newsmirror.store.sqlite import SQLiteStore

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
]
