"""A feed document of more items than newsmirror takes, made into one it takes: its newest
items (by their date; in document order when they have none), as many as the limits
allow. Pure (bytes in, bytes out).

The document is read twice as a stream (lxml's iterparse), never held whole as a tree:
once for each item's date and size (each item is dropped once read), once to keep the
chosen items in place and drop the others. The result is the same document with fewer
items, which the parser then reads as any other.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from lxml import etree

_ITEMS = frozenset({"item", "entry"})
_ANY_ITEM = re.compile(rb"<(?:[\w.-]+:)?(?:item|entry)[\s/>]")
_CONTAINERS = frozenset({"channel", "RDF", "rss", "feed"})
_PUBLISHED = ("pubDate", "published", "issued", "date", "created")
_UPDATED = ("updated", "modified", "lastBuildDate")


def trim(body: bytes, max_tags: int, max_items: int) -> tuple[bytes, int, int, bool] | None:
    """The document with only the items it may keep: at most ``max_items``, the tags of
    the document then numbering ``max_tags`` at most, the newest first (the first first
    when they have no date). Returns (the document, items kept, items in all, whether
    any had a date), or None when it cannot be read as XML (it is refused as before)."""
    if not _ANY_ITEM.search(body):
        return None  # tags, but no item among them: nothing to take
    try:
        items, others = _survey(body)
        if others >= max_tags:
            return None  # the tags are not the items': cutting items would not do
        chosen = _choose(items, max_tags - others, max_items)
        kept = _keep(body, chosen)
    except (etree.LxmlError, ValueError):
        return None
    return kept, len(chosen), len(items), any(when is not None for when, _ in items)


def _choose(items: list[tuple[float | None, int]], max_tags: int, max_items: int) -> set[int]:
    """The positions of the items to keep: by date, newest first (undated ones after, in
    document order), while both limits hold."""
    order = sorted(range(len(items)), key=lambda i: (items[i][0] is None, -(items[i][0] or 0), i))
    chosen: set[int] = set()
    tags = 0
    for position in order:
        tags += items[position][1]
        if len(chosen) >= max_items or tags > max_tags:
            break
        chosen.add(position)
    return chosen


def _survey(body: bytes) -> tuple[list[tuple[float | None, int]], int]:
    """Each item's date (a timestamp, or None) and tags (start and end), in document
    order; and the tags outside the items. Every element is dropped once read (those of
    an item with it), so that memory holds one item at a time."""
    items: list[tuple[float | None, int]] = []
    others = 0
    for element in _ends(body):
        parent = element.getparent()
        if _is_item(element, parent):
            items.append((_when(element), 2 * sum(1 for _ in element.iter())))
        elif any(_local(a) in _ITEMS for a in element.iterancestors()):
            continue  # part of an item: read with it
        else:
            others += 2
            element.clear()
        if parent is not None:
            parent.remove(element)
    return items, others


def _keep(body: bytes, keep: set[int]) -> bytes:
    """The document without the items whose position is not in ``keep``."""
    root = None
    position = 0
    for element in _ends(body):
        root = root if root is not None else element.getroottree()
        parent = element.getparent()
        if _is_item(element, parent):
            if position not in keep:
                parent.remove(element)
            position += 1
    if root is None:
        return body
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _is_item(element: Any, parent: Any) -> bool:
    """Whether an element is one of the feed's items (an item or entry of the channel)."""
    return parent is not None and _local(element) in _ITEMS and _local(parent) in _CONTAINERS


def _ends(body: bytes) -> Iterator[Any]:
    """The elements of a feed document as each ends, read as a stream: no entity
    expanded, no DTD or network, no comments."""
    events = etree.iterparse(
        io.BytesIO(body),
        events=("end",),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
        huge_tree=True,  # a big document is the point; entities stay unexpanded
    )
    for _event, element in events:
        yield element


def _local(element: Any) -> str:
    """An element's name without its namespace ("" for comments and the like)."""
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _when(item: Any) -> float | None:
    """An item's publication date (else its update date) as a timestamp, or None."""
    children = {_local(child): (child.text or "").strip() for child in item}
    for name in (*_PUBLISHED, *_UPDATED):
        value = children.get(name)
        if value:
            found = _timestamp(value)
            if found is not None:
                return found
    return None


def _timestamp(value: str) -> float | None:
    """A date as feeds write them (RFC 822, ISO 8601) as a timestamp, or None."""
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    try:
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    except (OverflowError, ValueError, OSError):
        return None
