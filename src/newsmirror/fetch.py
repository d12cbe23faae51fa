"""The one HTTP client of newsmirror: async, bounded, retrying, proxy-aware, observable.

One code path (async; no sync copy). A :class:`Fetcher` answers ``fetch(Request)`` with a
:class:`~newsmirror.types.FetchResult` or raises the :class:`~newsmirror.errors.FetchError`
tree, never an httpx exception. What it guarantees, for hosts that go slow, go down or
misbehave:

- conditional GET (If-None-Match / If-Modified-Since); a 304 costs no body bytes;
- one attempt never lasts more than ``timeout`` seconds, body included, even against a
  server that drips a byte at a time (connect and read timeouts apply inside it);
- the body is streamed, counted on the wire against ``max_bytes`` and after decompression
  against ``max_decoded_bytes`` (see :mod:`newsmirror.fetchlimits`); never buffered whole;
- redirects are followed by hand: at most ``max_redirects``, a URL seen twice in one chain
  is a :class:`~newsmirror.errors.RedirectLoopError`, relative Locations are resolved;
- at most ``concurrency`` requests in flight, ``per_host`` per hostname (host slot first,
  then global slot; see :class:`~newsmirror.fetchlimits.HostLimiter`);
- retries (``retries`` more attempts) on timeouts, broken connections, 408, 429 and 5xx,
  never on other 4xx; Retry-After honoured up to ``max_wait``, a longer one ends the
  attempts at once with ``HTTPStatusError.retry_after`` set, so that the caller defers
  the feed past this run; otherwise exponential backoff with full jitter;
- proxies per request: the settings' one, the environment's, a source's own, or none;
  ``http://``, ``https://`` and ``socks5://`` (clients per setting, scheme and host:
  :mod:`newsmirror.fetchclients`);
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

from newsmirror import __version__, netpolicy
from newsmirror.charsets import charset_of
from newsmirror.errors import (
    BodyTooLargeError,
    ConfigError,
    ConnectTimeoutError,
    FetchError,
    FetchTimeoutError,
    ForbiddenAddressError,
    HostDownError,
    HTTPStatusError,
    RedirectError,
    RedirectLoopError,
    UnreachableError,
    without_url,
)
from newsmirror.fetchclients import ClientPool, host_of
from newsmirror.fetchlimits import BodyReader, HostLimiter
from newsmirror.fetchpolicy import (
    REDIRECT_STATUSES,
    parse_max_age,
    parse_retry_after,
    received_value,
    redirect_target,
    retry_delay,
    sendable_date,
    sendable_etag,
    status_error,
    translate,
    url_key,
)
from newsmirror.netpolicy import connected_to
from newsmirror.types import FetchResult, Source
from newsmirror.urls import without_password

DEFAULT_USER_AGENT = (
    f"newsmirror/{__version__} (news archive mirror; fetches feeds hourly;"
    " +https://pypi.org/project/newsmirror/)"
)
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json;q=0.9,"
    " application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)
MIB = 1024 * 1024
_DIGITS = re.compile("[0-9]+")  # ASCII digits (str.isdigit() also takes "²")
#: Attempts in a row that opened no connection to an origin (refused, unknown name, no
#: answer in the connect time) after which its other requests of the run are not made.
DOWN_AFTER = 3


@dataclass(frozen=True)
class FetchSettings:
    """Limits and identity of one Fetcher; every field has its default."""

    timeout: float = 30.0  # total seconds for one attempt (one HTTP exchange), body included
    connect_timeout: float = 10.0  # seconds to open a connection (through the proxy, if any)
    read_timeout: float = 15.0  # seconds without a byte arriving
    max_bytes: int = 20 * MIB  # cap on the body as received, enforced while streaming
    max_decoded_bytes: int = 50 * MIB  # cap after gzip/deflate decompression (bombs refused)
    max_redirects: int = 5  # redirects followed; a URL seen twice in one chain is a loop
    retries: int = 2  # extra attempts on network errors, timeouts, 5xx, 408, 429; not other 4xx
    backoff: float = 0.5  # base seconds: retry n waits uniform(0, backoff * 2**n)
    max_wait: float = 10.0  # longest Retry-After waited for in a run; longer → caller defers
    concurrency: int = 256  # requests in flight at most, in all
    per_host: int = 2  # requests in flight at most per hostname
    user_agent: str = ""  # User-Agent header; "" → DEFAULT_USER_AGENT
    proxy: str = ""  # http://, https:// or socks5:// proxy; "" → environment (*_PROXY, NO_PROXY)
    allow_private_addresses: bool = False  # pages, images, redirects may reach non-public ones

    def __post_init__(self) -> None:
        for name in ("timeout", "connect_timeout", "read_timeout", "concurrency", "per_host"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"fetch setting {name} must be positive")
        for name in ("max_bytes", "max_decoded_bytes", "max_redirects", "retries"):
            if getattr(self, name) < 0:
                raise ConfigError(f"fetch setting {name} must not be negative")
        if self.backoff < 0 or self.max_wait < 0:
            raise ConfigError("fetch settings backoff and max_wait must not be negative")
        if self.proxy and not _is_proxy_url(self.proxy):
            raise ConfigError(
                "fetch setting proxy must be http://, https:// or socks5://: "
                + without_password(self.proxy)
            )


@dataclass(frozen=True)
class Request:
    """One thing to fetch, with what the caller knows of it."""

    url: str  # absolute http(s) URL
    etag: str = ""  # ETag of the copy the caller holds: sent as If-None-Match
    last_modified: str = ""  # Last-Modified of that copy: sent as If-Modified-Since
    proxy: str | None = None  # None → settings/environment; "" → direct (env ignored); else URL
    max_bytes: int | None = None  # a lower body cap for this request (images), else the settings'
    retries: int | None = None  # fewer retries for this request (pages), else the settings'
    keep: frozenset[int] = frozenset()  # error statuses answered with their body, not raised
    configured: bool = False  # the user's own URL (a feed): it may reach any address (netpolicy)


@dataclass(frozen=True)
class AttemptLog:
    """One HTTP exchange as it went, for the log: every retry and redirect hop has one."""

    url: str  # the URL asked for in this exchange
    status: int  # HTTP status, 0 when no answer came
    bytes: int  # body bytes received on the wire
    elapsed: float  # seconds from the request sent (slot taken) to the end of the body
    error: str = ""  # one line when the exchange failed ("" when it succeeded)
    from_cache: bool = False  # True for a 304: the caller's cached copy is still good
    at: str = ""  # ISO time (UTC) the exchange ended, by the Fetcher's clock


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


@dataclass(frozen=True)
class _Redirect:
    """A redirect's Location, and whether the exchange that gave it reached a public
    address (a redirect from a public one may not lead to a non-public one)."""

    location: str
    public: bool


@dataclass(frozen=True)
class _Reply:
    """One usable final answer: 2xx (or a status the request keeps) with its decoded
    body, or 304."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes
    received: int
    request_headers: httpx.Headers


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
    ) -> None:
        self.settings = settings
        self._transport = transport
        self._on_attempt = on_attempt
        self._clock = clock  # when answers came, for the logs and captures
        #: Origins (scheme, host, port; by proxy) no connection could be opened to
        #: :data:`DOWN_AFTER` times in a row (why): the requests that follow fail at once
        #: rather than each wait as long. A new Fetcher (the next run) tries them again.
        self._down: dict[tuple[str | None, str], str] = {}
        self._unanswered: dict[tuple[str | None, str], int] = {}  # failed connects in a row
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

    async def fetch(self, request: Request) -> FetchResult:
        """GET ``request.url`` with retries; raises the FetchError tree, nothing else."""
        started = time.monotonic()
        proxy = self._proxy(request)
        retry = 0
        while True:
            try:
                reply = await self._follow(proxy, request)
            except FetchError as exc:
                self._note_unreachable(proxy, exc)
                delay = self._delay(exc, retry, request.retries)
                if delay is None:
                    _note_attempts(exc, retry + 1, self.settings.max_wait)
                    raise
                await asyncio.sleep(delay)
                retry += 1
                continue
            took = time.monotonic() - started
            return _result(request, reply, retry + 1, took, self._clock().isoformat())

    def _note_unreachable(self, proxy: str | None, exc: FetchError) -> None:
        """Count an attempt that opened no connection; at :data:`DOWN_AFTER` in a row to
        the same origin, the origin is down for the rest of this Fetcher's life."""
        if not exc.url or isinstance(exc, HostDownError):
            return
        key = (proxy, origin_of(exc.url))
        if not isinstance(exc, UnreachableError | ConnectTimeoutError):
            self._unanswered.pop(key, None)  # a connection was made: it is not down
            return
        self._unanswered[key] = failed = self._unanswered.get(key, 0) + 1
        if failed >= DOWN_AFTER:
            self._down.setdefault(key, without_url(str(exc), exc.url))

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
        if proxy and not _is_proxy_url(proxy):
            shown = without_password(proxy)
            raise FetchError(f"not a usable proxy URL {shown!r}: {request.url}", url=request.url)
        return proxy

    async def _follow(self, proxy: str | None, request: Request) -> _Reply:
        """One attempt: the request and the redirects it leads to. A configured URL may
        reach any address, and so may its redirects until one leaves a public address;
        everything else reaches public ones only (unless the settings allow all)."""
        headers = conditional_headers(request.etag, request.last_modified)
        url = request.url
        limit = min(request.max_bytes or self.settings.max_bytes, self.settings.max_bytes)
        seen = {url_key(url)}
        anywhere = request.configured or self.settings.allow_private_addresses
        for _hop in range(self.settings.max_redirects + 1):
            reply = await self._exchange(proxy, url, headers, limit, request.keep, anywhere)
            if isinstance(reply, _Reply):
                return reply
            anywhere = self.settings.allow_private_addresses or (anywhere and not reply.public)
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
        anywhere: bool,
    ) -> _Reply | _Redirect:
        """One HTTP exchange within the limits (``limit``: the body cap), a final reply or
        a redirect; an error status in ``keep`` is a reply too. ``anywhere``: it may
        reach a non-public address."""
        meter = _Meter(url, limit, keep)
        try:
            host = host_of(url)
            origin = origin_of(url)
            if not anywhere:
                _check_host(host, url)  # an address in the URL: refused before anything
            client = self._pool.client(proxy, url, public_only=not anywhere)
            meter.proxied = bool(self._pool.proxy_of(proxy, url))
            async with self._limiter.slot(host):
                why = self._down.get((proxy, origin))
                if why is not None:  # checked in the slot: others may have waited for it
                    place = origin.split("://", 1)[1]
                    message = f"gave up on {place} in this run (earlier: {why}): {url}"
                    raise HostDownError(message, url=url)
                meter.started = time.monotonic()
                answer = await self._timed(client, url, headers, meter)
                self._unanswered.pop((proxy, origin), None)  # it answered
        except FetchError as exc:
            if isinstance(exc, UnreachableError | ConnectTimeoutError):
                _name_proxy(exc, self._pool.proxy_of(proxy, url))
            self._log(meter, str(exc))
            raise
        self._log(meter, "")
        return answer

    async def _timed(
        self, client: httpx.AsyncClient, url: str, headers: dict[bytes, bytes], meter: _Meter
    ) -> _Reply | _Redirect:
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

    async def _receive(
        self, response: httpx.Response, url: str, meter: _Meter
    ) -> _Reply | _Redirect:
        """Read what the status calls for: a body for 2xx, nothing for 304 or a redirect."""
        status = response.status_code
        if status == 304:
            return _Reply(url, status, response.headers, b"", 0, response.request.headers)
        if status in REDIRECT_STATUSES:
            location = str(response.headers.get("location", ""))  # "": redirect_target refuses
            return _Redirect(location, _reached_public(response, url, meter.proxied))
        if not 200 <= status < 300 and status not in meter.keep:
            retry_after = parse_retry_after(response.headers.get("retry-after", ""))
            raise status_error(status, response.reason_phrase, url, retry_after)
        body, received = await self._read_body(response, url, meter)
        return _Reply(url, status, response.headers, body, received, response.request.headers)

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
            self._clock().isoformat(),
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


def _reached_public(response: httpx.Response, url: str, proxied: bool) -> bool:
    """Whether an exchange reached a public address: the connection's own, when it went
    straight there; else (through a proxy, or a transport of the caller's) as far as the
    URL tells."""
    stream = response.extensions.get("network_stream")
    if stream is not None and not proxied:
        address = connected_to(stream)
        if address is not None:
            return netpolicy.is_public(address)
    try:
        netpolicy.check_host(host_of(url))
    except ForbiddenAddressError:
        return False
    return True


def _check_host(host: str, url: str) -> None:
    """ForbiddenAddressError (naming ``url``) when the host is a non-public address."""
    try:
        netpolicy.check_host(host)
    except ForbiddenAddressError as exc:
        raise ForbiddenAddressError(f"{exc}: {url}", url=url) from None


def conditional_headers(etag: str, last_modified: str) -> dict[bytes, bytes]:
    """If-None-Match and If-Modified-Since for the validators of a stored copy, each only
    when it is valid to send (as the bytes it came as): a validator that is not asks for
    the whole body, never fails the request."""
    headers = {}
    sent_etag, sent_date = sendable_etag(etag), sendable_date(last_modified)
    if sent_etag:
        headers[b"If-None-Match"] = sent_etag
    if sent_date:
        headers[b"If-Modified-Since"] = sent_date
    return headers


def run_clock(start: datetime) -> Callable[[], datetime]:
    """A clock that reads ``start`` plus the time since it was made (monotonic): a run's
    moments on its own timeline, which tests set by setting ``start``."""
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


def _result(request: Request, reply: _Reply, attempts: int, elapsed: float, at: str) -> FetchResult:
    headers = reply.headers
    not_modified = reply.status == 304
    return FetchResult(
        url=request.url,
        final_url=reply.url,
        status=reply.status,
        body=reply.body,
        headers={name.lower(): value for name, value in headers.items()},
        elapsed=elapsed,
        not_modified=not_modified,
        etag=received_value(headers, "etag") or (request.etag if not_modified else ""),
        last_modified=received_value(headers, "last-modified")
        or (request.last_modified if not_modified else ""),
        max_age=parse_max_age(headers.get("cache-control", "")),
        retry_after=parse_retry_after(headers.get("retry-after", "")),
        attempts=attempts,
        encoding=charset_of(headers.get("content-type", "")),
        received_bytes=reply.received,
        raw_headers=_pairs(headers),
        request_headers=_pairs(reply.request_headers),
        received_at=at,
    )


def _pairs(headers: httpx.Headers) -> tuple[tuple[str, str], ...]:
    """Headers as sent or received: names as written, repeats kept, in order."""
    return tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in headers.raw)


def proxy_of(source: Source) -> str | None:
    """The Request proxy for a source: "" direct, its own, or None (global/environment)."""
    if source.direct:
        return ""
    return source.proxy or None


def _note_attempts(exc: FetchError, attempts: int, max_wait: float) -> None:
    """Make the final error's message say how many attempts were made and whether the
    server asked for a wait longer than this run allows (the caller then defers)."""
    notes = []
    if attempts > 1:
        notes.append(f"after {attempts} attempts")
    if isinstance(exc, HTTPStatusError) and exc.retry_after and exc.retry_after > max_wait:
        wait = f"{max_wait:g} s"
        notes.append(f"deferred: the server asks for a longer wait than a run makes, {wait}")
    if notes:
        exc.args = (f"{exc.args[0]} ({'; '.join(notes)})", *exc.args[1:])


def _name_proxy(exc: FetchError, proxy: str) -> None:
    """A connection that could not be opened through a proxy was one to the proxy: say
    so, naming it (the feed's host is not to blame)."""
    if proxy and exc.args:
        proxy, message = without_password(proxy), str(exc.args[0])
        message = message.replace("could not connect", f"could not connect to the proxy {proxy}", 1)
        message = message.replace(
            "no connection within", f"no connection to the proxy {proxy} within", 1
        )
        exc.args = (message, *exc.args[1:])


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _is_proxy_url(proxy: str) -> bool:
    return proxy.split("://", 1)[0].lower() in ("http", "https", "socks5", "socks5h")
