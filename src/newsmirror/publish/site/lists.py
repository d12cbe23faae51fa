"""The static site's list pages, each made from the store as it is now: the front page,
the about page, a source's newest and its numbered pages, every day and one day. The
static site writes them (:mod:`newsmirror.publish.site.writer`); the live reader serves
them (:mod:`newsmirror.serve`), from the same templates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from newsmirror.publish.site.pages import PageMaker
from newsmirror.publish.site.pieces import Listing, Names
from newsmirror.store.base import Store
from newsmirror.store.siteviews import Listed

PAGE_SIZE = 50  # articles per source page
FRONT_SIZE = 60  # articles on the front page


def page_count(count: int) -> int:
    """The numbered pages of a source of ``count`` articles."""
    return max(1, -(-count // PAGE_SIZE)) if count else 0


class ListPages:
    """Renders the list pages (no writing): given the page maker (templates, the site's
    name and navigation), the store they read and the site's names and timezone."""

    def __init__(self, maker: PageMaker, store: Store, names: Names, timezone: str) -> None:
        self.maker, self.store, self.names, self.timezone = maker, store, names, timezone

    def front(self, listed: Sequence[Listing]) -> bytes:
        """``index.html``: the newest articles, the sources, the recent days."""
        names = self.names
        latest = self.store.site_days(within_ms=40 * 86_400_000)
        recent = sorted({names.day(ms) for ms in latest}, reverse=True)[:31]
        front = [names.row(a) for a in self.store.site_newest(FRONT_SIZE)]
        return self.maker.render(
            "index.html", "index.html", articles=front, sources=listed, days=recent
        )

    def about(self, listed: Sequence[Listing]) -> bytes:
        """``about.html``: what the site is, its sources and their counts."""
        total = sum(source.count for source in listed)
        return self.maker.render(
            "about.html", "about.html", sources=listed, total=total, timezone=self.timezone
        )

    def source_index(self, source: Listing) -> bytes:
        """``s/<slug>/index.html``: a source's newest articles and its numbered pages."""
        slug, path = source.slug, f"s/{source.slug}/index.html"
        newest = [self.names.row(a) for a in self.store.site_newest(PAGE_SIZE, slug)]
        return self.maker.render(
            "source.html", path, heading=source.name, slug=slug, articles=newest,
            pages=list(range(1, page_count(source.count) + 1)), current=0,
            intro=f"最新 {len(newest)} 篇 newest {len(newest)}",
        )  # fmt: skip

    def source_page(self, slug: str, number: int, count: int, articles: list[Listed]) -> bytes:
        """``s/<slug>/<number>.html``: page ``number`` of a source of ``count`` articles,
        in the order archived (``articles``: the page's, see :meth:`source_articles`)."""
        path = f"s/{slug}/{number}.html"
        rows = [self.names.row(a) for a in articles]
        name = self.names.names.get(slug, slug)
        return self.maker.render(
            "source.html", path, heading=f"{name} · {number}", slug=slug, articles=rows,
            pages=list(range(1, page_count(count) + 1)), current=number,
            intro=f"第 {number} 页 page {number}, 按存档顺序 in the order archived",
        )  # fmt: skip

    def source_articles(self, slug: str, number: int) -> list[Listed]:
        """The articles of page ``number`` of a source."""
        return self.store.site_source_page(slug, number, PAGE_SIZE)

    def days(self) -> bytes:
        """``d/index.html``: every day with articles, by month."""
        every = sorted({self.names.day(ms) for ms in self.store.site_days()}, reverse=True)
        months = [
            (m, [d for d in every if d[:7] == m])
            for m in sorted({d[:7] for d in every}, reverse=True)
        ]
        return self.maker.render("days.html", "d/index.html", months=months, timezone=self.timezone)

    def day(self, day: str) -> bytes:
        """``d/<day>.html``: the articles published that day (YYYY-MM-DD, in the site's
        timezone), oldest first."""
        start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=self.names.zone)
        end = start + timedelta(days=1)
        found = self.store.site_day(int(start.timestamp() * 1000), int(end.timestamp() * 1000))
        rows = [self.names.row(a) for a in found]
        path = f"d/{day}.html"
        return self.maker.render("day.html", path, day=day, articles=rows, timezone=self.timezone)
