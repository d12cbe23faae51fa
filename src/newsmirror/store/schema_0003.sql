-- newsmirror store, migration 3: the search index over each article's latest version.

-- Which version of each article is indexed, under which key: the key orders articles
-- by publication time (its second, or the next free one), so that newest first is a walk
-- down the index's own rowids.
CREATE TABLE search_docs (
    key INTEGER PRIMARY KEY,               -- the search_index rowid
    article_id INTEGER NOT NULL UNIQUE REFERENCES articles (id),
    version_id INTEGER NOT NULL REFERENCES versions (id)
);

-- Contentless FTS5: the tokens newsmirror.search makes (folded, CJK in overlapping
-- two-character chunks), split on spaces by the ascii tokenizer; src holds "s<source id>".
-- body comes first: FTS5 marks every posting of a column other than the first.
CREATE VIRTUAL TABLE search_index USING fts5 (
    body, title, src, content = '', tokenize = 'ascii'
);

-- The distinct characters of each article (title and text, folded) and its "s<source
-- id>", presence only (detail=none: no positions): one-character searches look here,
-- where the chunk index would have to merge every chunk that starts with the character.
CREATE VIRTUAL TABLE search_chars USING fts5 (
    chars, content = '', tokenize = 'ascii', detail = none
);

-- index_version: the folding and tokenizing the index was built with ('' : not built).
CREATE TABLE search_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO search_meta (key, value) VALUES ('index_version', '');
