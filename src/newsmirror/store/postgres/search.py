"""The search index in the PostgreSQL store: kept with each article's latest version,
rebuilt on demand, queried.

Tokens come from :mod:`newsmirror.search` (pure), as in the SQLite store; here they are
``tsvector`` values with GIN indexes (:mod:`.tsvectors`): a term is a phrase of its tokens
(``<->``), a one-character term looks in the document's distinct characters, newest first
walks the key's index, and relevance is ``ts_rank`` (a title's match weighs four times a
text's) among the newest :data:`RANKED` matches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from newsmirror.search import query as searchlib
from newsmirror.store.base import SearchResults
from newsmirror.store.indexing import Document, document, search_key
from newsmirror.store.parts.hits import hit_of, refuse_unsearchable, source_ids
from newsmirror.store.postgres import tsvectors
from newsmirror.store.postgres.connection import Connection
from newsmirror.types import Candidate

#: Relevance ranking scores the newest this many matches of a query (all when fewer), as
#: the SQLite store does.
RANKED = 50_000
#: ts_rank's weights of D (the text), C, B, A (the title): a title match counts four times.
_WEIGHTS = "'{0.25, 0.25, 0.25, 1.0}'"
_BATCH = 500  # versions read, tokenized and written at a time by a rebuild
_INSERT = (
    "INSERT INTO search_docs (key, article_id, version_id, src, terms, chars) "
    "VALUES (?, ?, ?, ?, ?::tsvector, ?::tsvector)"
)


class SearchIndex:
    """Index maintenance and queries."""

    def __init__(self, db: Connection) -> None:
        self.db = db
        self._paused = False  # no index kept (the archive's search.index = false)
        self._source_ids: dict[str, int] = {}  # sources.id per slug
        self._key_hints: dict[int, int] = {}  # index key wanted → first one not known taken
        self._ready: bool | None = None if db.read_only else self.search_ready()
        db.on_rollback(self._forget)

    def _forget(self) -> None:
        self._source_ids.clear()
        self._key_hints.clear()
        self._ready = None

    # -- state -----------------------------------------------------------------------

    def search_ready(self) -> bool:
        """Whether the index holds every article, built with this version's folding. A
        new store's empty index is ready at once; after an upgrade it needs a reindex."""
        row = self.db.one("SELECT value FROM search_meta WHERE key = 'index_version'")
        if row and row["value"] == searchlib.INDEX_VERSION:
            return True
        if self.db.one("SELECT 1 FROM articles LIMIT 1") is None:
            self._set_index_version(searchlib.INDEX_VERSION)
            return True
        return False

    def _set_index_version(self, version: str) -> None:
        self.db.run(
            "INSERT INTO search_meta (key, value) VALUES ('index_version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (version,),
        )

    # -- maintenance -----------------------------------------------------------------

    def pause_search_index(self) -> None:
        """Stop keeping the index up to date: it is marked as needing a rebuild."""
        self._paused = True
        self._set_index_version("")
        self._ready = False

    def index_version(
        self, article_id: int, version_id: int, c: Candidate, first: bool = False
    ) -> None:
        """Index ``version_id`` (made from candidate ``c``) as the article's entry,
        replacing the one before (``first``: the article's first version)."""
        if self._paused:
            return
        if self._ready is None:
            self._ready = self.search_ready()
        if not self._ready:
            return  # an index from before this version: `reindex` rebuilds it whole
        if not first:
            self.db.run("DELETE FROM search_docs WHERE article_id = ?", (article_id,))
        key = self._free_key(search_key(c.published_ms))
        made = Document(*c.index_tokens) if c.index_tokens else document(c.title, c.clean_html)
        self.db.run(_INSERT, _values(key, article_id, version_id, self._source_id(c.source), made))

    def _free_key(self, wanted: int) -> int:
        """``wanted``, or when another article has that second, the first free key after
        the run of taken ones (as the SQLite store chooses it)."""
        key = self._key_hints.get(wanted, wanted)
        if self.db.one("SELECT 1 FROM search_docs WHERE key = ?", (key,)) is not None:
            row = self.db.single(
                "SELECT d.key + 1 AS free FROM search_docs d WHERE d.key >= ? AND NOT EXISTS "
                "(SELECT 1 FROM search_docs e WHERE e.key = d.key + 1) ORDER BY d.key LIMIT 1",
                (key,),
            )
            key = int(row["free"])
        self._key_hints[wanted] = key + 1
        return key

    def _source_id(self, slug: str) -> int:
        found = self._source_ids.get(slug)
        if found is None:
            row = self.db.one("SELECT id FROM sources WHERE slug = ?", (slug,))
            found = int(row["id"]) if row else 0
            if row:  # sources are never deleted: their id stays theirs
                self._source_ids[slug] = found
        return found

    def reindex(
        self, progress: Callable[[int], None] = lambda n: None, workers: int | None = None
    ) -> int:
        """Rebuild the whole index from every article's latest version, in publication
        order, in one transaction; the count. (``workers`` is the SQLite store's: here the
        text is tokenized in this process while the server writes.)"""
        del workers
        count = 0
        with self.db.transaction():
            self.db.run("DELETE FROM search_docs")
            sources = {
                str(r["slug"]): int(r["id"]) for r in self.db.run("SELECT id, slug FROM sources")
            }
            used: set[int] = set()
            sql = (
                "SELECT a.id AS article_id, a.source, a.published_ms, v.id AS version_id, "
                "v.title, v.clean_html FROM articles a JOIN versions v ON v.id = a.latest_version "
                "ORDER BY a.published_ms, a.id"
            )
            for rows in self.db.stream(sql, (), _BATCH):
                values = []
                for row in rows:
                    key = search_key(int(row["published_ms"]))
                    while key in used:
                        key += 1
                    used.add(key)
                    made = document(row["title"], row["clean_html"])
                    source = sources.get(str(row["source"]), 0)
                    values.append(_values(key, row["article_id"], row["version_id"], source, made))
                self.db.many(_INSERT, values)
                count += len(rows)
                progress(len(rows))
            self._set_index_version(searchlib.INDEX_VERSION)
            self._ready = True
            self._paused = False
        return count

    # -- queries ---------------------------------------------------------------------

    def search(self, query: searchlib.Query) -> SearchResults:
        """Articles matching the query: a page of hits with snippets, and the total."""
        refuse_unsearchable(self._paused, self._paused or self.search_ready())
        where, params, rank = _where(query)
        if query.newest:
            sql = f"SELECT key FROM search_docs WHERE {where} ORDER BY key DESC LIMIT ? OFFSET ?"
            sql_params = list(params)
        else:  # by relevance, among the newest RANKED matches
            column, ranked_query = rank
            sql = (
                f"SELECT key FROM (SELECT key, ts_rank({_WEIGHTS}, {column}, ?::tsquery, 1) "
                f"AS score FROM search_docs WHERE {where} ORDER BY key DESC LIMIT {RANKED}) r "
                "ORDER BY score DESC, key DESC LIMIT ? OFFSET ?"
            )
            sql_params = [ranked_query, *params]
        rows = self.db.run(sql, (*sql_params, query.limit, query.offset))
        keys = [int(r["key"]) for r in rows]
        total = -1
        if query.count:
            counted = self.db.single(f"SELECT count(*) AS n FROM search_docs WHERE {where}", params)
            total = int(counted["n"])
        return SearchResults(total, tuple(hit_of(self.db, key, query) for key in keys))

    # -- figures -----------------------------------------------------------------------

    def source_ids(self, slugs: Sequence[str]) -> tuple[int, ...]:
        """The store ids of these sources (unknown ones have none)."""
        return source_ids(self.db, slugs)

    def search_index_bytes(self) -> int:
        """Bytes the search index takes (its table, with its indexes and TOAST)."""
        row = self.db.single("SELECT pg_total_relation_size('search_docs') AS size")
        return int(row["size"])


def _values(
    key: int, article_id: int, version_id: int, source: int, made: Document
) -> tuple[Any, ...]:
    """A row of search_docs."""
    terms, chars = tsvectors.terms_vector(made), tsvectors.chars_vector(made)
    return (key, article_id, version_id, source, terms, chars)


def _where(query: searchlib.Query) -> tuple[str, list[Any], tuple[str, str]]:
    """The WHERE clause of a query's matches with its parameters, and what relevance
    ranks by: (column, tsquery) — the chunk index's terms when there are any, else the
    characters'."""
    positive = [t for t in query.terms if not t.exclude]
    negative = [t for t in query.terms if t.exclude]
    phrases = [tsvectors.phrase(t) for t in positive if not searchlib.is_char_term(t)]
    chars = [tsvectors.char(t) for t in positive if searchlib.is_char_term(t)]
    clauses: list[str] = []
    params: list[Any] = []
    if phrases:
        clauses.append("terms @@ ?::tsquery")
        params.append(" & ".join(f"({p})" for p in phrases))
    if chars:
        clauses.append("chars @@ ?::tsquery")
        params.append(" & ".join(chars))
    for term in negative:
        if searchlib.is_char_term(term):
            clauses.append("NOT chars @@ ?::tsquery")
            params.append(tsvectors.char(term))
        else:
            clauses.append("NOT terms @@ ?::tsquery")
            params.append(tsvectors.phrase(term))
    if query.source_ids:
        clauses.append("src = ANY(?)")
        params.append(list(query.source_ids))
    if query.since_ms is not None:
        clauses.append("key >= ?")
        params.append(search_key(query.since_ms))
    if query.until_ms is not None:
        clauses.append("key < ?")
        params.append(search_key(query.until_ms))
    rank = ("terms", params[0]) if phrases else ("chars", params[0])
    return " AND ".join(clauses), params, rank
