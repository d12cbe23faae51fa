"""The one HTTP client of newsmirror (httpx), with limits and clear errors.

Every response body is read as a stream and cut off at ``max_bytes`` of decompressed data
(an endless body or a decompression bomb is refused, never buffered whole); a request
has a connect timeout, a read timeout and a total time limit; redirects are limited;
conditional requests send If-None-Match / If-Modified-Since. Every httpx error is
translated into our :class:`~newsmirror.errors.FetchError` tree.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from newsmirror import __version__
from newsmirror.errors import (
    BodyTooLargeError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
)
from newsmirror.types import FetchResult

DEFAULT_USER_AGENT = (
    f"newsmirror/{__version__} (news archiver; +https://pypi.org/project/newsmirror/)"
)


@dataclass(frozen=True)
class FetchSettings:
    """Limits of one client."""

    timeout: float = 30.0  # total seconds for one request, body included
    connect_timeout: float = 10.0  # seconds to connect
    max_bytes: int = 20 * 1024 * 1024  # largest (decompressed) body accepted
    max_redirects: int = 5  # redirects followed before giving up
    user_agent: str = DEFAULT_USER_AGENT  # User-Agent header
    proxy: str = ""  # proxy URL for every request, "" for none (environment still applies)


class Fetcher:
    """A thread-safe HTTP client; ``transport`` is the seam tests may replace."""

    def __init__(
        self, settings: FetchSettings, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        self._clients: dict[bool, httpx.Client] = {}
        self._transport = transport

    def _client(self, direct: bool) -> httpx.Client:
        if direct not in self._clients:
            s = self.settings
            self._clients[direct] = httpx.Client(
                follow_redirects=True,
                max_redirects=s.max_redirects,
                timeout=httpx.Timeout(s.timeout, connect=s.connect_timeout),
                headers={"User-Agent": s.user_agent or DEFAULT_USER_AGENT},
                proxy=None if direct or not s.proxy else s.proxy,
                trust_env=not direct,
                transport=self._transport,
            )
        return self._clients[direct]

    def close(self) -> None:
        """Close every connection."""
        for client in self._clients.values():
            client.close()

    def get(
        self, url: str, *, etag: str = "", last_modified: str = "", direct: bool = False
    ) -> FetchResult:
        """GET ``url``; a 304 answer gives ``not_modified`` and an empty body."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        started = time.monotonic()
        try:
            with self._client(direct).stream("GET", url, headers=headers) as response:
                body = self._read(response, url, started)
                return self._result(url, response, body, started)
        except httpx.TimeoutException as exc:
            raise FetchTimeoutError(f"timed out ({type(exc).__name__})", url=url) from exc
        except httpx.TooManyRedirects as exc:
            raise FetchError("too many redirects", url=url) from exc
        except httpx.InvalidURL as exc:
            raise FetchError(f"invalid URL: {exc}", url=url) from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"{type(exc).__name__}: {exc}", url=url) from exc

    def _read(self, response: httpx.Response, url: str, started: float) -> bytes:
        if response.status_code == 304:
            return b""
        if not 200 <= response.status_code < 300:
            raise HTTPStatusError(
                f"HTTP {response.status_code} {response.reason_phrase}",
                url=url,
                status=response.status_code,
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.settings.max_bytes:
                raise BodyTooLargeError(
                    f"body larger than {self.settings.max_bytes} bytes; cut off", url=url
                )
            if time.monotonic() - started > self.settings.timeout:
                raise FetchTimeoutError(f"took longer than {self.settings.timeout:g} s", url=url)
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _result(url: str, response: httpx.Response, body: bytes, started: float) -> FetchResult:
        return FetchResult(
            url=url,
            final_url=str(response.url),
            status=response.status_code,
            body=body,
            headers={k.lower(): v for k, v in response.headers.items()},
            elapsed=time.monotonic() - started,
            not_modified=response.status_code == 304,
        )
