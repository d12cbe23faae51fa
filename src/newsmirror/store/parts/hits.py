"""What every backend's search index answers alike: why it cannot search, the hit of an
index key (its article, its latest version's title and a snippet around the terms), and
the store ids of sources (what an index keeps a document's source as)."""

from __future__ import annotations

from collections.abc import Sequence

from newsmirror.clean.article import shown_title, strip_tags
from newsmirror.errors import SearchQueryError
from newsmirror.search import query as searchlib
from newsmirror.store.base import Hit
from newsmirror.store.parts.db import Db
from newsmirror.store.sql import page_sql


def refuse_unsearchable(paused: bool, ready: bool) -> None:
    """A SearchQueryError saying what to do when an index cannot answer: one the archive
    does not keep (``paused``), or one not built for it yet (not ``ready``)."""
    if paused:
        raise SearchQueryError(
            "this archive keeps no search index (search.index = false in newsmirror.toml);"
            " set it to true and run `newsmirror reindex`"
        )
    if not ready:
        raise SearchQueryError(
            "the search index is not built for this archive yet: run `newsmirror reindex`"
        )


def hit_of(db: Db, key: int, query: searchlib.Query) -> Hit:
    """The hit of the index document ``key`` (``search_docs``' row) for ``query``."""
    row = db.single(
        "SELECT a.id, a.source, a.archive_id, a.path, v.title, v.link, v.published_ms, "
        f"v.clean_html, {page_sql('a')} AS page "
        "FROM search_docs d JOIN articles a ON a.id = d.article_id "
        "JOIN versions v ON v.id = d.version_id WHERE d.key = ?",
        (key,),
    )
    title = shown_title(str(row["title"]))  # as indexed
    text = f"{title}\n{strip_tags(row['clean_html'])}"  # cheap: only to place the snippet
    return Hit(
        article_id=int(row["id"]),
        source=str(row["source"]),
        archive_id=int(row["archive_id"]),
        path=str(row["path"]),
        title=title,
        link=str(row["link"]),
        published_ms=int(row["published_ms"]),
        snippet=searchlib.snippet(text, query.terms),
        page=str(row["page"]),
    )


def source_ids(db: Db, slugs: Sequence[str]) -> tuple[int, ...]:
    """The store ids of these sources (unknown ones have none)."""
    column = db.dialect.stored_order("sources")
    ids = []
    for slug in slugs:
        row = db.one(f"SELECT {column} AS id FROM sources WHERE slug = ?", (slug,))
        if row:
            ids.append(int(row["id"]))
    return tuple(ids)
