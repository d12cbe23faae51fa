"""What the reader's threads share, and what each has of its own.

Each thread that answers requests has its own :class:`Live`: a store on a connection
that only reads (:func:`newsmirror.store.open_reader`), and the page makers over it. In
WAL mode such a connection reads what was committed when its query began and never
waits for the writer (``newsmirror run`` beside it), so no reader sees "database is
locked". What every thread shares (:class:`Shared`): the configuration, the templates,
and the responses already made, keyed by the archive's *marks* (its newest version and
visit: nothing a page shows changes without one of them moving).
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from newsmirror.config.settings import Config
from newsmirror.jobs.reading import Reading
from newsmirror.publish.site.lists import ListPages
from newsmirror.publish.site.pages import PageMaker, environment
from newsmirror.publish.site.pieces import Listing, Names
from newsmirror.store import Store, open_reader, open_store
from newsmirror.types import Source

CACHED = 2000  # responses kept made (the most recently used)


@dataclass(frozen=True)
class Snapshot:
    """What many pages show, as of some marks: the sources with articles and counts."""

    marks: tuple[int, int]  # the newest version and visit
    counts: dict[str, int]  # articles per source slug
    nav: list[Source]  # the sources with articles, in configuration order
    listed: list[Listing]  # the same with their names and counts
    since: float  # when this process first saw these marks (epoch seconds)

    @property
    def tag(self) -> str:
        return f"{self.marks[0]}.{self.marks[1]}"


@dataclass(frozen=True)
class Made:
    """A response body made once, for as long as the marks it was made at hold."""

    body: bytes
    media_type: str
    status: int = 200


class Shared:
    """What every thread of one reader process shares."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.names = Names({s.slug: s.name for s in config.sources}, ZoneInfo(config.site_timezone))
        self.env = environment()  # (jinja's environment renders from many threads)
        self.version = hashlib.sha256(repr(config).encode()).hexdigest()[:12]
        self._local = threading.local()
        self._lock = threading.Lock()
        self._made: OrderedDict[str, Made] = OrderedDict()
        self._snapshot: Snapshot | None = None
        self._opened: list[Store] = []
        store = open_store(config.database_path)  # made and migrated before readers open
        store.close()

    def live(self) -> Live:
        """This thread's own :class:`Live` (opened on its first request)."""
        live: Live | None = getattr(self._local, "live", None)
        if live is None:
            store = open_reader(self.config.database_path)
            with self._lock:
                self._opened.append(store)
            live = self._local.live = Live(self, store)
        return live

    def snapshot(self, store: Store) -> Snapshot:
        """The sources and counts as of the archive's marks now (read again only when
        they moved)."""
        marks = store.site_marks()
        known = self._snapshot
        if known is not None and known.marks == marks:
            return known
        counts = store.site_source_counts()
        nav = [s for s in self.config.sources if counts.get(s.slug)]
        listed = [Listing(s.slug, s.name, counts[s.slug]) for s in nav]
        since = time.time() if known is None or known.marks < marks else known.since
        made = Snapshot(marks, counts, nav, listed, since)
        with self._lock:
            if self._snapshot is None or self._snapshot.marks <= marks:
                self._snapshot = made
        return made

    def made(self, key: str) -> Made | None:
        with self._lock:
            found = self._made.get(key)
            if found is not None:
                self._made.move_to_end(key)
            return found

    def keep(self, key: str, made: Made) -> None:
        with self._lock:
            self._made[key] = made
            while len(self._made) > CACHED:
                self._made.popitem(last=False)

    def close(self) -> None:
        """Close every thread's store."""
        with self._lock:
            for store in self._opened:
                with contextlib.suppress(Exception):  # (one another thread opened: at exit)
                    store.close()
            self._opened.clear()


class Live:
    """One thread's store and page makers."""

    def __init__(self, shared: Shared, store: Store) -> None:
        self.shared, self.store = shared, store
        config = shared.config
        self.reading = Reading(store, config)
        self.maker = PageMaker(config, config.media_path, store, [], shared.names)
        self.maker.env, self.maker.live = shared.env, True
        self.lists = ListPages(self.maker, store, shared.names, config.site_timezone)

    def at(self, snapshot: Snapshot) -> Live:
        """Ready to render pages as of ``snapshot`` (its navigation)."""
        self.maker.nav = snapshot.nav
        return self
