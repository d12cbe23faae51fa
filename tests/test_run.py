"""`newsmirror run`: due-time decisions (pure), one cycle with --once, the single-instance
lock, SIGTERM finishing the step and exiting, the daily digest, and SIGKILL at random
moments (25 times) losing nothing and leaving no half-written file."""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote

import pytest

from conftest import DATA, LoopbackServer, rss
from newsmirror.cli.main import EXIT_OK, main
from newsmirror.cli.service import EXIT_LOCKED
from newsmirror.schedule import rules as schedule
from newsmirror.schedule.runner import CycleReport
from newsmirror.types import SourceReport

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
PAGES = sorted((DATA / "pages" / "newspaper4k" / "html").glob("chinese*.html"))


# -- due times (pure) --------------------------------------------------------------------


def test_a_source_is_due_an_interval_after_its_last_attempt_with_fixed_jitter() -> None:
    last = T0.isoformat()
    at = schedule.source_due_at("rfi", last, 3600, 0.0)
    assert at == T0 + timedelta(hours=1)
    varied = schedule.source_due_at("rfi", last, 3600, 0.1)
    assert varied is not None and abs(varied - at) <= timedelta(minutes=6)
    assert varied == schedule.source_due_at("rfi", last, 3600, 0.1)  # the same each time
    spread = {schedule.source_due_at(s, last, 3600, 0.1) for s in ("a", "b", "c", "d", "e")}
    assert len(spread) == 5  # sources do not all knock at once
    assert schedule.source_due_at("rfi", "", 3600, 0.1) is None  # never tried: due now
    assert schedule.source_due_at("rfi", "garbage", 3600, 0.1) is None


def test_due_sources_and_sleeps() -> None:
    attempts = schedule.last_attempts(
        [("a", (T0 - timedelta(minutes=30)).isoformat()), ("a", ""), ("b", T0.isoformat())]
    )
    assert attempts == {"a": (T0 - timedelta(minutes=30)).isoformat(), "b": T0.isoformat()}
    intervals = {"a": 1800.0, "b": 3600.0, "c": 3600.0}
    assert schedule.due_sources(intervals, attempts, T0, 0.0) == ["a", "c"]
    assert schedule.due_sources(intervals, attempts, T0 - timedelta(minutes=1), 0.0) == ["c"]
    assert schedule.sleep_for(T0, []) == schedule.MAX_SLEEP
    assert schedule.sleep_for(T0, [T0 + timedelta(minutes=5), None]) == timedelta(minutes=5)
    assert schedule.sleep_for(T0, [T0 - timedelta(hours=1)]) == schedule.MIN_SLEEP
    assert schedule.sleep_for(T0, [T0 + timedelta(days=1)]) == schedule.MAX_SLEEP


# -- a newsroom on loopback, and an archive configured for it ---------------------------------


class Newsroom:
    """A feed that grows by a few items on every request (up to ``total``), and a page
    for each item (real article pages)."""

    def __init__(self, server: LoopbackServer, total: int = 60, step: int = 6) -> None:
        self.server, self.total, self.step = server, total, step
        self.shown = step  # items the next answer holds
        self.served = 0  # items the latest answer held
        self.lock = threading.Lock()
        for n in range(total):
            server.set(f"/news/{n}.html", PAGES[n % len(PAGES)].read_bytes(), **_HTML)
        server.routes["/feed.xml"] = self.feed

    def items(self, count: int) -> list[dict[str, str]]:
        return [
            {
                "title": f"第{n}条新闻 [{n}]",
                "link": self.server.url(f"/news/{n}.html"),
                "guid": f"urn:news:{n}",
                "pubDate": format_datetime(datetime.now(UTC) - timedelta(minutes=n), usegmt=True),
                "content": f"<p>第{n}条新闻的正文。</p><p>{'这是一段足够长的正文。' * 30}</p>",
            }
            for n in range(count)
        ]

    def feed(self, handler: BaseHTTPRequestHandler) -> None:
        with self.lock:
            count = self.served = self.shown
            self.shown = min(self.total, self.shown + self.step)
        body = rss(self.items(count)).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


_HTML = {"Content-Type": "text/html; charset=utf-8"}


def write_config(home: Path, feed: str, extra: str = "") -> None:
    home.mkdir(parents=True, exist_ok=True)
    defaults = ("reuters", "nyt", "voa", "ft", "bbc", "rfi", "dw", "rfa", "cdt")
    tables = [f"[sources.{slug}]\nenabled = false" for slug in defaults]
    tables.append(f'[sources.wire]\nname = "通讯社"\nfeeds = ["{feed}"]\nfull_text = "feed"')
    settings = "[fetch]\ntimeout = 5.0\nallow_private_addresses = true\n"  # pages on loopback
    settings += '[watch]\nschedule = ["1s", "3s", "1h"]\n'
    settings += '[run]\npublish = ["markdown", "site", "digest"]\n' + extra
    (home / "newsmirror.toml").write_text(settings + "\n".join(tables) + "\n", "utf-8")


@pytest.fixture
def newsroom(server: LoopbackServer) -> Iterator[Newsroom]:
    yield Newsroom(server)


def command(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "newsmirror.cli", "--home", str(home), *args]


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("NEWSMIRROR_HOME", None)
    src = str(Path(__file__).parent.parent / "src")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    return env


# -- one cycle, the lock, signals --------------------------------------------------------------


def test_the_summary_says_what_a_cycle_did_in_words() -> None:
    started = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    report = CycleReport(
        started,
        fetched=[SourceReport("rfi", new=5, changed=3), SourceReport("bbc", failed=True)],
    )
    assert report.summary() == (
        "news 2026-11-27 08:00 UTC: 5 new (rfi 5), 3 with a new version, failed: bbc"
    )  # a new version: an item changed in its feed, or its page read at last


def test_run_once_fetches_watches_publishes_and_summarises(
    newsroom: Newsroom, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    write_config(home, newsroom.server.url("/feed.xml"))
    summary = tmp_path / "summary.txt"
    assert main(["--home", str(home), "run", "--once", "--summary", str(summary)]) == EXIT_OK
    line = summary.read_text("utf-8").strip()
    assert line.startswith("news ") and "6 new (wire 6)" in line
    assert len(list((home / "articles" / "wire").glob("*.md"))) == 6
    assert (home / "lists" / "通讯社.md").exists() and (home / "site" / "index.html").exists()
    today = datetime.now(UTC).astimezone().date()
    digests = sorted(p.name for p in (home / "digests").iterdir())
    assert any(name.endswith(".md") for name in digests) and any(".html" in n for n in digests)
    assert all(not name.startswith(".") for name in digests), today
    time.sleep(1.1)  # the first revisit (1 s after first stored) is due for those six
    assert main(["--home", str(home), "run", "--once"]) == EXIT_OK
    assert "revisited 6: 6 unchanged" in capsys.readouterr().out
    db = sqlite3.connect(home / "newsmirror.db")
    visited = db.execute("SELECT COUNT(DISTINCT article_id) FROM visits").fetchone()[0]
    assert visited == 6  # the six new ones of this run wait for their first step
    assert main(["--home", str(home), "run", "--summary", str(summary)]) == 2  # not --once
    outcomes = {row[0] for row in db.execute("SELECT outcome FROM visits")}
    assert outcomes == {"unchanged"}


def test_a_second_run_says_so_and_exits(
    newsroom: Newsroom, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    write_config(home, newsroom.server.url("/feed.xml"))
    first = subprocess.Popen(
        command(home, "run"), stdout=subprocess.PIPE, text=True, env=environment()
    )
    try:
        assert first.stdout is not None
        lines = _read_until(first, "next cycle in")
        assert any("running on" in line for line in lines)
        capsys.readouterr()
        assert main(["--home", str(home), "run", "--once"]) == EXIT_LOCKED
        message = capsys.readouterr().err
        assert "another newsmirror run holds this archive" in message
        assert f"pid {first.pid}" in message
        # SIGTERM: the run finishes what it does and exits cleanly
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
        rest = first.stdout.read()
        assert "SIGTERM" in rest and "stopped" in rest
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    # the lock went with the process
    assert main(["--home", str(home), "run", "--once"]) == EXIT_OK


def test_sigterm_during_a_step_finishes_that_step_only(
    server: LoopbackServer, tmp_path: Path
) -> None:
    """A SIGTERM while the fetch waits for a slow feed: the fetch ends (the feed is
    stored), the later steps are skipped, the exit is clean."""
    gate = threading.Event()
    body = rss([{"title": "慢", "link": server.url("/slow/1.html"), "guid": "urn:slow",
                 "description": "<p>" + "慢慢来。" * 40 + "</p>"}]).encode()  # fmt: skip

    def slow(handler: BaseHTTPRequestHandler) -> None:
        gate.set()
        time.sleep(1.5)
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    server.routes["/slow.xml"] = slow
    home = tmp_path / "home"
    write_config(home, server.url("/slow.xml"))
    process = subprocess.Popen(
        command(home, "run"), stdout=subprocess.PIPE, text=True, env=environment()
    )
    try:
        assert gate.wait(timeout=30)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert process.stdout is not None
        text = process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
    assert "fetched 1 source: 1 new" in text and "stopped before the end" in text
    assert "markdown:" not in text  # the publish steps were skipped
    db = sqlite3.connect(home / "newsmirror.db")
    assert db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 1


def _read_until(process: subprocess.Popen[str], marker: str, timeout: float = 60) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"no {marker!r} in {lines}")


# -- the digest -----------------------------------------------------------------------------


def test_digest_lists_the_days_articles_per_source_with_links(
    newsroom: Newsroom, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    write_config(home, newsroom.server.url("/feed.xml"))
    assert main(["--home", str(home), "fetch", "--publish"]) == EXIT_OK
    today = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    day = today.date().isoformat()
    assert main(["--home", str(home), "digest", "--date", day]) == EXIT_OK
    text = (home / "digests" / f"{day}.md").read_text("utf-8")
    assert text.startswith(f"# {day} 每日摘要")
    assert "## 通讯社" in text
    assert "\\[0\\]" in text  # brackets in titles are escaped
    for link in text.split("](")[1:]:
        target = link.split(")")[0]
        if target.startswith(".."):
            assert (home / "digests" / target).resolve().exists(), target
    html = (home / "digests" / f"{day}.html").read_text("utf-8")
    assert "<script" not in html and "第0条新闻 [0]" in html
    local = re.findall(r'href="(\.\./[^"]+)"', html)
    assert len(local) == 6
    assert all((home / "digests" / unquote(target)).resolve().exists() for target in local)
    capsys.readouterr()
    assert main(["--home", str(home), "digest", "--date", day]) == EXIT_OK
    assert "0 written, 2 unchanged" in capsys.readouterr().out
    assert main(["--home", str(home), "digest", "--date", "2001-01-01"]) == EXIT_OK
    assert "no articles" in capsys.readouterr().out
    assert main(["--home", str(home), "digest", "--date", "yesterday"]) == 2


# -- SIGKILL at random moments ------------------------------------------------------------------


def test_sigkill_at_random_moments_loses_nothing(newsroom: Newsroom, tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_config(home, newsroom.server.url("/feed.xml"))
    env = environment()
    rng = random.Random(20261127)
    started = time.monotonic()
    full = subprocess.run(command(home, "run", "--once"), env=env, capture_output=True)
    assert full.returncode == 0, full.stderr
    cycle = time.monotonic() - started
    kills = attempts = 0
    while kills < 25 and attempts < 80:  # a run that ended before its kill does not count
        attempts += 1
        process = subprocess.Popen(
            command(home, "run", "--once"),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.05, cycle))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
    assert kills == 25, f"only {kills} of {attempts} runs were still going when killed"

    final = subprocess.run(command(home, "run", "--once"), env=env, capture_output=True)
    assert final.returncode == 0, final.stderr

    db = sqlite3.connect(home / "newsmirror.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    guids = {row[0] for row in db.execute("SELECT guid FROM articles")}
    served = {f"urn:news:{n}" for n in range(newsroom.served)}
    assert guids == served  # every item the feed ever showed, once
    orphans = db.execute(
        "SELECT COUNT(*) FROM articles a WHERE latest_version IS NULL OR NOT EXISTS "
        "(SELECT 1 FROM versions v WHERE v.article_id = a.id)"
    ).fetchone()[0]
    assert orphans == 0
    leftovers = [p for p in home.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    # every published file is whole: publishing again (even comparing every file) writes
    # nothing, and every article file is its latest version
    again = subprocess.run(
        command(home, "publish", "markdown", "--force"), env=env, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    assert "markdown: 0 written" in again.stdout
    site = subprocess.run(
        command(home, "publish", "site", "--force"), env=env, capture_output=True, text=True
    )
    assert site.returncode == 0, site.stderr
    assert " 0 written" in site.stdout or "0 pages written" in site.stdout, site.stdout


def test_a_long_run_reads_its_settings_again_but_keeps_what_needs_a_restart(
    newsroom: Newsroom, tmp_path: Path
) -> None:
    from newsmirror.jobs.archive import Archive
    from newsmirror.schedule.runner import Runner

    home = tmp_path / "home"
    write_config(home, newsroom.server.url("/feed.xml"))
    said: list[str] = []
    with Archive.open(home) as archive:
        runner = Runner(archive, said.append)
        path = home / "newsmirror.toml"
        text = path.read_text("utf-8")
        path.write_text(text.replace('publish = ["markdown", "site", "digest"]', 'publish = ["x"]'))
        runner.reload()
        assert archive.config.publish == ["markdown", "site", "digest"]
        assert "configuration error, keeping the settings in force" in said[-1]
        path.write_text(
            '[archive]\ndatabase = "other.db"\n' + text.replace("[fetch]", "[fetch]", 1)
        )
        runner.reload()
        assert archive.config.database == "newsmirror.db"
        assert any("database changed: restart run" in line for line in said)
        path.write_text(text.replace('publish = ["markdown", "site", "digest"]', "publish = []"))
        runner.reload()
        assert archive.config.publish == []
        path.unlink()
        runner.reload()
        assert archive.config.publish == [] and "is gone" in said[-1]


def test_a_cycle_and_its_jobs_read_the_time_from_the_clock_they_are_given(
    newsroom: Newsroom, tmp_path: Path
) -> None:
    from newsmirror.config.settings import load_config
    from newsmirror.jobs.archive import Archive
    from newsmirror.schedule.runner import Runner

    home = tmp_path / "home"
    write_config(home, newsroom.server.url("/feed.xml"), "watch = false\n")
    fixed = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    with Archive(load_config(home), clock=lambda: fixed) as archive:
        runner = Runner(archive, lambda line: None)
        report = runner.cycle(once=True)
        assert report.started == fixed and not report.failed
        assert report.summary().startswith(f"news {fixed:%Y-%m-%d %H:%M} UTC: 6 new")
        article = archive.show("urn:news:0")
        assert article is not None and article.first_seen == fixed
        later = fixed + timedelta(minutes=5)
        assert Runner(archive, lambda line: None, clock=lambda: later).cycle().started == later


# -- SIGKILL of a publish: no process left behind, no temporary file kept -----------------------


def stored_archive(home: Path, articles: int) -> None:
    """An archive of ``articles`` articles of source "wire", stored as a fetch would."""
    from newsmirror import decide
    from newsmirror.jobs.archive import Archive
    from newsmirror.types import Candidate

    write_config(home, "http://127.0.0.1:9/feed.xml")
    with Archive.open(home) as archive, archive.store.transaction():
        for n in range(articles):
            html = f"<p>第{n}条新闻。</p><p>{'这是一段足够长的正文。' * 40}</p>"
            title = f"第{n}条新闻"
            archive.store.store_candidate(
                Candidate(
                    source="wire", identity=f"guid:{n}", guid=str(n), url=f"https://w.test/{n}",
                    link=f"https://w.test/{n}", title=title, date_missing=False,
                    published_ms=int(T0.timestamp() * 1000) + n * 60_000, raw_html=html,
                    clean_html=html, content_hash=decide.content_hash(title, html),
                    feed_url="http://127.0.0.1:9/feed.xml",
                ),
                T0,
            )  # fmt: skip


def processes(**wanted: int) -> list[int]:
    """The live processes (zombies aside) whose ``parent`` or ``group`` is as given."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        have = {"parent": int(fields[1]), "group": int(fields[2])}
        if fields[0] != "Z" and all(have[key] == value for key, value in wanted.items()):
            found.append(int(stat.parent.name))
    return found


#: ``publish site`` with its article pages made by two worker processes, however many
#: articles and cores there are.
_SITE_WITH_WORKERS = (
    "import os, sys\n"
    "os.cpu_count = lambda: 2\n"
    "from newsmirror.publish.site.writer import SitePublisher\n"
    "SitePublisher.parallel_min = 1\n"
    "from newsmirror.cli.main import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


PUBLISH_SITE = ("publish", "site", "--out")


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_a_killed_site_publish_leaves_no_process_behind(tmp_path: Path) -> None:
    import select

    home = tmp_path / "home"
    stored_archive(home, 1500)
    rng = random.Random(20261208)
    kills = 0
    for attempt in range(8):
        out = str(tmp_path / f"site{attempt}")
        process = subprocess.Popen(
            [sys.executable, "-c", _SITE_WITH_WORKERS, "--home", str(home), *PUBLISH_SITE, out],
            env=environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its group: every process it starts
        )
        deadline = time.monotonic() + 60
        while len(processes(parent=process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)  # until its workers are there
        time.sleep(rng.uniform(0, 0.5))
        if process.poll() is None:
            process.kill()
            kills += 1
        process.wait()
        gone = time.monotonic() + 5
        while processes(group=process.pid) and time.monotonic() < gone:
            time.sleep(0.05)
        assert processes(group=process.pid) == [], "workers outlived the publish"
        for pipe in (process.stdout, process.stderr):
            assert pipe is not None
            assert select.select([pipe], [], [], 1)[0], "a pipe of the caller is held open"
            pipe.read()
            pipe.close()
    assert kills >= 4


def dead_pid() -> int:
    """The id of a process that has ended."""
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    return ended.pid


def strays(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob(".newsmirror-*.tmp"))


def test_a_killed_markdown_publish_leaves_no_temporary_file_after_the_next(
    tmp_path: Path,
) -> None:
    import shutil

    home = tmp_path / "home"
    stored_archive(home, 1500)
    env = environment()
    started = time.monotonic()
    full = subprocess.run(command(home, "publish", "markdown"), env=env, capture_output=True)
    assert full.returncode == 0, full.stderr
    took = time.monotonic() - started
    rng = random.Random(20261209)
    for _ in range(6):  # each time every file is written again, and the writing killed
        shutil.rmtree(home / "articles")
        process = subprocess.Popen(
            command(home, "publish", "markdown"),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, took))
        process.kill()
        process.wait()
    dead = dead_pid()  # and what a kill at the worst moment leaves, in every folder
    for folder in ("articles/wire", "lists", "."):
        (home / folder / f".newsmirror-{dead}-7.tmp").write_bytes(b"half")
    mine = home / "lists" / f".newsmirror-{os.getpid()}-7.tmp"  # a live process's
    mine.write_bytes(b"being written")
    last = subprocess.run(
        command(home, "publish", "markdown"), env=env, capture_output=True, text=True
    )
    assert last.returncode == 0, last.stderr
    assert strays(home) == ["lists/" + mine.name]
    assert "note: removed" in last.stderr and "temporary files of a write that never" in last.stderr


def test_every_command_that_writes_removes_the_temporary_files_of_killed_ones(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    stored_archive(home, 60)
    env = environment()
    dead = dead_pid()
    for command_args, folders in (
        (("publish", "site"), ("site", "site/a/wire", "site/s/wire")),
        (("digest", "--date", T0.date().isoformat()), ("digests",)),
        (("export", "jsonl", "--out", str(home / "out" / "all.jsonl")), ("out",)),
    ):
        assert subprocess.run(command(home, *command_args), env=env).returncode == 0
        for folder in folders:
            (home / folder / f".newsmirror-{dead}-1.tmp").write_bytes(b"half")
        again = subprocess.run(command(home, *command_args), env=env, capture_output=True)
        assert again.returncode == 0, again.stderr
        assert strays(home) == [], command_args
