"""A feed's items sorted out and built: the CPU part of collecting.

:func:`read_feed` parses a feed's answer, asks the store which items it already holds as
the feed gives them (the store itself, or a worker's read-only FeedMemory of it), and,
when no article page is wanted, builds the candidates; :func:`build_items` builds them
from their pages. Both run in a worker process (see :mod:`newsmirror.collect.worker`) or in the
collecting process, with the same results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from newsmirror import decide
from newsmirror.clean.article import clean_html
from newsmirror.collect.pages import Content, PageResult, choose, wants_page
from newsmirror.config.boilerplate import boilerplate_patterns
from newsmirror.errors import NewsmirrorError
from newsmirror.parse.feeds import canonical_url, parse_feed
from newsmirror.store.evidence import packed
from newsmirror.store.indexing import document
from newsmirror.types import Candidate, Capture, Entry, Source

if TYPE_CHECKING:
    from newsmirror.fetch.client import AttemptLog
    from newsmirror.media.mirror import ImageResult
    from newsmirror.store.base import FeedResult


class Remembers(Protocol):
    """What sorting a feed's items out asks the store: the feed hash an item had last time
    (the store itself, or a worker's read-only FeedMemory of it)."""

    def seen_feed_hashes(
        self, source: str, items: Sequence[tuple[str, str, str, int]]
    ) -> list[str]: ...


@dataclass(frozen=True)
class ItemNote:
    """An entry skipped, or archived with a caveat."""

    guid: str  # the entry's guid
    title: str  # its title
    action: str  # "skipped" or "archived"
    reason: str  # why


@dataclass
class Batch:
    """Everything collected for one source in one run."""

    source: Source  # the source
    feed_url: str = ""  # the feed that answered
    not_modified: bool = False  # that feed answered 304
    candidates: list[Candidate] = field(default_factory=list)  # entries to store
    requests: list[AttemptLog] = field(default_factory=list)  # every HTTP exchange
    notes: list[ItemNote] = field(default_factory=list)  # skipped or partial entries
    errors: list[str] = field(default_factory=list)  # one line per problem
    feeds: dict[str, FeedResult] = field(default_factory=dict)  # how each feed answered
    deferred_until: datetime | None = None  # the earliest due time when no feed was due
    feed_capture: Capture | None = None  # the feed document that answered (200)
    repeated: int = 0  # items the feed repeats exactly as stored: not looked at again
    images: list[ImageResult] = field(default_factory=list)  # images tried for the candidates
    unread_pages: list[str] = field(default_factory=list)  # "link: why" of pages not read
    deferred_pages: list[str] = field(default_factory=list)  # what ran out, per page not asked
    waits: list[datetime] = field(default_factory=list)  # due times of feeds that asked to wait
    streamed: set[str] = field(default_factory=set)  # links, URLs of candidates already sent

    @property
    def failed(self) -> bool:
        """No feed of the source could be read (and some feed was tried)."""
        return not self.feed_url and self.deferred_until is None


@dataclass
class FeedRead:
    """A feed's items sorted out: those to look at (not repeated as stored), their links,
    the positions of those whose article page is wanted; and, when asked for and no page
    is wanted, their candidates built (then the entries are not kept: a worker would send
    them back for nothing)."""

    fresh: list[Entry]
    links: list[str]
    wanted: list[int]
    repeated: int  # items the feed repeats exactly as stored
    ill_formed: str = ""  # why the document is not well-formed (ParsedFeed.ill_formed)
    trimmed: str = ""  # what was taken of a document of too many items (ParsedFeed.trimmed)
    built: Batch | None = None
    items: int = 0  # the items read (repeated ones included)
    capture: Capture | None = None  # the feed's capture, its body packed for the store


def read_feed(
    seen: Remembers | None,
    source: Source,
    answer: tuple[bytes, str, str],
    feed: tuple[str, Capture | None],
    now: datetime,
    build: bool | None,
    most: int | None = None,
) -> FeedRead:
    """Parse a feed's answer (body, final URL, content type) and sort its items out
    (``seen``: the store, or None to look at every item); ``build`` (True or False:
    whether to make search tokens too) builds the candidates when no page is wanted
    (and, with ``most``, no more than that many items are new: the caller builds a
    longer list a part at a time). ``feed``: the URL asked and the answer's capture, for
    the candidates; the capture comes back packed (:func:`~newsmirror.store.evidence.packed`).
    One call for all of it, so that a worker does a source's work in one go. ParseError
    when the answer is not a feed."""
    url, capture = feed
    feed = (url, packed(capture) if capture is not None else None)
    parsed = parse_feed(*answer)
    entries = [
        e
        for e in sorted(_distinct(parsed.entries), key=decide.entry_order)
        if decide.keep_entry(source, e)
    ]
    fresh = _unseen(source, entries, now, seen) if seen is not None else entries
    links = [decide.entry_link(source, e) for e in fresh]
    wanted = [
        i
        for i, (e, link) in enumerate(zip(fresh, links, strict=True))
        if wants_page(source, e, link)
    ]
    read = FeedRead(
        fresh,
        links,
        wanted,
        len(entries) - len(fresh),
        parsed.ill_formed,
        parsed.trimmed,
        items=len(entries),
        capture=feed[1],
    )
    if build is not None and not wanted and (most is None or len(fresh) <= most):
        read.built = build_items(source, fresh, [None] * len(fresh), feed, now, build)
        read.fresh, read.links = [], []
    return read


def _distinct(entries: Sequence[Entry]) -> list[Entry]:
    """The entries, each item once. A feed that repeats an item (the same guid, or the
    same link without one) gives its first occurrence only: read both ways, the two would
    each be a new version of the article at every run. A guid the feed gives to items of
    different links identifies none of them: they are told apart by their links."""
    links: dict[str, set[str]] = {}
    for entry in entries:
        if entry.guid.strip():
            links.setdefault(entry.guid.strip(), set()).add(entry.link)
    shared = {guid for guid, found in links.items() if len(found) > 1}
    seen: set[str] = set()
    kept = []
    for entry in entries:
        if entry.guid.strip() in shared:
            entry = replace(entry, guid="")
        key = entry.guid.strip() or entry.link
        if key and key in seen:
            continue
        seen.add(key)
        kept.append(entry)
    return kept


def build_items(
    source: Source,
    entries: list[Entry],
    pages: list[PageResult | None],
    feed: tuple[str, Capture | None],
    now: datetime,
    tokenize: bool = False,
) -> Batch:
    """The candidates, notes and errors of these entries (each with its fetched page or
    None) from the feed (its URL and capture): the part of collecting that is all CPU,
    so that it can run in a worker process. ``tokenize``: make each candidate's search
    tokens too."""
    built = Batch(source, feed_url=feed[0], feed_capture=feed[1])
    for entry, page in zip(entries, pages, strict=True):
        try:
            content = choose(source, entry, built.feed_url, page)
            _add_entry(source, entry, content, now, built, tokenize)
        except NewsmirrorError as exc:  # one bad item never stops the rest
            built.notes.append(ItemNote(entry.guid, entry.title, "skipped", str(exc)))
    return built


def _unseen(source: Source, entries: list[Entry], now: datetime, seen: Remembers) -> list[Entry]:
    """The entries the store does not hold as the feed gives them now (same feed hash)."""
    keys = []
    for entry in entries:
        url = _store_url(entry, decide.entry_link(source, entry))
        keys.append((entry.guid, url, entry.title, decide.published_ms(entry, now)[0]))
    known = seen.seen_feed_hashes(source.slug, keys)
    return [e for e, k in zip(entries, known, strict=True) if not k or k != feed_hash(e)]


def feed_hash(entry: Entry) -> str:
    """Hash of an item's title and content as the feed gives them; for an item known by
    other URLs too (a FeedBurner item), of its link as well: the first time a feed gives
    the origLink of an article stored under its feedproxy link, the item is looked at
    again, and the store keeps the origLink as an alias."""
    text = entry.content or entry.summary
    return decide.content_hash(entry.title, f"{text}\x00{entry.link}" if entry.aliases else text)


def _add_entry(
    source: Source, entry: Entry, content: Content, now: datetime, batch: Batch, tokenize: bool
) -> None:
    html = content.html
    if not html.strip() and not entry.title.strip():
        batch.notes.append(ItemNote(entry.guid, entry.title, "skipped", "no title and no content"))
        return
    if content.published is not None and decide.published_ms(entry, now)[1]:
        entry = replace(entry, published=content.published)  # the page's date fills the gap
    cuts: list[str] = []
    candidate = make_candidate(
        source,
        entry,
        html,
        batch.feed_url,
        now,
        tokenize,
        cuts,
        method=content.method,
        content_url=content.content_url,
        method_note=content.note,
        feed_hash="" if content.stand_in else feed_hash(entry),  # a failed page: try again
        feed_capture=batch.feed_capture,
        page_capture=packed(content.capture) if content.capture is not None else None,
    )
    batch.candidates.append(candidate)
    caveats = list(entry.notes) + ([content.note] if content.note else [])
    caveats += cuts
    if content.deferred:
        batch.deferred_pages.append(content.deferred)
    elif content.failed:
        batch.unread_pages.append(f"{link_of(candidate)}: {content.note}")
    if not html.strip():
        caveats.append("no content: archived the headline alone")
    if candidate.date_missing:
        caveats.append(decide.filing_date(entry, now)[1])
    if caveats:
        batch.notes.append(ItemNote(entry.guid, entry.title, "archived", "; ".join(caveats)))


def link_of(candidate: Candidate) -> str:
    """The page a candidate points to (for messages)."""
    return candidate.link or candidate.url or candidate.guid


def _store_url(entry: Entry, link: str) -> str:
    return entry.link if link == entry.raw_link else canonical_url(link) if link else ""


def make_candidate(
    source: Source,
    entry: Entry,
    html: str,
    feed_url: str,
    now: datetime,
    tokenize: bool = False,
    cuts: list[str] | None = None,
    **provenance: Any,
) -> Candidate:
    """An entry ready for the store: link chosen, dated, cleaned, hashed; with
    ``tokenize``, its search tokens made too; what cleaning cut is added to ``cuts``.
    ``provenance``: the Candidate's fields on where the content came from (method,
    content_url, captures...)."""
    link = decide.entry_link(source, entry)
    url = _store_url(entry, link)
    published, missing = decide.published_ms(entry, now)
    clean = clean_html(html, link, boilerplate_patterns(source), cuts)
    return Candidate(
        source=source.slug,
        identity=decide.identity_of(entry.guid, url, entry.title, published),
        guid=entry.guid,
        url=url,
        link=link,
        title=entry.title,
        published_ms=published,
        date_missing=missing,
        raw_html=html,
        clean_html=clean,
        content_hash=decide.content_hash(entry.title, clean),
        feed_url=feed_url,
        post_id=decide.post_id(entry.guid) if source.id_scheme == "post" else None,
        aliases=tuple(alias for alias in entry.aliases if alias != url),
        index_tokens=document(entry.title, clean) if tokenize else None,
        **provenance,
    )
