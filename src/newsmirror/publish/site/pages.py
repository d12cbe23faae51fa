"""The static site's article pages: made by the publisher itself for a few, and by
worker processes (one per core) when thousands are to be written, so that a full build
uses every core. A worker reads the versions itself through a read-only connection to
the database (what the writer last committed; publishing changes no version), writes
the pages, and hands back what the publisher records: each page's digest, its version,
whether it says the article is gone, and the start of its text for the search shards."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import jinja2

from newsmirror import decide, times
from newsmirror.clean.article import html_to_text, sanitise, shown_title
from newsmirror.config.settings import Config
from newsmirror.errors import NewsmirrorError, PublishError
from newsmirror.limits import printable
from newsmirror.media.images import rewrite_images
from newsmirror.publish.files import confined, digest, write_atomic
from newsmirror.publish.site.pieces import (
    EXTERNAL,
    IMG_MARK,
    PLAYER,
    SOURCE,
    Names,
    article_path,
    changes,
    link_to,
    page_root,
    player_link,
)
from newsmirror.publish.site.search import lead_of
from newsmirror.store import open_page_reader
from newsmirror.store.evidence import MediaRecord
from newsmirror.store.siteviews import Stale
from newsmirror.types import Source, Version
from newsmirror.urls import web_href

TEMPLATES = Path(__file__).parent / "templates"


def environment() -> jinja2.Environment:
    """The site's templates, autoescaped."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        keep_trailing_newline=True,
        finalize=printable,  # no control character reaches a page
    )


@dataclass(frozen=True)
class Page:
    """An article page, made."""

    article_id: int
    path: str  # relative to the site's root
    data: bytes
    version_id: int  # the version it shows
    mode: str  # "site", or "site gone" when it says the article was taken down
    lead: str  # the start of its text (search shards)
    day: str  # the day it was published (its day page)
    media: list[tuple[str, Path]] = field(default_factory=list)  # mirrored images to copy


class Reader(Protocol):
    """What making a page reads: versions, mirrored images, takedowns (the store, or a
    worker's read-only view of it)."""

    def versions_of(self, article_id: int) -> tuple[Version, ...]: ...

    def media_for(self, url: str) -> MediaRecord | None: ...

    def site_gone(self, article_id: int) -> tuple[datetime | None, str] | None: ...


class PageMaker:
    """Renders article pages (no writing, no recording)."""

    def __init__(
        self, config: Config, root: Path, reader: Reader, nav: Sequence[Source], names: Names
    ) -> None:
        self.config, self.root, self.reader, self.nav, self.names = config, root, reader, nav, names
        self.env = environment()
        self.live = False  # True: pages of the live reader (newsmirror serve), not files

    def render(self, template: str, path: str, **values: Any) -> bytes:
        context = {
            "root": page_root(path),
            "site_title": self.config.site_title,
            "nav_sources": self.nav,
            "live": self.live,
            **values,
        }
        return self.env.get_template(template).render(context).encode("utf-8")

    def article(self, stale: Stale) -> Page:
        """The page of an article; NewsmirrorError when it cannot be made."""
        path = article_path(stale.source, stale.page)
        versions = self.reader.versions_of(stale.article_id)
        latest = versions[-1]
        content = sanitise(latest.clean_html)
        rows = [self._version_row(versions, n) for n in range(len(versions))]
        when = self.names.local(latest.published_ms)
        gone = self.reader.site_gone(stale.article_id)
        media: list[tuple[str, Path]] = []
        link = web_href(latest.link)
        data = self.render(
            "article.html",
            path,
            title=shown_title(latest.title),
            slug=stale.source,
            source_name=self.names.names.get(stale.source, stale.source),
            when=times.minute(when),
            iso=when.isoformat(),
            first_seen=self.names.stamp(versions[0].fetched_at),
            day=self.names.day(latest.published_ms),
            link=link,
            content=self._images(path, content, link, media),
            versions=rows,
            edits=decide.edits(versions),
            gone_at=self.names.stamp(gone[0]) if gone else "",
            gone_why=gone[1] if gone else "",
        )
        return Page(
            stale.article_id,
            path,
            data,
            stale.version_id,
            "site gone" if gone else "site",
            lead_of(content),
            self.names.day(latest.published_ms),
            media,
        )

    def _version_row(self, versions: tuple[Version, ...], n: int) -> dict[str, Any]:
        """One version for the page: when, title, how, and what it changed."""
        v, before = versions[n], versions[n - 1 if n else 0]
        title, title_before = shown_title(v.title), shown_title(before.title)
        edits: list[tuple[str, str]] = []
        if n:
            edits = changes(html_to_text(before.clean_html), html_to_text(v.clean_html))
            if title != title_before:
                edits = [("-", title_before), ("+", title), *edits]
        return {
            "seq": v.seq,
            "fetched": self.names.stamp(v.fetched_at),
            "title": title,
            "method": v.method,
            "changes": edits,
            "stand_in": decide.is_stand_in(v.method, v.method_note),
            "completes": bool(n) and decide.is_stand_in(before.method, before.method_note),
            "way_in": bool(n) and not decide.is_edit(before, v),  # another feed's content
        }

    def _images(self, path: str, html: str, base_url: str, media: list[tuple[str, Path]]) -> str:
        """Mirrored images point at their copy (published beside the pages: added to
        ``media`` when not there yet); any other image becomes a link to it, so that no
        page loads anything from elsewhere."""

        def local(url: str) -> str:
            record = self.reader.media_for(url)
            if record is None:
                return EXTERNAL + url
            target = f"media/{record.path}"
            if not confined(self.root, target).exists():
                media.append((target, confined(self.config.media_path, record.path)))
            return posixpath.relpath(target, posixpath.dirname(path))

        html = rewrite_images(html, local, base_url) if "<img" in html else html
        html = IMG_MARK.sub(lambda m: link_to(m.group(1), "[图片 image]", "image"), html)
        if "<video" in html or "<audio" in html or "<source" in html:
            html = PLAYER.sub(player_link, html)
            html = SOURCE.sub("", html)  # a picture's other sources: its img stays
        return html


def media_bytes(source: Path, relative: str) -> bytes:
    """A mirrored image's bytes, to copy beside the pages."""
    try:
        return source.read_bytes()
    except OSError as exc:
        raise PublishError(f"cannot read the mirrored image {relative}") from exc


# -- worker processes ---------------------------------------------------------------------


@dataclass(frozen=True)
class Made:
    """What a worker did with one article: the page it wrote (or found there), or why
    it could not."""

    stale: Stale
    path: str
    sha: str = ""  # of the page's bytes
    written: bool = False  # False: the file held these bytes already
    mode: str = "site"
    lead: str = ""
    day: str = ""
    media: tuple[tuple[str, str, bool], ...] = ()  # (relative, sha, written) of images copied
    error: str = ""


@dataclass(frozen=True)
class Job:
    """A worker's share: articles to make pages for, and what it needs to make them."""

    database: str
    config: Config
    root: str
    nav: tuple[str, ...]  # slugs of the sources with articles (the navigation)
    stale: tuple[Stale, ...]


_MAKERS: dict[tuple[str, str], PageMaker] = {}  # a worker's page maker per (database, root)


def make_pages(job: Job) -> list[Made]:
    """A worker's job: make and write these pages (each only when its bytes differ from
    the file's), and say what was done."""
    key = (job.database, job.root)
    maker = _MAKERS.get(key)
    if maker is None:
        from zoneinfo import ZoneInfo

        config, root = job.config, Path(job.root)
        nav = [s for s in config.sources if s.slug in job.nav]
        names = Names({s.slug: s.name for s in config.sources}, ZoneInfo(config.site_timezone))
        maker = _MAKERS[key] = PageMaker(config, root, open_page_reader(job.database), nav, names)
    return [_make(maker, stale) for stale in job.stale]


def _make(maker: PageMaker, stale: Stale) -> Made:
    path = article_path(stale.source, stale.page)
    try:
        page = maker.article(stale)
        media = tuple(
            (relative, *put(maker.root, relative, media_bytes(source, relative)))
            for relative, source in page.media
        )
        sha, written = put(maker.root, page.path, page.data)
    except NewsmirrorError as exc:
        return Made(stale, path, error=f"{path}: {exc}")
    return Made(stale, path, sha, written, page.mode, page.lead, page.day, media)


def put(root: Path, relative: str, data: bytes) -> tuple[str, bool]:
    """Write a file unless it holds these bytes already: (its digest, whether written)."""
    target = confined(root, relative)
    try:
        if target.read_bytes() == data:
            return digest(data), False
    except OSError:  # not there (or not readable): written
        pass
    write_atomic(target, data, sync=False)
    return digest(data), True


#: Called with each article's result as it comes.
OnMade = Callable[[Made], None]
