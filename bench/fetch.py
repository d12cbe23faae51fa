"""Fetch benchmark: 200 feeds on 100 loopback hosts, each answering after 300 ms.

Hosts 127.0.0.2 to 127.0.0.101 serve two feeds each (so the per-host limit applies per
host). ``newsmirror fetch`` runs as a fresh process with default settings on an archive
of 200 sources; the wall time includes the process start. Then it runs again over the
unchanged feeds: every answer should be a 304 with no body. Prints both figures, with
the CPU time the machine was busy during each run (the fetch, its worker, and this
benchmark's server; on a 2-core machine, wall time cannot go below half of it). The timed
process caches bytecode as an installed package does; one untimed start compiles it.
Not a test: run ``python bench/fetch.py [--rounds N]`` (N rounds: the median too).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
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


def child_env() -> dict[str, str]:
    """The environment of the timed process: no proxy for loopback, and bytecode caching
    on, as an installed package has it (PYTHONDONTWRITEBYTECODE would compile every
    module again at each start)."""
    env = {**os.environ, "NO_PROXY": "*", "no_proxy": "*"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


#: The modules of every command (``--version`` loads none of them).
COMMAND_MODULES = ", ".join(
    f"newsmirror.cli.{name}"
    for name in ("commands", "export", "service", "sources", "views", "watch")
)


def warm_up(home: Path) -> None:
    """Load the commands' modules once, untimed, so that their bytecode is cached."""
    command = [sys.executable, "-c", f"import {COMMAND_MODULES}"]
    subprocess.run(command, capture_output=True, env=child_env(), check=True)


def busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (Linux's /proc/stat), or, elsewhere,
    those of this process's waited-for children."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(n) for n in stat.readline().split()[1:]]
        return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # not idle, iowait
    except OSError:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime


def run(home: Path) -> tuple[float, float, int]:
    """One timed run: wall seconds, CPU seconds the machine was busy meanwhile (the
    fetch, its worker, and this benchmark's server), exit code."""
    before = busy_seconds()
    started = time.perf_counter()
    command = [sys.executable, "-m", "newsmirror.cli", "--home", str(home), "fetch"]
    env = child_env()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    return wall, busy_seconds() - before, done.returncode


def reference_loop() -> float:
    """Seconds of a fixed pure-Python loop: how fast this machine is right now (a shared
    machine's speed varies by half within minutes), to read the figures beside."""
    started = time.perf_counter()
    total = 0
    for i in range(5_000_000):
        total += i
    return time.perf_counter() - started


def round_trip(server: Server) -> tuple[float, float, float, float]:
    """A first and a second run on a new archive: (wall, CPU) of each; prints both."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        write_config(home, server.port)
        warm_up(home)
        server.statuses.clear()
        fed_before = server.body_bytes
        first, first_cpu, code1 = run(home)
        fed = server.body_bytes - fed_before
        ok_first = server.statuses.count(200)
        server.statuses.clear()
        second, second_cpu, code2 = run(home)
        print(
            f"first run: {len(HOSTS) * 2} feeds on {len(HOSTS)} hosts answering after "
            f"{DELAY * 1000:.0f} ms: {first:.2f} s wall ({first_cpu:.2f} s machine CPU), process "
            f"start included ({ok_first} answered 200, {fed} body bytes, exit {code1})"
        )
        print(
            f"second run: {second:.2f} s wall ({second_cpu:.2f} s machine CPU); "
            f"{server.body_bytes - fed_before - fed} body bytes transferred; "
            f"{server.statuses.count(304)} of {len(server.statuses)} answers were 304 "
            f"(exit {code2})"
        )
        return first, first_cpu, second, second_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="repeat on new archives")
    rounds = parser.parse_args().rounds
    server = Server()
    before = reference_loop()
    results = [round_trip(server) for _ in range(rounds)]
    after = reference_loop()
    print(f"reference loop (5M additions): {before:.2f} s before, {after:.2f} s after")
    if rounds > 1:
        first, first_cpu, second, second_cpu = (
            statistics.median(r) for r in zip(*results, strict=True)
        )
        firsts = sorted(r[0] for r in results)
        print(
            f"median of {rounds}: first run {first:.2f} s wall ({first_cpu:.2f} s machine CPU), "
            f"best {firsts[0]:.2f} s, worst {firsts[-1]:.2f} s, "
            f"{sum(f < 2 for f in firsts)} of {rounds} under 2 s; "
            f"second run {second:.2f} s wall ({second_cpu:.2f} s machine CPU)"
        )


if __name__ == "__main__":
    main()
