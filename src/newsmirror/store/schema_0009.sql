-- newsmirror store, migration 9: what a source's next run asks again: images deferred,
-- pages of stand-in versions.

-- An image not asked in a run (its time ran out, or its host was given up) is recorded
-- 'deferred', with the source that wanted it: that source's next run asks again.
ALTER TABLE media_urls ADD COLUMN source TEXT NOT NULL DEFAULT '';
CREATE INDEX media_urls_deferred ON media_urls (source) WHERE status = 'deferred';

-- The versions that stand in for a page not read (the feed's content kept, the page
-- tried again): collecting asks for a source's recent ones every run.
CREATE INDEX versions_standing_in ON versions (fetched_at)
    WHERE method = 'feed' AND method_note LIKE '%next run tries again';
