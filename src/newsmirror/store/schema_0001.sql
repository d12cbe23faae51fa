-- newsmirror store, migration 1: the initial schema.
-- Nothing here is ever deleted by newsmirror: articles keep every version, every request
-- and every skipped item is logged.

CREATE TABLE sources (
    slug TEXT PRIMARY KEY,                 -- "rfi"
    name TEXT NOT NULL,                    -- "法广"
    id_scheme TEXT NOT NULL DEFAULT 'countdown',  -- or 'post' (CDT)
    lowest_id INTEGER NOT NULL DEFAULT 1048575  -- countdown: the next id is below this
);

CREATE TABLE feeds (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL REFERENCES sources (slug),
    url TEXT NOT NULL,
    position INTEGER NOT NULL,             -- order of the source's feeds (0 first)
    etag TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '',
    last_success TEXT NOT NULL DEFAULT '',
    last_error TEXT NOT NULL DEFAULT '',
    failures INTEGER NOT NULL DEFAULT 0,   -- consecutive failures
    last_checked TEXT NOT NULL DEFAULT '', -- ISO time of the last attempt
    last_status TEXT NOT NULL DEFAULT '',  -- "200", "304", or the error in short
    next_due TEXT NOT NULL DEFAULT '',     -- ISO time before which it is not fetched
    UNIQUE (source, url)
);

CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL REFERENCES sources (slug),
    archive_id INTEGER NOT NULL,           -- the file id in the markdown archive
    path TEXT NOT NULL UNIQUE,             -- "articles/rfi/1048574.md", relative
    identity TEXT NOT NULL,                -- guid:..., url:... or title:<day>:...
    guid TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',          -- canonical URL
    title_key TEXT NOT NULL DEFAULT '',
    published_ms INTEGER NOT NULL,
    date_missing INTEGER NOT NULL DEFAULT 0,
    first_seen TEXT NOT NULL,
    latest_version INTEGER                 -- versions.id of the newest version
);
CREATE INDEX articles_by_guid ON articles (source, guid);
CREATE INDEX articles_by_url ON articles (source, url);
CREATE INDEX articles_by_title ON articles (source, title_key);
CREATE INDEX articles_by_archive_id ON articles (source, archive_id);

CREATE TABLE versions (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles (id),
    seq INTEGER NOT NULL,                  -- 1, 2, 3... per article
    fetched_at TEXT NOT NULL,
    feed_url TEXT NOT NULL,                -- the feed that produced it, or import:<path>
    title TEXT NOT NULL,
    link TEXT NOT NULL,
    published_ms INTEGER NOT NULL,
    raw_html TEXT NOT NULL,                -- content as received
    clean_html TEXT NOT NULL,              -- content after clean
    content_hash TEXT NOT NULL,
    UNIQUE (article_id, seq)
);

CREATE TABLE fetch_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    source TEXT NOT NULL,
    url TEXT NOT NULL,
    status INTEGER NOT NULL DEFAULT 0,     -- HTTP status, 0 when no answer
    bytes INTEGER NOT NULL DEFAULT 0,
    elapsed_ms INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    from_cache INTEGER NOT NULL DEFAULT 0  -- 1 for a 304 answer
);

CREATE TABLE item_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    source TEXT NOT NULL,
    feed_url TEXT NOT NULL,
    guid TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,                  -- "skipped" or "archived"
    reason TEXT NOT NULL
);

CREATE TABLE published (
    path TEXT PRIMARY KEY,                 -- relative to the output directory
    digest TEXT NOT NULL,                  -- sha256 of the bytes written
    version_id INTEGER,                    -- for article files, the version written
    mode TEXT NOT NULL DEFAULT ''          -- markdown content setting used
);
