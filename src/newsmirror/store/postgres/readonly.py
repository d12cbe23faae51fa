"""The store's read-only views (:mod:`newsmirror.store.parts.readonly`) on a PostgreSQL
connection of their own, for worker processes: each statement sees what was committed
when it began."""

from __future__ import annotations

from newsmirror.store.parts.readonly import PageViews, ReadOnlyMemory
from newsmirror.store.postgres.connection import Connection


class FeedMemory(ReadOnlyMemory):
    """What collecting asks the store, on a read-only connection to ``url``."""

    def __init__(self, url: str) -> None:
        super().__init__(Connection.read_only_view(url))


class PageReader(PageViews):
    """What making a site page reads, on a read-only connection to ``url``."""

    def __init__(self, url: str) -> None:
        super().__init__(Connection.read_only_view(url))
