"""The storage interface: the :class:`Store` Protocol that every layer above the store
uses, made of one Protocol per concern, and the plain rows it takes and returns.

A backend (:class:`~newsmirror.store.sqlite.SQLiteStore`) implements every method; the
contract suite (``tests/test_store_contract.py``) checks each of them through this
interface alone. Times of sources, feeds, articles, versions, the site's views, feed
memory and archive files are aware UTC datetimes (None for never, or not known); the
backend keeps them as it likes (the SQLite one as ISO text with its offset, converted in
``store/sqlite/sql.py`` only). The watch and evidence concerns still pass ISO strings with
their offset, which compare as text. Publication times are epoch milliseconds. Writes
made inside :meth:`ArticleStore.transaction` commit or roll back together; a write made
outside one is a transaction of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from newsmirror.search.query import Query, Snippet
from newsmirror.store.archivefiles import ArchiveFileStore
from newsmirror.store.evidence import EvidenceStore
from newsmirror.store.feedmemory import FeedMemoryStore
from newsmirror.store.portable import Portable
from newsmirror.store.siteviews import SiteViews
from newsmirror.store.watching import WatchStore
from newsmirror.types import Candidate, Source, StoreOutcome, StoreStatus, Version


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
    first_seen: datetime | None  # aware UTC time first stored (None: not known)
    versions: tuple[Version, ...]  # every version, oldest first
    twin: int = 0  # earlier articles sharing its file id (its reference is slug/id-<twin+1>)


@dataclass(frozen=True)
class FeedState:
    """One feed of a source and how it has been doing."""

    source: str  # source slug
    url: str  # feed URL
    position: int  # 0 for the first feed
    last_success: datetime | None  # aware UTC time of the last good fetch, None never
    last_error: str  # the last error, "" none
    failures: int  # consecutive failures
    etag: str  # last ETag seen
    last_modified: str  # last Last-Modified seen
    last_checked: datetime | None  # aware UTC time of the last attempt, None never
    last_status: str  # "200", "304", or the last error in short
    next_due: datetime | None  # aware UTC time before which it is not fetched, None any time


@dataclass(frozen=True)
class FeedResult:
    """How one feed answered in a run."""

    ok: bool  # it answered with a feed (or 304)
    status: str  # "200", "304", or the error in short
    error: str = ""  # the error line, "" when ok
    etag: str = ""  # validators to send next time
    last_modified: str = ""  # validators to send next time
    next_due: datetime | None = None  # aware UTC time before which it is not fetched again


@dataclass(frozen=True)
class SourceStats:
    """Counts for one source."""

    source: str  # slug
    articles: int  # articles stored
    versions: int  # versions stored
    edited: int  # articles edited upstream (see newsmirror.decide.is_edit)
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
    page: str = ""  # its site page's name: a/<source>/<page>.html (the Listed.page rule)


@dataclass(frozen=True)
class SearchResults:
    """A page of results and how many there are in all."""

    total: int  # matching articles (-1 when the query asked not to count)
    hits: tuple[Hit, ...]  # this page, in the order asked for


class ArticleStore(Protocol):
    """Sources, articles and their versions: the system of record. An article has a
    stable identity and one or more versions; a version is added only when the cleaned
    content changes, so storing the same thing again changes nothing. Nothing stored is
    ever overwritten, and an archive id is never given out twice."""

    @property
    def path(self) -> str:
        """Where the store lives (the database file): worker processes open their own
        read-only view of it there."""

    def close(self) -> None:
        """Close the store; nothing is read or written through it after."""

    def transaction(self) -> AbstractContextManager[None]:
        """Group writes: they commit together when the block ends, or none of them when it
        raises. Nested, the inner block is undone alone when it raises."""

    def sync_sources(self, sources: Sequence[Source]) -> None:
        """Record sources (name, id scheme) and the order of their feeds (a feed no longer
        configured goes after the others); never removes anything."""

    def store_candidate(self, candidate: Candidate, now: datetime) -> StoreOutcome:
        """Store an item at ``now`` (aware UTC): a new article (with the next archive id of
        its source: counting down from 1048574, or its post's own for the "post" scheme)
        when no article is it
        (by guid, else URL or alias, else title and day for an item with neither); a new
        version when its content hash differs from the latest version's (unless the
        archive holds more of it from another way in); else nothing (UNCHANGED).
        Inside a transaction it joins that one."""

    def import_file(self, item: ImportedFile, now: datetime) -> StoreStatus:
        """Record a file of an imported markdown archive by its path at ``now`` (aware
        UTC): NEW (an article of its own, even when another file has its id), CHANGED (a
        new version: the file is not as stored) or UNCHANGED. A countdown source's next
        ids stay below the file's. Inside a transaction it joins that one."""

    def find_article(self, ref: str) -> ArticleRow | None:
        """The article a reference names (see :meth:`find_articles`), the last stored
        when several match; None when none does."""

    def find_articles(self, ref: str) -> list[ArticleRow]:
        """Every article a reference names, in the order stored: "slug/id" (every file of
        that id; "slug/id-2" the second), a path, a URL (its own or an alias, as given or
        canonical), or a guid; each with its versions."""

    def versions_of(self, article_id: int) -> tuple[Version, ...]:
        """Every version of an article, oldest first."""

    def stats(self) -> list[SourceStats]:
        """Counts per source, in the order sources were first recorded."""


class PublishedStore(Protocol):
    """What the markdown archive is to write, and the record of what every published file
    holds (its digest; for an article file, the version and mode written)."""

    def publish_rows(self, mode: str, force: bool = False) -> Iterator[PublishRow]:
        """Articles (in the order stored) whose file is not recorded as holding their
        latest version in ``mode``; every article with ``force``."""

    def forget_missing(self, mode: str, exists: Callable[[str], bool]) -> int:
        """Mark article files recorded as up to date in ``mode`` for which ``exists(path)``
        is False as unpublished, so the next publish writes them again; how many."""

    def newest(self, source: str, limit: int) -> list[tuple[str, str, int]]:
        """(path, title, published_ms) of the source's newest articles, smallest file id
        first, at most ``limit``."""

    def published_digest(self, path: str) -> str | None:
        """The digest recorded for a published file, None when never published."""

    def mark_published(self, path: str, digest: str, version_id: int | None, mode: str) -> None:
        """Record that ``path`` now holds bytes of ``digest`` (and, for an article file,
        ``version_id`` in ``mode``), replacing the record before."""


class FeedLog(Protocol):
    """Every request and every item skipped, and the health of every feed."""

    def log_fetch(
        self,
        source: str,
        url: str,
        status: int,
        size: int,
        elapsed: float,
        error: str,
        from_cache: bool,
        now: datetime,
    ) -> None:
        """Record one request (``elapsed`` in seconds) made at ``now`` (aware UTC)."""

    def log_item(
        self,
        source: str,
        feed_url: str,
        guid: str,
        title: str,
        action: str,
        reason: str,
        now: datetime,
    ) -> None:
        """Record an entry skipped, or archived with a caveat, at ``now`` (aware UTC)."""

    def item_log(self, source: str | None = None) -> list[tuple[str, str, str, str, str]]:
        """(source, guid, title, action, reason) of logged entries (of one source, or
        all), oldest first."""

    def fetch_log(self, limit: int = 100) -> list[tuple[str, str, int, int, str, bool]]:
        """(source, url, status, bytes, error, from_cache) of the latest requests, the
        latest first, at most ``limit``."""

    def feed_states(self) -> list[FeedState]:
        """Every feed with its health, by source and position."""

    def record_feed_result(self, source: str, url: str, result: FeedResult, now: datetime) -> None:
        """Update a feed's health after a fetch at ``now`` (aware UTC; a feed not synced is
        added, last): on
        success its validators and no failures; on failure one more failure and the
        error; either way the status, the time checked and the next due time."""


class SearchStore(Protocol):
    """The search index over every article's latest version: insensitive to simplified
    and traditional forms, any substring of one or more characters, latin words in any
    case."""

    def search_ready(self) -> bool:
        """Whether the index holds every article, built with this version's folding (a
        new store's is ready at once; after an upgrade it needs a reindex)."""

    def pause_search_index(self) -> None:
        """Keep no search index from now on: it then needs a reindex to answer."""

    def reindex(self, progress: Callable[[int], None] = ..., workers: int | None = None) -> int:
        """Rebuild the index from every article's latest version; the count.
        ``progress`` is called with each batch's size; ``workers`` processes tokenize
        (None: chosen by the archive's size)."""

    def search(self, query: Query) -> SearchResults:
        """Articles whose latest version matches: a page of hits (by relevance, or newest
        first) with snippets, and the total. SearchQueryError when the index cannot
        answer (paused, or not built yet)."""

    def source_ids(self, slugs: Sequence[str]) -> tuple[int, ...]:
        """The ids a query names these sources by (unknown slugs have none)."""

    def search_index_bytes(self) -> int:
        """Bytes the index takes (0 when unknown)."""


class Store(
    ArticleStore,
    PublishedStore,
    FeedLog,
    EvidenceStore,
    SearchStore,
    SiteViews,
    WatchStore,
    FeedMemoryStore,
    ArchiveFileStore,
    Portable,
    Protocol,
):
    """Everything the layers above the store use: one Protocol per concern."""
