"""Reading an archive: articles by reference, and search."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from newsmirror.search.query import Query, day_start_ms, parse_query

if TYPE_CHECKING:
    from newsmirror.config.settings import Config
    from newsmirror.store.base import ArticleRow, SearchResults, Store


class Reading:
    """``show`` and ``search``: given the store they read and the archive's
    configuration (its sources, where its files are)."""

    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.config = config

    def show_all(self, ref: str) -> list[ArticleRow]:
        """Every article a reference names: "slug/id", a path (relative to the output
        folder, or absolute), a URL or a guid (two files of one id are two articles)."""
        found = self.store.find_articles(ref)
        if not found and ref.endswith(".md"):
            path = Path(ref).expanduser()
            path = path.resolve() if path.is_absolute() else (self.config.output_path / path)
            with contextlib.suppress(ValueError):
                found = self.store.find_articles(
                    path.resolve().relative_to(self.config.output_path).as_posix()
                )
        return found

    def search(
        self,
        text: str,
        sources: Iterable[str] = (),
        since: str | None = None,
        until: str | None = None,
        newest: bool = False,
        limit: int = 20,
        offset: int = 0,
    ) -> SearchResults:
        """Search the latest version of every article (see :mod:`newsmirror.search` for
        the query language); ``since``/``until`` are days (YYYY-MM-DD, UTC, both
        included); ``sources`` slugs limit the search to them."""
        slugs = list(sources)
        for slug in slugs:
            self.config.source(slug)  # an unknown slug is a clear ConfigError
        query = Query(
            terms=parse_query(text),
            source_ids=self.store.source_ids(slugs) or ((0,) if slugs else ()),  # 0: none
            since_ms=day_start_ms(since) if since else None,
            until_ms=day_start_ms(until, next_day=True) if until else None,
            newest=newest,
            limit=max(1, limit),
            offset=max(0, offset),
        )
        return self.store.search(query)
