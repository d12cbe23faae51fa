"""What one HTTP exchange of the Fetcher gave, made into what newsmirror keeps: the
final reply or a redirect, the FetchResult of a reply, the validators sent for a stored
copy, and error messages completed (attempts made, the proxy to blame). Part of
:mod:`newsmirror.fetch`; no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from newsmirror.errors import FetchError, ForbiddenAddressError, HTTPStatusError
from newsmirror.fetch import netpolicy as netpolicy
from newsmirror.fetch.charsets import charset_of
from newsmirror.fetch.netpolicy import connected_to
from newsmirror.fetch.policy import (
    parse_max_age,
    parse_retry_after,
    received_value,
    sendable_date,
    sendable_etag,
)
from newsmirror.fetch.pools import host_of
from newsmirror.types import FetchResult
from newsmirror.urls import without_password

if TYPE_CHECKING:
    from newsmirror.fetch.settings import Request


@dataclass(frozen=True)
class Redirect:
    """A redirect's Location, and whether the exchange that gave it reached a public
    address (a redirect from a public one may not lead to a non-public one)."""

    location: str
    public: bool


@dataclass(frozen=True)
class Reply:
    """One usable final answer: 2xx (or a status the request keeps) with its decoded
    body, or 304."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes
    received: int
    request_headers: httpx.Headers


def reached_public(response: httpx.Response, url: str, proxied: bool) -> bool:
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


def refuse_non_public(host: str, url: str, reach: netpolicy.Reach) -> None:
    """ForbiddenAddressError (naming ``url``) when the host is an address ``reach`` does
    not allow."""
    try:
        netpolicy.check_host(host, reach)
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


def result_of(
    request: Request, reply: Reply, attempts: int, elapsed: float, at: str
) -> FetchResult:
    """The FetchResult of a final reply to ``request``, made in ``attempts`` attempts."""
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
        raw_headers=header_pairs(headers),
        request_headers=header_pairs(reply.request_headers),
        received_at=at,
    )


def header_pairs(headers: httpx.Headers) -> tuple[tuple[str, str], ...]:
    """Headers as sent or received: names as written, repeats kept, in order."""
    return tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in headers.raw)


def note_attempts(exc: FetchError, attempts: int, max_wait: float) -> None:
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


def name_proxy(exc: FetchError, proxy: str) -> None:
    """A connection that could not be opened through a proxy was one to the proxy: say
    so, naming it (the feed's host is not to blame)."""
    if proxy and exc.args:
        proxy, message = without_password(proxy), str(exc.args[0])
        message = message.replace("could not connect", f"could not connect to the proxy {proxy}", 1)
        message = message.replace(
            "no connection within", f"no connection to the proxy {proxy} within", 1
        )
        exc.args = (message, *exc.args[1:])
