-- newsmirror store, migration 8: the other URLs an article is known by.

-- A FeedBurner item is stored under its feedburner:origLink; the feedproxy link the feed
-- gave beside it is kept here, and so is the origLink of an article stored earlier under
-- its feedproxy link: either finds the article (a feed item, `show`). Never deleted.
CREATE TABLE article_aliases (
    url TEXT NOT NULL,                     -- a canonical URL other than articles.url
    article_id INTEGER NOT NULL REFERENCES articles (id),
    PRIMARY KEY (url, article_id)
) WITHOUT ROWID;
CREATE INDEX article_aliases_by_article ON article_aliases (article_id);
