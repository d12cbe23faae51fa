"""Shared fixtures: a loopback HTTP server the tests program, and archive factories."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from hypothesis import settings

from newsmirror.config.settings import build_config
from newsmirror.jobs.archive import Archive
from newsmirror.times import Clock
from newsmirror.types import Source

# CI runs the property tests with a fixed seed (a red main must mean a real regression);
# elsewhere each run explores new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

DATA = Path(__file__).parent / "data"
#: The storage contract's fixtures (``store``, ``stores``: one per backend).
pytest_plugins = ("store_contract",)

# --- no internet in tests, enforced --------------------------------------------------------
# Every name lookup and every connection a test makes must stay on this machine's loopback:
# anything else fails at once, loudly, instead of reaching (or waiting for) the internet.
# uvloop does its own lookups and connections, out of reach of these checks, so the tests
# run on asyncio's loop (the executable still uses uvloop; the CLI tests run it).
sys.modules["uvloop"] = None  # type: ignore[assignment]
_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _loopback(host: object) -> bool:
    if host is None or host in ("localhost", b"localhost"):
        return True
    try:
        name = host.decode() if isinstance(host, bytes) else str(host)
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _loopback(host):
        raise socket.gaierror(socket.EAI_NONAME, f"tests may not look up {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


def _check_address(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
        raise ConnectionRefusedError(f"tests may not connect to {address!r}")


def _guarded_connect(sock: socket.socket, address: Any) -> None:
    _check_address(sock, address)
    _real_connect(sock, address)


def _guarded_connect_ex(sock: socket.socket, address: Any) -> int:
    _check_address(sock, address)
    return _real_connect_ex(sock, address)


socket.getaddrinfo = _guarded_getaddrinfo
socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


# --- PostgreSQL: a real server, a fresh database per test ------------------------------------
#: The URL of a PostgreSQL server the tests may make databases on (scripts/check starts
#: one with scripts/pgserver and sets it).
POSTGRES_ENV = "NEWSMIRROR_TEST_POSTGRES"
NO_POSTGRES = (
    f"no PostgreSQL server: run `bash scripts/check`, or `scripts/pgserver start DIR` and set "
    f"{POSTGRES_ENV} to the URL it prints"
)


def database_url(server: str, name: str) -> str:
    """The URL of database ``name`` on the server of URL ``server``."""
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def _admin(server: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as db:
        db.execute(statement)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[tuple[str, str]]:
    """(server URL, template database): a database with newsmirror's schema, made once a
    session, that each test's database is a copy of. Skips without a server."""
    server = os.environ.get(POSTGRES_ENV, "")
    if not server:
        pytest.skip(NO_POSTGRES)
    from newsmirror.store import open_store

    template = f"newsmirror_template_{os.getpid()}"
    _admin(server, f"DROP DATABASE IF EXISTS {template} WITH (FORCE)")
    _admin(server, f"CREATE DATABASE {template}")
    open_store(database_url(server, template)).close()  # migrated
    yield server, template
    _admin(server, f"DROP DATABASE IF EXISTS {template} WITH (FORCE)")


@contextmanager
def _databases(template: tuple[str, str]) -> Iterator[Callable[[str], str]]:
    """name → URL of a fresh, empty database called ``name`` (made the first time it is
    asked for, the same one after); every one is dropped at the end."""
    server, model = template
    made: dict[str, str] = {}

    def database(name: str = "main") -> str:
        if name not in made:
            real = f"t_{uuid.uuid4().hex[:16]}"
            _admin(server, f"CREATE DATABASE {real} TEMPLATE {model}")
            made[name] = real
        return database_url(server, made[name])

    try:
        yield database
    finally:
        for real in made.values():
            _admin(server, f"DROP DATABASE IF EXISTS {real} WITH (FORCE)")


@pytest.fixture
def postgres_databases(postgres_template: tuple[str, str]) -> Iterator[Callable[[str], str]]:
    """name → URL of a fresh, empty database of this test called ``name``; every one is
    dropped after the test."""
    with _databases(postgres_template) as database:
        yield database


@pytest.fixture(scope="module")
def postgres_module_databases(
    postgres_template: tuple[str, str],
) -> Iterator[Callable[[str], str]]:
    """As :func:`postgres_databases`, for a module's fixtures (dropped after the module)."""
    with _databases(postgres_template) as database:
        yield database


@pytest.fixture
def postgres_url(postgres_databases: Callable[[str], str]) -> str:
    """The URL of a fresh, empty PostgreSQL database for this test."""
    return postgres_databases("main")


@dataclass
class Route:
    """What the server answers for one path."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/xml"})


class _QuietServer(ThreadingHTTPServer):
    """A client hanging up mid-body is expected in these tests: no traceback."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 whose answers the test sets per path."""

    def __init__(self) -> None:
        self.routes: dict[str, Route | Callable[[BaseHTTPRequestHandler], None]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, dict(self.headers)))
                route = server.routes.get(self.path)
                if callable(route):
                    route(self)
                    return
                if route is None:
                    route = Route(b"not found", 404, {"Content-Type": "text/plain"})
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def set(self, path: str, body: bytes | str, status: int = 200, **headers: str) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(data, status, headers or {"Content-Type": "application/xml"})
        return self.url(path)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer()
    yield srv
    srv.close()


def make_source(slug: str, feeds: list[str], **kw: Any) -> Source:
    """A source for tests: its feeds' content is taken as is (``full_text="feed"``) unless
    the test asks for pages."""
    kw.setdefault("full_text", "page" if kw.get("fulltext_selector") else "feed")
    return Source(slug=slug, name=kw.pop("name", slug.upper()), feeds=tuple(feeds), **kw)


@pytest.fixture
def make_archive(tmp_path: Path) -> Iterator[Callable[..., Archive]]:
    opened: list[Archive] = []

    def factory(
        sources: tuple[Source, ...] | None = None,
        home: Path | None = None,
        fetch: dict[str, Any] | None = None,
        clock: Clock | None = None,
        **settings: Any,
    ) -> Archive:
        # the tests' pages, images and revisits are on loopback: allowed here, refused by
        # default (tests of that policy turn it off with fetch={...})
        data: dict[str, Any] = {
            "archive": {},
            "fetch": {"timeout": 5.0, "allow_private_addresses": True, **(fetch or {})},
        }
        for key, value in settings.items():
            data["archive"][key] = value
        config = build_config(home or tmp_path / "home", data)
        if sources is not None:
            config = replace(config, sources=sources)
        archive = Archive(config, clock=clock)
        opened.append(archive)
        return archive

    yield factory
    for archive in opened:
        archive.close()


def rss(items: list[dict[str, str]], title: str = "feed") -> str:
    """A small RSS 2.0 document; each item dict may hold title, link, guid, pubDate,
    description, content (content:encoded) and category."""
    parts = []
    for item in items:
        fields = []
        for key in ("title", "link", "guid", "pubDate", "category"):
            if key in item:
                fields.append(f"<{key}>{item[key]}</{key}>")
        if "description" in item:
            fields.append(f"<description><![CDATA[{item['description']}]]></description>")
        if "content" in item:
            fields.append(f"<content:encoded><![CDATA[{item['content']}]]></content:encoded>")
        parts.append("<item>" + "".join(fields) + "</item>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{title}</title><link>http://example.org/</link>"
        "<description>d</description>" + "".join(parts) + "</channel></rss>"
    )


def one_item_feed(server: LoopbackServer, path: str = "/a.xml") -> str:
    """Serve a feed of one plain item (title "t", link http://example.org/1) at ``path``."""
    return server.set(
        path,
        rss(
            [
                {
                    "title": "t",
                    "link": "http://example.org/1",
                    "pubDate": "Sun, 09 Apr 2023 11:15:02 GMT",
                    "description": "<p>x</p>",
                }
            ]
        ),
    )
