-- newsmirror store, migration 2: how each version's content was obtained, the raw HTTP
-- captures behind versions and feed fetches, and mirrored images.

-- Response bodies, stored once per sha256 of the decoded bytes, zlib-compressed.
CREATE TABLE bodies (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,                 -- bytes, decoded
    stored INTEGER NOT NULL,               -- bytes, compressed
    data BLOB NOT NULL
);

-- One HTTP exchange kept as evidence. Never deleted.
CREATE TABLE captures (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,                      -- ISO time of the response
    source TEXT NOT NULL,
    kind TEXT NOT NULL,                    -- 'feed', 'page' or 'image'
    url TEXT NOT NULL,                     -- the URL asked for
    final_url TEXT NOT NULL,               -- the URL that answered (after redirects)
    status INTEGER NOT NULL,
    request_headers TEXT NOT NULL,         -- JSON list of [name, value]
    headers TEXT NOT NULL,                 -- JSON list of [name, value], as received
    sha256 TEXT NOT NULL REFERENCES bodies (sha256)  -- the body, decoded (no gzip)
);
CREATE INDEX captures_by_url ON captures (url);

-- Mirrored images, content-addressed: the file is media/<path> under the home.
CREATE TABLE media (
    sha256 TEXT PRIMARY KEY,
    path TEXT NOT NULL,                    -- "ab/abcdef....jpg", relative to media/
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    first_seen TEXT NOT NULL
);

-- Every image URL ever tried, and what came of it.
CREATE TABLE media_urls (
    url TEXT PRIMARY KEY,
    sha256 TEXT REFERENCES media (sha256), -- NULL when refused or failed
    status TEXT NOT NULL,                  -- 'mirrored', 'refused' or 'failed'
    reason TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 1,
    at TEXT NOT NULL
);

-- 'feed', 'page rule', 'page extractor' or 'import'; imported versions say 'import'.
ALTER TABLE versions ADD COLUMN method TEXT NOT NULL DEFAULT 'feed';
-- the URL the content was taken from: the feed's, or the article page's
ALTER TABLE versions ADD COLUMN content_url TEXT NOT NULL DEFAULT '';
-- why the page was not used when it was tried ('' when it was, or was not tried)
ALTER TABLE versions ADD COLUMN method_note TEXT NOT NULL DEFAULT '';
-- the captures of the feed document and the article page behind the version
ALTER TABLE versions ADD COLUMN feed_capture INTEGER REFERENCES captures (id);
ALTER TABLE versions ADD COLUMN page_capture INTEGER REFERENCES captures (id);
UPDATE versions SET method = 'import' WHERE feed_url LIKE 'import:%';
CREATE INDEX versions_by_article ON versions (article_id, seq);
-- hash of title and content as the feed last gave them: an item the feed repeats unchanged
-- is not cleaned or its page fetched again
ALTER TABLE articles ADD COLUMN feed_hash TEXT NOT NULL DEFAULT '';
