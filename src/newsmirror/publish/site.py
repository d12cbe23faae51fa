"""The static site: HTML pages and Atom feeds that need nothing but their own folder.

Pages (every link relative, so the folder works from file:// and under any sub-path):
``index.html`` (the newest articles, the sources, the days), ``s/<slug>/index.html``
(a source's newest) and ``s/<slug>/<n>.html`` (all its articles, 50 a page in the
order they were stored: new articles only ever change the last page), ``d/<day>.html``
(a day's articles), ``a/<slug>/<id>.html`` (an article: its latest version, where it
came from, every version and what each changed), ``about.html``; ``feeds/*.xml`` (Atom)
and ``static/site.css``. Nothing is loaded from anywhere else: an image is shown only
when it was mirrored (copied beside the pages), else it becomes a link.

Incremental: article pages are written for articles whose latest version is not yet
on their page; list pages only for the sources, pages and days those articles are on;
and every file only when its bytes differ from what is there.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from newsmirror.clean import html_to_text, sanitise
from newsmirror.config import Config
from newsmirror.errors import NewsmirrorError, PublishError
from newsmirror.media import rewrite_images
from newsmirror.publish.atom import atom_feed
from newsmirror.publish.files import confined, digest, flush_to_disk, write_atomic
from newsmirror.publish.run import PublishReport
from newsmirror.publish.sitepieces import (
    EXTERNAL,
    IMG_MARK,
    PLAYER,
    SOURCE,
    Listing,
    Names,
    article_path,
    changes,
    entry,
    page_root,
    player_link,
    turn_entry,
)
from newsmirror.publish.sitesearch import (
    SHARD,
    index_script,
    lead_of,
    shard_doc,
    shard_path,
    shard_script,
)
from newsmirror.store.siteviews import Listed, Stale, site_key
from newsmirror.store.sqlite import SQLiteStore
from newsmirror.types import Version

PAGE_SIZE = 50  # articles per source page
FRONT_SIZE = 60  # articles on the front page
FEED_SIZE = 50  # entries per Atom feed
_HERE = Path(__file__).parent


def _noop(_: int) -> None:
    return None


class SitePublisher:
    """One publish run of an archive's static site."""

    def __init__(self, config: Config, store: SQLiteStore) -> None:
        self.config = config
        self.store = store
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(_HERE / "templates"),
            autoescape=True,
            keep_trailing_newline=True,
        )
        self.names = Names({s.slug: s.name for s in config.sources}, ZoneInfo(config.site_timezone))
        self.root = config.site_path
        self.report = PublishReport()
        self._leads: dict[int, str] = {}  # article id → the start of its text (for search)
        self.prefix = site_key(str(self.root))  # this folder's records in the store
        self.force = False  # compare every file with the disk
        self.nav: list[Any] = []  # the sources with articles (the pages' navigation)

    def run(
        self, out: Path | None = None, force: bool = False, advance: Callable[[int], None] = _noop
    ) -> PublishReport:
        """Write what changed (everything with ``force``, or into a folder without a site)."""
        self.root = (out or self.config.site_path).resolve()
        self.prefix = site_key(str(self.root))
        force = force or not (self.root / "index.html").exists()
        self.force = force  # every file compared with what is on disk, not with the record
        counts = self.store.site_source_counts()
        self.nav = [s for s in self.config.sources if counts.get(s.slug)]
        with self.store.transaction():
            self._write("static/site.css", (_HERE / "static" / "site.css").read_bytes())
            self._write("static/search.js", (_HERE / "static" / "search.js").read_bytes())
            pages: set[tuple[str, int]] = set()
            days: set[str] = set()
            shards: set[int] = set()
            for stale in self.store.site_stale(self.prefix, force):
                versions = self.store.versions_of(stale.article_id)
                self._article(stale, versions)
                pages.add((stale.source, stale.source_rank // PAGE_SIZE + 1))
                days.add(self.names.day(versions[-1].published_ms))
                shards.add(stale.rank // SHARD)
                advance(1)
            total = sum(counts.values())
            if force:
                pages = {(s, p) for s, n in counts.items() for p in range(1, _pages(n) + 1)}
                days = {self.names.day(ms) for ms in self.store.site_days()}
                shards = set(range(-(-total // SHARD)))
            self._lists(counts, pages, days)
            self._search(total, shards)
            self._feeds(counts)
            if self.report.written:
                flush_to_disk()
        return self.report

    # -- pages -----------------------------------------------------------------------

    def _render(self, template: str, path: str, **values: Any) -> bytes:
        context = {
            "root": page_root(path),
            "site_title": self.config.site_title,
            "nav_sources": self.nav,
            **values,
        }
        return self.env.get_template(template).render(context).encode("utf-8")

    def _article(self, stale: Stale, versions: tuple[Version, ...]) -> None:
        path = article_path(stale.source, stale.archive_id)
        latest = versions[-1]
        try:
            content = sanitise(latest.clean_html)
            self._leads[stale.article_id] = lead_of(content)
            rows = [self._version_row(versions, n) for n in range(len(versions))]
            when = self.names.local(latest.published_ms)
            gone = self.store.site_gone(stale.article_id)
            data = self._render(
                "article.html",
                path,
                title=latest.title,
                slug=stale.source,
                source_name=self.names.names.get(stale.source, stale.source),
                when=when.strftime("%Y-%m-%d %H:%M"),
                iso=when.isoformat(),
                first_seen=self.names.stamp(versions[0].fetched_at),
                day=self.names.day(latest.published_ms),
                link=latest.link,
                content=self._images(path, content, latest.link),
                versions=rows,
                gone_at=self.names.stamp(gone[0]) if gone else "",
                gone_why=gone[1] if gone else "",
            )
            self._write(path, data, stale.version_id, "site gone" if gone else "site")
        except NewsmirrorError as exc:
            self.report.errors.append(f"{path}: {exc}")

    def _version_row(self, versions: tuple[Version, ...], n: int) -> dict[str, Any]:
        """One version for the page: when, title, how, and what it changed."""
        v = versions[n]
        edits: list[tuple[str, str]] = []
        if n:
            before = versions[n - 1]
            edits = changes(html_to_text(before.clean_html), html_to_text(v.clean_html))
            if v.title != before.title:
                edits = [("-", before.title), ("+", v.title), *edits]
        return {
            "seq": v.seq,
            "fetched": self.names.stamp(v.fetched_at),
            "title": v.title,
            "method": v.method,
            "changes": edits,
        }

    def _images(self, path: str, html: str, base_url: str) -> str:
        """Mirrored images point at their copy (published beside the pages); any other
        image becomes a link to it, so that no page loads anything from elsewhere."""

        def local(url: str) -> str:
            record = self.store.media_for(url)
            if record is None:
                return EXTERNAL + url
            target = f"media/{record.path}"
            if not confined(self.root, target).exists():
                try:
                    data = confined(self.config.media_path, record.path).read_bytes()
                except OSError as exc:
                    raise PublishError(f"cannot read the mirrored image {record.path}") from exc
                self._write(target, data)
            return posixpath.relpath(target, posixpath.dirname(path))

        html = rewrite_images(html, local, base_url) if "<img" in html else html
        html = IMG_MARK.sub(
            lambda m: f'<a class="image" href="{m.group(1)}">[图片 image]</a>', html
        )
        if "<video" in html or "<audio" in html or "<source" in html:
            html = PLAYER.sub(player_link, html)
            html = SOURCE.sub("", html)  # a picture's other sources: its img stays
        return html

    def _lists(self, counts: dict[str, int], pages: set[tuple[str, int]], days: set[str]) -> None:
        names = self.names
        listed = [
            Listing(s.slug, s.name, counts[s.slug])
            for s in self.config.sources
            if counts.get(s.slug)
        ]
        latest = self.store.site_days(within_ms=40 * 86_400_000)
        recent = sorted({names.day(ms) for ms in latest}, reverse=True)[:31]
        front = [names.row(a) for a in self.store.site_newest(FRONT_SIZE)]
        self._write(
            "index.html",
            self._render("index.html", "index.html", articles=front, sources=listed, days=recent),
        )
        total = sum(counts.values())
        about = self._render(
            "about.html",
            "about.html",
            sources=listed,
            total=total,
            timezone=self.config.site_timezone,
        )
        self._write("about.html", about)
        for source in listed:
            slug = source.slug
            path = f"s/{slug}/index.html"
            newest = [names.row(a) for a in self.store.site_newest(PAGE_SIZE, slug)]
            numbers = list(range(1, _pages(source.count) + 1))
            data = self._render(
                "source.html", path, heading=source.name, slug=slug, articles=newest,
                pages=numbers, current=0, intro=f"最新 {len(newest)} 篇 newest {len(newest)}",
            )  # fmt: skip
            self._write(path, data)
        for slug, number, listed_page in self._source_pages(pages):
            path = f"s/{slug}/{number}.html"
            rows = [names.row(a) for a in listed_page]
            name = names.names.get(slug, slug)
            data = self._render(
                "source.html", path, heading=f"{name} · {number}", slug=slug, articles=rows,
                pages=list(range(1, _pages(counts.get(slug, 0)) + 1)), current=number,
                intro=f"第 {number} 页 page {number}, 按存档顺序 in the order archived",
            )  # fmt: skip
            self._write(path, data)
        if any(not (self.root / f"d/{day}.html").exists() for day in days):
            every = sorted({names.day(ms) for ms in self.store.site_days()}, reverse=True)
            months = [
                (m, [d for d in every if d[:7] == m])
                for m in sorted({d[:7] for d in every}, reverse=True)
            ]
            data = self._render(
                "days.html", "d/index.html", months=months, timezone=self.config.site_timezone
            )
            self._write("d/index.html", data)
        for day in sorted(days):
            start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=names.zone)
            end = start + timedelta(days=1)
            rows = [
                names.row(a)
                for a in self.store.site_day(
                    int(start.timestamp() * 1000), int(end.timestamp() * 1000)
                )
            ]
            path = f"d/{day}.html"
            self._write(
                path,
                self._render(
                    "day.html", path, day=day, articles=rows, timezone=self.config.site_timezone
                ),
            )

    def _source_pages(self, pages: set[tuple[str, int]]) -> Iterator[tuple[str, int, list[Listed]]]:
        """(slug, number, articles) of each page asked for: a few are read one by one, a
        source with many read in one pass."""
        by_source: dict[str, set[int]] = {}
        for slug, number in pages:
            by_source.setdefault(slug, set()).add(number)
        for slug, numbers in sorted(by_source.items()):
            if len(numbers) <= 3:
                for number in sorted(numbers):
                    yield slug, number, self.store.site_source_page(slug, number, PAGE_SIZE)
                continue
            page: list[Listed] = []
            number = 1
            for listed in self.store.site_source_all(slug):
                page.append(listed)
                if len(page) == PAGE_SIZE:
                    if number in numbers:
                        yield slug, number, page
                    page, number = [], number + 1
            if page and number in numbers:
                yield slug, number, page

    # -- search ----------------------------------------------------------------------

    def _search(self, total: int, shards: set[int]) -> None:
        """The search page, its index, and the shards that changed."""
        self._write("search.html", self._render("search.html", "search.html"))
        self._write("search/index.js", index_script(-(-total // SHARD)))
        for number, articles in self._shards(shards):
            docs = [
                shard_doc(
                    a,
                    article_path(a.source, a.archive_id),
                    self.names.row(a)["when"],
                    self.names.names.get(a.source, a.source),
                    self._leads.pop(a.article_id, None),
                )
                for a in articles
            ]
            self._write(shard_path(number), shard_script(number, docs))

    def _shards(self, shards: set[int]) -> Iterator[tuple[int, list[Listed]]]:
        """(number, articles) of each shard asked for: a few are read one by one, many
        in one pass."""
        if len(shards) <= 3:
            for number in sorted(shards):
                yield number, self.store.site_search_docs(number * SHARD, SHARD)
            return
        shard: list[Listed] = []
        for n, listed in enumerate(self.store.site_search_all()):
            shard.append(listed)
            if len(shard) == SHARD:
                if n // SHARD in shards:
                    yield n // SHARD, shard
                shard = []
        if shard and (n // SHARD) in shards:
            yield n // SHARD, shard

    # -- feeds -----------------------------------------------------------------------

    def _feeds(self, counts: dict[str, int]) -> None:
        base = self.config.base_url
        title = self.config.site_title
        self._feed("feeds/all.xml", f"{title}", self.store.site_newest(FEED_SIZE, text=True))
        for slug in sorted(counts):
            name = self.names.names.get(slug, slug)
            newest = self.store.site_newest(FEED_SIZE, slug, text=True)
            self._feed(f"feeds/{slug}.xml", f"{title} · {name}", newest)
        edits = [
            entry(listed, self.names, base, version)
            for listed, version in self.store.site_edits(FEED_SIZE)
        ]
        edits += [
            turn_entry(listed, kind, at, why, self.names, base)
            for listed, kind, at, why in self.store.site_turns(FEED_SIZE)
        ]
        edits = sorted(edits, key=lambda e: (e.updated, e.id), reverse=True)[:FEED_SIZE]
        feed = atom_feed(
            f"{title} · 修改与删除 edits and takedowns", "feeds/changes.xml", base, edits
        )
        self._write("feeds/changes.xml", feed)

    def _feed(self, path: str, title: str, articles: Iterable[Listed]) -> None:
        entries = [entry(a, self.names, self.config.base_url) for a in articles]
        self._write(path, atom_feed(title, path, self.config.base_url, entries))

    # -- files -----------------------------------------------------------------------

    def _write(
        self, relative: str, data: bytes, version_id: int | None = None, mode: str = "site"
    ) -> None:
        """Write a file unless it already holds these bytes; record what it holds (an
        article page: its version, and in ``mode`` whether it says the article is gone)."""
        key = self.prefix + relative
        try:
            target = confined(self.root, relative)
            sha = digest(data)
            if not self.force and self.store.published_digest(key) == sha and target.exists():
                self.report.unchanged += 1
                if version_id is None:
                    return  # nothing new to record
            elif target.exists() and target.read_bytes() == data:
                self.report.unchanged += 1
            else:
                write_atomic(target, data, sync=False)
                self.report.written += 1
            self.store.mark_published(key, sha, version_id, mode)
        except NewsmirrorError as exc:
            self.report.errors.append(f"{relative}: {exc}")


def _pages(count: int) -> int:
    return max(1, -(-count // PAGE_SIZE)) if count else 0
