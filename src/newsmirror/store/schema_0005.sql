-- newsmirror store, migration 5: watching archived articles for edits and takedowns.

-- Where each watched article stands. An article without a row has not been revisited:
-- its first revisit is due one schedule step after it was first seen (or published).
CREATE TABLE watch (
    article_id INTEGER PRIMARY KEY REFERENCES articles (id),
    status TEXT NOT NULL DEFAULT 'live',   -- 'live', 'edited' or 'gone'
    status_at TEXT NOT NULL DEFAULT '',    -- ISO time of the visit that set the status
    last_visit TEXT NOT NULL DEFAULT '',   -- ISO time of the latest visit
    next_visit TEXT NOT NULL DEFAULT '',   -- ISO time of the next one ('' : none planned)
    failures INTEGER NOT NULL DEFAULT 0,   -- unreachable visits in a row
    page_hash TEXT NOT NULL DEFAULT '',    -- the page's extracted content as last seen
    page_title TEXT NOT NULL DEFAULT ''    -- the page's title as last seen
);
CREATE INDEX watch_by_next ON watch (next_visit);
CREATE INDEX watch_by_status ON watch (status, status_at);

-- Every revisit, as it went. Never deleted.
CREATE TABLE visits (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles (id),
    at TEXT NOT NULL,                      -- ISO time of the visit
    url TEXT NOT NULL,                     -- the URL revisited
    outcome TEXT NOT NULL,                 -- 'unchanged', 'edited', 'gone' or 'unreachable'
    http_status INTEGER NOT NULL DEFAULT 0,-- 0 when no answer came
    final_url TEXT NOT NULL DEFAULT '',    -- where redirects ended
    reason TEXT NOT NULL DEFAULT '',       -- what the outcome rests on, in one line
    turned INTEGER NOT NULL DEFAULT 0,     -- 1: this visit found it gone, or back again
    version_id INTEGER REFERENCES versions (id),   -- the version an edit added
    capture_id INTEGER REFERENCES captures (id)    -- the page as fetched
);
CREATE INDEX visits_by_article ON visits (article_id, id);
CREATE INDEX visits_by_time ON visits (at);
-- Articles by the time they were first stored (the revisits not yet made).
CREATE INDEX articles_by_first_seen ON articles (first_seen);
-- Versions by the time they were stored (the edits of a period).
CREATE INDEX versions_by_time ON versions (fetched_at);
