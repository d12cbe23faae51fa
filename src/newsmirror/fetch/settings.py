"""The values of the fetch stage: a Fetcher's settings, one request, the log line of one
HTTP exchange (see :mod:`newsmirror.fetch`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from newsmirror.config.keys import default as setting
from newsmirror.errors import ConfigError
from newsmirror.fetch.limits import Deadline
from newsmirror.urls import is_proxy_url, without_password

MIB = 1024 * 1024


@dataclass(frozen=True)
class FetchSettings:
    """Limits and identity of one Fetcher; every field has its default."""

    # The settings of [fetch] take their defaults from the declarations (config.keys).
    timeout: float = setting("fetch.timeout")  # seconds for one attempt (exchange), body included
    connect_timeout: float = 10.0  # seconds to open a connection (through the proxy, if any)
    read_timeout: float = 15.0  # seconds without a byte arriving
    max_bytes: int = int(setting("fetch.max_body_mb") * MIB)  # cap on the body as received
    max_decoded_bytes: int = 50 * MIB  # cap after gzip/deflate decompression (bombs refused)
    max_redirects: int = 5  # redirects followed; a URL seen twice in one chain is a loop
    retries: int = setting("fetch.retries")  # more attempts: network errors, 5xx, 408, 429
    backoff: float = 0.5  # base seconds: retry n waits uniform(0, backoff * 2**n)
    max_wait: float = 10.0  # longest Retry-After waited for in a run; longer → caller defers
    concurrency: int = setting("fetch.concurrency")  # requests in flight at most, in all
    per_host: int = setting("fetch.per_host")  # requests in flight at most per hostname
    user_agent: str = setting("fetch.user_agent")  # User-Agent; "" → DEFAULT_USER_AGENT
    proxy: str = setting("fetch.proxy")  # "" → the environment's (*_PROXY, NO_PROXY)
    allow_private_addresses: bool = setting("fetch.allow_private_addresses")  # non-public too
    time_for_pages: float = setting("fetch.time_for_pages")  # pages, images, revisits: seconds

    def __post_init__(self) -> None:
        positive = ("timeout", "connect_timeout", "read_timeout", "concurrency", "per_host")
        for name in (*positive, "time_for_pages"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"fetch setting {name} must be positive")
        for name in ("max_bytes", "max_decoded_bytes", "max_redirects", "retries"):
            if getattr(self, name) < 0:
                raise ConfigError(f"fetch setting {name} must not be negative")
        if self.backoff < 0 or self.max_wait < 0:
            raise ConfigError("fetch settings backoff and max_wait must not be negative")
        if self.proxy and not is_proxy_url(self.proxy):
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
    deadline: Deadline | None = None  # (a page, image, revisit) ends by then, else DeferredError


@dataclass(frozen=True)
class AttemptLog:
    """One HTTP exchange as it went, for the log: every retry and redirect hop has one."""

    url: str  # the URL asked for in this exchange
    status: int  # HTTP status, 0 when no answer came
    bytes: int  # body bytes received on the wire
    elapsed: float  # seconds from the request sent (slot taken) to the end of the body
    error: str = ""  # one line when the exchange failed ("" when it succeeded)
    from_cache: bool = False  # True for a 304: the caller's cached copy is still good
    at: datetime | None = None  # aware UTC time the exchange ended, by the Fetcher's clock
