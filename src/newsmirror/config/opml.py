"""Sources in and out as OPML 2.0, the format every feed reader speaks.

Export writes one ``<outline type="rss">`` per feed URL, in each source's order, with the
source's slug in a ``newsmirror:slug`` attribute so a round trip keeps fallbacks together.
Import reads any OPML (nested folders included): outlines with an ``xmlUrl`` become
sources, grouped by ``newsmirror:slug`` when present (a feed reader's outlines are a
source each, whatever their titles), and new ones are appended to ``newsmirror.toml`` as
``[sources.<slug>]`` tables; feeds already known are left alone, a feed listed twice is
taken once (URLs compared with scheme and host case, and a default port, ignored), and
an outline whose feed URL is unusable is named in ``skipped``. Settings other than the
feeds (``enabled``, ``full_text``, proxies) are not in OPML: imported sources take the
defaults.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from lxml import etree

from newsmirror.errors import ConfigError
from newsmirror.limits import NAME_BYTES, SLUG, file_name, without_controls
from newsmirror.types import Source

NS = "https://newsmirror.invalid/opml"
SLUG_LENGTH = 40  # what limits.SLUG accepts
_DEVICE = re.compile(r"(?i)(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?")  # Windows' own names


@dataclass(frozen=True)
class OutlineSource:
    """A source read from OPML."""

    slug: str  # derived, or as exported
    name: str  # the outline's text or title
    feeds: tuple[str, ...]  # feed URLs in document order


@dataclass(frozen=True)
class OpmlRead:
    """What an OPML document gives: its sources, and the outlines left out (why)."""

    sources: list[OutlineSource]
    skipped: list[str]


def export_opml(sources: tuple[Source, ...], title: str = "newsmirror sources") -> str:
    """The sources as an OPML 2.0 document."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<opml version="2.0" xmlns:newsmirror="{NS}">',
        f"  <head><title>{_text(title)}</title></head>",
        "  <body>",
    ]
    for source in sources:
        for url in source.feeds:
            lines.append(
                f'    <outline type="rss" text={quoteattr(source.name)} '
                f"title={quoteattr(source.name)} xmlUrl={quoteattr(url)} "
                f"newsmirror:slug={quoteattr(source.slug)}/>"
            )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def read_opml(data: bytes, where: str = "OPML") -> OpmlRead:
    """Sources of an OPML document; ConfigError when it is not OPML."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ConfigError(f"{where}: not valid XML: {exc}") from exc
    if etree.QName(root).localname != "opml":
        raise ConfigError(f"{where}: the root element is not <opml>")
    groups: dict[str, tuple[str, str, list[str]]] = {}  # key → slug, name, feeds
    seen: set[str] = set()
    skipped = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        label = (outline.get("text") or outline.get("title") or "").strip()
        if not url.lower().startswith(("http://", "https://")):
            if url or outline.get("type", "").lower() in ("rss", "atom"):
                skipped.append(f"{label or '(untitled)'}: no http(s) feed URL ({url or 'none'})")
            continue
        if feed_key(url) in seen:
            skipped.append(f"{label or url}: {url} is listed twice; taken once")
            continue
        seen.add(feed_key(url))
        name = _file_safe(label) or urlsplit(url).hostname or "feed"
        slug = outline.get(f"{{{NS}}}slug")
        if slug and not SLUG.match(slug):
            slug = None  # not one newsmirror wrote: one is made from the name
        key = f"slug:{slug}" if slug else f"url:{url}"  # a reader's outline: a source each
        groups.setdefault(key, (slug or slug_for(name, url), name, []))[2].append(url)
    sources = [OutlineSource(slug, name, tuple(feeds)) for slug, name, feeds in groups.values()]
    return OpmlRead(sources, skipped)


def feed_key(url: str) -> str:
    """A feed URL as compared for duplicates: scheme and host in lower case, a default
    port left out (the path and query as they are)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    host = parts.hostname or ""
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    netloc = host if port in (None, default) else f"{host}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{netloc}{parts.path or '/'}{query}"


def _file_safe(name: str) -> str:
    """A name as a source's list file may be named after it: no path separators or
    characters a Windows checkout refuses (\\ / : * ? " < > |), no control characters,
    no dot or space at its ends, not a name Windows keeps for devices ("CON"...), and at
    most NAME_BYTES bytes (cut at a character: a 5,000 character title is no file name)."""
    name = " ".join(re.sub(r'[\\/:*?"<>|\x00-\x1f\x7f]+', " ", name).split())
    name = file_name(without_controls(name).strip(". "))
    return f"{file_name(name, NAME_BYTES - 5)} feed" if _DEVICE.fullmatch(name) else name


def slug_for(name: str, url: str) -> str:
    """A slug from a name (ASCII letters and digits), else from the feed's host."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    if len(slug) < 2:
        parts = urlsplit(url)
        host = re.sub(r"^(www|feeds?|rss)\.", "", parts.hostname or "feed")
        stem = parts.path.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
        slug = re.sub(r"[^a-z0-9]+", "-", f"{host} {stem}".lower()).strip("-")
    return slug[:SLUG_LENGTH].strip("-") or "feed"


def new_source_tables(found: list[OutlineSource], known: tuple[Source, ...]) -> str:
    """TOML text adding the sources whose feeds are all new; "" when there are none."""
    known_urls = {feed_key(url) for s in known for url in s.feeds}
    taken, names = {s.slug for s in known}, {s.name for s in known}
    blocks = []
    for source in found:
        feeds = [url for url in source.feeds if feed_key(url) not in known_urls]
        if not feeds:
            continue
        slug = _free(source.slug, taken, "-", SLUG_LENGTH)
        name = _free(source.name, names, " ", NAME_BYTES)
        urls = ", ".join(_toml_string(u) for u in feeds)
        blocks.append(f"[sources.{slug}]\nname = {_toml_string(name)}\nfeeds = [{urls}]\n")
    return "\n".join(blocks)


def _free(wanted: str, taken: set[str], joint: str, limit: int = 0) -> str:
    """``wanted``, or, when taken, ``wanted`` numbered (2, 3...); taken from then on. With
    ``limit``, a numbered name is cut to stay within ``limit`` bytes."""
    value, n = wanted, 2
    while value in taken:
        number = f"{joint}{n}"
        stem = file_name(wanted, limit - len(number)) if limit else wanted
        value, n = stem + number, n + 1
    taken.add(value)
    return value


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'
