"""Where newsmirror may connect: a configured feed anywhere; the pages, redirects, images
and revisits a feed leads to, never to a non-public address (unless the setting allows
it), checked on the address the connection reached. The internal host is a loopback
server that counts what reaches it; 127.0.0.2 plays a public host (the policy is told so
by the ``public_127_0_0_2`` fixture)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conftest import make_source, rss
from newsmirror.errors import ForbiddenAddressError
from newsmirror.fetch import netpolicy as netpolicy
from newsmirror.fetch.client import Fetcher, FetchSettings, Request
from newsmirror.jobs.archive import Archive
from newsmirror.types import SourceReport
from servers import HTTPProxy, HTTPServer, Reply, Seen
from test_images import picture

SECRET = "内部机密文件：只在内网可见的资料。"  # the internal page's text
PAGE = ("<html><body><article>" + f"<p>{SECRET * 20}</p>" * 5 + "</article></body></html>").encode()
HTML = {"Content_Type": "text/html; charset=utf-8"}
RFC822 = "Sun, 09 Apr 2023 11:15:02 GMT"
FAST = FetchSettings(timeout=3.0, connect_timeout=1.0, read_timeout=1.0, retries=0)


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's proxy variables must not put a proxy between the tests and their
    loopback hosts (the policy checks less through one)."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def public_127_0_0_2(monkeypatch: pytest.MonkeyPatch) -> None:
    """The policy takes 127.0.0.2 for a public address (a host on the internet)."""
    real = netpolicy.is_public

    def is_public(address: netpolicy.Address) -> bool:
        return address == ipaddress.ip_address("127.0.0.2") or real(address)

    monkeypatch.setattr(netpolicy, "is_public", is_public)


@pytest.fixture
def internal() -> Iterator[HTTPServer]:
    with HTTPServer() as server:
        server.set("/secret", PAGE, **HTML)
        server.set("/", PAGE, **HTML)
        server.set("/img.png", picture(), Content_Type="image/png")
        yield server


@pytest.fixture
def public(public_127_0_0_2: None) -> Iterator[HTTPServer]:
    with HTTPServer("127.0.0.2") as server:
        yield server


def hostile_feed(internal: HTTPServer, public: HTTPServer) -> str:
    """A feed (on the public host) whose items lead inside: summaries linking to internal
    pages, by address, by name and in other spellings, one through a redirect; and a
    whole article showing an internal image."""
    port = internal.port
    links = [
        f"http://127.0.0.1:{port}/secret",
        f"http://localhost:{port}/",
        public.route("/go", redirect(f"http://127.0.0.1:{port}/secret")),
        f"http://2130706433:{port}/secret?n=4",
        f"http://0x7f000001:{port}/secret?n=5",
        f"http://127.1:{port}/secret?n=6",
    ]
    items = [
        {"title": f"摘要 {n}", "link": link, "guid": f"urn:{n}", "pubDate": RFC822}
        | {"description": "<p>摘要……</p>"}
        for n, link in enumerate(links)
    ]
    whole = "<p>" + "很长的正文。" * 60 + f'</p><p><img src="http://127.0.0.1:{port}/img.png"></p>'
    items.append(
        {"title": "图", "link": public.url("/whole"), "guid": "urn:img", "pubDate": RFC822}
        | {"description": whole}
    )
    return public.set("/feed.xml", rss(items).encode(), Content_Type="application/rss+xml")


def redirect(location: str) -> Callable[[Seen], Any]:
    async def handler(seen: Seen) -> Reply:
        return Reply(302, b"", {"Location": location})

    return handler


def outputs(archive: Archive, home: Path) -> str:
    """Everything the archive publishes, as one text: markdown, site, Atom feeds."""
    archive.publish_markdown()
    archive.publish_site(home / "site")
    return "\n".join(
        path.read_text("utf-8", "replace")
        for path in home.rglob("*")
        if path.is_file() and path.suffix in (".md", ".html", ".xml", ".json", ".js")
    )


def fetch_hostile(
    internal: HTTPServer,
    public: HTTPServer,
    make_archive: Callable[..., Archive],
    home: Path,
    allowed: bool,
) -> tuple[Archive, SourceReport, str, int]:
    """The hostile feed fetched into a new archive: its report, what it published and
    how many articles a search for the secret finds."""
    feed = hostile_feed(internal, public)
    source = make_source("s", [feed], full_text="auto", mirror_images=True)
    archive = make_archive((source,), home=home, fetch={"allow_private_addresses": allowed})
    [report] = archive.fetch()
    assert report.new == 7 and not report.failed  # every item archived, the feed taken
    return archive, report, outputs(archive, home), archive.search("内部机密文件").total


def test_what_a_feed_leads_to_never_reaches_an_internal_host(
    internal: HTTPServer,
    public: HTTPServer,
    make_archive: Callable[..., Archive],
    tmp_path: Path,
) -> None:
    archive, report, published, found = fetch_hostile(
        internal, public, make_archive, tmp_path / "a", allowed=False
    )
    assert internal.seen == []  # no request reached the internal host
    assert SECRET not in published and found == 0
    assert all("内部" not in line for line in report.errors)
    assert "refused to connect to 127.0.0.1" in report.errors[0]
    for n in range(6):
        article = archive.show(f"urn:{n}")
        assert article is not None
        [version] = article.versions
        assert version.method == "feed" and "not a public one" in version.method_note
        assert "next run tries again" not in version.method_note  # refused for good
    [(url, status, reason, _)] = archive.store.media_failures()
    assert url.endswith("/img.png") and status == "refused" and "loopback" in reason
    [again] = archive.fetch(force=True)  # refused pages are not tried again
    assert again.errors == () and internal.seen == []

    # the same feed with the setting on: everything reaches inside (what the test detects)
    _, _, published, found = fetch_hostile(
        internal, public, make_archive, tmp_path / "b", allowed=True
    )
    assert internal.seen and SECRET in published and found


def test_a_feed_is_fetched_where_it_is_configured_and_its_redirects_stay_there(
    internal: HTTPServer, public: HTTPServer, make_archive: Callable[..., Archive]
) -> None:
    """An internal feed, configured: fetched, and so is its redirect to another internal
    address. A public feed that redirects inside is refused."""
    body = rss([{"title": "t", "link": "http://example.org/1", "guid": "g"}]).encode()
    internal.set("/feed.xml", body, Content_Type="application/rss+xml")
    moved = internal.route("/moved.xml", redirect(internal.url("/feed.xml", "localhost")))
    leaving = public.route("/leaves.xml", redirect(internal.url("/feed.xml")))
    archive = make_archive(
        (make_source("inside", [moved]), make_source("outside", [leaving])),
        fetch={"allow_private_addresses": False},
    )
    inside, outside = archive.fetch()
    assert inside.new == 1 and not inside.errors
    assert outside.failed and "refused to connect to 127.0.0.1" in outside.errors[0]
    assert [s.path for s in internal.seen] == ["/moved.xml", "/feed.xml"]  # the inside one's


@pytest.mark.parametrize(
    "metadata", ["http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/"]
)
def test_a_configured_feed_never_redirects_to_a_link_local_address(
    internal: HTTPServer, make_archive: Callable[..., Archive], metadata: str
) -> None:
    """An internal feed, configured, may redirect to other internal addresses (above), but
    never to a link-local one: the cloud's metadata is no feed's address."""
    to_metadata = internal.route("/moved.xml", redirect(metadata))
    archive = make_archive(
        (make_source("inside", [to_metadata]),), fetch={"allow_private_addresses": False}
    )
    (report,) = archive.fetch()
    assert report.failed
    assert "link-local address, not a public one" in report.errors[0]


def test_revisits_are_refused_an_internal_address(
    internal: HTTPServer, public: HTTPServer, make_archive: Callable[..., Archive]
) -> None:
    """An article stored while the setting allowed it; revisited without: refused."""
    feed = public.set(
        "/feed.xml",
        rss([{"title": "t", "link": internal.url("/secret"), "guid": "g"}]).encode(),
        Content_Type="application/rss+xml",
    )
    archive = make_archive((make_source("s", [feed]),), fetch={"allow_private_addresses": False})
    archive.fetch()
    report = archive.watch(everything=True)
    assert report.outcomes["unreachable"] == 1 and internal.seen == []


def test_a_name_is_checked_on_the_address_it_reached(
    internal: HTTPServer, monkeypatch: pytest.MonkeyPatch, public_127_0_0_2: None
) -> None:
    """DNS rebinding: a name that resolved to a public address, then to an internal one.
    The second connection is closed before a byte of the request is sent."""
    with HTTPServer("127.0.0.2") as outside:
        try:
            inside = HTTPServer("127.0.0.1", outside.port)  # the same port, inside
        except OSError:
            pytest.skip("the port is taken on 127.0.0.1")
        with inside:
            outside.set("/a", PAGE, **HTML)
            inside.set("/b", PAGE, **HTML)
            answers = iter(["127.0.0.2", "127.0.0.1", "127.0.0.1"])
            real = socket.getaddrinfo

            def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
                if host in ("news.example", b"news.example"):
                    host = next(answers)
                return real(host, *args, **kwargs)

            monkeypatch.setattr(socket, "getaddrinfo", rebinding)

            async def run() -> list[object]:
                async with Fetcher(FAST) as fetcher:
                    first = await fetcher.fetch(Request(f"http://news.example:{inside.port}/a"))
                    try:
                        await fetcher.fetch(Request(f"http://news.example:{inside.port}/b"))
                    except ForbiddenAddressError as exc:
                        return [first.status, str(exc)]
                    return [first.status, "not refused"]

            status, error = asyncio.run(run())
            assert status == 200 and [s.path for s in outside.seen] == ["/a"]
            assert error.startswith("refused to connect to news.example (127.0.0.1)")
            assert inside.connections >= 1 and inside.seen == []  # connected, nothing sent


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.1", "loopback"),
        ("2130706433", "loopback"),
        ("0x7f000001", "loopback"),
        ("0177.0.0.1", "loopback"),
        ("[::1]", "loopback"),
        ("[::ffff:127.0.0.1]", "IPv4-mapped loopback"),
        ("[::ffff:7f00:1]", "IPv4-mapped loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "shared (CGNAT)"),
        ("[fd00::1]", "private"),
        ("[fe80::1%25eth0]", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("0", "unspecified"),
        ("[::]", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("[ff02::1]", "multicast"),
        ("240.0.0.1", "reserved"),
        ("[2002:7f00:1::1]", "non-public"),  # 6to4 of 127.0.0.1
        ("[64:ff9b::a00:1]", "reserved"),  # NAT64 of 10.0.0.1
        ("localhost", ""),
        ("LocalHost.", ""),
        ("a.localhost", ""),
    ],
)
def test_non_public_hosts_are_refused_however_written(host: str, kind: str) -> None:
    with pytest.raises(ForbiddenAddressError, match="not a public one") as refused:
        netpolicy.check_host(host.replace("%25", "%"))
    assert (f"a {kind} address" if kind else "a local name") in str(refused.value)


@pytest.mark.parametrize("host", ["93.184.215.14", "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]"])
def test_public_addresses_and_names_pass_the_host_check(host: str) -> None:
    netpolicy.check_host(host)
    netpolicy.check_host("example.org")
    assert netpolicy.literal_address("example.org") is None
    assert netpolicy.literal_address("1.2.3.4.5") is None


def test_through_a_proxy_addresses_in_urls_are_refused_before_anything_is_sent(
    internal: HTTPServer,
) -> None:
    """Through a proxy the connection is to the proxy (the user's choice, on loopback
    here): what the policy can still check is the address a URL names, and localhost
    names; those never reach the proxy. A configured URL goes through."""
    with HTTPProxy() as proxy:
        settings = replace(FAST, proxy=proxy.url)

        async def run() -> list[str]:
            outcomes = []
            async with Fetcher(settings) as fetcher:
                for url in (internal.url("/secret"), internal.url("/", "localhost")):
                    try:
                        await fetcher.fetch(Request(url))
                        outcomes.append("fetched")
                    except ForbiddenAddressError as exc:
                        outcomes.append(str(exc).split(":", 1)[0])
                configured = await fetcher.fetch(Request(internal.url("/"), configured=True))
                outcomes.append(str(configured.status))
            return outcomes

        outcomes = asyncio.run(run())
    assert outcomes == ["refused to connect to 127.0.0.1", "refused to connect to localhost", "200"]
    assert proxy.seen == [internal.url("/")] and [s.path for s in internal.seen] == ["/"]
