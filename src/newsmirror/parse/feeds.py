"""Feed bytes → :class:`~newsmirror.types.ParsedFeed` (RSS 0.9x/1.0/2.0, Atom, JSON Feed).

1. Refused with ParseError up front: an empty body, binary junk. A document of more than
   :data:`MAX_MARKUP` tags (feedparser's Python handlers would take minutes over them) is
   cut to its newest items that fit (:mod:`newsmirror.parse.trim`), and any document to
   its :data:`MAX_ITEMS` newest items; ``ParsedFeed.trimmed`` says so.
2. A body that is not UTF-8 and declares no other encoding is decoded as GB18030 (Big5 when
   GB18030 yields private-use characters) and re-encoded as UTF-8: a documented guess for
   Chinese feeds, which feedparser alone would read as windows-1252.
3. JSON Feed is read with :mod:`json`; XML goes to feedparser as a stream (given ``bytes``
   it may take them for a file name and open it).
4. npm ``rss-parser`` fidelity: feedparser strips white space and maps C1 controls to cp1252,
   so title, link, guid, content, description and a FeedBurner item's origLink are re-read
   verbatim with lxml; where
   lxml cannot, or an element holds markup rather than text, feedparser's value is kept.

External entities are never fetched (feedparser turns them off; lxml runs without entity
resolution, network or DTD) and expat and libxml2 bound entity expansion: documents that
declare entities are read (tested), not refused.
"""

from __future__ import annotations

import calendar
import io
import re
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from xml.sax import SAXParseException

from lxml import etree

from newsmirror.errors import ParseError
from newsmirror.fetch.charsets import charset_of, decode_xml, to_utf8_xml
from newsmirror.limits import admitted
from newsmirror.parse.fast import parse_fast
from newsmirror.parse.jsonfeed import parse_json
from newsmirror.parse.trim import trim
from newsmirror.parse.values import FEEDBURNER, enclosures, item_links, unique
from newsmirror.types import Entry, ParsedFeed
from newsmirror.urls import canonical_url, whatwg_href

__all__ = [
    "MAX_ITEMS",
    "MAX_MARKUP",
    "canonical_url",
    "normalise_charset",
    "parse_feed",
    "parse_slow",
    "whatwg_href",
]

#: The most tags outside CDATA a document may have; feedparser reads 8-17k tags/s.
MAX_MARKUP = 100_000
#: The most items taken from one feed document: its newest (document order for items
#: without a date). Each is cleaned and stored: a run must end.
MAX_ITEMS = 10_000

_CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
_ATOM_NS = frozenset({"http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#"})
_CONTAINERS = frozenset({"channel", "RDF", "rss", "feed"})
_RSS_FIELDS = {"title": "title", "link": "link", "guid": "guid", "description": "description"}
_ATOM_FIELDS = {"title": "title", "link": "link", "id": "guid", "content": "content"}
_ATOM_FIELDS["summary"] = "description"
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_XML_HINTS = (b"<?xml", b"<rss", b"<feed", b"<rdf:RDF")
_LATIN = frozenset({"iso-8859-1", "latin-1", "windows-1252", "cp1252", "us-ascii", "ascii"})
_DECLARED = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)", re.I)
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def parse_feed(body: bytes, url: str, content_type: str = "") -> ParsedFeed:
    """Parse one feed document fetched from ``url``; ParseError when it is not a feed.
    Each entry is within the limits of :func:`newsmirror.limits.admitted` (sizes of its
    short fields, no control characters, only an http(s) link)."""
    parsed = _parse(body, url, content_type)
    entries = tuple(admitted(e) for e in parsed.entries)
    if any(a is not e for a, e in zip(entries, parsed.entries, strict=True)):
        return replace(parsed, entries=entries)
    return parsed


def _parse(body: bytes, url: str, content_type: str) -> ParsedFeed:
    head = _head(body)
    if not head:
        raise ParseError(f"{url}: empty body, not a feed")
    if head.startswith(b"{"):
        return at_most(parse_json(body, url), MAX_ITEMS)
    if not head.startswith(b"<") and not any(h in body[:1024] for h in _XML_HINTS):
        text = body[:24].decode("utf-8", "replace")
        start = " ".join("".join(c if c.isprintable() else " " for c in text).split())
        raise ParseError(f"{url}: not XML or JSON (the body starts with “{start}”)")
    tags = _markup_count(body)
    body, note = normalise_charset(body, content_type)
    trimmed = ""
    if tags > MAX_MARKUP:
        cut = trim(body, MAX_MARKUP, MAX_ITEMS)
        if cut is None:
            raise ParseError(f"{url}: {tags} tags, more than the {MAX_MARKUP} accepted; refused")
        body, kept, total, dated = cut
        trimmed = took(kept, total, dated)
    content_type = "application/xml"  # the body is UTF-8 now, as its declaration says
    parsed = parse_fast(body, url, content_type)
    if parsed is not None:
        parsed = parsed if not note else replace(parsed, warnings=(note,))
    else:
        parsed = _parse_xml(body, url, content_type, [note] if note else [])
    return at_most(replace(parsed, trimmed=trimmed) if trimmed else parsed, MAX_ITEMS)


def took(kept: int, total: int, dated: bool) -> str:
    """What was taken of a document of too many items, in words."""
    which = f"the {kept} newest" if dated else f"the first {kept}"
    return (
        f"took {which} of {total} items (one feed document gives at most {MAX_ITEMS} items "
        f"and {MAX_MARKUP} tags); the others are not archived"
    )


def at_most(parsed: ParsedFeed, limit: int) -> ParsedFeed:
    """The feed with its ``limit`` newest entries at most (by publication, else update
    date; entries without a date after those with one, in document order), kept in
    document order."""
    entries = parsed.entries
    if len(entries) <= limit:
        return parsed

    def newest_first(position: int) -> tuple[bool, float, int]:
        when = entries[position].published or entries[position].updated
        return (when is None, -when.timestamp() if when else 0.0, position)

    chosen = sorted(sorted(range(len(entries)), key=newest_first)[:limit])
    dated = any(e.published or e.updated for e in entries)
    kept = tuple(entries[i] for i in chosen)
    return replace(parsed, entries=kept, trimmed=took(limit, len(entries), dated))


def parse_slow(body: bytes, url: str, content_type: str = "") -> ParsedFeed:
    """The feedparser path alone (what :func:`parse_feed` does when the fast path declines,
    before the limits); for tests that compare both paths."""
    body, note = normalise_charset(body, content_type)
    return _parse_xml(body, url, "application/xml", [note] if note else [])


def _head(body: bytes) -> bytes:
    """The first bytes of the body without NULs (UTF-16/32), BOMs and leading blanks."""
    head = body[:4096].replace(b"\x00", b"")
    for bom in _BOMS:
        head = head.removeprefix(bom)
    return head.lstrip()


def _markup_count(body: bytes) -> int:
    """How many ``<`` the body has outside CDATA sections (an upper bound of its tags)."""
    total = body.count(b"<")
    start = body.find(b"<![CDATA[") if total > MAX_MARKUP else -1
    while start >= 0:  # not a regex: it would read on from each unclosed section again
        end = body.find(b"]]>", start + 9)
        if end < 0:
            break
        total -= body.count(b"<", start, end + 3)
        start = body.find(b"<![CDATA[", end + 3)
    return total


def _is_utf8(body: bytes) -> bool:
    """True when the body is valid UTF-8."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _utf8_prefix(body: bytes) -> tuple[bytes, bool]:
    """The body, and whether it is valid UTF-8, read once; a UTF-8 character cut at its
    very end (a body cut off in transit) is dropped, as the whole document would be taken
    for another charset with it."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.end == len(body):
            return body[: exc.start], True
        return body, False
    return body, True


def normalise_charset(body: bytes, content_type: str) -> tuple[bytes, str]:
    """The document as UTF-8 (declaration rewritten), decoded by BOM, HTTP charset, XML
    declaration or detection (see :mod:`newsmirror.fetch.charsets`), with a note when the
    declared charset was missing or wrong."""
    body, utf8 = _utf8_prefix(body)
    if utf8 and not body.startswith(_BOMS) and b"\x00" not in body[:1024]:
        declared = _DECLARED.match(body[:1024])
        http = charset_of(content_type).lower()
        if (declared is None or declared.group(1).lower() in (b"utf-8", b"utf8")) and (
            http in ("", "utf-8", "utf8")
        ):
            return body, ""  # the common case, left byte for byte
    _, how = decode_xml(body, content_type)
    converted = to_utf8_xml(body, content_type)
    if how.startswith(("detected:", "fallback:")):
        return converted, f"charset missing or wrong: decoded as {how.split(':', 1)[1]}"
    return converted, ""


def _parse_xml(body: bytes, url: str, content_type: str, warnings: list[str]) -> ParsedFeed:
    """Parse RSS/Atom with feedparser, then re-read the text fields verbatim."""
    doc = _feedparser(body, url, content_type)
    version = str(doc.get("version") or "")
    fault = ""
    if doc.get("bozo"):
        error = doc.get("bozo_exception")
        fault = f"{type(error).__name__}: {error}" if error else "ill-formed document"
        warnings.append(fault)
    if not doc.entries and not version:
        html_page = re.search(rb"<html[\s>]|<!doctype html", body[:4096], re.I)
        why = "an HTML page" if html_page else (warnings or ["no RSS or Atom root element"])[-1]
        raise ParseError(f"{url}: not a feed ({why})")
    if not version:
        warnings.append("unknown feed format; entries read anyway")
    entries = list(doc.entries)
    ill_formed = fault if isinstance(doc.get("bozo_exception"), SAXParseException) else ""
    if ill_formed:  # a document cut off in transit: its last item may be a fragment
        entries = entries[: len(_CLOSED_ITEM.findall(body))]
    raws = _raw_items(body, str(doc.get("encoding") or ""), partial=bool(ill_formed))
    if raws is None or len(raws) != len(entries):
        if entries:
            warnings.append("verbatim re-read failed: texts as feedparser gives them")
        raws = [{} for _ in entries]
    atom, feed = version.startswith("atom"), doc.get("feed", {})
    return ParsedFeed(
        title=str(feed.get("title", "")),
        link=str(feed.get("link", "")),
        entries=tuple(_entry(e, r, url, atom) for e, r in zip(entries, raws, strict=True)),
        version=version,
        warnings=tuple(warnings),
        ill_formed=ill_formed,
    )


def _feedparser(body: bytes, url: str, content_type: str) -> Any:
    """feedparser's result for the body; any exception it raises becomes a ParseError."""
    import feedparser  # the slow path only: most feeds never need it imported

    # with no content type feedparser assumes ISO-8859-1; application/xml means as declared
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    try:
        return feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # feedparser has no exception tree of its own
        raise ParseError(f"{url}: feedparser failed: {exc!r}") from exc


#: Verbatim texts of one item by field (title, link, guid, content, description); a field
#: is missing when the item lacks it or holds markup there rather than text.
_Raw = dict[str, str]


#: The end of an item or entry (any namespace prefix): an item a cut-off document holds
#: whole.
_CLOSED_ITEM = re.compile(rb"</(?:[\w.-]+:)?(?:item|entry)\s*>")


def _raw_items(body: bytes, encoding: str, partial: bool = False) -> list[_Raw] | None:
    """Every item's verbatim texts, read with lxml; None when it cannot read the document
    (``partial``: the items read whole before the fault of one that is not well-formed)."""
    encoding = encoding.lower().replace("_", "-")
    if encoding in _LATIN and _is_utf8(body):
        encoding = "utf-8"  # feedparser re-decodes such text as UTF-8 too
    if encoding not in ("utf-8", "utf8"):
        try:
            body = body.decode(encoding).encode("utf-8")
        except (LookupError, UnicodeError):  # also "" when feedparser found no encoding
            return None
    items: list[_Raw] = []
    events = etree.iterparse(
        io.BytesIO(body),
        events=("end",),
        tag=("{*}item", "{*}entry"),
        encoding="utf-8",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    try:
        for _, element in events:
            parent = element.getparent()
            if parent is not None and etree.QName(parent).localname in _CONTAINERS:
                items.append(_read_item(element))
                element.clear(keep_tail=True)  # keep memory flat on huge feeds
                while element.getprevious() is not None:
                    del parent[0]
    except (etree.LxmlError, ValueError, UnicodeError):
        return items if partial else None
    return items


def _read_item(item: Any) -> _Raw:
    """The verbatim title, link, guid, content and description of one item element."""
    own = etree.QName(item).namespace or ""
    atom = own in _ATOM_NS
    fields = _ATOM_FIELDS if atom else _RSS_FIELDS
    found: dict[str, str | None] = {}
    for child in item:
        if not isinstance(child.tag, str):
            continue  # a comment or a processing instruction
        qname = etree.QName(child)
        ns, name = qname.namespace or "", fields.get(qname.localname, "")
        if ns == _CONTENT_NS and qname.localname == "encoded":
            name = "content"
        elif ns == FEEDBURNER and qname.localname == "origLink":
            name = "origlink"
        elif ns != own or not name or (atom and not _usable(child, name)):
            continue
        if name not in found:
            found[name] = child.get("href") if atom and name == "link" else _text(child)
    return {name: text for name, text in found.items() if text is not None}


def _usable(element: Any, name: str) -> bool:
    """Whether an Atom element can be read verbatim: alternate links, inline content."""
    if name == "link":
        return element.get("rel", "alternate") == "alternate" and element.get("href") is not None
    if name == "content":
        return element.get("src") is None and element.get("mode") != "base64"
    return True


def _text(element: Any) -> str | None:
    """The element's text (CDATA included) when it has no child nodes, else None."""
    return None if len(element) else str(element.text or "")


def _entry(item: Any, raw: _Raw, base: str, atom: bool) -> Entry:
    """One feedparser entry, with the verbatim texts of ``raw`` where lxml had them.

    In RSS, feedparser files ``dc:date`` (RSS 1.0's only date) under ``updated``; it counts
    as the publication date there. An Atom entry without ``published`` gets None.
    """
    fp_content = str(item["content"][0].get("value", "")) if item.get("content") else ""
    fp_summary = str(item.get("summary", ""))
    if fp_summary == fp_content:
        fp_summary = ""  # feedparser copies content into summary when there is none
    content = raw.get("content", fp_content)
    summary = raw.get("description", fp_summary)
    raw_link, link, aliases = item_links(
        raw.get("link", str(item.get("link", ""))),
        raw.get("origlink", str(item.get("feedburner_origlink", ""))),
        base,
    )
    updated = _date(dict.get(item, "updated_parsed"))  # .get would fall back to published
    people = item.get("authors") or [{"name": item.get("author", "")}]
    return Entry(
        guid=raw.get("guid", str(item.get("id", ""))).strip(),
        link=link,
        raw_link=raw_link,
        title=raw.get("title", str(item.get("title", ""))),
        published=_date(item.get("published_parsed")) or (None if atom else updated),
        updated=updated,
        content=content or summary,
        summary=summary if content else "",
        authors=unique(str(p.get("name") or p.get("email") or "") for p in people),
        categories=unique(str(t.get("term") or "") for t in item.get("tags") or []),
        enclosures=enclosures(item.get("enclosures") or [], base),
        aliases=aliases,
    )


def _date(value: object) -> datetime | None:
    """A feedparser UTC struct_time as an aware datetime; None when absent or absurd."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None
