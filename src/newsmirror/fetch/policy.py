"""Pure decisions of the fetch stage: what headers mean, what to retry, how long to wait,
where a redirect goes, and which of our errors an httpx error becomes.

Nothing here does I/O; :mod:`newsmirror.fetch` calls these between network steps, and
the tests call them with plain values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import anyio
import h11
import httpx
import socksio

from newsmirror.errors import (
    ConnectTimeoutError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    NetworkError,
    RedirectError,
    UnreachableError,
)
from newsmirror.urls import whatwg_href_or_empty

#: Statuses worth asking again: the server said "later", or failed on its side.
RETRY_STATUSES = frozenset({408, 429}) | frozenset(range(500, 600))
#: Statuses that redirect to a Location.
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?([0-9]+)", re.I)
_BYTES_REPR = re.compile(r"(?:bytearray\()?(?<!\w)b(['\"])(.*?)\1\)?")  # b'..', bytearray(b'..')
_NO_CACHE = re.compile(r"(?:^|[,\s])no-(?:cache|store)\s*(?:$|[,=])", re.I)
_DIGITS = re.compile(r"[0-9]+")  # ASCII digits only: str.isdigit() takes "²" and "١"
#: A header value as RFC 9110 has it: visible ASCII or obs-text, inner spaces and tabs.
_FIELD_VALUE = re.compile(rb"[\x21-\x7e\x80-\xff](?:[\x20\x09]*[\x21-\x7e\x80-\xff])*")
_PRINTABLE = re.compile(r"[\x20-\x7e]+")
_BROKEN = (  # the connection or the exchange broke: the same request may well work later
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    httpx.ProxyError,
    h11.ProtocolError,
    socksio.exceptions.SOCKSError,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    anyio.EndOfStream,
    OSError,
)


#: The longest wait any header may ask for (Retry-After, Cache-Control max-age): a year.
#: A server's number or date beyond it (or before the epoch) is clamped, never an error.
MAX_HEADER_SECONDS = 366 * 24 * 3600.0
#: The longest validator (ETag, Last-Modified) sent back; a longer one is not sent.
MAX_VALIDATOR = 1024


def parse_retry_after(value: str, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: a delta in seconds or an HTTP date.

    None when absent or unreadable (negative, not a number, not a date); else within 0 and
    :data:`MAX_HEADER_SECONDS`, however large the number or far the date.
    """
    value = (value or "").strip()
    if not value:
        return None
    if _DIGITS.fullmatch(value):
        return _clamp(float(value))
    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None  # not a date, or one past the calendar once in UTC (year 9999, -1200)
    return _clamp(seconds)


def parse_max_age(cache_control: str) -> float | None:
    """Seconds from the ``max-age`` directive of a Cache-Control header (at most
    :data:`MAX_HEADER_SECONDS`), or None; None too beside ``no-cache`` or ``no-store``,
    which ask for the document to be asked for again (conditionally) each time, whatever
    its age."""
    if _NO_CACHE.search(cache_control or ""):
        return None
    match = _MAX_AGE.search(cache_control or "")
    return _clamp(float(match.group(1))) if match else None


def _clamp(seconds: float) -> float:
    return min(max(seconds, 0.0), MAX_HEADER_SECONDS)


def received_value(headers: httpx.Headers, name: str) -> str:
    """The last value of header ``name`` exactly as its bytes came, one character per
    byte (latin-1), so that it goes back as the same bytes (:func:`sendable_etag`); ""
    when absent."""
    wanted = name.lower().encode("ascii")
    found = [value for key, value in headers.raw if key.lower() == wanted]
    return found[-1].decode("latin-1") if found else ""


def sendable_etag(etag: str) -> bytes | None:
    """The bytes to send as If-None-Match for a stored ETag, or None when it is not a
    valid header value (control characters, characters past one byte, white space at
    either end, longer than :data:`MAX_VALIDATOR`): then nothing is sent, and the answer
    is the whole body. Unquoted ETags, which many servers send, go back as they came."""
    try:
        raw = etag.encode("latin-1")
    except UnicodeEncodeError:
        return None
    if not raw or len(raw) > MAX_VALIDATOR or not _FIELD_VALUE.fullmatch(raw):
        return None
    return raw


def sendable_date(last_modified: str) -> bytes | None:
    """The bytes to send as If-Modified-Since for a stored Last-Modified, or None when it
    is not an HTTP date in printable ASCII (of a sane length)."""
    if not 0 < len(last_modified) <= 64 or not _PRINTABLE.fullmatch(last_modified):
        return None
    try:
        parsedate_to_datetime(last_modified)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return last_modified.encode("ascii")


def is_retryable(exc: FetchError) -> bool:
    """Whether asking again may help: timeouts, broken connections, 408/429/5xx.

    Never other 4xx, never a size cap, a redirect problem or a bad URL.
    """
    if isinstance(exc, HTTPStatusError):
        return exc.status in RETRY_STATUSES
    return isinstance(exc, FetchTimeoutError | NetworkError)


def retry_delay(
    exc: FetchError,
    retry: int,
    *,
    backoff: float,
    max_wait: float,
    uniform: Callable[[float, float], float],
) -> float | None:
    """Seconds to wait before retry number ``retry`` (0 for the first), or None to stop.

    A Retry-After the server sent is honoured as is when it is at most ``max_wait``;
    longer, we stop now (the caller defers the feed past this run). Without one, the wait
    is exponential with full jitter: uniform(0, backoff * 2**retry), at most ``max_wait``.
    """
    if not is_retryable(exc):
        return None
    asked = exc.retry_after if isinstance(exc, HTTPStatusError) else None
    if asked is not None:
        return asked if asked <= max_wait else None
    return uniform(0.0, min(max_wait, backoff * 2**retry))


def redirect_target(url: str, location: str) -> str:
    """The absolute URL a redirect from ``url`` with this Location header goes to."""
    if not location.strip():
        raise RedirectError(f"redirect without a Location: {url}", url=url)
    try:
        target = httpx.URL(url).join(location.strip()).copy_with(fragment=None)
    except (httpx.InvalidURL, ValueError) as exc:
        raise RedirectError(f"redirect to an invalid URL {location!r}: {url}", url=url) from exc
    if target.scheme not in ("http", "https") or not target.host:
        raise RedirectError(f"redirect to a non-HTTP URL {location!r}: {url}", url=url)
    return str(target)


def url_key(url: str) -> str:
    """The form of a URL used to notice a redirect loop (normalised, fragment dropped)."""
    return whatwg_href_or_empty(url).split("#", 1)[0] or url


def status_error(status: int, reason: str, url: str, retry_after: float | None) -> HTTPStatusError:
    """The error for a final status we cannot use, saying how long the server asked to wait."""
    message = f"HTTP {status} {reason}".rstrip() + f": {url}"
    if retry_after is not None:
        message += f" (Retry-After {retry_after:g} s)"
    return HTTPStatusError(message, url=url, status=status, retry_after=retry_after)


def translate(
    exc: Exception, url: str, *, connect_timeout: float, read_timeout: float
) -> FetchError:
    """Our error for an exception of httpx (or of what lies under it: httpcore, h11,
    socksio, anyio, the OS), with a one-line message naming what happened and the URL."""
    detail = _one_line(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return ConnectTimeoutError(f"no connection within {connect_timeout:g} s: {url}", url=url)
    if isinstance(exc, httpx.ReadTimeout):
        return FetchTimeoutError(f"no data for {read_timeout:g} s: {url}", url=url)
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return FetchTimeoutError(f"timed out ({type(exc).__name__}): {url}", url=url)
    if isinstance(exc, httpx.ProxyError | socksio.exceptions.SOCKSError):
        return NetworkError(f"proxy failed ({detail}): {url}", url=url)
    if isinstance(exc, httpx.ConnectError):
        return UnreachableError(f"could not connect ({detail}): {url}", url=url)
    if isinstance(exc, httpx.RemoteProtocolError | h11.ProtocolError):
        return NetworkError(f"server broke the HTTP protocol ({detail}): {url}", url=url)
    if isinstance(exc, _BROKEN):
        return NetworkError(f"connection failed ({detail}): {url}", url=url)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return FetchError(f"not an http(s) URL ({detail}): {url}", url=url)
    if isinstance(exc, httpx.InvalidURL | httpx.LocalProtocolError):
        return FetchError(f"invalid request ({detail}): {url}", url=url)
    return FetchError(f"request failed ({detail}): {url}", url=url)


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line, bytes shown as their text (h11 says
    ``bytearray(b'...')``), at most 200 characters."""
    text = _BYTES_REPR.sub(lambda m: f'"{m.group(2)}"', str(exc))
    text = " ".join(text.split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"
