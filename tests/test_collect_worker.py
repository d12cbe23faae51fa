"""Collecting with a worker process: the same archive as collecting in one process.

A run of many sources parses, cleans and tokenizes in a forked worker while the main
process talks to the network and stores (offload.cpu_for). These tests fetch real feeds
from a loopback server both ways and compare everything the store and the markdown
archive hold; they check that the worker really did the work, and that a worker that
dies leaves the rest of the run to the main process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import DATA, LoopbackServer, make_source, rss
from newsmirror.collect import items as items
from newsmirror.collect import worker as offload
from newsmirror.jobs.archive import Archive
from newsmirror.search.query import Query, Term
from newsmirror.store.parts.memory import Memory
from newsmirror.types import Source

FEEDS = DATA / "feeds"
REAL = [
    "greatfire__feeds__bbc.xml",
    "greatfire__feeds__cdt.xml",
    "greatfire__feeds__dw.xml",
    "greatfire__feeds__nyt.xml",
    "C4droid__rss__voa.xml",
    "deN92__latestnews__bbc.xml",
    "fidelity.xml",
]
_HTML = {"Content-Type": "text/html; charset=utf-8"}
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")


def sources(server: LoopbackServer) -> tuple[Source, ...]:
    """Seven real feeds, one of summaries whose articles are read from their pages, one
    that is not a feed, one that answers 500: ten sources."""
    made = [
        make_source(f"s{i}", [server.set(f"/{name}", (FEEDS / name).read_bytes())])
        for i, name in enumerate(REAL)
    ]
    pages = DATA / "pages" / "newspaper4k" / "html"
    items = []
    for n, name in enumerate(["chinese_article", "chinese_article_001"]):
        link = server.set(f"/p/{n}.html", (pages / f"{name}.html").read_bytes(), **_HTML)
        items.append({"title": f"标题 {n}", "link": link, "description": "<p>摘要……</p>"})
    made.append(make_source("pages", [server.set("/pages.xml", rss(items))], full_text="auto"))
    made.append(make_source("broken", [server.set("/broken.xml", b"<html>not a feed")]))
    made.append(make_source("down", [server.set("/down.xml", b"oops", status=500)]))
    return tuple(made)


def holdings(archive: Archive) -> list[tuple[Any, ...]]:
    """Every article and version as stored, in a stable order."""
    return archive.store.db.execute(
        "SELECT a.source, a.archive_id, a.path, a.identity, v.seq, v.title, v.link, "
        "v.published_ms, v.raw_html, v.clean_html, v.content_hash, v.feed_url "
        "FROM articles a JOIN versions v ON v.article_id = a.id "
        "ORDER BY a.source, a.archive_id, v.seq"
    ).fetchall()


def report_lines(archive: Archive, reports: list[Any]) -> list[tuple[Any, ...]]:
    return [(r.source, r.new, r.changed, r.skipped, r.failed, r.errors) for r in reports]


def searched(archive: Archive, *terms: str) -> list[tuple[int, list[str]]]:
    found = []
    for term in terms:
        results = archive.store.search(Query((Term(term),), limit=50, newest=True))
        found.append((results.total, [hit.path for hit in results.hits]))
    return found


def test_a_worker_makes_the_same_archive_as_one_process(
    server: LoopbackServer,
    make_archive: Callable[..., Archive],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = sources(server)
    fixed = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # items without a date get "now"
    here = make_archive(served, home=tmp_path / "here", clock=lambda: fixed)
    here.workers = 0
    here_reports = here.fetch()

    pids = tmp_path / "pids"
    real_make = items.make_candidate

    def make_and_note(*args: Any, **kwargs: Any) -> Any:  # forked: the worker runs it too
        with pids.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return real_make(*args, **kwargs)

    monkeypatch.setattr(items, "make_candidate", make_and_note)
    worker = make_archive(served, home=tmp_path / "worker", clock=lambda: fixed)
    worker.workers = 1
    worker_reports = worker.fetch()

    cleaned_in = set(pids.read_text().split())
    assert cleaned_in and str(os.getpid()) not in cleaned_in  # all cleaned in the worker
    assert report_lines(worker, worker_reports) == report_lines(here, here_reports)
    assert sum(r.new for r in worker_reports) > 100
    broken = {r.source: r for r in worker_reports}
    assert broken["broken"].failed and broken["down"].failed
    assert holdings(worker) == holdings(here)
    methods = worker.store.db.execute(
        "SELECT v.method FROM versions v JOIN articles a ON a.id = v.article_id "
        "WHERE a.source = 'pages'"
    ).fetchall()
    assert methods == [("page extractor",), ("page extractor",)]
    terms = ("中国", "美国", "习近平", "香港", "bbc", "冠")
    assert searched(worker, *terms) == searched(here, *terms)
    assert all(total > 0 for total, _ in searched(worker, *terms))
    here.publish_markdown()
    worker.publish_markdown()
    assert files(worker.config.output_path) == files(here.config.output_path)

    # Again, one item edited: the worker reads the store to pass the repeated items over.
    edited = (FEEDS / REAL[0]).read_bytes().replace("的".encode(), "地".encode(), 1)
    server.set(f"/{REAL[0]}", edited)
    again_here = here.fetch()
    asked = tmp_path / "asked"
    real_seen = Memory.seen_feed_hashes

    def seen_and_note(*args: Any) -> Any:
        with asked.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return real_seen(*args)

    monkeypatch.setattr(Memory, "seen_feed_hashes", seen_and_note)
    again_worker = worker.fetch()
    asked_in = set(asked.read_text().split())
    assert asked_in and str(os.getpid()) not in asked_in  # all asked in the worker
    assert report_lines(worker, again_worker) == report_lines(here, again_here)
    assert [r.changed for r in again_worker if r.changed] == [1]
    assert sum(r.unchanged for r in again_worker) == sum(r.new for r in worker_reports) - 1
    assert holdings(worker) == holdings(here)


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.md")}


def _exit_unless_in(pid: int) -> str:
    """Kills a worker process; in the process ``pid`` it just answers."""
    if os.getpid() != pid:
        os._exit(1)
    return "done here"


def test_a_worker_that_dies_leaves_the_work_to_this_process() -> None:
    async def run() -> tuple[str, str, bool]:
        with offload.cpu_for(1, tokenize=True, workers=1) as cpu:
            assert cpu.pool is not None and cpu.tokenize
            first = await cpu.run(_exit_unless_in, os.getpid())
            second = await cpu.run(str.upper, "next")
            return first, second, cpu.pool is None and not cpu.tokenize

    assert asyncio.run(run()) == ("done here", "NEXT", True)


def _exit_unless_in_or_ask(seen: Any, pid: int) -> str:
    """Kills a worker process; in the process ``pid`` it names what it was given."""
    _exit_unless_in(pid)
    return f"asked {type(seen).__name__}"


def test_a_worker_that_dies_while_reading_the_store_leaves_it_to_this_one(
    tmp_path: Path,
) -> None:
    class Store:
        pass

    async def run() -> tuple[str, bool]:
        with offload.cpu_for(1, True, workers=1, memory=str(tmp_path / "db")) as cpu:
            answer = await cpu.run_remembering(_exit_unless_in_or_ask, Store(), os.getpid())
            return answer, cpu.pool is None

    assert asyncio.run(run()) == ("asked Store", True)  # this process's own store


def _pid_and_name(seen: Any) -> tuple[int, str]:
    return os.getpid(), type(seen).__name__


def test_a_store_with_no_database_named_for_the_worker_is_read_here() -> None:
    import sqlite3

    class Store:  # holds a connection: it cannot be sent to a worker
        db = sqlite3.connect(":memory:")

    async def run() -> tuple[tuple[int, str], tuple[int, str]]:
        with offload.cpu_for(1, True, workers=1) as cpu:  # no memory given
            return (
                await cpu.run_remembering(_pid_and_name, Store()),
                await cpu.run_remembering(_pid_and_name, None),
            )

    here, away = asyncio.run(run())
    assert here == (os.getpid(), "Store")
    assert away[0] != os.getpid() and away[1] == "NoneType"  # nothing to read: the worker


def test_workers_only_for_a_run_of_many_sources_on_a_spare_core(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def pool_for(sources: int) -> bool:
        with offload.cpu_for(sources, tokenize=False) as cpu:
            return cpu.pool is not None

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert not pool_for(offload.WORKER_FROM - 1)
    assert pool_for(offload.WORKER_FROM)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert not pool_for(100)


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def eventually(check: Callable[[], bool], seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def slow_fetch(server: LoopbackServer, home: Path, sources: int) -> subprocess.Popen[str]:
    """A ``newsmirror fetch`` process of ``sources`` sources whose feeds answer after 3 s
    (the nine built-in ones off), started on ``home``."""

    def slow(handler: Any) -> None:
        time.sleep(3)  # the worker is up long before any feed answers
        handler.send_response(304)
        handler.end_headers()

    home.mkdir()
    defaults = ("reuters", "nyt", "voa", "ft", "bbc", "rfi", "dw", "rfa", "cdt")
    tables = [f"[sources.{slug}]\nenabled = false" for slug in defaults]
    for i in range(sources):
        server.routes[f"/slow{i}.xml"] = slow
        tables.append(
            f'[sources.slow{i}]\nname = "slow{i}"\nfeeds = ["{server.url(f"/slow{i}.xml")}"]'
        )
    (home / "newsmirror.toml").write_text("\n".join(tables) + "\n", "utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent / "src")}
    return subprocess.Popen(
        [sys.executable, "-m", "newsmirror.cli", "--home", str(home), "fetch"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="a worker needs a second core")
def test_a_killed_fetch_leaves_no_worker_behind(server: LoopbackServer, tmp_path: Path) -> None:
    fetch = slow_fetch(server, tmp_path / "home", offload.WORKER_FROM)
    try:
        assert eventually(lambda: bool(children_of(fetch.pid)) or fetch.poll() is not None)
        assert fetch.poll() is None, fetch.communicate()[1]
        [worker] = children_of(fetch.pid)
        fetch.kill()
        fetch.wait()
        assert eventually(lambda: not alive(worker))
    finally:
        fetch.kill()
        fetch.wait()


def test_sigterm_ends_a_fetch_as_ctrl_c_does(server: LoopbackServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    fetch = slow_fetch(server, home, 1)
    try:
        assert eventually(lambda: (home / "newsmirror.db").exists() or fetch.poll() is not None)
        time.sleep(0.5)  # the request is on its way
        fetch.send_signal(signal.SIGTERM)
        _, errors = fetch.communicate(timeout=30)
        assert fetch.returncode == 130 and "interrupted" in errors
        assert "Traceback" not in errors
    finally:
        fetch.kill()
        fetch.wait()


_LIFELINE_ONLY = """
import os, signal, time
from newsmirror import workers
workers._PR_SET_PDEATHSIG = 0  # no help from the kernel (as off Linux): the pipe alone
with workers.worker_pool(1, "fork") as pool:
    print(pool.submit(os.getpid).result(), flush=True)
    pool.submit(time.sleep, 60)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_worker_ends_with_its_parent_and_holds_none_of_its_streams() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent / "src")}
    parent = subprocess.Popen(
        [sys.executable, "-c", _LIFELINE_ONLY],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        assert parent.wait(timeout=30) == -signal.SIGKILL
        assert eventually(lambda: not alive(worker), 5)
        parent.communicate(timeout=5)  # no process holds the caller's pipes any more
    finally:
        parent.kill()
        parent.wait()
