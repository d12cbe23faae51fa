"""The search index in the SQLite store: kept with each article's latest version, rebuilt
on demand (:mod:`.reindex`), queried.

Tokens come from :mod:`newsmirror.search` (pure); this module holds the SQL. The FTS5
tables are contentless, so replacing an article's entry deletes it with the tokens of the
version indexed before (made again from that version: folding is deterministic, and the
index records which folding built it, ``INDEX_VERSION``). The writes to the FTS5 tables
wait for the end of the transaction (:mod:`.deferred`); search_docs is written at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from newsmirror.errors import StorageError
from newsmirror.search import query as searchlib
from newsmirror.store.base import SearchResults
from newsmirror.store.indexing import Document, document, search_key
from newsmirror.store.parts.hits import hit_of, refuse_unsearchable, source_ids
from newsmirror.store.sqlite.connection import Connection
from newsmirror.store.sqlite.deferred import Change, DeferredWrites
from newsmirror.store.sqlite.reindex import rebuild
from newsmirror.types import Candidate

#: Relevance ranking scores the newest this many matches of a query (all when fewer):
#: bm25 costs about 1.5 µs per match, and a common word matches most of an archive.
RANKED = 50_000
_WEIGHTS = "1.0, 4.0, 0.0"  # bm25 weights of body, title, src: a title match counts more


class SearchIndex:
    """Index maintenance and queries."""

    def __init__(self, db: Connection) -> None:
        self.db = db
        self._paused = False  # no index kept (the archive's search.index = false)
        self._source_tokens: dict[str, str] = {}  # index token per source slug
        self._key_hints: dict[int, int] = {}  # index key wanted → first one not known taken
        self._ready: bool | None = self.search_ready()  # a new store's empty index is ready
        self._writes = DeferredWrites(db)  # this transaction's writes to the FTS5 tables
        db.on_rollback(self._forget)

    def _forget(self) -> None:
        self._source_tokens.clear()
        self._key_hints.clear()
        self._ready = None  # looked at again when next needed

    # -- state -----------------------------------------------------------------------

    def search_ready(self) -> bool:
        """Whether the index holds every article, built with this version's folding. A
        new store's empty index is ready at once; after an upgrade it needs a reindex."""
        row = self.db.one("SELECT value FROM search_meta WHERE key = 'index_version'")
        if row and row["value"] == searchlib.INDEX_VERSION:
            return True
        if self.db.one("SELECT 1 FROM articles LIMIT 1") is None:
            if self.db.writes:  # (a reader's answer is the same: nothing to index)
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
        """Stop keeping the index up to date (the archive's search.index = false): it is
        marked as needing a rebuild, so that it never answers with stale results."""
        self._paused = True
        self._set_index_version("")
        self._ready = False

    def index_version(
        self, article_id: int, version_id: int, c: Candidate, first: bool = False
    ) -> None:
        """Index ``version_id`` (made from candidate ``c``) as the article's entry,
        replacing the one before (``first``: the article's first version, none before)."""
        if self._paused:
            return
        if self._ready is None:
            self._ready = self.search_ready()
        if not self._ready:
            return  # an index from before this version: `reindex` rebuilds it whole
        if not first:
            self._unindex(article_id)
        key = self._free_key(search_key(c.published_ms))
        made = Document(*c.index_tokens) if c.index_tokens else document(c.title, c.clean_html)
        self._writes.add(Change(key, True, made, self._source_token(c.source)))
        self.db.run(
            "INSERT INTO search_docs (key, article_id, version_id) VALUES (?, ?, ?)",
            (key, article_id, version_id),
        )

    def _unindex(self, article_id: int) -> None:
        old = self.db.one(
            "SELECT d.key, v.title, v.clean_html, a.source FROM search_docs d "
            "JOIN versions v ON v.id = d.version_id JOIN articles a ON a.id = d.article_id "
            "WHERE d.article_id = ?",
            (article_id,),
        )
        if old is None:
            return
        made = document(old["title"], old["clean_html"])
        self._writes.add(
            Change(int(old["key"]), False, made, self._source_token(str(old["source"])))
        )
        self.db.run("DELETE FROM search_docs WHERE key = ?", (old["key"],))

    def _free_key(self, wanted: int) -> int:
        """``wanted``, or when another article has that second, the first free key after
        the run of taken ones (found by SQLite in one query: a feed of dateless items
        files them all under the same second). The search starts past the keys this
        connection already gave for the same second, so a run of them costs one probe
        each, not a scan of the run."""
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

    def _source_token(self, slug: str) -> str:
        token = self._source_tokens.get(slug)
        if token is None:
            row = self.db.one("SELECT rowid AS token FROM sources WHERE slug = ?", (slug,))
            token = f"s{row['token'] if row else 0}"
            if row:  # sources are never deleted: their rowid stays theirs
                self._source_tokens[slug] = token
        return token

    def reindex(
        self, progress: Callable[[int], None] = lambda n: None, workers: int | None = None
    ) -> int:
        """Rebuild the whole index from every article's latest version; the count (see
        :func:`.reindex.rebuild`)."""
        with self.db.transaction():
            self._writes.write()  # what waits goes in first, to be emptied with the rest
            count = rebuild(self.db, progress, workers)
            self._set_index_version(searchlib.INDEX_VERSION)
            self._ready = True
            self._paused = False
        return count

    # -- queries ---------------------------------------------------------------------

    def search(self, query: searchlib.Query) -> SearchResults:
        """Articles matching the query: a page of hits with snippets, and the total."""
        refuse_unsearchable(self._paused, self._paused or self.search_ready())
        self._writes.write()  # inside a transaction: what it added is found too
        table, where, params, others = _select(searchlib.plan(query.terms), query)
        # Every expression holds only quoted tokens of newsmirror's own alphabet (see
        # newsmirror.search): no user text reaches FTS5's query syntax. Terms of the other
        # index join as a compound SELECT (INTERSECT / EXCEPT), which SQLite runs fast,
        # never as "rowid IN (SELECT ...)" over a whole index.
        matches, match_params = f"SELECT rowid AS key FROM {table} WHERE {where}", list(params)
        for operator, other, other_where, other_params in others:
            matches += f" {operator} SELECT rowid FROM {other} WHERE {other_where}"
            match_params += other_params
        if query.newest:
            sql, sql_params = f"{matches} ORDER BY 1 DESC LIMIT ? OFFSET ?", match_params
        else:  # by relevance, among the newest RANKED matches (bm25 costs per match)
            weights = _WEIGHTS if table == "search_index" else "1.0"
            ranked_where, sql_params = where, list(params)
            if others:
                ranked_where += f" AND rowid IN ({matches} ORDER BY 1 DESC LIMIT {RANKED})"
                sql_params += match_params
            sql = (
                f"SELECT key FROM (SELECT rowid AS key, bm25({table}, {weights}) AS score "
                f"FROM {table} WHERE {ranked_where} ORDER BY rowid DESC LIMIT {RANKED}) "
                "ORDER BY score, key DESC LIMIT ? OFFSET ?"
            )
        rows = self.db.run(sql, (*sql_params, query.limit, query.offset))
        keys = [int(r["key"]) for r in rows]
        total = -1
        if query.count:
            counted = self.db.single(f"SELECT count(*) AS n FROM ({matches})", match_params)
            total = int(counted["n"])
        return SearchResults(total, tuple(hit_of(self.db, key, query) for key in keys))

    # -- figures -----------------------------------------------------------------------

    def source_ids(self, slugs: Sequence[str]) -> tuple[int, ...]:
        """The store ids of these sources (unknown ones have none)."""
        return source_ids(self.db, slugs)

    def search_index_bytes(self) -> int:
        """Bytes the search index takes in the database file (0 when unknown)."""
        try:
            row = self.db.single(
                "SELECT COALESCE(SUM(pgsize), 0) AS size FROM dbstat "
                "WHERE name LIKE 'search_index%' OR name LIKE 'search_chars%' "
                "OR name = 'search_docs'"
            )
        except StorageError:  # a SQLite built without the dbstat table
            return 0
        return int(row["size"])


Other = tuple[str, str, str, list[object]]  # (INTERSECT or EXCEPT, table, where, params)


def _select(
    plan: searchlib.Plan, query: searchlib.Query
) -> tuple[str, str, list[object], list[Other]]:
    """The index to walk with its WHERE clause and parameters, and the other index's
    terms as compound parts: the chunk index when a term needs it, else the character
    index (one-character terms only)."""
    sources = " OR ".join(f'"s{i}"' for i in query.source_ids)
    span = ""
    span_params: list[object] = []
    if query.since_ms is not None:
        span += " AND rowid >= ?"
        span_params.append(search_key(query.since_ms))
    if query.until_ms is not None:
        span += " AND rowid < ?"
        span_params.append(search_key(query.until_ms))
    others: list[Other] = []
    if plan.chunks:
        table, expression = "search_index", plan.chunks
        if sources:
            expression = f"({expression}) AND src : ({sources})"
        for excluded in plan.chunks_excluded:
            expression = f"({expression}) NOT {excluded}"
        if plan.chars:
            chars = " AND ".join(plan.chars)
            others.append(
                ("INTERSECT", "search_chars", f"search_chars MATCH ?{span}", [chars, *span_params])
            )
        if plan.chars_excluded:
            chars = " OR ".join(plan.chars_excluded)
            others.append(
                ("EXCEPT", "search_chars", f"search_chars MATCH ?{span}", [chars, *span_params])
            )
    else:
        table, expression = "search_chars", " AND ".join(plan.chars)
        if sources:
            expression = f"({expression}) AND ({sources})"
        if plan.chars_excluded:
            expression = f"({expression}) NOT ({' OR '.join(plan.chars_excluded)})"
        for excluded in plan.chunks_excluded:
            others.append(
                ("EXCEPT", "search_index", f"search_index MATCH ?{span}", [excluded, *span_params])
            )
    return table, f"{table} MATCH ?{span}", [expression, *span_params], others
