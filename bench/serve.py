"""The live reader under load: requests/s and p50/p95 latencies of an article page, a
source page, a search and an API list, with 50 concurrent clients, at 100,000 articles;
and the load test: 200 concurrent connections for 30 s mixing pages, search and the API
while a writer stores new articles, counting errors and "database is locked".

1. An archive of N articles (default 100,000; real sentences, as ``bench/publish.py``)
   is written straight into a store and indexed for search (not timed).
2. ``newsmirror serve`` starts in a process of its own (``--workers``, default 1).
3. Each kind of request is timed from this process with ``--clients`` concurrent
   clients for ``--seconds`` seconds (each picks articles, sources and query words at
   random: no two requests the same, so no answer comes from the reader's cache).
4. ``--load``: the mixed load with a writer process storing articles as ``run`` does.

Not a test (``tests/test_serve_load.py`` runs step 4 smaller): run
``python bench/serve.py [--articles N] [--clients 50] [--seconds 15] [--load]``.
Targets on a 2-core machine: article page p95 at most 30 ms, search p95 at most 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import httpx  # noqa: E402

from newsmirror.store.sqlite import SQLiteStore  # noqa: E402
from publish import SLUGS, populate  # noqa: E402
from search import pool  # noqa: E402

WORDS = ("中国", "美国", "香港", "经济", "总统", "选举", "新冠", "台湾", "俄罗斯", "记者")
WRITER = """
import sys, time
from datetime import UTC, datetime
from newsmirror import decide
from newsmirror.store import open_store
from newsmirror.types import Candidate
store, n = open_store(sys.argv[1]), 0
while True:
    with store.transaction():
        for _ in range(5):
            n += 1
            html = f"<p>写入中的新文章 {n}：香港经济与选举。</p>"
            stamp = datetime.now(UTC).replace(microsecond=0)
            store.store_candidate(Candidate(
                source="rfi", identity=f"guid:w{n}", guid=f"w{n}", url=f"https://w.test/{n}",
                link=f"https://w.test/{n}", title=f"新文章 {n}",
                published_ms=int(time.time() * 1000),
                date_missing=False, raw_html=html, clean_html=html,
                content_hash=decide.content_hash(f"新文章 {n}", html), feed_url="-"), stamp)
    print(n, flush=True)
    time.sleep(0.2)
"""


def build(home: Path, n: int) -> None:
    """An archive of ``n`` articles over the nine sources, indexed for search."""
    home.mkdir(parents=True, exist_ok=True)
    store = SQLiteStore(home / "newsmirror.db")
    from newsmirror.config.settings import load_config

    store.sync_sources(load_config(home).sources)
    populate(store, n, pool(HERE.parent / "tests" / "data"))
    store.reindex()
    store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(home: Path, workers: int = 1, root: str = "") -> tuple[subprocess.Popen[bytes], str]:
    """``newsmirror serve`` on a free loopback port; (the process, its base URL)."""
    port = free_port()
    command = [sys.executable, "-m", "newsmirror.cli", "--home", str(home), "serve",
               "--port", str(port), "--workers", str(workers)]  # fmt: skip
    if root:
        command += ["--root-path", root]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"the reader did not start: {server.stderr.read().decode()[-2000:]}")


@dataclass
class Tally:
    """What one kind of request got."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # status codes other than 200/304, failures
    locked: int = 0  # answers that said "database is locked"

    def line(self, name: str, seconds: float) -> str:
        lat = sorted(self.latencies) or [0.0]
        p50, p95 = lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.95)] * 1000
        rate = len(self.latencies) / seconds
        counts = f"{len(self.latencies)} requests, {len(self.errors)} errors, {self.locked} locked"
        return f"{name:<14} {rate:8.1f} req/s   p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   {counts}"


def urls(ids: dict[str, tuple[int, int]], rng: random.Random) -> dict[str, Callable[[], str]]:
    """Each kind of request, as a maker of a random URL of that kind."""

    def article() -> str:
        slug = rng.choice(SLUGS)
        low, high = ids[slug]
        return f"/a/{slug}/{rng.randint(low, high)}.html"

    def source() -> str:
        slug = rng.choice(SLUGS)
        pages = max(1, (ids[slug][1] - ids[slug][0] + 1) // 50)
        return f"/s/{slug}/{rng.randint(1, pages)}.html"

    def search() -> str:
        return f"/search.html?q={rng.choice(WORDS)}+{rng.choice(WORDS)[:1]}&sort=newest"

    def api_list() -> str:
        return (
            f"/api/articles?source={rng.choice(SLUGS)}&limit=20&since=2020-09-{rng.randint(13, 28)}"
        )

    return {"article page": article, "source page": source, "search": search, "api list": api_list}


def article_ids(home: Path) -> dict[str, tuple[int, int]]:
    store = SQLiteStore(home / "newsmirror.db")
    found = {s.source: (s.lowest_id + 1, 1048574) for s in store.stats() if s.articles}
    store.close()
    return found


async def hammer(
    base: str, makers: dict[str, Callable[[], str]], clients: int, seconds: float
) -> dict[str, Tally]:
    """``clients`` concurrent connections for ``seconds``, each asking the kinds in turn."""
    tallies = {name: Tally() for name in makers}
    names = list(makers)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def one(n: int) -> None:
            while time.monotonic() < deadline:
                name = names[n % len(names)]
                n += 1
                tally, started = tallies[name], time.perf_counter()
                try:
                    reply = await client.get(makers[name]())
                except httpx.HTTPError as exc:
                    tally.errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                tally.latencies.append(time.perf_counter() - started)
                if "database is locked" in reply.text:
                    tally.locked += 1
                if reply.status_code not in (200, 304):
                    tally.errors.append(f"{reply.status_code} {reply.url}")

        await asyncio.gather(*(one(n) for n in range(clients)))
    return tallies


def measure(home: Path, clients: int, seconds: float, workers: int) -> list[str]:
    """Each kind of request alone, ``clients`` at a time: one line each."""
    server, base = start(home, workers)
    try:
        makers = urls(article_ids(home), random.Random(5))
        lines = []
        for name, maker in makers.items():
            asyncio.run(hammer(base, {name: maker}, clients, 2))  # warm up
            tally = asyncio.run(hammer(base, {name: maker}, clients, seconds))[name]
            lines.append(tally.line(name, seconds))
            print(lines[-1], flush=True)
        return lines
    finally:
        stop(server)


def load(
    home: Path, clients: int, seconds: float, workers: int = 1
) -> tuple[dict[str, Tally], int, str]:
    """The mixed load while a writer stores articles: (tallies, articles the writer stored,
    what the reader wrote on its standard error)."""
    server, base = start(home, workers)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(home / "newsmirror.db")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        tallies = asyncio.run(
            hammer(base, urls(article_ids(home), random.Random(7)), clients, seconds)
        )
    finally:
        writer.send_signal(signal.SIGTERM)
        written, writer_errors = writer.communicate(timeout=30)
        stderr = stop(server)
    lines = written.decode().split()
    if writer.returncode not in (0, -signal.SIGTERM) or b"Error" in writer_errors:
        raise RuntimeError(f"the writer failed: {writer_errors.decode()[-2000:]}")
    return tallies, int(lines[-1]) if lines else 0, stderr


def stop(server: subprocess.Popen[bytes]) -> str:
    server.send_signal(signal.SIGINT)
    try:
        _, stderr = server.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        _, stderr = server.communicate()
    return stderr.decode("utf-8", "replace")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--work", type=Path, help="keep the archive here (reused when there)")
    parser.add_argument("--load", action="store_true", help="also 200 connections, 30 s, a writer")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="newsmirror-serve-"))
    home = work / f"home-{args.articles}"
    if not (home / "newsmirror.db").exists():
        started = time.perf_counter()
        build(home, args.articles)
        print(
            f"built {args.articles} articles in {time.perf_counter() - started:.0f} s", flush=True
        )
    print(f"{args.articles} articles, {args.clients} clients, {args.seconds:.0f} s each, "
          f"{args.workers} worker(s), {os.cpu_count()} cores")  # fmt: skip
    measure(home, args.clients, args.seconds, args.workers)
    if args.load:
        tallies, written, stderr = load(home, 200, 30, args.workers)
        for name, tally in tallies.items():
            print(tally.line(name, 30))
        errors = sum(len(t.errors) for t in tallies.values())
        locked = sum(t.locked for t in tallies.values()) + stderr.count("database is locked")
        print(f"load: 200 connections, 30 s, {written} articles written meanwhile: "
              f"{errors} errors, {locked} 'database is locked'")  # fmt: skip


if __name__ == "__main__":
    main()
