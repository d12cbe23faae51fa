"""The store: the system of record. All SQL of newsmirror lives in this package.

:class:`Store` is the documented Protocol the rest of the code uses; :class:`SQLiteStore`
(in ``sqlite.py``) is the embedded implementation. One writer, many readers: the
archive writes from one thread; SQLite runs in WAL mode so readers never block it.
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
