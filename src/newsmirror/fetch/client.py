"""The one HTTP client of newsmirror: async, bounded, retrying, proxy-aware, observable.

One code path (async; no sync copy). A :class:`Fetcher` answers ``fetch(Request)`` with a
:class:`~newsmirror.types.FetchResult` or raises the :class:`~newsmirror.errors.FetchError`
tree, never an httpx exception. What it guarantees, for hosts that go slow, go down or
misbehave:

- conditional GET (If-None-Match / If-Modified-Since); a 304 costs no body bytes;
- one attempt never lasts more than ``timeout`` seconds, body included, even against a
  server that drips a byte at a time (connect and read timeouts apply inside it);
- the body is streamed, counted on the wire against ``max_bytes`` and after decompression
  against ``max_decoded_bytes`` (see :mod:`newsmirror.fetch.limits`); never buffered whole;
- redirects are followed by hand: at most ``max_redirects``, a URL seen twice in one chain
  is a :class:`~newsmirror.errors.RedirectLoopError`, relative Locations are resolved;
- at most ``concurrency`` requests in flight, ``per_host`` per hostname (host slot first,
  then global slot; see :class:`~newsmirror.fetch.limits.HostLimiter`);
- retries (``retries`` more attempts) on timeouts, broken connections, 408, 429 and 5xx,
  never on other 4xx; Retry-After honoured up to ``max_wait``, a longer one ends the
  attempts at once with ``HTTPStatusError.retry_after`` set, so that the caller defers
  the feed past this run; otherwise exponential backoff with full jitter;
- proxies per request: the settings' one, the environment's, a source's own, or none;
  ``http://``, ``https://`` and ``socks5://`` (clients per setting, scheme and host:
  :mod:`newsmirror.fetch.pools`);
- a host that gave no answer :data:`DOWN_AFTER` times in a row (no connection, or none
  in time) is given up for the rest of the run: its other requests fail at once;
- a request with a ``deadline`` (article pages, images, revisits: ``time_for_pages`` for
  a run, :data:`GROUP_ROUNDS` timeouts for one feed's) ends by then, waits included, else
  :class:`~newsmirror.errors.DeferredError`;
- only a configured URL (a feed) may reach a non-public address, and its redirects while
  they stay there, never to a link-local one (unless ``allow_private_addresses``):
  checked on the address each connection reached (:mod:`newsmirror.fetch.netpolicy`);
- validators stored are sent back only when they are valid to send, as the bytes they
  came as (:mod:`newsmirror.fetch.reply`);
- every HTTP exchange (retries and redirect hops included) is reported to ``on_attempt``.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from newsmirror import __version__
from newsmirror.errors import (
    BodyTooLargeError,
    ConnectTimeoutError,
    DeferredError,
    FetchError,
    FetchTimeoutError,
    ForbiddenAddressError,
    HostDownError,
    RedirectError,
    RedirectLoopError,
    UnreachableError,
)
from newsmirror.fetch.limits import DOWN_AFTER, BodyReader, Deadline, GiveUp, HostLimiter
from newsmirror.fetch.netpolicy import Reach
from newsmirror.fetch.policy import (
    REDIRECT_STATUSES,
    parse_retry_after,
    redirect_target,
    retry_delay,
    status_error,
    translate,
    url_key,
)
from newsmirror.fetch.pools import ClientPool, host_of
from newsmirror.fetch.reply import (
    Redirect,
    Reply,
    conditional_headers,
    name_proxy,
    note_attempts,
    reached_public,
    refuse_non_public,
    result_of,
)
from newsmirror.fetch.settings import AttemptLog, FetchSettings, Request
from newsmirror.types import FetchResult, Source
from newsmirror.urls import is_proxy_url, without_password

__all__ = ["ACCEPT", "DEFAULT_USER_AGENT", "DOWN_AFTER", "GROUP_ROUNDS", "AttemptLog"]
__all__ += ["FetchSettings", "Fetcher", "Request", "origin_of", "proxy_of", "run_clock"]

DEFAULT_USER_AGENT = (
    f"newsmirror/{__version__} (news archive mirror; fetches feeds hourly;"
    " +https://pypi.org/project/newsmirror/)"
)
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json;q=0.9,"
    " application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)
_DIGITS = re.compile("[0-9]+")  # ASCII digits (str.isdigit() also takes "²")
#: A feed's article pages, and then its articles' images, get at most this many request
#: timeouts in all (within the run's time_for_pages): one slow host never holds a
#: source's articles back for long.
GROUP_ROUNDS = 4


@dataclass
class _Meter:
    """What one exchange measured so far (mutable; becomes an AttemptLog)."""

    url: str
    limit: int  # the body cap of this exchange, in bytes on the wire
    keep: frozenset[int] = frozenset()  # error statuses that are answers (with a body)
    proxied: bool = False  # it goes through a proxy
    status: int = 0
    received: int = 0
    started: float = field(default_factory=time.monotonic)


class Fetcher:
    """Fetches requests concurrently within the limits of its settings.

    ``transport`` replaces the network for every request (tests use httpx.MockTransport);
    proxies then do not apply. ``on_attempt`` is called once per HTTP exchange.
    Use it within one event loop, as ``async with Fetcher(settings) as fetcher:`` (or call
    :meth:`aclose`); ``fetch`` may run concurrently from many tasks (asyncio.gather).
    """

    def __init__(
        self,
        settings: FetchSettings,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        on_attempt: Callable[[AttemptLog], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        pages_until: float | None = None,
    ) -> None:
        self.settings = settings
        #: When the run's time for pages, images and revisits ends (time.monotonic()):
        #: ``time_for_pages`` from now, unless the caller's run began earlier.
        self.pages_until = pages_until or time.monotonic() + settings.time_for_pages
        self._transport = transport
        self._on_attempt = on_attempt
        self._clock = clock  # when answers came, for the logs and captures
        self._hosts = GiveUp()  # origins given up for this run (a new Fetcher tries again)
        self._limiter = HostLimiter(settings.concurrency, settings.per_host)
        self._pool = ClientPool(settings, transport, DEFAULT_USER_AGENT, ACCEPT)
        self._random = random.Random()
        self._closed = False

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection; the Fetcher cannot be used afterwards."""
        self._closed = True
        await self._pool.aclose()

    def pages_deadline(self, group: str = "") -> Deadline:
        """By when article pages, images and revisits must end: the run's time for them
        (``time_for_pages`` from the start); for a ``group`` (one feed's "pages", or its
        articles' "images"), :data:`GROUP_ROUNDS` request timeouts from now, if sooner."""
        s = self.settings
        run = Deadline(self.pages_until, f"the run's time for pages ({s.time_for_pages:g} s)")
        seconds = GROUP_ROUNDS * s.timeout
        mine = time.monotonic() + seconds
        if not group or mine >= run.at:
            return run
        return Deadline(mine, f"the time for one feed's {group} ({seconds:g} s)")

    async def fetch(self, request: Request) -> FetchResult:
        """GET ``request.url`` with retries; raises the FetchError tree, nothing else.
        A request with a deadline that passes (before it starts, or while it runs: its
        waits and attempts included) raises DeferredError."""
        deadline = request.deadline
        if deadline is None:
            return await self._attempts(request)
        left = deadline.at - time.monotonic()
        if left > 0:
            limit = asyncio.timeout(left)
            try:
                async with limit:
                    return await self._attempts(request)
            except TimeoutError:
                if not limit.expired():
                    raise
        message = f"not fetched: {deadline.what} ran out: {request.url}"
        raise DeferredError(message, url=request.url, what=deadline.what)

    async def _attempts(self, request: Request) -> FetchResult:
        started = time.monotonic()
        proxy = self._proxy(request)
        retry = 0
        while True:
            try:
                reply = await self._follow(proxy, request)
            except FetchError as exc:
                if exc.url:
                    self._hosts.note((proxy, origin_of(exc.url)), exc)
                delay = self._delay(exc, retry, request.retries)
                if delay is None:
                    note_attempts(exc, retry + 1, self.settings.max_wait)
                    raise
                await asyncio.sleep(delay)
                retry += 1
                continue
            took = time.monotonic() - started
            return result_of(request, reply, retry + 1, took, self._clock().isoformat())

    def _delay(self, exc: FetchError, retry: int, limit: int | None = None) -> float | None:
        retries = self.settings.retries if limit is None else min(limit, self.settings.retries)
        if retry >= retries:
            return None
        s = self.settings
        uniform = self._random.uniform
        return retry_delay(exc, retry, backoff=s.backoff, max_wait=s.max_wait, uniform=uniform)

    def _proxy(self, request: Request) -> str | None:
        """The request's proxy: None (the environment's), "" (none) or a proxy URL."""
        if self._closed:
            raise FetchError(f"the Fetcher is closed: {request.url}", url=request.url)
        proxy = (self.settings.proxy or None) if request.proxy is None else request.proxy
        if proxy and not is_proxy_url(proxy):
            shown = without_password(proxy)
            raise FetchError(f"not a usable proxy URL {shown!r}: {request.url}", url=request.url)
        return proxy

    async def _follow(self, proxy: str | None, request: Request) -> Reply:
        """One attempt: the request and the redirects it leads to. A configured URL may
        reach any address, and its redirects any but link-local ones until one leaves a
        non-public address; everything else reaches public ones only (unless the
        settings allow all)."""
        headers = conditional_headers(request.etag, request.last_modified)
        url = request.url
        limit = min(request.max_bytes or self.settings.max_bytes, self.settings.max_bytes)
        seen = {url_key(url)}
        every = self.settings.allow_private_addresses
        reach = Reach.ANY if every or request.configured else Reach.PUBLIC
        for _hop in range(self.settings.max_redirects + 1):
            reply = await self._exchange(proxy, url, headers, limit, request.keep, reach)
            if isinstance(reply, Reply):
                return reply
            if not every:  # a redirect: inside, only from inside; never to link-local
                stays = reach is not Reach.PUBLIC and not reply.public
                reach = Reach.INTERNAL if stays else Reach.PUBLIC
            url = redirect_target(url, reply.location)
            if url_key(url) in seen:
                raise RedirectLoopError(
                    f"redirect loop back to {url}: {request.url}", url=request.url
                )
            seen.add(url_key(url))
        message = f"more than {self.settings.max_redirects} redirects: {request.url}"
        raise RedirectError(message, url=request.url)

    async def _exchange(
        self,
        proxy: str | None,
        url: str,
        headers: dict[bytes, bytes],
        limit: int,
        keep: frozenset[int],
        reach: Reach,
    ) -> Reply | Redirect:
        """One HTTP exchange within the limits (``limit``: the body cap), a final reply or
        a redirect; an error status in ``keep`` is a reply too. ``reach``: the addresses
        it may reach."""
        meter = _Meter(url, limit, keep)
        try:
            host = host_of(url)
            origin = origin_of(url)
            if reach is not Reach.ANY:
                refuse_non_public(host, url, reach)  # an address in the URL: refused at once
            client = self._pool.client(proxy, url, reach)
            meter.proxied = bool(self._pool.proxy_of(proxy, url))
            async with self._limiter.slot(host):
                why = self._hosts.why((proxy, origin))
                if why is not None:  # checked in the slot: others may have waited for it
                    place = origin.split("://", 1)[1]
                    message = f"gave up on {place} in this run (earlier: {why}): {url}"
                    raise HostDownError(message, url=url)
                meter.started = time.monotonic()
                answer = await self._timed(client, url, headers, meter)
                self._hosts.answered((proxy, origin))
        except FetchError as exc:
            if isinstance(exc, UnreachableError | ConnectTimeoutError):
                name_proxy(exc, self._pool.proxy_of(proxy, url))
            self._log(meter, str(exc))
            raise
        except asyncio.CancelledError:  # a deadline (or the end of the run) cut it off
            self._log(meter, f"cut off: stopped before it ended: {url}")
            raise
        self._log(meter, "")
        return answer

    async def _timed(
        self, client: httpx.AsyncClient, url: str, headers: dict[bytes, bytes], meter: _Meter
    ) -> Reply | Redirect:
        """The exchange under the total timeout, every foreign error translated."""
        s = self.settings
        deadline = asyncio.timeout(s.timeout)
        try:
            async with deadline, client.stream("GET", url, headers=headers) as response:
                meter.status = response.status_code
                return await self._receive(response, url, meter)
        except ForbiddenAddressError as exc:  # from the connection: name the URL
            raise ForbiddenAddressError(f"{exc}: {url}", url=url) from None
        except FetchError:
            raise
        except TimeoutError as exc:
            if not deadline.expired():
                raise FetchTimeoutError(f"timed out: {url}", url=url) from exc
            message = f"took longer than {s.timeout:g} s in total: {url}"
            raise FetchTimeoutError(message, url=url) from exc
        except Exception as exc:  # the boundary: nothing of httpx's (or below) gets past
            timeouts = {"connect_timeout": s.connect_timeout, "read_timeout": s.read_timeout}
            raise translate(exc, url, **timeouts) from exc

    async def _receive(self, response: httpx.Response, url: str, meter: _Meter) -> Reply | Redirect:
        """Read what the status calls for: a body for 2xx, nothing for 304 or a redirect."""
        status = response.status_code
        if status == 304:
            return Reply(url, status, response.headers, b"", 0, response.request.headers)
        if status in REDIRECT_STATUSES:
            location = str(response.headers.get("location", ""))  # "": redirect_target refuses
            return Redirect(location, reached_public(response, url, meter.proxied))
        if not 200 <= status < 300 and status not in meter.keep:
            retry_after = parse_retry_after(response.headers.get("retry-after", ""))
            raise status_error(status, response.reason_phrase, url, retry_after)
        body, received = await self._read_body(response, url, meter)
        return Reply(url, status, response.headers, body, received, response.request.headers)

    async def _read_body(
        self, response: httpx.Response, url: str, meter: _Meter
    ) -> tuple[bytes, int]:
        """The decoded body and its size on the wire, within both size caps."""
        s = self.settings
        declared = response.headers.get("content-length", "")
        if _DIGITS.fullmatch(declared) and (len(declared) > 18 or int(declared) > meter.limit):
            message = f"body of {declared} bytes announced, more than {meter.limit}: {url}"
            raise BodyTooLargeError(message, url=url)
        encoding = response.headers.get("content-encoding", "")
        chunks = response.aiter_raw()
        if response.is_stream_consumed:  # an httpx.Response built from bytes (MockTransport)
            encoding, chunks = "", _once(response.content)  # httpx has decoded it already
        reader = BodyReader(encoding, meter.limit, s.max_decoded_bytes, url)
        parts: list[bytes] = []
        async for raw in chunks:
            meter.received += len(raw)
            parts.append(reader.feed(raw))
        parts.append(reader.finish())
        return b"".join(parts), reader.received

    def _log(self, meter: _Meter, error: str) -> None:
        if self._on_attempt is None:
            return
        elapsed = time.monotonic() - meter.started
        log = AttemptLog(
            meter.url,
            meter.status,
            meter.received,
            elapsed,
            error,
            meter.status == 304,
            self._clock(),
        )
        self._on_attempt(log)


def origin_of(url: str) -> str:
    """scheme://host:port of an absolute URL (the port made explicit), lower case."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:  # a port out of range: the request fails on its own
        return f"{scheme}://{parts.netloc.lower()}"
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


def run_clock(start: datetime) -> Callable[[], datetime]:
    """A clock that reads ``start`` plus the time since it was made (monotonic): a run's
    moments on its own timeline, which tests set by setting ``start``."""
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


def proxy_of(source: Source) -> str | None:
    """The Request proxy for a source: "" direct, its own, or None (global/environment)."""
    if source.direct:
        return ""
    return source.proxy or None


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data
