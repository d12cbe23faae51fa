"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) → ParsedFeed."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any

from newsmirror.errors import ParseError
from newsmirror.parse.values import enclosures, text, unique
from newsmirror.types import Entry, ParsedFeed
from newsmirror.urls import absolute, canonical_url

JSONFEED = "https://jsonfeed.org/version/"


def parse_json(body: bytes, url: str) -> ParsedFeed:
    """Parse a JSON Feed 1.0/1.1 document."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ParseError(f"{url}: invalid JSON: {exc}") from exc
    version = (
        text(doc.get("version")).replace("http:", "https:", 1) if isinstance(doc, dict) else ""
    )
    if not version.startswith(JSONFEED):
        raise ParseError(f"{url}: JSON but not a JSON Feed (no jsonfeed.org version)")
    items = doc.get("items")
    if not isinstance(items, list):
        raise ParseError(f"{url}: JSON Feed without an items list")
    entries = tuple(_json_entry(item, url) for item in items if isinstance(item, dict))
    skipped = len(items) - len(entries)
    tag = version.removeprefix(JSONFEED).replace(".", "")
    return ParsedFeed(
        title=text(doc.get("title")),
        link=text(doc.get("home_page_url")),
        entries=entries,
        version="json10" if tag == "1" else f"json{tag}",
        warnings=(f"{skipped} JSON Feed items were not objects; skipped",) if skipped else (),
    )


def _json_entry(item: dict[str, Any], base: str) -> Entry:
    """One JSON Feed item; content_text is HTML-escaped when there is no content_html."""
    plain = text(item.get("content_text"))
    content = text(item.get("content_html")) or html.escape(plain, quote=False)
    summary = text(item.get("summary"))
    raw_link = absolute(text(item.get("url")) or text(item.get("external_url")), base)
    people = _list(item.get("authors")) or [item.get("author")]
    return Entry(
        guid=text(item.get("id")),
        link=canonical_url(raw_link),
        raw_link=raw_link,
        title=text(item.get("title")),
        published=_iso_date(item.get("date_published")),
        updated=_iso_date(item.get("date_modified")),
        content=content or summary,
        summary=summary if content else "",
        authors=unique(text(p.get("name")) for p in people if isinstance(p, dict)),
        categories=unique(text(t) for t in _list(item.get("tags"))),
        enclosures=enclosures(_list(item.get("attachments")), base),
    )


def _list(value: object) -> list[Any]:
    """The value when it is a JSON array, else []."""
    return value if isinstance(value, list) else []


def _iso_date(value: object) -> datetime | None:
    """An RFC 3339 date as an aware UTC datetime (a naive one is taken as UTC); else None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
