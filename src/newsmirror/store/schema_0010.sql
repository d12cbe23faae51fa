-- newsmirror store, migration 10: the search indexes gather more terms in memory before
-- they write a segment (FTS5's 'hashsize', 1 MB by default). Within one transaction of
-- many articles (an import, a rebuild, a first fetch) that means fewer, larger segments
-- and less merging: half the CPU time of indexing an article (bench/fts_insert.py).
-- What the indexes hold, and so every search result, is the same.
INSERT INTO search_index (search_index, rank) VALUES ('hashsize', 16777216);
INSERT INTO search_chars (search_chars, rank) VALUES ('hashsize', 4194304);
