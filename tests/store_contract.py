"""The storage contract: the fixtures and builders of the suite that checks every method
of the :class:`~newsmirror.store.Store` Protocol (``test_store_contract*.py``).

The suite runs once per backend in :data:`BACKENDS`; a backend joins it by being named
there and opened by :func:`open_store`. The tests build their data through the Protocol
alone (no SQL, no backend's internals), so they run unchanged on any backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from newsmirror import decide
from newsmirror.search.query import Query, parse_query
from newsmirror.store import SearchResults, Store, open_reader, open_store
from newsmirror.store.watching import VisitRecord, WatchTarget
from newsmirror.types import Candidate, Capture, Source

BACKENDS = ("sqlite", "postgresql")

FEED = "http://feeds.test/rfi.xml"
FEED_2 = "http://feeds.test/rfi-2.xml"
CDT_FEED = "http://feeds.test/cdt.xml"
SOURCES = (
    Source("rfi", "法广", (FEED, FEED_2)),
    Source("cdt", "中国数字时代", (CDT_FEED,), id_scheme="post"),
)
#: 2024-05-01 00:00 UTC: items are published a minute apart from here.
START = datetime(2024, 5, 1, tzinfo=UTC)
START_MS = int(START.timestamp() * 1000)


class Stores:
    """Opens stores of one backend, each in a place of its own (or again at one): for
    SQLite a folder under ``root``, for PostgreSQL a database of its own (``databases``
    gives its URL by name)."""

    def __init__(
        self, backend: str, root: Path, databases: Callable[[str], str] | None = None
    ) -> None:
        self.backend, self.root, self.databases = backend, root, databases
        self.opened: list[Store] = []

    def location(self, name: str = "main") -> str:
        """Where the store called ``name`` lives (a file's path, or a database's URL)."""
        if self.backend == "postgresql" and self.databases is not None:
            return self.databases(name)
        if self.backend == "sqlite":
            (self.root / name).mkdir(exist_ok=True)
            return str(self.root / name / "store.db")
        raise ValueError(f"no such backend: {self.backend}")

    def open(self, name: str = "main") -> Store:
        """The store called ``name`` (empty the first time), its sources synced."""
        store = open_store(self.location(name))
        self.opened.append(store)
        store.sync_sources(SOURCES)
        return store

    def reader(self, name: str = "main") -> Store:
        """A store that only reads the one called ``name`` (opened before)."""
        store = open_reader(self.location(name))
        self.opened.append(store)
        return store

    def close(self) -> None:
        for store in self.opened:
            store.close()


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    """Stores of the backend under test."""
    databases = None
    if request.param == "postgresql":
        databases = request.getfixturevalue("postgres_databases")
    opened = Stores(request.param, tmp_path, databases)
    yield opened
    opened.close()


@pytest.fixture
def store(stores: Stores) -> Store:
    """A new store of the backend under test, with :data:`SOURCES` synced."""
    return stores.open()


# -- builders ----------------------------------------------------------------------------


def at(minutes: float) -> str:
    """An ISO time ``minutes`` after :data:`START`."""
    return when(minutes).isoformat()


def when(minutes: float) -> datetime:
    """The aware UTC time ``minutes`` after :data:`START`."""
    return START + timedelta(minutes=minutes)


def item(n: int, source: str = "rfi", **changes: Any) -> Candidate:
    """Item ``n`` of a feed as collecting gives it to the store: its own guid and URL,
    published ``n`` minutes after :data:`START`; ``changes`` replace fields (the content
    hash follows a changed title or clean HTML)."""
    html = f"<p>第{n}篇报道的正文 text{n}</p>"
    fields: dict[str, Any] = {
        "source": source,
        "identity": f"guid:g{n}",
        "guid": f"g{n}",
        "url": f"http://news.test/{source}/{n}",
        "link": f"http://news.test/{source}/{n}",
        "title": f"标题 title{n}",
        "published_ms": START_MS + n * 60_000,
        "date_missing": False,
        "raw_html": html,
        "clean_html": html,
        "content_hash": "",
        "feed_url": CDT_FEED if source == "cdt" else FEED,
    }
    fields.update(changes)
    if "content_hash" not in changes:
        fields["content_hash"] = decide.content_hash(fields["title"], fields["clean_html"])
    return Candidate(**fields)


def edited(candidate: Candidate, html: str, **changes: Any) -> Candidate:
    """The same item with other content (a new content hash)."""
    title = changes.pop("title", candidate.title)
    return replace(
        candidate,
        title=title,
        raw_html=html,
        clean_html=html,
        content_hash=decide.content_hash(title, html),
        **changes,
    )


def capture(body: bytes, kind: str = "feed", minutes: float = 0, url: str = FEED) -> Capture:
    """An HTTP exchange as fetching keeps it."""
    return Capture(
        kind=kind,
        url=url,
        final_url=url,
        status=200,
        request_headers=(("User-Agent", "newsmirror"),),
        headers=(("Content-Type", "text/html; charset=utf-8"), ("X-Note", "中文")),
        body=body,
        at=at(minutes),
    )


def link(n: int, source: str = "rfi") -> str:
    """The link (and URL) of item ``n``."""
    return f"http://news.test/{source}/{n}"


def search(store: Store, text: str, **options: Any) -> SearchResults:
    """The store's answer to a query (``options``: the Query's other fields)."""
    return store.search(Query(terms=parse_query(text), **options))


def found(store: Store, text: str, **options: Any) -> list[str]:
    """The links of the hits of a query, in the order given."""
    return [hit.link for hit in search(store, text, limit=100, **options).hits]


def target_of(store: Store, n: int, source: str = "rfi") -> WatchTarget:
    """The revisit of item ``n`` the store offers (``watch_all``)."""
    found = [t for t in store.watch_all() if t.url == f"http://news.test/{source}/{n}"]
    assert len(found) == 1, found
    return found[0]


def visit(minutes: float, outcome: str = "unchanged", **changes: Any) -> VisitRecord:
    """A revisit that found ``outcome`` (``changes`` replace fields)."""
    fields: dict[str, Any] = {
        "at": at(minutes),
        "url": "http://news.test/page",
        "outcome": outcome,
        "http_status": 404 if outcome == "gone" else 200,
        "final_url": "http://news.test/page",
        "reason": "HTTP 404" if outcome == "gone" else "same content",
        "gone": outcome == "gone",
        "failures": 0,
        "next_visit": at(minutes + 60),
        "page_hash": "",
        "page_title": "",
        "capture": None,
        "version": None,
    }
    fields.update(changes)
    return VisitRecord(**fields)
