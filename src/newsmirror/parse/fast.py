"""The fast path of parse: well-formed RSS 2.0/0.9x, RSS 1.0 and Atom 1.0 read with lxml.

feedparser is the reference for robustness, but it reads a full-text item of 12 KB at a
few hundred items a second; libxml2 reads thousands. :func:`parse_fast` takes only what
it can read exactly as the feedparser path would (same entries, same fields: the tests
compare both paths on every corpus feed) and returns None for anything else: a document
that is not well-formed, declares a DOCTYPE, has an HTTP charset that disagrees with its
own, uses ``xml:base``, an unknown root, or an element holding markup where text belongs.
The caller then takes the feedparser path.
"""

from __future__ import annotations

import calendar
import functools
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import etree

from newsmirror.parse.values import FEEDBURNER, item_links
from newsmirror.types import Enclosure, Entry, ParsedFeed
from newsmirror.urls import absolute

ATOM = "http://www.w3.org/2005/Atom"
RSS1 = "http://purl.org/rss/1.0/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_RSS_VERSIONS = {
    "2.0": "rss20",
    "0.91": "rss091u",
    "0.92": "rss092",
    "0.93": "rss093",
    "0.94": "rss094",
}
#: Child elements of an item the fast path understands; anything else is ignored.
_RSS_KNOWN = {
    "title",
    "link",
    "guid",
    "pubDate",
    "description",
    "category",
    "enclosure",
    "comments",
    "source",
    "author",
}


class _Unsure(Exception):
    """The fast path cannot promise feedparser's result for this document."""


def parse_fast(body: bytes, url: str, content_type: str = "") -> ParsedFeed | None:
    """Parse a plain, well-formed feed with lxml; None when feedparser must decide."""
    head = body[:2048]
    if b"<!DOCTYPE" in head or b"<!doctype" in head or b"xml:base" in body:
        return None
    if "charset=" in content_type.lower():
        return None  # HTTP charset rules (RFC 3023) are feedparser's business
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        recover=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.parse(io.BytesIO(body), parser).getroot()
        return _read(root, url)
    except (etree.LxmlError, ValueError, UnicodeError, _Unsure):
        return None


def _read(root: Any, url: str) -> ParsedFeed:
    parsed = _read_root(root, url)
    everywhere = root.xpath("count(//*[local-name()='item' or local-name()='entry'])")
    if int(everywhere) != len(parsed.entries):
        raise _Unsure  # items outside their usual place: feedparser finds those too
    return parsed


def _read_root(root: Any, url: str) -> ParsedFeed:
    tag = etree.QName(root)
    if tag.localname == "rss" and tag.namespace is None:
        version = _RSS_VERSIONS.get((root.get("version") or "").strip())
        channel = root.find("channel")
        if version is None or channel is None:
            raise _Unsure
        items = [_rss_entry(i, url, "") for i in channel.iterfind("item")]
        return ParsedFeed(
            _text(channel.find("title")), _text(channel.find("link")), tuple(items), version
        )
    if tag.localname == "RDF" and tag.namespace == RDF:
        channel = root.find(f"{{{RSS1}}}channel")
        items = [_rss_entry(i, url, RSS1) for i in root.iterfind(f"{{{RSS1}}}item")]
        if channel is None:
            raise _Unsure
        return ParsedFeed(
            _text(channel.find(f"{{{RSS1}}}title")),
            _text(channel.find(f"{{{RSS1}}}link")),
            tuple(items),
            "rss10",
        )
    if tag.localname == "feed" and tag.namespace == ATOM:
        items = [_atom_entry(e, url) for e in root.iterfind(f"{{{ATOM}}}entry")]
        return ParsedFeed(_text(root.find(f"{{{ATOM}}}title")), "", tuple(items), "atom10")
    raise _Unsure


def _text(element: Any) -> str:
    """The text of an element that holds only text (CDATA included); _Unsure otherwise."""
    if element is None:
        return ""
    if len(element):
        raise _Unsure
    return str(element.text or "")


def _date(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    quick = _strict_date(value)
    if quick is not None:
        return quick
    # Every other form, as feedparser reads it: a private function, which is why
    # pyproject.toml pins feedparser (tests/test_packaging.py checks it is there).
    from feedparser.datetimes import _parse_date

    parsed = _parse_date(value)
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _strict_date(value: str) -> datetime | None:
    """A strict RFC 822 or RFC 3339 date as an aware UTC datetime; None for anything else."""
    match = _RFC822.fullmatch(value)
    try:
        if match:
            day, month, year, hour, minute, second, zone = match.groups()
            offset = 0
            if zone[0] in "+-":
                offset = (int(zone[1:3]) * 60 + int(zone[3:5])) * (1 if zone[0] == "+" else -1)
            local = datetime(
                int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=UTC
            )
            return local - timedelta(minutes=offset)
        if _RFC3339.fullmatch(value):
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):
        return None  # out of range: let feedparser decide
    return None


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


SLASH = "http://purl.org/rss/1.0/modules/slash/"
WFW = "http://wellformedweb.org/CommentAPI/"
MEDIA = "http://search.yahoo.com/mrss/"
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
#: Elements of namespaces feedparser knows that never change the fields we take
#: (allowed only without children).
_HARMLESS = {
    (SLASH, "comments"),
    (WFW, "commentRss"),
    (MEDIA, "thumbnail"),
    (MEDIA, "content"),
    (DC, "language"),
    (DC, "identifier"),
    (ITUNES, "explicit"),
    (ITUNES, "duration"),
}
#: The strict RFC 822 and RFC 3339 dates nearly every feed uses; read here, where the
#: result is certain, and handed to feedparser's date parser otherwise.
_RFC822 = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct"
    r"|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (GMT|UTC|Z|[+-]\d{4})"
)
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}


@functools.cache
def _feedparser_namespaces() -> tuple[frozenset[str], frozenset[str]]:
    """Namespaces (lower-cased, as feedparser compares them) and prefixes it acts on."""
    import feedparser.mixin  # imported only when a feed has elements of other namespaces

    known = feedparser.mixin._FeedParserMixin.namespaces  # private: feedparser is pinned
    return frozenset(uri.lower() for uri in known), frozenset(p for p in known.values() if p)


def _rss_entry(item: Any, base: str, ns: str) -> Entry:
    """One RSS item; _Unsure on any element whose effect on feedparser we do not mirror."""
    fields: dict[str, str] = {}
    categories: list[str] = []
    authors: list[str] = []
    enclosures: list[Enclosure] = []
    own = ns or None
    for child in item:
        q = etree.QName(child)
        name = q.localname
        if q.namespace == own and name in _RSS_KNOWN:
            if name == "author":
                raise _Unsure  # "mail (name)" forms: feedparser's parsing decides
            if name == "category":
                categories.append(_text(child).strip())
            elif name == "enclosure":
                enclosures.append(
                    _enclosure(child.get("url"), child.get("type"), child.get("length"), base)
                )
            else:
                _put(fields, name, _text(child))
        elif q.namespace == CONTENT and name == "encoded":
            _put(fields, "content", _text(child))
        elif q.namespace == DC and name == "date":
            _put(fields, "dcdate", _text(child).strip())
        elif q.namespace == DC and name == "creator":
            authors.append(_plain_name(_text(child)))
        elif q.namespace == DC and name == "subject":
            categories.append(_text(child).strip())
        elif q.namespace == FEEDBURNER and name == "origLink":
            _put(fields, "origlink", _text(child))
        elif not _ignorable(child, q):
            raise _Unsure
    if ns == RSS1:
        fields.setdefault("guid", item.get(f"{{{RDF}}}about") or "")
    return _make_entry(fields, base, categories, authors, enclosures, atom=False)


def _ignorable(child: Any, q: Any) -> bool:
    """Whether feedparser leaves our fields alone for this element: a harmless element of a
    namespace it knows, or an element of a namespace (and prefix) it does not know."""
    if len(child):
        return False
    if (q.namespace, q.localname) in _HARMLESS:
        return True
    namespace = (q.namespace or "").lower()
    if not namespace:
        return False
    namespaces, prefixes = _feedparser_namespaces()
    return namespace not in namespaces and (child.prefix or "") not in prefixes


def _plain_name(value: str) -> str:
    """A dc:creator that is just a name; _Unsure for e-mail forms feedparser splits up."""
    if any(c in value for c in "@(<"):
        raise _Unsure
    return value.strip()


def _put(fields: dict[str, str], name: str, value: str) -> None:
    """Record a single-valued field; a repeated one is feedparser's call (it keeps the last)."""
    if name in fields:
        raise _Unsure
    fields[name] = value


def _enclosure(href: str | None, kind: str | None, length: str | None, base: str) -> Enclosure:
    link = absolute(href or "", base)
    if not link:
        raise _Unsure
    try:
        size = max(int((length or "0").strip()), 0)
    except ValueError:
        size = 0
    return Enclosure(url=link, type=kind or "", length=size)


def _make_entry(
    fields: dict[str, str],
    base: str,
    categories: list[str],
    authors: list[str],
    enclosures: list[Enclosure],
    atom: bool,
) -> Entry:
    guid = fields.get("guid", "").strip()
    link = fields.get("link")
    if link is None and guid and not atom:
        raise _Unsure  # feedparser may take a permalink guid as the link
    raw_link, canonical, aliases = item_links(link or "", fields.get("origlink", ""), base)
    content = fields.get("content", "")
    summary = fields.get("description", "")
    updated = _date(fields.get("updated", fields.get("dcdate", "")))
    published = _date(fields.get("pubDate", fields.get("published", "")))
    return Entry(
        guid=guid,
        link=canonical,
        raw_link=raw_link,
        title=fields.get("title", ""),
        published=published or (None if atom else updated),
        updated=updated,
        content=content or summary,
        summary=summary if content else "",
        authors=_unique(authors),
        categories=_unique(categories),
        enclosures=tuple(enclosures),
        aliases=aliases,
    )


def _atom_entry(entry: Any, base: str) -> Entry:
    """One Atom 1.0 entry; _Unsure on anything beyond the plain elements."""
    fields: dict[str, str] = {}
    categories: list[str] = []
    authors: list[str] = []
    enclosures: list[Enclosure] = []
    for child in entry:
        q = etree.QName(child)
        name = q.localname
        if q.namespace == FEEDBURNER and name == "origLink":
            _put(fields, "origlink", _text(child))
            continue
        if q.namespace != ATOM:
            if _ignorable(child, q):
                continue
            raise _Unsure
        if name in ("title", "summary", "content"):
            if child.get("type") == "xhtml" or child.get("src") is not None:
                raise _Unsure
            _put(fields, "description" if name == "summary" else name, _text(child))
        elif name == "link":
            rel = child.get("rel", "alternate")
            if rel == "alternate":
                _put(fields, "link", child.get("href") or "")
            elif rel == "enclosure":
                enclosures.append(
                    _enclosure(child.get("href"), child.get("type"), child.get("length"), base)
                )
        elif name in ("id", "published", "updated"):
            _put(fields, "guid" if name == "id" else name, _text(child))
        elif name == "category":
            categories.append((child.get("term") or "").strip())
        elif name == "author":
            authors.append(_atom_person(child))
        else:
            raise _Unsure
    if "link" not in fields:
        raise _Unsure  # feedparser may take the id as the link
    return _make_entry(fields, base, categories, authors, enclosures, atom=True)


def _atom_person(element: Any) -> str:
    """An Atom author's name, else e-mail (as feedparser's authors list gives them)."""
    parts = {etree.QName(c).localname: _text(c).strip() for c in element}
    if set(parts) - {"name", "email", "uri"} or (element.text or "").strip():
        raise _Unsure
    return parts.get("name") or parts.get("email") or ""
