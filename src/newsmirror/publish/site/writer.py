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
on their page; list pages only for the sources, pages and days those articles are on
(and left), every page of a source that gained a page, every page when what all of them
show changed (the sources in the navigation); every file only when its bytes differ.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from newsmirror.config.settings import Config
from newsmirror.errors import NewsmirrorError
from newsmirror.publish.files import (
    confined,
    digest,
    flush_to_disk,
    note_unsynced,
    sweep_temporaries,
    swept_note,
    write_atomic,
)
from newsmirror.publish.report import PublishReport
from newsmirror.publish.site.feeds import site_feeds
from newsmirror.publish.site.lists import PAGE_SIZE, ListPages, page_count
from newsmirror.publish.site.pages import Job, Made, PageMaker, make_pages, media_bytes
from newsmirror.publish.site.pieces import (
    Listing,
    Names,
    article_path,
)
from newsmirror.publish.site.search import (
    SHARD,
    index_script,
    shard_doc,
    shard_path,
    shard_script,
)
from newsmirror.store.base import Store
from newsmirror.store.siteviews import Listed, Stale, site_key

#: Article pages made in worker processes when at least this many are to be made.
PARALLEL_MIN = 2000
MAX_WORKERS = 8
JOB_SIZE = 100  # articles per worker job
_HERE = Path(__file__).parent
#: The record of what every page shows besides its content (SitePublisher._every_page).
_EVERY_PAGE = "#every-page"


def _noop(_: int) -> None:
    return None


class SitePublisher:
    """One publish run of an archive's static site."""

    parallel_min = PARALLEL_MIN  # article pages from which worker processes make them

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.names = Names({s.slug: s.name for s in config.sources}, ZoneInfo(config.site_timezone))
        self.root = config.site_path
        self.report = PublishReport()
        self._leads: dict[int, str] = {}  # article id → the start of its text (for search)
        self.prefix = site_key(str(self.root))  # this folder's records in the store
        self.force = False  # compare every file with the disk
        self.nav: list[Any] = []  # the sources with articles (the pages' navigation)
        self.maker = PageMaker(config, self.root, store, self.nav, self.names)

    def run(
        self, out: Path | None = None, force: bool = False, advance: Callable[[int], None] = _noop
    ) -> PublishReport:
        """Write what changed (everything with ``force``, or into a folder without a site)."""
        self.root = (out or self.config.site_path).resolve()
        self.prefix = site_key(str(self.root))
        self.report.notes += swept_note(sweep_temporaries([self.root], recursive=True))
        counts = self.store.site_source_counts()
        self.nav = [s for s in self.config.sources if counts.get(s.slug)]
        every_page = self._every_page()  # what every page shows: its links to the sources...
        force = force or not (self.root / "index.html").exists()
        force = force or self.store.published_digest(self.prefix + _EVERY_PAGE) != every_page
        self.force = force  # every file compared with what is on disk, not with the record
        self.maker = PageMaker(self.config, self.root, self.store, self.nav, self.names)
        with self.store.transaction(), contextlib.ExitStack() as pools:
            self._write("static/site.css", (_HERE / "static" / "site.css").read_bytes())
            self._write("static/search.js", (_HERE / "static" / "search.js").read_bytes())
            marks = self.store.site_marks()  # what this run shows at least
            stale = list(self.store.site_stale(self.prefix, force))
            made_pages = self._articles(stale, pools)  # workers start on them now
            total = sum(counts.values())
            pages: set[tuple[str, int]] = set()
            days: set[str] = set()
            shards: set[int] = set()
            if force:  # every list: written while the workers make the article pages
                pages = {(s, p) for s, n in counts.items() for p in range(1, page_count(n) + 1)}
                days = {self.names.day(ms) for ms in self.store.site_days()}
                shards = set(range(-(-total // SHARD)))
                self._lists(counts, pages, days)
            for made in made_pages:
                if made.error:
                    self.report.errors.append(made.error)
                    continue
                if made.sha:  # made by a worker: recorded here
                    self._record(made)
                self._leads[made.stale.article_id] = made.lead
                pages.add((made.stale.source, made.stale.source_rank // PAGE_SIZE + 1))
                days.add(made.day)
                shards.add(made.stale.rank // SHARD)
                advance(1)
            if not force:
                days |= self._left(stale)
                self._lists(counts, self._paginated(counts, pages), days)
            self._search(total, shards)
            for path, data in site_feeds(self.config, self.store, self.names, counts):
                self._write(path, data)
            if not self.report.errors:  # a page that failed is tried again next time
                self.store.set_site_marks(self.prefix, marks)
                self.store.mark_published(self.prefix + _EVERY_PAGE, every_page, None, "")
            if self.report.written:
                flush_to_disk()
        return self.report

    # -- pages -----------------------------------------------------------------------

    def _render(self, template: str, path: str, **values: Any) -> bytes:
        return self.maker.render(template, path, **values)

    def _articles(self, stale: list[Stale], pools: contextlib.ExitStack) -> Iterator[Made]:
        """Make the pages of these articles: here for a few (as the results are read), in
        worker processes (one a core, started at once; ``pools`` shuts them down) for
        many."""
        workers = min(os.cpu_count() or 1, MAX_WORKERS)
        if len(stale) < self.parallel_min or workers < 2:
            return (self._made_here(item) for item in stale)
        from newsmirror.workers import worker_pool  # when a large build uses them

        pool = pools.enter_context(worker_pool(workers, "spawn"))
        nav = tuple(s.slug for s in self.nav)
        jobs = [
            Job(self.store.path, self.config, str(self.root), nav, tuple(stale[i : i + JOB_SIZE]))
            for i in range(0, len(stale), JOB_SIZE)
        ]
        return itertools.chain.from_iterable(pool.map(make_pages, jobs))

    def _made_here(self, stale: Stale) -> Made:
        path = article_path(stale.source, stale.page)
        try:
            page = self.maker.article(stale)
            for relative, source in page.media:
                self._write(relative, media_bytes(source, relative))
        except NewsmirrorError as exc:
            return Made(stale, path, error=f"{path}: {exc}")
        self._write(page.path, page.data, stale.version_id, page.mode)
        return Made(stale, path, "", False, page.mode, page.lead, page.day)

    def _every_page(self) -> str:
        """A digest of what every page shows besides its own content (the site's name, the
        sources in its navigation and their names, the timezone of its dates): when it
        changes, every page is written again."""
        shown = [self.config.site_title, self.config.site_timezone]
        shown += [f"{s.slug}={s.name}" for s in self.nav]
        return digest("\n".join(shown).encode("utf-8"))

    def _paginated(
        self, counts: dict[str, int], pages: set[tuple[str, int]]
    ) -> set[tuple[str, int]]:
        """The source pages to write: those asked for, and every page of a source whose
        number of pages grew (each links to all of them), as its last page, not yet
        written, says."""
        for slug, count in counts.items():
            last = page_count(count)
            if self.store.published_digest(f"{self.prefix}s/{slug}/{last}.html") is None:
                pages |= {(slug, number) for number in range(1, last + 1)}
        return pages

    def _left(self, stale: list[Stale]) -> set[str]:
        """The days articles left: those their pages show them on, for the articles
        whose new version moved them to another day."""
        shown = [s.shown for s in stale if s.shown is not None and s.shown != s.version_id]
        return {self.names.day(ms) for ms in self.store.site_times(shown)}

    def _record(self, made: Made) -> None:
        """Count and record a page a worker made (one made here is recorded already)."""
        for relative, sha, written in made.media:
            self._count(written)
            if written:
                note_unsynced(self.root / relative)
            self.store.mark_published(self.prefix + relative, sha, None, "site")
        self._count(made.written)
        if made.written:
            note_unsynced(self.root / made.path)
        key = self.prefix + made.path
        self.store.mark_published(key, made.sha, made.stale.version_id, made.mode)

    def _count(self, written: bool) -> None:
        if written:
            self.report.written += 1
        else:
            self.report.unchanged += 1

    def _lists(self, counts: dict[str, int], pages: set[tuple[str, int]], days: set[str]) -> None:
        lists = ListPages(self.maker, self.store, self.names, self.config.site_timezone)
        listed = [
            Listing(s.slug, s.name, counts[s.slug])
            for s in self.config.sources
            if counts.get(s.slug)
        ]
        self._write("index.html", lists.front(listed))
        self._write("about.html", lists.about(listed))
        for source in listed:
            self._write(f"s/{source.slug}/index.html", lists.source_index(source))
        for slug, number, listed_page in self._source_pages(pages):
            page = lists.source_page(slug, number, counts.get(slug, 0), listed_page)
            self._write(f"s/{slug}/{number}.html", page)
        # every day (a new one, one an article left), written when it changed
        self._write("d/index.html", lists.days())
        for day in sorted(days):
            self._write(f"d/{day}.html", lists.day(day))

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
                    article_path(a.source, a.page),
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
