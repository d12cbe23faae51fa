"""The search index: kept with each article's latest version, rebuilt on demand, queried.

Tokens come from :mod:`newsmirror.search` (pure); this module holds the SQL. The FTS5
table is contentless, so replacing an article's entry deletes it with the tokens of the
version indexed before (made again from that version: folding is deterministic, and the
index records which folding built it, ``INDEX_VERSION``).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from newsmirror.clean.article import shown_title, strip_tags
from newsmirror.errors import SearchQueryError, StorageError
from newsmirror.search import query as searchlib
from newsmirror.store.base import Hit, SearchResults
from newsmirror.store.indexing import Document, document, search_key, tokenized
from newsmirror.types import Candidate

_HASH = 64 * 1024 * 1024  # FTS5 'hashsize': terms gathered in memory before a segment is written
#: Relevance ranking scores the newest this many matches of a query (all when fewer):
#: bm25 costs about 1.5 µs per match, and a common word matches most of an archive.
RANKED = 50_000
_PARALLEL_FROM = 20_000  # a reindex of this many articles tokenizes in worker processes
_WEIGHTS = "1.0, 4.0, 0.0"  # bm25 weights of body, title, src: a title match counts more


class SearchMixin:
    """Index maintenance and queries; mixed into SQLiteStore (which gives _run/_one)."""

    _search_ready: bool | None  # cached search_ready(); None: not looked at yet
    _search_paused: bool  # the archive keeps no search index (search.index = false)
    _source_tokens: dict[str, str]  # index token per source slug
    _key_hints: dict[int, int]  # key wanted → the first key not known to be taken
    _depth: int  # transactions open (1: the outermost)
    path: str  # the database file

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def transaction(self) -> Any:
        raise NotImplementedError

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    # -- state -----------------------------------------------------------------------

    def search_ready(self) -> bool:
        """Whether the index holds every article, built with this version's folding. A
        new store's empty index is ready at once; after an upgrade it needs a reindex."""
        row = self._one("SELECT value FROM search_meta WHERE key = 'index_version'")
        if row and row[0] == searchlib.INDEX_VERSION:
            return True
        if self._one("SELECT 1 FROM articles LIMIT 1") is None:
            self._set_index_version(searchlib.INDEX_VERSION)
            return True
        return False

    def _set_index_version(self, version: str) -> None:
        self._run(
            "INSERT INTO search_meta (key, value) VALUES ('index_version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (version,),
        )

    # -- maintenance -----------------------------------------------------------------

    def pause_search_index(self) -> None:
        """Stop keeping the index up to date (the archive's search.index = false): it is
        marked as needing a rebuild, so that it never answers with stale results."""
        self._search_paused = True
        self._set_index_version("")
        self._search_ready = False

    def _index_version_row(
        self, article_id: int, version_id: int, c: Candidate, first: bool = False
    ) -> None:
        """Index ``version_id`` (made from candidate ``c``) as the article's entry,
        replacing the one before (``first``: the article's first version, none before)."""
        if self._search_paused:
            return
        if self._search_ready is None:
            self._search_ready = self.search_ready()
        if not self._search_ready:
            return  # an index from before this version: `reindex` rebuilds it whole
        if not first:
            self._unindex(article_id)
        key = self._free_key(search_key(c.published_ms))
        made = Document(*c.index_tokens) if c.index_tokens else document(c.title, c.clean_html)
        self._insert_document(key, made, self._source_token(c.source))
        self._run(
            "INSERT INTO search_docs (key, article_id, version_id) VALUES (?, ?, ?)",
            (key, article_id, version_id),
        )

    def _insert_document(self, key: int, document: Document, source: str, how: str = "") -> None:
        """Add (or, with ``how`` "delete", take out) a document of both indexes."""
        self._run(
            "INSERT INTO search_index (search_index, rowid, body, title, src) "
            "VALUES (?, ?, ?, ?, ?)"
            if how
            else "INSERT INTO search_index (rowid, body, title, src) VALUES (?, ?, ?, ?)",
            ((how,) if how else ()) + (key, document.body, document.title, source),
        )
        self._run(
            "INSERT INTO search_chars (search_chars, rowid, chars) VALUES (?, ?, ?)"
            if how
            else "INSERT INTO search_chars (rowid, chars) VALUES (?, ?)",
            ((how,) if how else ()) + (key, f"{document.chars} {source}"),
        )

    def _unindex(self, article_id: int) -> None:
        old = self._one(
            "SELECT d.key, v.title, v.clean_html, a.source FROM search_docs d "
            "JOIN versions v ON v.id = d.version_id JOIN articles a ON a.id = d.article_id "
            "WHERE d.article_id = ?",
            (article_id,),
        )
        if old is None:
            return
        self._insert_document(
            old[0], document(old[1], old[2]), self._source_token(str(old[3])), "delete"
        )
        self._run("DELETE FROM search_docs WHERE key = ?", (old[0],))

    def _free_key(self, wanted: int) -> int:
        """``wanted``, or when another article has that second, the first free key after
        the run of taken ones (found by SQLite in one query: a feed of dateless items
        files them all under the same second). The search starts past the keys this
        connection already gave for the same second, so a run of them costs one probe
        each, not a scan of the run."""
        key = self._key_hints.get(wanted, wanted)
        if self._one("SELECT 1 FROM search_docs WHERE key = ?", (key,)) is not None:
            row = self._one(
                "SELECT d.key + 1 FROM search_docs d WHERE d.key >= ? AND NOT EXISTS "
                "(SELECT 1 FROM search_docs e WHERE e.key = d.key + 1) ORDER BY d.key LIMIT 1",
                (key,),
            )
            key = int(row[0])
        self._key_hints[wanted] = key + 1
        return key

    def _source_token(self, slug: str) -> str:
        token = self._source_tokens.get(slug)
        if token is None:
            row = self._one("SELECT rowid FROM sources WHERE slug = ?", (slug,))
            token = f"s{row[0] if row else 0}"
            if row:  # sources are never deleted: their rowid stays theirs
                self._source_tokens[slug] = token
        return token

    def reindex(
        self, progress: Callable[[int], None] = lambda n: None, workers: int | None = None
    ) -> int:
        """Rebuild the whole index from every article's latest version; the count.

        A bulk load in publication order: rows go in in batches, FTS5 gathers 64 MB of
        terms before writing a segment, and for a large archive the text is tokenized
        in worker processes (``workers``, default: one per core but one) while this one
        inserts.
        """
        with self.transaction():
            self._run("INSERT INTO search_index (search_index) VALUES ('delete-all')")
            self._run("INSERT INTO search_chars (search_chars) VALUES ('delete-all')")
            self._run("DELETE FROM search_docs")
            for table in ("search_index", "search_chars"):
                self._run(f"INSERT INTO {table} ({table}, rank) VALUES ('hashsize', {_HASH})")
            tokens = {
                str(slug): f"s{rowid}"
                for rowid, slug in self._run("SELECT rowid, slug FROM sources")
            }
            total = int(
                self._one("SELECT COUNT(*) FROM articles WHERE latest_version IS NOT NULL")[0]
            )
            if workers is None:
                workers = max(1, (os.cpu_count() or 1) - 1) if total >= _PARALLEL_FROM else 0
            if self._depth > 1:  # inside a caller's transaction: workers would not see it
                workers = 0
            cursor = self._run(
                "SELECT a.id, a.source, a.published_ms, v.id"
                + ("" if workers else ", v.title, v.clean_html")
                + " FROM articles a JOIN versions v ON v.id = a.latest_version "
                "ORDER BY a.published_ms"
            )
            used: set[int] = set()
            count = 0
            batches = iter(lambda: cursor.fetchmany(500), [])
            for rows, documents in tokenized(batches, workers, self.path):
                index_rows, char_rows, doc_rows = [], [], []
                for row, made in zip(rows, documents, strict=True):
                    article_id, source, published_ms, version_id = row[:4]
                    key = search_key(int(published_ms))
                    while key in used:
                        key += 1
                    used.add(key)
                    token = tokens.get(str(source), "s0")
                    index_rows.append((key, made.body, made.title, token))
                    char_rows.append((key, f"{made.chars} {token}"))
                    doc_rows.append((key, article_id, version_id))
                self._many(
                    "INSERT INTO search_index (rowid, body, title, src) VALUES (?, ?, ?, ?)",
                    index_rows,
                )
                self._many("INSERT INTO search_chars (rowid, chars) VALUES (?, ?)", char_rows)
                self._many(
                    "INSERT INTO search_docs (key, article_id, version_id) VALUES (?, ?, ?)",
                    doc_rows,
                )
                count += len(rows)
                progress(len(rows))
            self._set_index_version(searchlib.INDEX_VERSION)
            self._search_ready = True
            self._search_paused = False
        return count

    # -- queries ---------------------------------------------------------------------

    def search(self, query: searchlib.Query) -> SearchResults:
        """Articles matching the query: a page of hits with snippets, and the total."""
        if self._search_paused:
            raise SearchQueryError(
                "this archive keeps no search index (search.index = false in newsmirror.toml);"
                " set it to true and run `newsmirror reindex`"
            )
        if not self.search_ready():
            raise SearchQueryError(
                "the search index is not built for this archive yet: run `newsmirror reindex`"
            )
        table, where, params, others = _select(searchlib.plan(query.terms), query)
        # Every expression holds only quoted tokens of newsmirror's own alphabet (see
        # newsmirror.search): no user text reaches FTS5's query syntax. Terms of the other
        # index join as a compound SELECT (INTERSECT / EXCEPT), which SQLite runs fast,
        # never as "rowid IN (SELECT ...)" over a whole index.
        matches, match_params = f"SELECT rowid FROM {table} WHERE {where}", list(params)
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
        keys = [int(r[0]) for r in self._run(sql, (*sql_params, query.limit, query.offset))]
        total = -1
        if query.count:
            total = int(self._one(f"SELECT count(*) FROM ({matches})", match_params)[0])
        return SearchResults(total, tuple(self._hit(key, query) for key in keys))

    def _hit(self, key: int, query: searchlib.Query) -> Hit:
        row = self._one(
            "SELECT a.id, a.source, a.archive_id, a.path, v.title, v.link, v.published_ms, "
            "v.clean_html FROM search_docs d JOIN articles a ON a.id = d.article_id "
            "JOIN versions v ON v.id = d.version_id WHERE d.key = ?",
            (key,),
        )
        title = shown_title(str(row[4]))  # as indexed
        text = f"{title}\n{strip_tags(row[7])}"  # cheap: only to place the snippet
        return Hit(
            article_id=int(row[0]),
            source=str(row[1]),
            archive_id=int(row[2]),
            path=str(row[3]),
            title=title,
            link=str(row[5]),
            published_ms=int(row[6]),
            snippet=searchlib.snippet(text, query.terms),
        )

    # -- figures -----------------------------------------------------------------------

    def source_ids(self, slugs: Sequence[str]) -> tuple[int, ...]:
        """The store ids of these sources (unknown ones have none)."""
        ids = []
        for slug in slugs:
            row = self._one("SELECT rowid FROM sources WHERE slug = ?", (slug,))
            if row:
                ids.append(int(row[0]))
        return tuple(ids)

    def search_index_bytes(self) -> int:
        """Bytes the search index takes in the database file (0 when unknown)."""
        try:
            row = self._one(
                "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat "
                "WHERE name LIKE 'search_index%' OR name LIKE 'search_chars%' "
                "OR name = 'search_docs'"
            )
        except StorageError:  # a SQLite built without the dbstat table
            return 0
        return int(row[0])


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
