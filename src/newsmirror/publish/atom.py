"""Atom 1.0 feeds (RFC 4287) of the static site, with each article's full content."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

from newsmirror.urls import web_href

_NS = "http://www.w3.org/2005/Atom"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    """One entry of a feed."""

    id: str  # a stable IRI (urn:newsmirror:<slug>:<id>[:v<seq>])
    title: str  # the article's title
    href: str  # the archived page, relative to the site's root
    original: str  # the article's original address ("" when none; only http(s) is written)
    published: datetime  # publication time (aware)
    updated: datetime  # when this entry last changed (aware)
    author: str  # the source's name
    html: str  # the full content, sanitised HTML


def _xml(text: str) -> str:
    """Text without the characters XML 1.0 cannot hold (control characters)."""
    return _NOT_XML.sub("", text)


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def atom_feed(title: str, path: str, base_url: str, entries: Sequence[Entry]) -> bytes:
    """The feed at ``path`` (relative to the site's root). Links are absolute when the
    site's ``base_url`` is known, else relative to the feed's own address."""

    def link(target: str) -> str:
        if base_url:
            return urljoin(base_url.rstrip("/") + "/", target)
        return "../" * path.count("/") + target

    ET.register_namespace("", _NS)
    feed = ET.Element(f"{{{_NS}}}feed")
    ET.SubElement(feed, f"{{{_NS}}}id").text = link(path) if base_url else f"urn:newsmirror:{path}"
    ET.SubElement(feed, f"{{{_NS}}}title").text = _xml(title)
    newest = max((e.updated for e in entries), default=_EPOCH)
    ET.SubElement(feed, f"{{{_NS}}}updated").text = _time(newest)
    ET.SubElement(feed, f"{{{_NS}}}link", rel="self", href=link(path))
    ET.SubElement(
        feed, f"{{{_NS}}}link", rel="alternate", type="text/html", href=link("index.html")
    )
    author = ET.SubElement(feed, f"{{{_NS}}}author")
    ET.SubElement(author, f"{{{_NS}}}name").text = _xml(title)
    ET.SubElement(feed, f"{{{_NS}}}generator").text = "newsmirror"
    for e in entries:
        entry = ET.SubElement(feed, f"{{{_NS}}}entry")
        ET.SubElement(entry, f"{{{_NS}}}id").text = e.id
        ET.SubElement(entry, f"{{{_NS}}}title").text = _xml(e.title)
        ET.SubElement(entry, f"{{{_NS}}}published").text = _time(e.published)
        ET.SubElement(entry, f"{{{_NS}}}updated").text = _time(e.updated)
        ET.SubElement(entry, f"{{{_NS}}}link", rel="alternate", type="text/html", href=link(e.href))
        original = web_href(e.original)
        if original:
            ET.SubElement(entry, f"{{{_NS}}}link", rel="via", href=original)
        who = ET.SubElement(entry, f"{{{_NS}}}author")
        ET.SubElement(who, f"{{{_NS}}}name").text = _xml(e.author)
        ET.SubElement(entry, f"{{{_NS}}}content", type="html").text = _xml(e.html)
    ET.indent(feed)
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body + b"\n"
