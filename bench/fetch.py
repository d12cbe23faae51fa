"""Fetch benchmark: 200 feeds on 100 loopback hosts, each answering after 300 ms.

Hosts 127.0.0.2 to 127.0.0.101 serve two feeds each (so the per-host limit applies per
host). ``newsmirror fetch`` runs as a fresh process with default settings on an archive
of 200 sources; the wall time includes the process start. Then it runs again over the
unchanged feeds: every answer should be a 304 with no body. Prints both figures.
Not a test: run ``python bench/fetch.py``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HOSTS = [f"127.0.0.{i}" for i in range(2, 102)]
DELAY = 0.3
ITEMS = 10


def feed(host: str, name: str) -> bytes:
    items = "".join(
        f"<item><title>{host} {name} 新闻 {i}</title>"
        f"<link>http://{host}/{name}/{i}.html</link><guid>http://{host}/{name}/{i}</guid>"
        f"<pubDate>Mon, 0{1 + i % 9} Jan 2024 00:00:00 GMT</pubDate>"
        f"<description><![CDATA[<p>第 {i} 条 {'正文' * 150}</p>]]></description></item>"
        for i in range(ITEMS)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{host}</title><link>http://{host}/</link><description>d</description>"
        f"{items}</channel></rss>"
    ).encode()


class Server:
    """Answers every GET after DELAY seconds: 304 when If-None-Match matches, else the feed."""

    def __init__(self) -> None:
        self.body_bytes = 0
        self.statuses: list[int] = []
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result()

    async def _start(self) -> int:
        for _ in range(20):
            probe = await asyncio.start_server(self._serve, HOSTS[0], 0)
            port = int(probe.sockets[0].getsockname()[1])
            probe.close()
            try:
                self.server = await asyncio.start_server(self._serve, HOSTS, port, backlog=512)
            except OSError:
                continue
            return port
        raise RuntimeError("no port free on every loopback host")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                await self._answer(head, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _answer(self, head: bytes, writer: asyncio.StreamWriter) -> None:
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1]
        headers = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:]) if k}
        host = headers.get("host", "").split(":")[0]
        etag = f'"{host}{path}"'
        await asyncio.sleep(DELAY)
        if headers.get("if-none-match") == etag:
            status, body = 304, b""
        else:
            status, body = 200, feed(host, path.strip("/"))
        self.statuses.append(status)
        self.body_bytes += len(body)
        reason = "OK" if status == 200 else "Not Modified"
        writer.write(
            f"HTTP/1.1 {status} {reason}\r\nETag: {etag}\r\nContent-Type: application/rss+xml\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()


def write_config(home: Path, port: int) -> None:
    defaults = ("reuters", "nyt", "voa", "ft", "bbc", "rfi", "dw", "rfa", "cdt")
    tables = [f"[sources.{name}]\nenabled = false" for name in defaults]
    for n, host in enumerate(HOSTS):
        for f in range(2):
            slug = f"s{n:03d}{'ab'[f]}"
            tables.append(
                f'[sources.{slug}]\nname = "{slug}"\nfeeds = ["http://{host}:{port}/feed{f}.xml"]'
            )
    home.mkdir(parents=True, exist_ok=True)
    (home / "newsmirror.toml").write_text("\n".join(tables) + "\n", "utf-8")


def run(home: Path) -> tuple[float, int]:
    started = time.perf_counter()
    command = [sys.executable, "-m", "newsmirror.cli", "--home", str(home), "fetch"]
    env = {**os.environ, "NO_PROXY": "*", "no_proxy": "*"}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    return time.perf_counter() - started, done.returncode


def main() -> None:
    server = Server()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        write_config(home, server.port)
        first, code1 = run(home)
        fed = server.body_bytes
        ok_first = server.statuses.count(200)
        server.statuses.clear()
        second, code2 = run(home)
        print(
            f"first run: {len(HOSTS) * 2} feeds on {len(HOSTS)} hosts answering after "
            f"{DELAY * 1000:.0f} ms: {first:.2f} s wall, process start included "
            f"({ok_first} answered 200, {fed} body bytes, exit {code1})"
        )
        print(
            f"second run: {second:.2f} s wall; {server.body_bytes - fed} body bytes "
            f"transferred; {server.statuses.count(304)} of {len(server.statuses)} "
            f"answers were 304 (exit {code2})"
        )


if __name__ == "__main__":
    main()
