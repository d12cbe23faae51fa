"""Small helpers that turn values read from a feed into Entry fields (shared by the
feedparser path, the lxml fast path and JSON Feed)."""

from __future__ import annotations

from typing import Any

from newsmirror.types import Enclosure
from newsmirror.urls import absolute, canonical_url

#: FeedBurner's namespace: an item's ``feedburner:origLink`` is the article's own address,
#: its ``link`` a ``feedproxy.google.com/~r/...`` redirect (dead since FeedBurner's end).
FEEDBURNER = "http://rssnamespace.org/feedburner/ext/1.0"


def item_links(link: str, orig_link: str, base: str) -> tuple[str, str, tuple[str, ...]]:
    """An item's (raw link, canonical link, aliases) from its link and its FeedBurner
    origLink ("" when it has none), made absolute against ``base``: the origLink, when it
    is a usable http(s) URL, is the item's link, and the link the feed gave beside it an
    alias (its canonical form); else the feed's link, without alias."""
    raw_link = absolute(link, base)
    orig = absolute(orig_link, base) if orig_link else ""
    canonical = canonical_url(orig) if orig else ""
    if not canonical:
        return raw_link, canonical_url(raw_link), ()
    other = canonical_url(raw_link) if raw_link else ""
    return orig, canonical, (other,) if other and other != canonical else ()


def unique(values: Any) -> tuple[str, ...]:
    """Stripped non-empty strings in first-seen order, without repeats."""
    return tuple(dict.fromkeys(v.strip() for v in values if v.strip()))


def enclosures(items: list[Any], base: str) -> tuple[Enclosure, ...]:
    """Enclosures (feedparser dicts or JSON Feed attachments) with absolute URLs."""
    result = []
    for item in items:
        if not isinstance(item, dict):
            continue
        href = absolute(text(item.get("href") or item.get("url")), base)
        if href:
            size = text(item.get("length") or item.get("size_in_bytes")).strip()
            kind = text(item.get("type") or item.get("mime_type"))
            result.append(Enclosure(href, kind, int(size) if size.isdigit() else 0))
    return tuple(result)


def text(value: object) -> str:
    """A string, or a number as text; "" for anything else."""
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else ""
