-- newsmirror store, migration 7: the source an image was deferred for.

-- An image not asked in a run (its time ran out, or its host was given up) is recorded
-- 'deferred', with the source that wanted it: that source's next run asks again.
ALTER TABLE media_urls ADD COLUMN source TEXT NOT NULL DEFAULT '';
CREATE INDEX media_urls_deferred ON media_urls (source) WHERE status = 'deferred';
