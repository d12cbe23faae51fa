-- newsmirror store, migration 3: the search index over each article's latest version.

-- Which version of each article is indexed, under which key: the key orders articles
-- by publication time ((published_ms << 20) | (article id & 0xFFFFF)), so that newest
-- first is a walk down the index's own rowids.
CREATE TABLE search_docs (
    key INTEGER PRIMARY KEY,               -- the search_index rowid
    article_id INTEGER NOT NULL UNIQUE REFERENCES articles (id),
    version_id INTEGER NOT NULL REFERENCES versions (id)
);

-- Contentless FTS5: the tokens newsmirror.search makes (folded, CJK in overlapping
-- two-character chunks), split on spaces by the ascii tokenizer; src holds "s<source id>".
CREATE VIRTUAL TABLE search_index USING fts5 (
    src, title, body, content = '', tokenize = 'ascii'
);

-- index_version: the folding and tokenizing the index was built with ('' : not built).
CREATE TABLE search_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO search_meta (key, value) VALUES ('index_version', '');
