"""Loopback servers for the fetch tests: a programmable HTTP server, an HTTP forward proxy
and a SOCKS5 proxy. Each runs its own asyncio loop in a daemon thread, binds an ephemeral
port on 127.0.0.1, records what it saw, and closes (tasks cancelled) on ``close()``.

Handlers are coroutines ``async def handler(seen: Seen) -> Reply`` running in the server's
loop; a Reply body may be bytes or an async iterator of chunks (for slow or endless
bodies). Every answer closes its connection, so each request is its own exchange.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import struct
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Self
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Seen:
    """One request as a server received it."""

    method: str
    target: str  # the request target as sent: "/path" or "http://host:port/path" (proxy)
    headers: dict[str, str]  # lower-case names

    @property
    def path(self) -> str:
        return urlsplit(self.target).path or "/"


@dataclass
class Reply:
    """What a handler answers; ``body`` may be an async iterator of chunks."""

    status: int = 200
    body: bytes | AsyncIterator[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Seen], Awaitable[Reply]]


class _LoopServer:
    """A TCP server on 127.0.0.1 (or another loopback address, and a port of the test's
    choice) with its own event loop in a thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections = 0  # TCP connections accepted (a request or not)
        try:
            self._server = self._run(asyncio.start_server(self._connected, host, port))
        except OSError:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()
            raise
        self.port: int = self._server.sockets[0].getsockname()[1]

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            await self.serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client went away: expected when it cuts a body short
        finally:
            self._tasks.discard(task)
            writer.close()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def _shutdown(self) -> None:
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def close(self) -> None:
        self._run(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


async def read_head(reader: asyncio.StreamReader) -> Seen:
    """Read a request line and its headers (bodies are not read: GET only)."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    line, *lines = head.split("\r\n")
    method, target, _version = line.split(" ", 2)
    headers = {}
    for header in filter(None, lines):
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Seen(method, target, headers)


async def write_reply(writer: asyncio.StreamWriter, reply: Reply) -> None:
    """Send a reply and its body; bytes get a Content-Length, iterators end with the close."""
    headers = dict(reply.headers)
    if isinstance(reply.body, bytes) and reply.status != 304:
        headers.setdefault("Content-Length", str(len(reply.body)))
    headers["Connection"] = "close"
    head = f"HTTP/1.1 {reply.status} {_reason(reply.status)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    writer.write(head.encode("latin-1"))
    if isinstance(reply.body, bytes):
        writer.write(reply.body)
    else:
        async for chunk in reply.body:
            writer.write(chunk)
            await writer.drain()
    await writer.drain()


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Whatever"


class HTTPServer(_LoopServer):
    """A programmable HTTP server: ``route(path, handler)`` or ``set(path, ...)``.

    Records every request in ``seen`` and the most requests it had in flight at once in
    ``peak`` (a request is in flight until its body is sent). Unknown paths get a 404.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.routes: dict[str, Handler] = {}
        self.seen: list[Seen] = []
        self.in_flight = 0
        self.peak = 0
        super().__init__(host, port)

    def url(self, path: str, host: str = "") -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    def route(self, path: str, handler: Handler) -> str:
        self.routes[path] = handler
        return self.url(path)

    def set(self, path: str, body: bytes = b"", status: int = 200, **headers: str) -> str:
        """A fixed answer; header names are given with _ for - (Content_Type=...)."""
        fixed = {name.replace("_", "-"): value for name, value in headers.items()}

        async def handler(seen: Seen) -> Reply:
            return Reply(status, body, fixed)

        return self.route(path, handler)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen = await read_head(reader)
        self.seen.append(seen)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            handler = self.routes.get(seen.path)
            reply = await handler(seen) if handler else Reply(404, b"not found")
            await write_reply(writer, reply)
        finally:
            self.in_flight -= 1


class RawServer(_LoopServer):
    """A server whose coroutine ``talk(reader, writer)`` writes whatever it wants."""

    def __init__(
        self, talk: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
    ) -> None:
        self._talk = talk
        super().__init__()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._talk(reader, writer)


class HTTPProxy(_LoopServer):
    """A forward proxy for plain-HTTP GETs in absolute form; records targets in ``seen``."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        super().__init__()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen = await read_head(reader)
        self.seen.append(seen.target)
        parts = urlsplit(seen.target)
        if seen.method != "GET" or parts.scheme != "http" or not parts.hostname:
            await write_reply(writer, Reply(501, b"only absolute-form GET http://"))
            return
        up_reader, up_writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
        origin = parts.path + ("?" + parts.query if parts.query else "")
        headers = {k: v for k, v in seen.headers.items() if not k.startswith("proxy-")}
        headers["connection"] = "close"
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        up_writer.write(f"GET {origin or '/'} HTTP/1.1\r\n{lines}\r\n".encode("latin-1"))
        await _pipe(up_reader, writer)
        up_writer.close()


class SOCKS5Proxy(_LoopServer):
    """A SOCKS5 proxy: no authentication, CONNECT only; records (host, port) in ``seen``."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []
        super().__init__()

    @property
    def url(self) -> str:
        return f"socks5://127.0.0.1:{self.port}"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        if version != 5 or 0 not in methods:
            writer.write(b"\x05\xff")
            return
        writer.write(b"\x05\x00")
        _v, command, _rsv, kind = await reader.readexactly(4)
        host = await _socks_address(reader, kind)
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        self.seen.append((host, port))
        if command != 1:
            writer.write(b"\x05\x07\x00\x01" + bytes(6))  # command not supported
            return
        up_reader, up_writer = await asyncio.open_connection(host, port)
        writer.write(b"\x05\x00\x00\x01" + bytes(6))  # succeeded; bound address not told
        await writer.drain()
        upstream = asyncio.ensure_future(_pipe(reader, up_writer))
        await _pipe(up_reader, writer)
        upstream.cancel()
        up_writer.close()


async def _socks_address(reader: asyncio.StreamReader, kind: int) -> str:
    if kind == 1:
        return str(ipaddress.IPv4Address(await reader.readexactly(4)))
    if kind == 4:
        return str(ipaddress.IPv6Address(await reader.readexactly(16)))
    (length,) = await reader.readexactly(1)
    return (await reader.readexactly(length)).decode("idna")


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until end of stream."""
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
