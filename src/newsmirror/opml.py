"""Sources in and out as OPML 2.0, the format every feed reader speaks.

Export writes one ``<outline type="rss">`` per feed URL, in each source's order, with the
source's slug in a ``newsmirror:slug`` attribute so a round trip keeps fallbacks together.
Import reads any OPML (nested folders included): outlines with an ``xmlUrl`` become
sources, grouped by ``newsmirror:slug`` when present, and new ones are appended to
``newsmirror.toml`` as ``[sources.<slug>]`` tables; feeds already known are left alone.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from lxml import etree

from newsmirror.errors import ConfigError
from newsmirror.types import Source

NS = "https://newsmirror.invalid/opml"


@dataclass(frozen=True)
class OutlineSource:
    """A source read from OPML."""

    slug: str  # derived, or as exported
    name: str  # the outline's text or title
    feeds: tuple[str, ...]  # feed URLs in document order


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


def read_opml(data: bytes, where: str = "OPML") -> list[OutlineSource]:
    """Sources of an OPML document; ConfigError when it is not OPML."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ConfigError(f"{where}: not valid XML: {exc}") from exc
    if etree.QName(root).localname != "opml":
        raise ConfigError(f"{where}: the root element is not <opml>")
    groups: dict[str, tuple[str, list[str]]] = {}
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url.startswith(("http://", "https://")):
            continue
        name = (outline.get("text") or outline.get("title") or "").strip() or urlsplit(url).netloc
        slug = outline.get(f"{{{NS}}}slug") or slug_for(name, url)
        groups.setdefault(slug, (name, []))[1].append(url)
    return [OutlineSource(slug, name, tuple(feeds)) for slug, (name, feeds) in groups.items()]


def slug_for(name: str, url: str) -> str:
    """A slug from a name (ASCII letters and digits), else from the feed's host."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    if len(slug) < 2:
        parts = urlsplit(url)
        host = re.sub(r"^(www|feeds?|rss)\.", "", parts.hostname or "feed")
        stem = parts.path.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
        slug = re.sub(r"[^a-z0-9]+", "-", f"{host} {stem}".lower()).strip("-")
    return slug[:40].strip("-") or "feed"


def new_source_tables(found: list[OutlineSource], known: tuple[Source, ...]) -> str:
    """TOML text adding the sources whose feeds are all new; "" when there are none."""
    known_urls = {url for s in known for url in s.feeds}
    taken = {s.slug for s in known}
    blocks = []
    for source in found:
        feeds = [url for url in source.feeds if url not in known_urls]
        if not feeds:
            continue
        slug, n = source.slug, 2
        while slug in taken:
            slug, n = f"{source.slug}-{n}", n + 1
        taken.add(slug)
        urls = ", ".join(_toml_string(u) for u in feeds)
        blocks.append(f"[sources.{slug}]\nname = {_toml_string(source.name)}\nfeeds = [{urls}]\n")
    return "\n".join(blocks)


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'
