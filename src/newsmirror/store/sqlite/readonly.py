"""The store's read-only views (:mod:`newsmirror.store.parts.readonly`) on a SQLite
connection of their own, for worker processes: in WAL mode they read alongside the
writer, each query seeing what was committed when it began."""

from __future__ import annotations

from pathlib import Path

from newsmirror.store.parts.readonly import PageViews, ReadOnlyMemory
from newsmirror.store.sqlite.connection import Connection


class FeedMemory(ReadOnlyMemory):
    """What collecting asks the store, on a read-only connection to ``path``."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(Connection.read_only(path))


class PageReader(PageViews):
    """What making a site page reads, on a read-only connection to ``path``."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(Connection.read_only(path, uri=True))
