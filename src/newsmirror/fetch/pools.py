"""The httpx clients behind a Fetcher: one connection pool per proxy setting, scheme and
host (httpcore's pool work grows with the square of the connections in it), sharing one
verifying TLS context; plain-HTTP clients load no CA bundle, and the environment's proxy
variables are read once, not per client."""

from __future__ import annotations

import ssl
import urllib.request
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from newsmirror.errors import FetchError
from newsmirror.fetch.netpolicy import PublicOnlyTransport, Reach

if TYPE_CHECKING:
    from newsmirror.fetch.settings import FetchSettings


class ClientPool:
    """The clients of one Fetcher, made on first use."""

    def __init__(
        self,
        settings: FetchSettings,
        transport: httpx.AsyncBaseTransport | None,
        user_agent: str,
        accept: str,
    ) -> None:
        self.settings = settings
        self._transport = transport
        self._user_agent = user_agent
        self._accept = accept
        self._clients: dict[tuple[str | None, str, str, Reach], httpx.AsyncClient] = {}
        self._ssl_context: ssl.SSLContext | None = None
        self._plain_context: ssl.SSLContext | None = None
        self._env_proxies = environment_proxies()  # read once, not per client

    def proxy_of(self, proxy: str | None, url: str) -> str:
        """The proxy a request to ``url`` goes through ("" for none): see proxy_in_use."""
        if self._transport is not None:
            return ""  # a transport of the caller's replaces the network, proxies included
        return proxy_in_use(proxy, url, self._env_proxies)

    def __len__(self) -> int:
        return len(self._clients)

    async def aclose(self) -> None:
        """Close every client and its connections."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    def client(self, proxy: str | None, url: str, reach: Reach = Reach.ANY) -> httpx.AsyncClient:
        """The client for a proxy setting, scheme and host: one connection pool per host,
        since httpcore's pool work grows with the square of the connections in it
        (hundreds of hosts in one pool cost seconds). ``reach``: the addresses its
        connections may reach (:mod:`newsmirror.fetch.netpolicy`); pools of different
        reaches never share a connection."""
        scheme, host = scheme_of(url), host_of(url)
        key = (proxy, scheme, host, reach)
        client = self._clients.get(key)
        if client is None:
            tls = may_use_tls(scheme, proxy, self._env_proxies)
            if self.proxy_of(proxy, url):  # a proxy is the user's: it connects, not we
                reach = Reach.ANY
            client = self._clients[key] = self._new_client(proxy, tls, reach)
        return client

    def _ssl(self, tls: bool) -> ssl.SSLContext:
        """The TLS context: one, verifying, for every client that may speak TLS (building
        it loads the CA bundle, some 50 ms); plain-HTTP clients never handshake, so they
        get a context that loads nothing."""
        if not tls:
            if self._plain_context is None:
                self._plain_context = httpx.create_ssl_context(verify=False)
            return self._plain_context
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context(trust_env=True)
        return self._ssl_context

    def _new_client(self, proxy: str | None, tls: bool, reach: Reach) -> httpx.AsyncClient:
        s = self.settings
        concurrency = s.concurrency
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        transport = self._transport
        if reach is not Reach.ANY and transport is None:
            transport = PublicOnlyTransport(self._ssl(tls), limits, reach)
        return httpx.AsyncClient(
            verify=self._ssl(tls),
            follow_redirects=False,
            timeout=httpx.Timeout(s.read_timeout, connect=s.connect_timeout),
            limits=limits,
            headers={
                "User-Agent": s.user_agent or self._user_agent,
                "Accept": self._accept,
                "Accept-Encoding": "gzip, deflate",
            },
            proxy=proxy if proxy and transport is None else None,
            trust_env=proxy is None and transport is None and self._env_proxies,
            transport=transport,
        )


def proxy_in_use(proxy: str | None, url: str, env_proxies: bool) -> str:
    """The proxy a request to ``url`` goes through ("" for none): ``proxy`` itself, or,
    for None, the environment's for the URL's scheme (unless NO_PROXY names its host)."""
    if proxy is not None or not env_proxies:
        return proxy or ""
    found = urllib.request.getproxies()
    parts = urlsplit(url)
    if urllib.request.proxy_bypass(parts.hostname or ""):  # NO_PROXY (no_proxy)
        return ""
    return found.get(parts.scheme.lower(), "") or found.get("all", "")


def host_of(url: str) -> str:
    """The host name of an absolute http(s) URL (lower case); FetchError otherwise."""
    try:
        host = urlsplit(url).hostname
    except ValueError as exc:
        raise FetchError(f"invalid URL: {url}", url=url) from exc
    if not host:
        raise FetchError(f"not an absolute http(s) URL: {url}", url=url)
    return host


def environment_proxies() -> bool:
    """Whether the environment names any proxy (*_PROXY; NO_PROXY alone names none);
    reading it costs each client a millisecond, so clients skip it when there is nothing
    to find."""
    return any(scheme != "no" for scheme in urllib.request.getproxies())


def may_use_tls(scheme: str, proxy: str | None, env_proxies: bool) -> bool:
    """Whether a request may speak TLS: to an https:// URL, or to an https:// proxy (or
    whatever proxy the environment names, when the request uses the environment's)."""
    if scheme != "http":
        return True
    if proxy is None:
        return env_proxies
    return proxy.lower().startswith("https://")


def scheme_of(url: str) -> str:
    return url.split(":", 1)[0].lower()
