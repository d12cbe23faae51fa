"""The async fetch layer against loopback servers (tests/servers.py): no internet.

Each test starts its own servers and runs its client with ``asyncio.run``; timeouts and
backoffs are small so the whole file runs in seconds.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import ssl
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from newsmirror.errors import (
    BodyTooLargeError,
    ConfigError,
    DecompressionBombError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    NetworkError,
    RedirectError,
    RedirectLoopError,
    UnreachableError,
)
from newsmirror.fetch.client import (
    DEFAULT_USER_AGENT,
    DOWN_AFTER,
    AttemptLog,
    Fetcher,
    FetchSettings,
    Request,
)
from newsmirror.fetch.pools import environment_proxies, may_use_tls
from newsmirror.types import FetchResult
from servers import HTTPProxy, HTTPServer, RawServer, Reply, Seen, SOCKS5Proxy, closed_port

FEEDS = Path(__file__).parent / "data" / "feeds"
MIB = 1024 * 1024
FAST = FetchSettings(  # loopback servers stand for the internet: every address allowed
    timeout=5.0, connect_timeout=2.0, read_timeout=2.0, backoff=0.01, allow_private_addresses=True
)
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's own proxy variables must not reroute loopback tests."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with HTTPServer() as srv:
        yield srv


def fetch(
    target: str | Request, logs: list[AttemptLog] | None = None, **settings: Any
) -> FetchResult:
    """Fetch one request with fast settings (overridable), recording every attempt."""
    request = Request(target) if isinstance(target, str) else target

    async def run() -> FetchResult:
        hook = logs.append if logs is not None else None
        async with Fetcher(replace(FAST, **settings), on_attempt=hook) as fetcher:
            return await fetcher.fetch(request)

    return asyncio.run(run())


def sequence(*replies: Reply) -> Any:
    """A handler answering with each reply in turn, then the last one forever."""
    queue = list(replies)

    async def handler(seen: Seen) -> Reply:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler


# --- conditional requests and result fields -------------------------------------------


def test_304_with_etag_sends_validators_and_costs_no_body(server: HTTPServer) -> None:
    async def handler(seen: Seen) -> Reply:
        if seen.headers.get("if-none-match") == '"v1"':
            return Reply(304, b"", {"ETag": '"v1"', "Cache-Control": "public, max-age=600"})
        return Reply(200, b"<rss/>", {"ETag": '"v1"'})

    url = server.route("/feed", handler)
    logs: list[AttemptLog] = []
    request = Request(url, etag='"v1"', last_modified="Sun, 09 Apr 2023 11:15:02 GMT")
    result = fetch(request, logs)
    assert result.not_modified and result.status == 304
    assert result.body == b"" and result.received_bytes == 0
    assert result.etag == '"v1"' and result.max_age == 600
    assert result.last_modified == "Sun, 09 Apr 2023 11:15:02 GMT"  # kept from the request
    assert server.seen[0].headers["if-modified-since"] == request.last_modified
    assert [(log.status, log.bytes, log.from_cache) for log in logs] == [(304, 0, True)]


def test_200_fields_and_default_headers(server: HTTPServer) -> None:
    body = (FEEDS / "greatfire__feeds__bbc.xml").read_bytes()
    headers = {
        "Content-Type": "application/rss+xml; charset=GBK",
        "ETag": 'W/"abc"',
        "Last-Modified": "Sun, 09 Apr 2023 11:15:02 GMT",
        "Content-Encoding": "gzip",
    }
    url = server.route("/feed", sequence(Reply(200, gzip.compress(body), headers)))
    result = fetch(url)
    assert result.body == body and result.status == 200 and not result.not_modified
    assert result.received_bytes == len(gzip.compress(body)) < len(body)
    assert (result.etag, result.last_modified) == ('W/"abc"', "Sun, 09 Apr 2023 11:15:02 GMT")
    assert result.encoding == "GBK" and result.headers["content-encoding"] == "gzip"
    assert result.final_url == url and result.attempts == 1 and result.max_age is None
    sent = server.seen[0].headers
    assert sent["user-agent"] == DEFAULT_USER_AGENT
    assert "gzip" in sent["accept-encoding"] and "application/rss+xml" in sent["accept"]
    assert "newsmirror/" in DEFAULT_USER_AGENT and "https://" in DEFAULT_USER_AGENT


def test_custom_user_agent_is_sent(server: HTTPServer) -> None:
    fetch(server.set("/feed", b"x"), user_agent="mirror-bot/2 (+https://example.org/bot)")
    assert server.seen[0].headers["user-agent"] == "mirror-bot/2 (+https://example.org/bot)"


# --- retries ----------------------------------------------------------------------------


def test_500_then_200_is_retried_once(server: HTTPServer) -> None:
    url = server.route("/feed", sequence(Reply(500, b"oops"), Reply(200, b"<rss/>")))
    logs: list[AttemptLog] = []
    result = fetch(url, logs)
    assert (result.attempts, result.body) == (2, b"<rss/>")
    assert [log.status for log in logs] == [500, 200]
    assert "HTTP 500" in logs[0].error and logs[1].error == ""


def test_429_with_short_retry_after_waits_then_succeeds(server: HTTPServer) -> None:
    busy = Reply(429, b"", {"Retry-After": "1"})
    url = server.route("/feed", sequence(busy, Reply(200, b"<rss/>")))
    started = time.monotonic()
    result = fetch(url)
    assert result.body == b"<rss/>" and result.attempts == 2
    assert time.monotonic() - started >= 0.95


def test_429_with_long_retry_after_defers_past_the_run(server: HTTPServer) -> None:
    """Retry-After beyond max_wait: no wait, no retry; the caller gets retry_after and
    defers the feed past this run."""
    url = server.set("/feed", b"", 429, Retry_After="3600")
    logs: list[AttemptLog] = []
    started = time.monotonic()
    with pytest.raises(HTTPStatusError) as caught:
        fetch(url, logs)
    assert time.monotonic() - started < 1.0 and len(logs) == 1
    assert (caught.value.status, caught.value.retry_after) == (429, 3600)
    assert "deferred" in str(caught.value) and url in str(caught.value)


def test_retries_are_bounded_and_counted_in_the_message(server: HTTPServer) -> None:
    url = server.set("/feed", b"", 503)
    logs: list[AttemptLog] = []
    with pytest.raises(HTTPStatusError) as caught:
        fetch(url, logs, retries=2)
    assert len(logs) == 3 and caught.value.status == 503 and caught.value.retry_after is None
    assert "after 3 attempts" in str(caught.value)


def test_404_is_not_retried(server: HTTPServer) -> None:
    logs: list[AttemptLog] = []
    with pytest.raises(HTTPStatusError) as caught:
        fetch(server.url("/missing"), logs, retries=3)
    assert caught.value.status == 404 and len(logs) == 1


def test_connection_refused_fails_after_the_retries() -> None:
    logs: list[AttemptLog] = []
    url = f"http://127.0.0.1:{closed_port()}/feed"
    with pytest.raises(NetworkError) as caught:
        fetch(url, logs, retries=2)
    assert [log.status for log in logs] == [0, 0, 0] and all(log.error for log in logs)
    assert "could not connect" in str(caught.value) and "after 3 attempts" in str(caught.value)
    assert not isinstance(caught.value.__cause__, FetchError)  # chained to the httpx error


def test_a_host_that_could_not_be_reached_is_not_tried_again_in_the_same_run(
    server: HTTPServer,
) -> None:
    """After DOWN_AFTER attempts in a row that opened no connection, the host's next
    requests fail at once (pages of a blocked host would each wait as long), and only that
    host's: another port of the same address still answers. A new Fetcher tries again."""
    down = f"http://127.0.0.1:{closed_port()}"
    live = server.set("/ok", b"fine")
    logs: list[AttemptLog] = []

    async def run() -> list[str]:
        outcomes = []
        async with Fetcher(replace(FAST, retries=1), on_attempt=logs.append) as fetcher:
            for url in (f"{down}/a", f"{down}/b", live, f"{down}/c"):
                try:
                    outcomes.append((await fetcher.fetch(Request(url))).body.decode())
                except FetchError as exc:
                    outcomes.append(type(exc).__name__)
        return outcomes

    assert asyncio.run(run()) == ["UnreachableError", "HostDownError", "fine", "HostDownError"]
    errors = [log.error for log in logs]
    assert sum(e.startswith("could not connect") for e in errors) == DOWN_AFTER  # a's two, b's
    assert sum(e.startswith("gave up on 127.0.0.1:") for e in errors) == 2
    with pytest.raises(UnreachableError):  # the next run tries again
        fetch(f"{down}/a", retries=0)


# --- time and size limits ---------------------------------------------------------------


async def drip(total: int, every: float) -> AsyncIterator[bytes]:
    for _ in range(total):
        yield b"x"
        await asyncio.sleep(every)


def test_a_dripping_server_hits_the_total_timeout(server: HTTPServer) -> None:
    """One byte a second never trips the 5 s read timeout; the 1.5 s total one stops it."""

    async def handler(seen: Seen) -> Reply:
        return Reply(200, drip(100, 1.0), {"Content-Length": "100"})

    url = server.route("/drip", handler)
    started = time.monotonic()
    with pytest.raises(FetchTimeoutError, match="in total"):
        fetch(url, timeout=1.5, read_timeout=5.0, retries=0)
    assert 1.4 <= time.monotonic() - started < 3.0


def test_a_silent_server_hits_the_read_timeout(server: HTTPServer) -> None:
    async def handler(seen: Seen) -> Reply:
        return Reply(200, drip_after(10.0), {})

    url = server.route("/silent", handler)
    with pytest.raises(FetchTimeoutError, match=r"no data for 0\.5 s"):
        fetch(url, read_timeout=0.5, retries=0)


async def drip_after(delay: float) -> AsyncIterator[bytes]:
    await asyncio.sleep(delay)
    yield b"late"


async def endless(chunk: bytes) -> AsyncIterator[bytes]:
    while True:
        yield chunk
        await asyncio.sleep(0)


def test_an_endless_body_is_cut_at_the_cap_with_bounded_memory(server: HTTPServer) -> None:
    async def handler(seen: Seen) -> Reply:
        return Reply(200, endless(b"x" * 65536), {})

    url = server.route("/endless", handler)
    logs: list[AttemptLog] = []
    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLargeError, match="cut off"):
            fetch(url, logs, max_bytes=MIB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert MIB < logs[0].bytes <= MIB + 65536 and len(logs) == 1  # a size cap is final
    assert peak < 12 * MIB


def test_an_announced_oversized_body_is_refused_before_reading(server: HTTPServer) -> None:
    async def handler(seen: Seen) -> Reply:
        return Reply(200, endless(b"x" * 1024), {"Content-Length": str(10**9)})

    logs: list[AttemptLog] = []
    with pytest.raises(BodyTooLargeError, match="announced"):
        fetch(server.route("/big", handler), logs, max_bytes=MIB)
    assert logs[0].bytes == 0


def test_a_gzip_bomb_is_refused(server: HTTPServer) -> None:
    bomb = gzip.compress(bytes(10 * MIB))
    url = server.set("/bomb", bomb, Content_Encoding="gzip")
    with pytest.raises(DecompressionBombError, match="decompressed"):
        fetch(url, max_decoded_bytes=MIB)


def test_a_gigabyte_gzip_bomb_is_refused_fast_in_small_memory(server: HTTPServer) -> None:
    member = gzip.compress(bytes(10 * MIB), compresslevel=9)
    bomb = member * 100  # 100 gzip members: 1 GiB of zeros from about 1 MB
    url = server.set("/bomb", bomb, Content_Encoding="gzip")
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(DecompressionBombError):
            fetch(url, max_decoded_bytes=MIB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5.0 and peak < 12 * MIB


# --- redirects --------------------------------------------------------------------------


def test_a_redirect_loop_is_detected(server: HTTPServer) -> None:
    server.set("/a", b"", 302, Location="/b")
    url = server.set("/b", b"", 301, Location=server.url("/a"))
    with pytest.raises(RedirectLoopError, match="redirect loop"):
        fetch(url)
    assert [seen.path for seen in server.seen] == ["/b", "/a"]


def test_too_many_redirects(server: HTTPServer) -> None:
    for n in range(10):
        server.set(f"/r{n}", b"", 307, Location=f"/r{n + 1}")
    logs: list[AttemptLog] = []
    with pytest.raises(RedirectError, match="more than 3 redirects") as caught:
        fetch(server.url("/r0"), logs, max_redirects=3)
    assert not isinstance(caught.value, RedirectLoopError) and len(logs) == 4


def test_a_relative_location_is_followed_to_the_final_url(server: HTTPServer) -> None:
    server.set("/old/feed", b"", 301, Location="../new/feed.xml?x=1")
    server.set("/new/feed.xml", b"<rss/>")
    logs: list[AttemptLog] = []
    result = fetch(Request(server.url("/old/feed"), etag='"e"'), logs)
    assert result.body == b"<rss/>" and result.final_url == server.url("/new/feed.xml?x=1")
    assert result.url == server.url("/old/feed") and result.attempts == 1
    assert [log.status for log in logs] == [301, 200]
    assert server.seen[1].headers["if-none-match"] == '"e"'


def test_a_redirect_without_location_or_to_another_scheme_is_refused(server: HTTPServer) -> None:
    with pytest.raises(RedirectError, match="without a Location"):
        fetch(server.set("/nowhere", b"", 302))
    with pytest.raises(RedirectError, match="non-HTTP"):
        fetch(server.set("/file", b"", 302, Location="file:///etc/passwd"))


# --- concurrency --------------------------------------------------------------------------


def test_per_host_limit_holds_while_another_host_is_served() -> None:
    """6 requests to one host with per_host=2 never have more than 2 in flight; a request
    to another host (localhost vs 127.0.0.1) is served meanwhile, not after them."""

    async def slow(seen: Seen) -> Reply:
        await asyncio.sleep(0.3)
        return Reply(200, b"ok")

    async def run(busy: HTTPServer, other: HTTPServer) -> tuple[float, float]:
        async with Fetcher(replace(FAST, per_host=2)) as fetcher:
            started = time.monotonic()

            async def timed(url: str) -> float:
                await fetcher.fetch(Request(url))
                return time.monotonic() - started

            many = [timed(busy.url("/slow")) for _ in range(6)]
            times = await asyncio.gather(*many, timed(other.url("/slow", host="localhost")))
            return max(times[:6]), times[6]

    with HTTPServer() as busy, HTTPServer() as other:
        busy.route("/slow", slow)
        other.route("/slow", slow)
        busy_done, other_done = asyncio.run(run(busy, other))
    assert busy.peak == 2 and len(busy.seen) == 6
    assert busy_done >= 0.85  # three waves of two
    assert other_done < 0.6  # in the first wave, not queued behind the busy host


def test_global_limit_holds(server: HTTPServer) -> None:
    async def slow(seen: Seen) -> Reply:
        await asyncio.sleep(0.1)
        return Reply(200, b"ok")

    async def run() -> None:
        async with Fetcher(replace(FAST, concurrency=2, per_host=10)) as fetcher:
            await asyncio.gather(*(fetcher.fetch(Request(url)) for _ in range(6)))

    url = server.route("/slow", slow)
    asyncio.run(run())
    assert server.peak == 2 and len(server.seen) == 6


# --- proxies -----------------------------------------------------------------------------


def test_through_an_http_proxy(server: HTTPServer) -> None:
    url = server.set("/feed", b"<rss/>")
    with HTTPProxy() as proxy:
        result = fetch(url, proxy=proxy.url)
    assert result.body == b"<rss/>" and proxy.seen == [url]


def test_through_a_socks5_proxy(server: HTTPServer) -> None:
    url = server.set("/feed", b"<rss/>")
    with SOCKS5Proxy() as socks:
        result = fetch(url, proxy=socks.url)
    assert result.body == b"<rss/>" and socks.seen == [("127.0.0.1", server.port)]


def test_per_request_proxy_and_direct_override(server: HTTPServer) -> None:
    """Request.proxy: a URL of its own beats the settings; "" goes direct."""
    url = server.set("/feed", b"<rss/>")
    with HTTPProxy() as proxy, SOCKS5Proxy() as socks:

        async def run() -> list[bytes]:
            async with Fetcher(replace(FAST, proxy=proxy.url)) as fetcher:
                requests = [Request(url), Request(url, proxy=""), Request(url, proxy=socks.url)]
                return [(await fetcher.fetch(r)).body for r in requests]

        assert asyncio.run(run()) == [b"<rss/>"] * 3
    assert proxy.seen == [url] and len(socks.seen) == 1 and len(server.seen) == 3


def test_environment_proxy_used_unless_request_goes_direct(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = server.set("/feed", b"<rss/>")
    with HTTPProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        fetch(url)
        fetch(Request(url, proxy=""))
    assert proxy.seen == [url] and len(server.seen) == 2


@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_a_proxy_that_cannot_be_reached_is_named_not_the_feeds_host(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    url = server.set("/feed", b"<rss/>")
    dead = f"{scheme}://127.0.0.1:{closed_port()}"
    with pytest.raises(UnreachableError, match=f"could not connect to the proxy {dead} "):
        fetch(url, proxy=dead, retries=0)
    monkeypatch.setenv("HTTP_PROXY", dead)
    with pytest.raises(UnreachableError, match=f"to the proxy {dead} "):
        fetch(url, retries=0)
    secret = f"{scheme}://me:secret@127.0.0.1:{closed_port()}"
    with pytest.raises(UnreachableError, match=r"to the proxy .*//me:\*\*\*@") as caught:
        fetch(url, proxy=secret, retries=0)
    assert "secret" not in str(caught.value)  # a password never reaches a log
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert fetch(url).body == b"<rss/>"  # not through the proxy: nothing to name
    assert server.seen and not server.seen[0].headers.get("proxy-connection")


# --- errors are ours ----------------------------------------------------------------------


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "not a url", "http://", ""])
def test_unusable_urls_give_a_fetch_error(url: str) -> None:
    with pytest.raises(FetchError):
        fetch(url, retries=0)


def test_a_server_speaking_garbage_gives_a_network_error() -> None:
    async def talk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HELLO THERE\r\n\r\n")
        await writer.drain()

    with RawServer(talk) as raw, pytest.raises(NetworkError, match="HTTP protocol") as caught:
        fetch(raw.url("/feed"), retries=0)
    assert '"HELLO THERE"' in str(caught.value) and "b'" not in str(caught.value)


def test_a_corrupt_gzip_body_gives_a_fetch_error(server: HTTPServer) -> None:
    url = server.set("/feed", b"\x1f\x8b\x08\x00not gzip at all", Content_Encoding="gzip")
    with pytest.raises(FetchError, match="corrupt compressed body"):
        fetch(url)


def test_mock_transport_is_the_seam() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<rss/>", headers={"Cache-Control": "max-age=60"})

    async def run() -> FetchResult:
        transport = httpx.MockTransport(answer)
        async with Fetcher(FAST, transport) as fetcher:
            return await fetcher.fetch(Request("https://feeds.example/rss"))

    result = asyncio.run(run())
    assert result.body == b"<rss/>" and result.max_age == 60


def test_bad_settings_are_a_config_error() -> None:
    with pytest.raises(ConfigError):
        FetchSettings(proxy="ftp://proxy.example")
    with pytest.raises(ConfigError):
        FetchSettings(per_host=0)


# --- clients -----------------------------------------------------------------------------


def test_only_named_proxies_count_as_environment_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_PROXY alone names no proxy, so clients need not read the environment."""
    monkeypatch.setenv("NO_PROXY", "*")
    assert not environment_proxies()
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    assert environment_proxies()


@pytest.mark.parametrize(
    ("scheme", "proxy", "env_proxies", "expected"),
    [
        ("https", "", False, True),
        ("https", None, True, True),
        ("http", "", True, False),  # direct: plain HTTP never handshakes
        ("http", None, False, False),
        ("http", None, True, True),  # the environment's proxy may be https://
        ("http", "http://proxy.example:3128", False, False),
        ("http", "HTTPS://proxy.example", False, True),
        ("http", "socks5://127.0.0.1:1080", True, False),
    ],
)
def test_which_clients_may_speak_tls(
    scheme: str, proxy: str | None, env_proxies: bool, expected: bool
) -> None:
    assert may_use_tls(scheme, proxy, env_proxies) is expected


def test_tls_clients_verify_certificates_and_plain_ones_load_none() -> None:
    async def contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
        async with Fetcher(FAST) as fetcher:
            return fetcher._pool._ssl(True), fetcher._pool._ssl(False)

    verifying, plain = asyncio.run(contexts())
    assert verifying.verify_mode == ssl.CERT_REQUIRED and verifying.check_hostname
    assert verifying.cert_store_stats()["x509_ca"] > 0
    assert plain.cert_store_stats()["x509_ca"] == 0


def test_each_redirect_hop_uses_the_pool_of_its_own_host(server: HTTPServer) -> None:
    """127.0.0.1 redirects to localhost: the second hop runs in a client of its own."""
    target = server.set("/feed.xml", b"<rss/>").replace("127.0.0.1", "localhost")
    url = server.set("/moved", b"", 301, Location=target)

    async def run() -> tuple[FetchResult, int]:
        async with Fetcher(FAST) as fetcher:
            result = await fetcher.fetch(Request(url))
            return result, len(fetcher._pool)

    result, clients = asyncio.run(run())
    assert result.body == b"<rss/>" and result.final_url == target and clients == 2


def test_tests_never_leave_loopback() -> None:
    """conftest refuses every lookup and connection off this machine: a test that would
    reach the internet fails at once instead."""
    with pytest.raises(OSError, match="tests may not"):
        socket.getaddrinfo("example.org", 80)
    with pytest.raises(NetworkError):
        fetch("http://93.184.216.34/feed.xml")
