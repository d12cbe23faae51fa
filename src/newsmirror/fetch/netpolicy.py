"""Where newsmirror may connect: the one policy, and the place it is enforced.

A configured feed is fetched wherever it points (a user may follow an internal feed on
purpose), and its redirects while they stay on non-public addresses, but never to a
link-local one (169.254.169.254, the cloud's metadata: no feed is sent there on purpose,
and the user vouched for the feed's address, not for where it sends us). Everything else
a feed leads to — article pages, redirects that leave a public feed, images, revisits —
connects to public addresses only, unless the setting
``allow_private_addresses`` says otherwise: never to loopback, private ranges, link-local
(169.254.169.254: cloud metadata), shared (CGNAT), unique-local or link-local IPv6,
unspecified, multicast or reserved addresses, nor to IPv6 forms that carry one of those
IPv4 addresses (mapped, 6to4, NAT64).

The check is made on the address a connection actually reached, in the network backend
under httpx (:class:`PublicOnlyBackend`), before a byte of the request is sent: whatever
name resolved there, and however often its answer changes (DNS rebinding), a connection
to a non-public address is closed unsent. An address written in the URL (``127.1``,
``2130706433``, ``0x7f000001``, ``[::ffff:127.0.0.1]``) and the ``localhost`` names are
refused before any connection is opened (:func:`check_host`): through a proxy, which
resolves names itself, that is all that can be checked.
"""

from __future__ import annotations

import enum
import ipaddress
import re
import socket
import ssl
import typing

import httpcore
import httpx

from newsmirror.errors import ForbiddenAddressError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: The setting that allows every address, as the messages name it.
SETTING = "allow_private_addresses"
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_INET_ATON = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}", re.I)


class Reach(enum.Enum):
    """Which addresses a connection may reach."""

    ANY = "any"  # the user's own URL, or the setting allows every address
    INTERNAL = "internal"  # a configured feed's redirect: non-public, but not link-local
    PUBLIC = "public"  # everything else


def allows(reach: Reach, address: Address) -> bool:
    """Whether a connection that may reach ``reach`` may reach ``address``."""
    if reach is Reach.ANY or is_public(address):
        return True
    return reach is Reach.INTERNAL and not _link_local(address)


def _link_local(address: Address) -> bool:
    """Whether an address is link-local, or an IPv6 one carrying a link-local IPv4 one."""
    inner = _embedded(address) if isinstance(address, ipaddress.IPv6Address) else []
    return address.is_link_local or any(a.is_link_local for a in inner)


def is_public(address: Address) -> bool:
    """Whether an address is one the internet routes to anyone (IANA's "globally
    reachable"), and not multicast or reserved; an IPv6 address that carries an IPv4
    one (mapped, 6to4, NAT64, Teredo) only when that one is public too."""
    if isinstance(address, ipaddress.IPv6Address):
        for inner in _embedded(address):
            if not is_public(inner):
                return False
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
    )


def _embedded(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (a connection may end up there)."""
    found = [address.ipv4_mapped, address.sixtofour]
    if address.teredo:
        found += list(address.teredo)
    if any(address in network for network in _NAT64):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [inner for inner in found if inner is not None]


def kind_of(address: Address) -> str:
    """What kind of non-public address this is, in a few words (for messages)."""
    inner = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    if inner is not None:
        return f"IPv4-mapped {kind_of(inner)}"
    shared = ipaddress.ip_network("100.64.0.0/10")
    for test, name in (
        (address.is_loopback, "loopback"),
        (address.is_unspecified, "unspecified"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (isinstance(address, ipaddress.IPv4Address) and address in shared, "shared (CGNAT)"),
        (address.is_reserved, "reserved"),
        (address.is_private, "private"),
    ):
        if test:
            return name
    return "non-public"


def literal_address(host: str) -> Address | None:
    """The address a URL's host names by itself, in any form a resolver takes for one
    (``127.0.0.1``, ``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``[::1]``,
    ``[::ffff:127.0.0.1]``), or None for a name."""
    name = host.strip().rstrip(".").removeprefix("[").removesuffix("]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if not _INET_ATON.fullmatch(name):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(name))  # no lookup: a literal only
    except OSError:
        return None


def refusal(host: str, address: Address | None) -> str:
    """The one-line reason a connection to ``host`` (at ``address``) is refused."""
    where = host if address is None or host == str(address) else f"{host} ({address})"
    kind = "a local name" if address is None else f"a {kind_of(address)} address"
    return (
        f"refused to connect to {where}: {kind}, not a public one "
        f"(set [fetch] {SETTING} = true to allow it)"
    )


def check_host(host: str, reach: Reach = Reach.PUBLIC) -> None:
    """ForbiddenAddressError when a URL's host names by itself an address ``reach`` does
    not allow, or is a ``localhost`` name where only public addresses are; names that
    must be resolved are checked on connection."""
    if reach is Reach.ANY:
        return
    lowered = host.lower().rstrip(".")
    if reach is Reach.PUBLIC and (lowered == "localhost" or lowered.endswith(".localhost")):
        raise ForbiddenAddressError(refusal(host, None))
    address = literal_address(host)
    if address is not None and not allows(reach, address):
        raise ForbiddenAddressError(refusal(host, address))


def connected_to(stream: httpcore.AsyncNetworkStream) -> Address | None:
    """The address a network stream's connection reached (None when it says nothing)."""
    try:
        peer = stream.get_extra_info("server_addr")
    except OSError:  # closed already
        return None
    if not isinstance(peer, tuple) or not peer:
        return None
    try:
        return ipaddress.ip_address(str(peer[0]).split("%", 1)[0])
    except ValueError:
        return None


class PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend that connects only where ``reach`` allows (public
    addresses; or, for a configured feed's redirects, any but link-local ones): the
    address a connection reached is checked before it is handed over, so no request
    byte goes elsewhere, whatever the name resolved to."""

    def __init__(self, reach: Reach = Reach.PUBLIC) -> None:
        self._backend = httpcore.AnyIOBackend()
        self.reach = reach

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        check_host(host, self.reach)
        stream = await self._backend.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        address = connected_to(stream)
        if address is None or not allows(self.reach, address):
            await stream.aclose()
            raise ForbiddenAddressError(refusal(host, address))
        return stream

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise ForbiddenAddressError(f"refused to connect to the local socket {path}")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class PublicOnlyTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on a connection pool whose connections reach public addresses
    only (:class:`PublicOnlyBackend`); no proxy (through one, the connection is to the
    proxy, and :func:`check_host` is what applies)."""

    def __init__(
        self, ssl_context: ssl.SSLContext, limits: httpx.Limits, reach: Reach = Reach.PUBLIC
    ) -> None:
        super().__init__(verify=ssl_context, limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(  # httpx's own pool, on our backend
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PublicOnlyBackend(reach),
        )
