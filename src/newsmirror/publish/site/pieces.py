"""The static site's pieces that need no store: paths, names and times, what changed
between versions, media turned into links, Atom entries."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime
from html import escape, unescape
from typing import Any
from zoneinfo import ZoneInfo

from newsmirror import times
from newsmirror.clean.article import sanitise, shown_title
from newsmirror.publish.atom import Entry
from newsmirror.store.siteviews import Listed
from newsmirror.types import ChangeKind, Version
from newsmirror.urls import web_href

EXTERNAL = "#newsmirror-not-mirrored:"  # an image that is not shown (see _images)
IMG_MARK = re.compile(r'<img\b[^>]*?src="#newsmirror-not-mirrored:([^"]*)"[^>]*>')
PLAYER = re.compile(r"<(video|audio)\b([^>]*)>(.*?)</\1>", re.S)  # sanitised HTML: well formed
SOURCE = re.compile(r"<source\b[^>]*>")
SRC = re.compile(r'\bsrc="([^"]*)"')


def player_link(match: re.Match[str]) -> str:
    """A video or audio player as a link to what it plays (nothing is loaded)."""
    found = SRC.search(match.group(2)) or SRC.search(match.group(3))
    label = "[视频 video]" if match.group(1) == "video" else "[音频 audio]"
    return link_to(found.group(1), label, "media") if found else label


def link_to(attribute: str, label: str, kind: str) -> str:
    """A link (of class ``kind``) to a URL given as an HTML attribute's value, when it is
    an http(s) URL (:func:`~newsmirror.urls.web_href`); else the label alone."""
    href = web_href(unescape(attribute))
    return f'<a class="{kind}" href="{escape(href)}">{label}</a>' if href else label


def page_root(path: str) -> str:
    """The relative way from a page to the site's root ("", "../", "../../")."""
    return "../" * path.count("/")


def article_path(slug: str, page: str) -> str:
    """Where an article's page is (``page``: its file id, "<id>-2" for a second article
    sharing one)."""
    return f"a/{slug}/{page}.html"


def changes(before: str, after: str) -> list[tuple[str, str]]:
    """What changed between two versions' texts, paragraph by paragraph: ("-", text)
    for a paragraph removed, ("+", text) for one added (a changed one is both)."""
    old, new = before.split("\n\n"), after.split("\n\n")
    found = []
    for line in difflib.ndiff(old, new):
        if line[:2] in ("- ", "+ "):
            found.append((line[0], line[2:]))
    return found


@dataclass(frozen=True)
class Listing:
    slug: str  # a source with articles
    name: str  # its display name
    count: int  # its articles


@dataclass(frozen=True)
class Names:
    names: dict[str, str]  # slug → display name
    zone: ZoneInfo

    def local(self, ms: int) -> datetime:
        return times.at_ms(ms, self.zone)

    def day(self, ms: int) -> str:
        return times.day(self.local(ms))

    def stamp(self, when: datetime | None) -> str:
        """A stored time in the site's timezone, to the minute ("" when not known)."""
        if when is None:
            return ""
        return times.minute(when.astimezone(self.zone))

    def row(self, a: Listed) -> dict[str, Any]:
        when = self.local(a.published_ms)
        return {
            "source": a.source,
            "page": a.page,
            "title": shown_title(a.title),
            "versions": a.versions,
            "edits": a.edits,
            "source_name": self.names.get(a.source, a.source),
            "when": times.minute(when),
            "iso": when.isoformat(),
        }


def entry(a: Listed, names: Names, base: str, version: Version | None = None) -> Entry:
    """The Atom entry of an article (or of one of its later versions)."""
    path = article_path(a.source, a.page)
    updated = a.fetched_at or names.local(a.published_ms)  # its latest version
    title = shown_title(a.title) or "(untitled)"
    if version is not None:
        title = f"[第 {version.seq} 版 version {version.seq}] {title}"
    return Entry(
        id=f"urn:newsmirror:{a.source}:{a.page}" + (f":v{version.seq}" if version else ""),
        title=title,
        href=path,
        original=a.link,
        published=names.local(a.published_ms),
        updated=updated,
        author=names.names.get(a.source, a.source),
        html=sanitise(a.text),
    )


def turn_entry(
    a: Listed, kind: ChangeKind, at: datetime | None, why: str, names: Names, base: str
) -> Entry:
    """The Atom entry of a visit that found an article taken down, or back again."""
    when = at or names.local(a.published_ms)
    label = "[已删除 taken down]" if kind is ChangeKind.GONE else "[已恢复 back again]"
    said = (
        "原文已被删除 The original was taken down"
        if kind is ChangeKind.GONE
        else ("原文已恢复 The original is back")
    )
    found = escape(f"{said} ({names.stamp(at)}): {why}")
    archived = "存档副本仍在 The archived copy stays here." if kind is ChangeKind.GONE else ""
    return Entry(
        id=f"urn:newsmirror:{a.source}:{a.page}:{kind}:{times.iso(at)}",
        title=f"{label} {shown_title(a.title) or '(untitled)'}",
        href=article_path(a.source, a.page),
        original=a.link,
        published=names.local(a.published_ms),
        updated=when,
        author=names.names.get(a.source, a.source),
        html=f"<p>{found}</p>" + (f"<p>{archived}</p>" if archived else ""),
    )
