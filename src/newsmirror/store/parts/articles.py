"""Articles and their versions in the store: a new article or version when the
content is new, else nothing; imported files recorded by their path."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from newsmirror import decide
from newsmirror.store.base import ImportedFile
from newsmirror.store.parts.db import Db, Index
from newsmirror.store.parts.evidence import Evidence
from newsmirror.store.parts.memory import Memory
from newsmirror.store.parts.sources import Sources
from newsmirror.store.sql import stored
from newsmirror.types import ID_CEILING, Candidate, Capture, StoreOutcome, StoreStatus


class Articles:
    """Storing articles and versions. A version is indexed for search as it is added (in
    the same transaction), with the captures behind it."""

    def __init__(
        self,
        db: Db,
        sources: Sources,
        evidence: Evidence,
        search: Index,
        memory: Memory,
    ) -> None:
        self.db, self.sources, self.evidence = db, sources, evidence
        self.search, self.memory = search, memory

    def store_candidate(self, candidate: Candidate, now: datetime) -> StoreOutcome:
        """Add a new article or version when the content is new; else change nothing.

        Inside a caller's transaction it joins that one (the caller's savepoint decides
        what a failure undoes); alone it is a transaction of its own.
        """
        c = candidate
        with self.db.joined():
            title_key = decide.title_key(c.title, c.published_ms)
            found = self.memory.find(c.source, c.guid, c.url, title_key, c.aliases)
            status = decide.classify(found.content_hash if found else None, c.content_hash)
            if (
                found
                and status is StoreStatus.CHANGED
                and decide.lesser_way_in(c.way_in(), found.way_in)
            ):
                status = StoreStatus.UNCHANGED  # the archive holds more of it from another feed
            if found is None:
                archive_id = self.sources.allocate(c.source, c.post_id)
                article_id = self._insert_article(c, archive_id, title_key, now)
            else:
                article_id, archive_id = found.article_id, found.archive_id
                if status is StoreStatus.CHANGED:
                    self.add_version(article_id, c, now)
                    self.db.run(
                        "UPDATE articles SET published_ms = ?, date_missing = ?, "
                        "guid = CASE WHEN guid = '' THEN ? ELSE guid END WHERE id = ?",
                        (c.published_ms, int(c.date_missing), c.guid, article_id),
                    )
                elif c.guid:
                    self.db.run(
                        "UPDATE articles SET guid = ? WHERE id = ? AND guid = ''",
                        (c.guid, article_id),
                    )
                self._note_feed_hash(article_id, c.feed_hash)
            if c.aliases:
                self._note_aliases(article_id, (c.url, *c.aliases))
        return StoreOutcome(status=status, article_id=article_id, archive_id=archive_id)

    def _note_aliases(self, article_id: int, urls: Sequence[str]) -> None:
        """Keep the URLs an item of the article was given under, other than the article's
        own, as its aliases (a FeedBurner item's feedproxy link; the origLink of an article
        stored earlier under its feedproxy link)."""
        for url in dict.fromkeys(urls):
            if url:
                self.db.run(
                    "INSERT INTO article_aliases (url, article_id) SELECT ?, id "
                    "FROM articles WHERE id = ? AND url <> ? ON CONFLICT DO NOTHING",
                    (url, article_id, url),
                )

    def _note_feed_hash(self, article_id: int, feed_hash: str) -> None:
        if feed_hash:
            self.db.run(
                "UPDATE articles SET feed_hash = ? WHERE id = ? AND feed_hash <> ?",
                (feed_hash, article_id, feed_hash),
            )

    def _insert_article(self, c: Candidate, archive_id: int, title_key: str, now: datetime) -> int:
        path = f"articles/{c.source}/{archive_id}.md"
        row = {
            "source": c.source,
            "archive_id": archive_id,
            "path": path,
            "identity": c.identity,
            "guid": c.guid,
            "url": c.url,
            "title_key": title_key,
            "published_ms": c.published_ms,
            "date_missing": int(c.date_missing),
            "first_seen": stored(now),
            "feed_hash": c.feed_hash,
        }
        taken = f"{path} belongs to another article; not overwritten"
        article_id = self.db.insert("articles", row, taken)
        self.add_version(article_id, c, now, seq=1)
        return article_id

    def add_version(self, article_id: int, c: Candidate, now: datetime, seq: int = 0) -> int:
        """Add a version, indexed; ``seq`` 0 means the next one after the article's last.
        Its row id."""
        if not seq:
            row = self.db.single(
                "SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM versions WHERE article_id = ?",
                (article_id,),
            )
            seq = int(row["next"])
        version = {
            "article_id": article_id,
            "seq": seq,
            "fetched_at": stored(now),
            "feed_url": c.feed_url,
            "title": c.title,
            "link": c.link,
            "published_ms": c.published_ms,
            "raw_html": c.raw_html,
            "clean_html": c.clean_html,
            "content_hash": c.content_hash,
            "method": c.method,
            "content_url": c.content_url or c.feed_url,
            "method_note": c.method_note,
            "feed_capture": self._capture(c.source, c.feed_capture),
            "page_capture": self._capture(c.source, c.page_capture),
        }
        version_id = self.db.insert("versions", version)
        self.db.run("UPDATE articles SET latest_version = ? WHERE id = ?", (version_id, article_id))
        self.search.index_version(article_id, version_id, c, seq == 1)  # the same transaction
        return version_id

    def _capture(self, source: str, capture: Capture | None) -> int | None:
        return self.evidence.save_capture(source, capture) if capture else None

    # -- imported files ----------------------------------------------------------------

    def import_file(self, item: ImportedFile, now: datetime) -> StoreStatus:
        """Record an imported file by its path: what storing it did.

        Inside a caller's transaction it joins that one, without a savepoint of its own:
        a savepoint makes SQLite's full-text index write its pending terms out, a segment
        per file, which cost more than the rest of the import together."""
        candidate = Candidate(
            source=item.source,
            identity=item.identity,
            guid="",
            url=item.url,
            link=item.link,
            title=item.title,
            published_ms=item.published_ms,
            date_missing=False,
            raw_html=item.raw_html,
            clean_html=item.clean_html,
            content_hash=item.content_hash,
            feed_url=f"import:{item.path}",
            method="import",
            index_tokens=item.index_tokens,
        )
        with self.db.joined():
            self.sources.ensure(item.source)
            row = self.db.one(
                "SELECT a.id, v.raw_html, v.link, v.published_ms, v.title, v.file_form "
                "FROM articles a JOIN versions v ON v.id = a.latest_version WHERE a.path = ?",
                (item.path,),
            )
            if row is None:
                self._insert_imported(item, candidate, now)
                return StoreStatus.NEW
            held = (row["raw_html"], row["link"], row["published_ms"], row["title"],
                    row["file_form"])  # fmt: skip
            if held == (item.raw_html, item.link, item.published_ms, item.title, item.file_form):
                return StoreStatus.UNCHANGED  # the file as it was, however it cleans
            self._set_form(self.add_version(int(row["id"]), candidate, now), item.file_form)
            return StoreStatus.CHANGED

    def _set_form(self, version_id: int, file_form: str) -> None:
        if file_form:
            self.db.run("UPDATE versions SET file_form = ? WHERE id = ?", (file_form, version_id))

    def _insert_imported(self, item: ImportedFile, c: Candidate, now: datetime) -> int:
        twin = self.db.single(  # files of one id are articles of their own, each with its page
            "SELECT COUNT(*) AS n FROM articles WHERE source = ? AND archive_id = ?",
            (item.source, item.archive_id),
        )
        row = {
            "source": item.source,
            "archive_id": item.archive_id,
            "path": item.path,
            "identity": item.identity,
            "guid": "",
            "url": item.url,
            "title_key": item.title_key,
            "published_ms": item.published_ms,
            "date_missing": int(item.date_missing),
            "first_seen": stored(now),
            "twin": twin["n"],
        }
        article_id = self.db.insert("articles", row)
        self._set_form(self.add_version(article_id, c, now), item.file_form)
        if item.archive_id <= ID_CEILING:
            self.sources.keep_below(item.source, item.archive_id)
        return article_id
