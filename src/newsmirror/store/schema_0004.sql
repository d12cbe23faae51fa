-- newsmirror store, migration 4: indexes the static site's lists read by.

-- A day's articles, and the newest ones.
CREATE INDEX articles_by_published ON articles (published_ms);
-- A source's newest articles.
CREATE INDEX articles_by_source_published ON articles (source, published_ms);
-- A source's articles in the order they were stored (the rowid follows the source).
CREATE INDEX articles_by_source ON articles (source);
