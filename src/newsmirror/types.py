"""Frozen values passed between the pipeline stages.

sources ─► fetch (FetchResult) ─► parse (Entry) ─► clean ─► store (Version)
─► publish. Each stage takes and returns these plain values, never a live object of
another stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

#: The first archive id of a source; allocation counts down from here (0xFFFFF).
ID_CEILING = 0xFFFFF


class StoreStatus(StrEnum):
    """What storing an item (a feed's, or a file of an imported archive) did."""

    NEW = "new"  # an article of its own
    CHANGED = "changed"  # a new version of an article
    UNCHANGED = "unchanged"  # nothing: stored as it is already


class CaptureKind(StrEnum):
    """What a capture (an HTTP exchange kept as evidence) fetched."""

    FEED = "feed"  # a feed document
    PAGE = "page"  # an article page
    IMAGE = "image"  # an image (the schema has always allowed it)


class VisitOutcome(StrEnum):
    """What a revisit of an article's page found."""

    UNCHANGED = "unchanged"  # the page as before
    EDITED = "edited"  # the page changed: a new version
    GONE = "gone"  # taken down
    UNREACHABLE = "unreachable"  # no answer that could tell


class ArticleStatus(StrEnum):
    """Where an article stands after its revisits."""

    LIVE = "live"  # there, as archived
    EDITED = "edited"  # there, edited upstream (more than one version)
    GONE = "gone"  # taken down (as last seen)

    @classmethod
    def shown(cls, gone: bool, edits: int) -> ArticleStatus:
        """The status shown for an article: gone (taken down), edited (``edits``: times
        edited upstream, :func:`newsmirror.decide.edits`), else live."""
        return cls.GONE if gone else cls.EDITED if edits else cls.LIVE


class ChangeKind(StrEnum):
    """What a change of a period is: an edit, or a turn (a visit that found an article
    gone, or back)."""

    EDITED = "edited"
    GONE = "gone"
    BACK = "back"


class MediaStatus(StrEnum):
    """What became of an image URL."""

    MIRRORED = "mirrored"  # its copy is in the media store
    REFUSED = "refused"  # for good: not an image, too large, tiny...
    FAILED = "failed"  # tried again when an article uses it again
    DEFERRED = "deferred"  # not asked: the source's next run asks


@dataclass(frozen=True)
class Source:
    """One outlet the archive follows."""

    slug: str  # short stable name, used in paths: "rfi"
    name: str  # display name, used for lists: "法广"
    feeds: tuple[str, ...]  # feed URLs in order; later ones are fallbacks
    enabled: bool = True  # fetch this source on `newsmirror fetch`
    list_timezone: str = "Asia/Shanghai"  # timezone of the M-D dates in lists
    item_filter: str = ""  # "" keeps every item; "symbol-category" is the CDT rule
    fulltext_selector: str = ""  # CSS selector: fetch the page and take this element
    link_from_guid: bool = False  # use the guid as the link (RFA)
    id_scheme: str = "countdown"  # "countdown", or "post" (0xFFFFF XOR the ?p=N guid, CDT)
    boilerplate: tuple[str, ...] = ()  # regular expressions removed by clean
    direct: bool = False  # bypass any configured proxy (and the environment's)
    proxy: str = ""  # this source's own proxy URL, "" for the global setting
    full_text: str = "auto"  # fetch the article page: "feed" never, "page" always, "auto"
    mirror_images: bool | None = None  # download images; None follows media.mirror_images
    interval: float = 3600.0  # seconds between fetches under `newsmirror run`


@dataclass(frozen=True)
class Enclosure:
    """A media file attached to an entry."""

    url: str  # absolute URL of the file
    type: str = ""  # MIME type, if given
    length: int = 0  # size in bytes, 0 when unknown


@dataclass(frozen=True)
class Entry:
    """One feed item, as parsed; nothing cleaned yet."""

    guid: str  # the item's id as given by the feed ("" when it has none)
    link: str  # absolute canonical URL (tracking parameters removed), "" when none
    raw_link: str  # the link as the feed gave it (a FeedBurner item's origLink), made absolute
    title: str  # text of the title, entities decoded ("" when none)
    published: datetime | None  # aware publication time, None when missing or unparseable
    updated: datetime | None  # aware update time, None when missing
    content: str  # the fullest HTML the feed carries (content, else summary); may be ""
    summary: str = ""  # the short description, when the feed has one besides content
    authors: tuple[str, ...] = ()  # author names
    categories: tuple[str, ...] = ()  # category terms
    enclosures: tuple[Enclosure, ...] = ()  # attached media
    notes: tuple[str, ...] = ()  # what was cut or left out as it was read (limits.admitted)
    #: Other canonical URLs of the item: a FeedBurner item's feedproxy link beside its
    #: origLink (which is ``link``).
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedFeed:
    """What parse returns for one feed document."""

    title: str  # the feed's own title
    link: str  # the feed's home page, when given
    entries: tuple[Entry, ...]  # items in document order
    version: str  # "rss20", "atom10", "json11"... as detected
    warnings: tuple[str, ...] = ()  # problems that did not stop parsing (bozo reasons)
    #: Why the document is not well-formed XML ("" when it is): the entries are those read
    #: before the fault, and a cut-off document holds more than were read.
    ill_formed: str = ""
    #: What was taken of a document of more items than newsmirror takes ("" when all were).
    trimmed: str = ""


@dataclass(frozen=True)
class FetchResult:
    """One HTTP response, or the fact that it did not change (304)."""

    url: str  # the URL asked for
    final_url: str  # the URL after redirects
    status: int  # HTTP status of the last response
    body: bytes  # the body, decompressed; b"" for 304
    headers: dict[str, str] = field(default_factory=dict)  # response headers (lower-case names)
    elapsed: float = 0.0  # seconds spent
    not_modified: bool = False  # True for a 304 answer
    etag: str = ""  # the ETag to send next time as If-None-Match ("" when none)
    last_modified: str = ""  # the Last-Modified to send next time as If-Modified-Since
    max_age: float | None = None  # seconds from Cache-Control max-age, None when not given
    retry_after: float | None = None  # seconds from Retry-After (delta or HTTP date), or None
    attempts: int = 1  # HTTP attempts made, retries included (redirect hops not counted)
    encoding: str = ""  # charset parameter of the Content-Type header, as sent
    received_bytes: int = 0  # body bytes received on the wire (before decompression)
    raw_headers: tuple[tuple[str, str], ...] = ()  # response headers as received, in order
    request_headers: tuple[tuple[str, str], ...] = ()  # the request's headers as sent
    received_at: str = ""  # ISO time (UTC) the answer was had ("" when not known)


@dataclass(frozen=True)
class PackedBody:
    """A capture's body as the store keeps it, made ahead of the store."""

    sha256: str  # hex digest of the body
    size: int  # the body's length
    data: bytes  # the body, zlib-compressed


@dataclass(frozen=True)
class Capture:
    """One HTTP exchange kept as evidence (for provenance and WARC export)."""

    kind: CaptureKind  # what it fetched
    url: str  # the URL asked for
    final_url: str  # the URL that answered, after redirects
    status: int  # HTTP status of the answer
    request_headers: tuple[tuple[str, str], ...]  # as sent
    headers: tuple[tuple[str, str], ...]  # as received
    body: bytes  # the body, decoded (no content-encoding left); b"" once packed
    at: str  # ISO time of the answer
    #: The body made ready for the store where it was parsed (a worker process), so that
    #: the single writer only writes it: see store.evidence.packed. None: not yet.
    packed: PackedBody | None = field(default=None, repr=False)

    @classmethod
    def of(cls, kind: CaptureKind, result: FetchResult, at: str) -> Capture:
        """The capture of a fetch result, at the time it was had (``at`` when that is not
        known)."""
        return cls(
            kind,
            result.url,
            result.final_url,
            result.status,
            result.request_headers,
            result.raw_headers,
            result.body,
            result.received_at or at,
        )


@dataclass(frozen=True)
class Candidate:
    """An entry made ready for the store: cleaned, dated, with its provenance."""

    source: str  # source slug
    identity: str  # stable identity key (see decide.identity_of)
    guid: str  # feed guid ("" when none)
    url: str  # canonical URL ("" when none)
    link: str  # the link as written to the markdown archive
    title: str  # title as received
    published_ms: int  # publication time, epoch milliseconds
    date_missing: bool  # True when the feed gave no usable publication date
    raw_html: str  # the content as received
    clean_html: str  # the content after clean
    content_hash: str  # hash of title and clean_html; a change makes a new version
    feed_url: str  # which feed produced it
    post_id: int | None = None  # the ?p=N number for the "post" id scheme
    method: str = "feed"  # how the content was obtained: "feed", "page rule", "page extractor"
    content_url: str = ""  # the URL the content came from (the feed's or the page's)
    method_note: str = ""  # why the page was not used (when tried), or what of it was cut
    feed_hash: str = ""  # hash of title and content as the feed gave them
    feed_capture: Capture | None = None  # the feed document behind it
    page_capture: Capture | None = None  # the article page behind it, when fetched
    aliases: tuple[str, ...] = ()  # other canonical URLs of the item (Entry.aliases)
    #: The search index's tokens of title and clean_html (store.indexing.Document), when
    #: made ahead in a worker process; None: the store makes them as it indexes.
    index_tokens: tuple[str, str, str] | None = field(default=None, compare=False, repr=False)

    def way_in(self) -> tuple[str, str, int]:
        """How its content came (method, feed URL, clean HTML's size), as
        :func:`newsmirror.decide.lesser_way_in` compares it."""
        return (self.method, self.feed_url, len(self.clean_html))


@dataclass(frozen=True)
class Version:
    """One stored state of an article."""

    article_id: int  # the article's row id in the store
    seq: int  # 1 for the first version, counting up
    fetched_at: datetime | None  # aware UTC time the version was stored (None: not known)
    feed_url: str  # the feed (or "import:<path>") that produced it
    title: str  # title as received
    link: str  # link as written to the markdown archive
    published_ms: int  # publication time, epoch milliseconds
    raw_html: str  # content as received
    clean_html: str  # content after clean
    content_hash: str  # hash of title and clean content
    method: str = "feed"  # "feed", "page rule", "page extractor" or "import"
    content_url: str = ""  # the URL the content came from
    method_note: str = ""  # why the page was not used (when tried), or what of it was cut


@dataclass(frozen=True)
class StoreOutcome:
    """What storing one candidate did."""

    status: StoreStatus  # what storing it did
    article_id: int  # row id of the article
    archive_id: int  # file id in the markdown archive


@dataclass(frozen=True)
class SourceReport:
    """A per-source summary of one fetch run."""

    source: str  # source slug
    new: int = 0  # articles archived for the first time
    changed: int = 0  # articles that got a new version
    unchanged: int = 0  # entries already archived as they are
    skipped: int = 0  # entries left out on purpose (filter) or unusable
    errors: tuple[str, ...] = ()  # one line per problem
    feed_url: str = ""  # the feed that answered, "" when none did
    failed: bool = False  # True when no feed of the source could be read
    not_modified: bool = False  # the feed that answered said 304: nothing to parse
    deferred_until: datetime | None = None  # no feed was due (backed off or asked to wait) until
