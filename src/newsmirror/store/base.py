"""The storage Protocol and the plain rows it returns."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from newsmirror.decide import STAND_IN
from newsmirror.search.query import Query, Snippet
from newsmirror.types import Candidate, Source, StoreOutcome, Version


def stand_in_sql(v: str) -> str:
    """SQL: whether the version of alias ``v`` stands in for an unread page (the rule of
    :func:`newsmirror.decide.is_stand_in`)."""
    return f"({v}.method = 'feed' AND {v}.method_note LIKE '%{STAND_IN}')"


def page_sql(a: str) -> str:
    """SQL: the name of article alias ``a``'s site page (``a/<slug>/<name>.html``): its file
    id, and for the second and later articles sharing one (two files of one id in an
    imported archive) ``<id>-2``, ``<id>-3``... (the rule of
    :func:`newsmirror.decide.page_name`)."""
    return (
        f"(CAST({a}.archive_id AS TEXT) || "
        f"CASE {a}.twin WHEN 0 THEN '' ELSE '-' || ({a}.twin + 1) END)"
    )


def edit_sql(v: str) -> str:
    """SQL: whether the version of alias ``v`` edited its article upstream (1 or 0): a
    version after the first, unless it completes a stand-in for an unread page or came
    from another of the source's feeds than the version before (the rule of
    :func:`newsmirror.decide.is_edit`; the index on (article_id, seq) finds the version
    before)."""
    return (
        f"({v}.seq > 1 AND NOT EXISTS (SELECT 1 FROM versions sb WHERE sb.article_id = "
        f"{v}.article_id AND sb.seq = {v}.seq - 1 AND ({stand_in_sql('sb')} OR "
        f"(sb.method = 'feed' AND {v}.method = 'feed' AND sb.feed_url <> {v}.feed_url))))"
    )


@dataclass(frozen=True)
class ImportedFile:
    """One article file read from an existing markdown archive."""

    source: str  # source slug it belongs to
    path: str  # its path in the archive, relative ("articles/法广/1042081.md")
    archive_id: int  # the id in its file name
    identity: str  # stable identity key
    url: str  # canonical URL ("" when unusable)
    title_key: str  # normalised title and day
    title: str  # title as in the file
    link: str  # link as in the file
    published_ms: int  # line 1 of the file
    raw_html: str  # the content as in the file (line 5)
    clean_html: str  # the content after clean
    content_hash: str  # hash of title and clean content
    file_form: str = ""  # how the file lays out its fields (FileForm JSON; "" : our own)
    date_missing: bool = False  # the file gives no usable date (published_ms is a stand-in)
    #: The search index's tokens of title and clean HTML, when made ahead (in a worker).
    index_tokens: tuple[str, str, str] | None = None


@dataclass(frozen=True)
class PublishRow:
    """What the markdown writer needs for one article file."""

    article_id: int  # row id
    source: str  # source slug
    path: str  # relative path of the file
    version_id: int  # the latest version's row id
    title: str  # latest title
    link: str  # latest link
    published_ms: int  # latest publication time
    raw_html: str  # latest content as received
    clean_html: str  # latest cleaned content
    url: str  # canonical URL
    file_form: str = ""  # how an imported file lays out its fields ("" : our own layout)


@dataclass(frozen=True)
class ArticleRow:
    """An article with its versions, for `show`."""

    id: int  # row id
    source: str  # source slug
    archive_id: int  # file id
    path: str  # relative path of the file
    identity: str  # identity key
    guid: str  # feed guid
    url: str  # canonical URL
    published_ms: int  # publication time
    date_missing: bool  # the feed gave no date
    first_seen: str  # ISO time first stored
    versions: tuple[Version, ...]  # every version, oldest first
    twin: int = 0  # earlier articles sharing its file id (its reference is slug/id-<twin+1>)


@dataclass(frozen=True)
class FeedState:
    """One feed of a source and how it has been doing."""

    source: str  # source slug
    url: str  # feed URL
    position: int  # 0 for the first feed
    last_success: str  # ISO time of the last good fetch, "" never
    last_error: str  # the last error, "" none
    failures: int  # consecutive failures
    etag: str  # last ETag seen
    last_modified: str  # last Last-Modified seen
    last_checked: str  # ISO time of the last attempt, "" never
    last_status: str  # "200", "304", or the last error in short
    next_due: str  # ISO time before which it is not fetched, "" any time


@dataclass(frozen=True)
class FeedResult:
    """How one feed answered in a run."""

    ok: bool  # it answered with a feed (or 304)
    status: str  # "200", "304", or the error in short
    error: str = ""  # the error line, "" when ok
    etag: str = ""  # validators to send next time
    last_modified: str = ""  # validators to send next time
    next_due: str = ""  # ISO time before which it is not fetched again


@dataclass(frozen=True)
class SourceStats:
    """Counts for one source."""

    source: str  # slug
    articles: int  # articles stored
    versions: int  # versions stored
    edited: int  # articles edited upstream (see edit_sql)
    newest_ms: int  # newest publication time, 0 when empty
    lowest_id: int  # the countdown floor


@dataclass(frozen=True)
class Hit:
    """One search result."""

    article_id: int  # row id of the article
    source: str  # source slug
    archive_id: int  # its id in the markdown archive
    path: str  # its markdown file
    title: str  # latest title, as shown (clean.shown_title)
    link: str  # latest link
    published_ms: int  # publication time
    snippet: Snippet  # text around the first match, matches marked


@dataclass(frozen=True)
class SearchResults:
    """A page of results and how many there are in all."""

    total: int  # matching articles (-1 when the query asked not to count)
    hits: tuple[Hit, ...]  # this page, in the order asked for


class Store(Protocol):
    """What the archive needs from a store. Every method is one transaction or less."""

    def close(self) -> None:
        """Close the connection."""

    def transaction(self) -> AbstractContextManager[None]:
        """Group writes: commit on success, roll back on error."""

    def sync_sources(self, sources: Sequence[Source]) -> None:
        """Record sources and their feeds (names and feed order)."""

    def store_candidate(self, candidate: Candidate, now: str) -> StoreOutcome:
        """Add a new article or version when the content is new; else change nothing."""

    def import_file(self, item: ImportedFile, now: str) -> str:
        """Record an imported file by its path: "new", "changed" or "unchanged"."""

    def publish_rows(self, mode: str, force: bool = False) -> Iterator[PublishRow]:
        """Articles whose file is not known to hold their latest version in ``mode``."""

    def newest(self, source: str, limit: int) -> list[tuple[str, str, int]]:
        """(path, title, published_ms) of the source's newest articles, newest first."""

    def published_digest(self, path: str) -> str | None:
        """The digest recorded for a published file, None when never published."""

    def mark_published(self, path: str, digest: str, version_id: int | None, mode: str) -> None:
        """Record that ``path`` now holds these bytes."""

    def find_article(self, ref: str) -> ArticleRow | None:
        """An article by "slug/id", path, URL or guid (the newest, when several match)."""

    def find_articles(self, ref: str) -> list[ArticleRow]:
        """Every article a reference names ("slug/id" names all the files of an id)."""

    def log_fetch(
        self,
        source: str,
        url: str,
        status: int,
        size: int,
        elapsed: float,
        error: str,
        from_cache: bool,
        now: str,
    ) -> None:
        """Record one request."""

    def log_item(
        self, source: str, feed_url: str, guid: str, title: str, action: str, reason: str, now: str
    ) -> None:
        """Record an entry skipped or archived with a caveat."""

    def feed_states(self) -> list[FeedState]:
        """Every feed with its health."""

    def record_feed_result(
        self,
        source: str,
        url: str,
        ok: bool,
        error: str,
        now: str,
        etag: str = "",
        last_modified: str = "",
    ) -> None:
        """Update a feed's health after a fetch."""

    def stats(self) -> list[SourceStats]:
        """Counts per source."""

    def search(self, query: Query) -> SearchResults:
        """Articles matching the query (latest versions): a page of hits and the total.
        SearchQueryError when the index cannot answer (not built yet)."""

    def reindex(self, progress: Callable[[int], None] = ..., workers: int | None = None) -> int:
        """Rebuild the search index from every article's latest version; the count.
        ``workers`` processes tokenize (None: chosen by the archive's size)."""

    def search_ready(self) -> bool:
        """Whether the search index is built and current."""

    def pause_search_index(self) -> None:
        """Keep no search index from now on (it then needs a reindex to answer)."""
