"""Feed bytes → :class:`~newsmirror.types.ParsedFeed` (RSS 0.9x/1.0/2.0, Atom, JSON Feed).

1. Pre-checks refuse what cannot be a feed with :class:`~newsmirror.errors.ParseError`:
   an empty body, binary junk, more than :data:`MAX_MARKUP` tags (feedparser's pure-Python
   handlers would take minutes over a 50 MB tag soup).
2. Undeclared Chinese: a body that is not UTF-8 and declares no other encoding (no BOM, no
   HTTP charset, no XML ``encoding`` but ``utf-8``) is decoded as GB18030, or as Big5 when
   GB18030 yields private-use characters, and re-encoded as UTF-8 (a documented guess:
   feedparser alone would decode it as windows-1252).
3. JSON Feed 1.0/1.1 is read with :mod:`json`; XML goes to feedparser as a byte stream
   (a plain ``bytes`` argument could be taken for a file name and opened).
4. Fidelity with npm ``rss-parser``: feedparser strips white space, re-decodes text it
   believes mis-encoded and maps C1 controls to cp1252, so title, link, guid, content and
   description are re-read verbatim with lxml (text and CDATA exactly as in the document).
   Where lxml cannot read the document, or an element holds markup rather than text,
   feedparser's value is used and a warning says so.

External entities are never fetched (feedparser turns them off; lxml runs with
``resolve_entities=False``, no network, no DTD) and entity expansion is bounded by expat and
libxml2, so documents declaring entities are read (tested), not refused.
"""

from __future__ import annotations

import calendar
import html
import io
import json
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

import ada_url
import feedparser
from lxml import etree

from newsmirror.errors import ParseError
from newsmirror.types import Enclosure, Entry, ParsedFeed

#: Query parameters that only track clicks; :func:`canonical_url` removes them.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "twclid", "igshid", "spm"}
    | {"mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok"}
    | {"at_medium", "at_campaign", "maca"}  # AT Internet on BBC links; DW's campaign code
)
#: Name prefixes that only track: Google Analytics, comScore (BBC ``ns_mchannel``...).
TRACKING_PREFIXES = ("utm_", "ns_")
#: ``name=value`` pairs (case-insensitive) that only track: NYT's ``from=RSS``.
TRACKING_PAIRS = frozenset({"from=rss"})
#: The most tags outside CDATA a document may have; feedparser reads 8-17k tags/s.
MAX_MARKUP = 100_000

_JSONFEED = "https://jsonfeed.org/version/"
_CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
_ATOM_NS = frozenset({"http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#"})
_CONTAINERS = frozenset({"channel", "RDF", "rss", "feed"})
_RSS_FIELDS = {"title": "title", "link": "link", "guid": "guid", "description": "description"}
_ATOM_FIELDS = {"title": "title", "link": "link", "id": "guid", "content": "content"}
_ATOM_FIELDS["summary"] = "description"
_URL_BLANKS = "".join(map(chr, range(0x21)))  # what WHATWG strips around a URL
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_XML_HINTS = (b"<?xml", b"<rss", b"<feed", b"<rdf:RDF")
_LATIN = frozenset({"iso-8859-1", "latin-1", "windows-1252", "cp1252", "us-ascii", "ascii"})
_CDATA = re.compile(rb"<!\[CDATA\[.*?\]\]>", re.DOTALL)
_DECLARED = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)", re.I)
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def parse_feed(body: bytes, url: str, content_type: str = "") -> ParsedFeed:
    """Parse one feed document fetched from ``url``; ParseError when it is not a feed."""
    head = _head(body)
    if not head:
        raise ParseError(f"{url}: empty body, not a feed")
    if head.startswith(b"{"):
        return _parse_json(body, url)
    if not head.startswith(b"<") and not any(h in body[:1024] for h in _XML_HINTS):
        raise ParseError(f"{url}: not XML or JSON (the body starts with {body[:16]!r})")
    tags = _markup_count(body)
    if tags > MAX_MARKUP:
        raise ParseError(f"{url}: {tags} tags, more than the {MAX_MARKUP} accepted; refused")
    body, note = _guess_chinese(body, content_type)
    return _parse_xml(body, url, content_type, [note] if note else [])


def canonical_url(url: str, base: str = "") -> str:
    """Absolute http(s) URL without fragment and tracking parameters, WHATWG-serialised.

    Relative URLs are resolved against ``base`` as ``new URL(url, base)`` does; other
    parameters keep their order and bytes. "" for an empty, invalid or non-http(s) URL.
    Idempotent: ``canonical_url(canonical_url(u)) == canonical_url(u)``.
    """
    parsed = _whatwg(url, base)
    if parsed is None or parsed.protocol not in ("http:", "https:"):
        return ""
    parsed.hash = ""
    pieces = parsed.search[1:].split("&")
    kept = [p for p in pieces if not _is_tracking(p)]
    if kept != pieces or kept == [""]:  # "?" leads, as the setter drops one leading "?"
        parsed.search = "?" + "&".join(kept) if any(kept) else ""
    return str(parsed.href)


def whatwg_href(url: str) -> str:
    """What Node.js ``new URL(url).href`` gives; ParseError where Node would throw."""
    try:
        return str(ada_url.URL(url).href)
    except ValueError as exc:
        raise ParseError(f"invalid URL: {url!r}") from exc


def _whatwg(url: str, base: str) -> ada_url.URL | None:
    """Parse ``url`` (against ``base`` when relative) the WHATWG way; None when invalid."""
    url = url.strip(_URL_BLANKS)
    if not url:
        return None
    for args in ((url, base), (url,)) if base else ((url,),):  # a bad base: try url alone
        try:
            return ada_url.URL(*args)
        except ValueError:
            continue
    return None


def _is_tracking(param: str) -> bool:
    """True when one ``name=value`` piece of a query string is a tracking parameter."""
    raw_name, _, raw_value = param.partition("=")
    name = unquote_plus(raw_name).lower()
    pair = f"{name}={unquote_plus(raw_value).lower()}"
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES) or pair in TRACKING_PAIRS


def _absolute(link: str, base: str) -> str:
    """``link`` as given when absolute, else resolved against ``base``; "" when unusable."""
    link = link.strip(_URL_BLANKS)
    if not link or ada_url.check_url(link):
        return link
    parsed = _whatwg(link, base)
    return str(parsed.href) if parsed is not None else ""


def _head(body: bytes) -> bytes:
    """The first bytes of the body without NULs (UTF-16/32), BOMs and leading blanks."""
    head = body[:4096].replace(b"\x00", b"")
    for bom in _BOMS:
        head = head.removeprefix(bom)
    return head.lstrip()


def _markup_count(body: bytes) -> int:
    """How many ``<`` the body has outside CDATA sections (an upper bound of its tags)."""
    total = body.count(b"<")
    if total > MAX_MARKUP:
        for match in _CDATA.finditer(body):
            total -= body.count(b"<", match.start(), match.end())
    return total


def _is_utf8(body: bytes) -> bool:
    """True when the body is valid UTF-8."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _guess_chinese(body: bytes, content_type: str) -> tuple[bytes, str]:
    """Re-encode an undeclared, non-UTF-8 body as UTF-8 via GB18030 or Big5; with a note."""
    declared = _DECLARED.match(body[:1024])
    if (
        body.startswith(_BOMS)
        or b"\x00" in body[:1024]
        or "charset=" in content_type.lower()
        or (declared is not None and declared.group(1).lower() not in (b"utf-8", b"utf8"))
        or _is_utf8(body)
    ):
        return body, ""
    best: tuple[str, str] | None = None
    for codec in ("gb18030", "big5"):
        try:
            text = body.decode(codec)
        except UnicodeDecodeError:
            continue
        clean = not _PRIVATE_USE.search(text)  # Big5 read as GB18030 gives private use
        if best is None or clean:
            best = (text, codec)
        if clean:
            break
    if best is None:
        return body, ""
    text, codec = best
    return text.encode("utf-8"), f"not UTF-8 and no encoding declared: decoded as {codec}"


def _parse_xml(body: bytes, url: str, content_type: str, warnings: list[str]) -> ParsedFeed:
    """Parse RSS/Atom with feedparser, then re-read the text fields verbatim."""
    doc = _feedparser(body, url, content_type)
    version = str(doc.get("version") or "")
    if doc.get("bozo"):
        error = doc.get("bozo_exception")
        warnings.append(f"{type(error).__name__}: {error}" if error else "ill-formed document")
    if not doc.entries and not version:
        html_page = re.search(rb"<html[\s>]|<!doctype html", body[:4096], re.I)
        why = "an HTML page" if html_page else (warnings or ["no RSS or Atom root element"])[-1]
        raise ParseError(f"{url}: not a feed ({why})")
    if not version:
        warnings.append("unknown feed format; entries read anyway")
    raws = _raw_items(body, str(doc.get("encoding") or ""))
    if raws is None or len(raws) != len(doc.entries):
        if doc.entries:
            warnings.append("verbatim re-read failed: texts as feedparser gives them")
        raws = [{} for _ in doc.entries]
    atom, feed = version.startswith("atom"), doc.get("feed", {})
    return ParsedFeed(
        title=str(feed.get("title", "")),
        link=str(feed.get("link", "")),
        entries=tuple(_entry(e, r, url, atom) for e, r in zip(doc.entries, raws, strict=True)),
        version=version,
        warnings=tuple(warnings),
    )


def _feedparser(body: bytes, url: str, content_type: str) -> Any:
    """feedparser's result for the body; any exception it raises becomes a ParseError."""
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


def _raw_items(body: bytes, encoding: str) -> list[_Raw] | None:
    """Every item's verbatim texts, read with lxml; None when it cannot read the document."""
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
        return None
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
    raw_link = _absolute(raw.get("link", str(item.get("link", ""))), base)
    updated = _date(dict.get(item, "updated_parsed"))  # .get would fall back to published
    people = item.get("authors") or [{"name": item.get("author", "")}]
    return Entry(
        guid=raw.get("guid", str(item.get("id", ""))).strip(),
        link=canonical_url(raw_link),
        raw_link=raw_link,
        title=raw.get("title", str(item.get("title", ""))),
        published=_date(item.get("published_parsed")) or (None if atom else updated),
        updated=updated,
        content=content or summary,
        summary=summary if content else "",
        authors=_unique(str(p.get("name") or p.get("email") or "") for p in people),
        categories=_unique(str(t.get("term") or "") for t in item.get("tags") or []),
        enclosures=_enclosures(item.get("enclosures") or [], base),
    )


def _date(value: object) -> datetime | None:
    """A feedparser UTC struct_time as an aware datetime; None when absent or absurd."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _unique(values: Any) -> tuple[str, ...]:
    """Stripped non-empty strings in first-seen order, without repeats."""
    return tuple(dict.fromkeys(v.strip() for v in values if v.strip()))


def _enclosures(items: list[Any], base: str) -> tuple[Enclosure, ...]:
    """Enclosures (feedparser dicts or JSON Feed attachments) with absolute URLs."""
    result = []
    for item in items:
        if not isinstance(item, dict):
            continue
        href = _absolute(_str(item.get("href") or item.get("url")), base)
        if href:
            size = _str(item.get("length") or item.get("size_in_bytes")).strip()
            kind = _str(item.get("type") or item.get("mime_type"))
            result.append(Enclosure(href, kind, int(size) if size.isdigit() else 0))
    return tuple(result)


def _parse_json(body: bytes, url: str) -> ParsedFeed:
    """Parse a JSON Feed 1.0/1.1 document."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ParseError(f"{url}: invalid JSON: {exc}") from exc
    version = (
        _str(doc.get("version")).replace("http:", "https:", 1) if isinstance(doc, dict) else ""
    )
    if not version.startswith(_JSONFEED):
        raise ParseError(f"{url}: JSON but not a JSON Feed (no jsonfeed.org version)")
    items = doc.get("items")
    if not isinstance(items, list):
        raise ParseError(f"{url}: JSON Feed without an items list")
    entries = tuple(_json_entry(item, url) for item in items if isinstance(item, dict))
    skipped = len(items) - len(entries)
    tag = version.removeprefix(_JSONFEED).replace(".", "")
    return ParsedFeed(
        title=_str(doc.get("title")),
        link=_str(doc.get("home_page_url")),
        entries=entries,
        version="json10" if tag == "1" else f"json{tag}",
        warnings=(f"{skipped} JSON Feed items were not objects; skipped",) if skipped else (),
    )


def _json_entry(item: dict[str, Any], base: str) -> Entry:
    """One JSON Feed item; content_text is HTML-escaped when there is no content_html."""
    text = _str(item.get("content_text"))
    content = _str(item.get("content_html")) or html.escape(text, quote=False)
    summary = _str(item.get("summary"))
    raw_link = _absolute(_str(item.get("url")) or _str(item.get("external_url")), base)
    people = item.get("authors") or [item.get("author")]
    tags, attachments = item.get("tags"), item.get("attachments")
    return Entry(
        guid=_str(item.get("id")),
        link=canonical_url(raw_link),
        raw_link=raw_link,
        title=_str(item.get("title")),
        published=_iso_date(item.get("date_published")),
        updated=_iso_date(item.get("date_modified")),
        content=content or summary,
        summary=summary if content else "",
        authors=_unique(_str(p.get("name")) for p in people if isinstance(p, dict))
        if isinstance(people, list)
        else (),
        categories=_unique(_str(t) for t in tags) if isinstance(tags, list) else (),
        enclosures=_enclosures(attachments if isinstance(attachments, list) else [], base),
    )


def _str(value: object) -> str:
    """A string, or a number as text; "" for anything else."""
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else ""


def _iso_date(value: object) -> datetime | None:
    """An RFC 3339 date as an aware UTC datetime (a naive one is taken as UTC); else None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
