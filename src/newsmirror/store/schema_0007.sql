-- newsmirror store, migration 7: the search indexes merge their segments 16 at a time.

-- FTS5 writes the terms gathered by a transaction (or 64 MB of them, in a rebuild) as a
-- new segment, and merges a level's segments into one of the next level when the level
-- holds 'automerge' of them (4 by default). At 16 every posting is rewritten by fewer
-- merges (a rebuild of 100,000 articles took 129 s instead of 146 s), for a few more
-- segments for a query to look up.
INSERT INTO search_index (search_index, rank) VALUES ('automerge', 16);
INSERT INTO search_chars (search_chars, rank) VALUES ('automerge', 16);
