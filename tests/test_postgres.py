"""The archive on PostgreSQL from end to end: the same commands over the same loopback
feeds give the same files, search results and export as on SQLite; the database setting
and $NEWSMIRROR_DATABASE choose the backend. (The contract suite checks the store's every
method on both backends: store_contract.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import LoopbackServer, rss
from newsmirror.cli.main import EXIT_OK, EXIT_USAGE, main
from newsmirror.config.settings import DATABASE_ENV, load_config
from newsmirror.jobs.archive import Archive
from store_contract import SOURCES

TAIWAN = ("台湾", "台灣")  # simplified and traditional, in turn
NAMES = ("reuters", "nyt", "voa", "ft", "bbc", "rfi", "dw", "rfa", "cdt")


def items(first: int, count: int) -> list[dict[str, str]]:
    """Feed items with CJK and latin text, a minute apart from 2024-05-01 00:00 UTC."""
    start = datetime(2024, 5, 1, tzinfo=UTC)
    return [
        {
            "title": f"韩美就加强延伸威慑协调 第{n}号 Report",
            "link": f"http://example.org/news/{n}",
            "guid": f"g{n}",
            "pubDate": (start + timedelta(minutes=n)).strftime("%a, %d %b %Y %H:%M:%S GMT"),
            "description": f"<p>朝鲜半岛 第{n}段 deterrence 核威慑{TAIWAN[n % 2]}</p>",
        }
        for n in range(first, first + count)
    ]


def make_home(home: Path, feed: str, database: str = "") -> Path:
    """An archive folder following one feed (the default sources off), its store in
    ``database`` when given (a PostgreSQL URL), else the SQLite file."""
    home.mkdir(parents=True)
    tables = [f"[sources.{slug}]\nenabled = false" for slug in NAMES]
    tables.append(f'[sources.news]\nname = "新闻"\nfeeds = ["{feed}"]\nfull_text = "feed"')
    archive = f'[archive]\ndatabase = "{database}"\n' if database else ""
    (home / "newsmirror.toml").write_text(archive + "\n".join(tables), "utf-8")
    return home


def run_commands(
    home: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> dict[str, str]:
    """fetch, fetch again with more items, publish markdown, search, show, export: what
    each printed, and the export."""
    said: dict[str, str] = {}
    server.set("/feed.xml", rss(items(1, 6)))
    assert main(["--home", str(home), "fetch"]) == EXIT_OK
    server.set("/feed.xml", rss(items(4, 6)))
    assert main(["--home", str(home), "fetch"]) == EXIT_OK
    capsys.readouterr()
    assert main(["--home", str(home), "publish", "markdown"]) == EXIT_OK
    capsys.readouterr()
    for name, query in {
        "ranked": ["威慑"],
        "newest": ["--newest", "--limit", "3", "--", "延伸", "-第5号"],
        "one character": ["湾", "--json"],
        "latin": ["deter"],
    }.items():
        assert main(["--home", str(home), "search", *query]) == EXIT_OK
        said[name] = capsys.readouterr().out
    assert main(["--home", str(home), "show", "news/1048572"]) == EXIT_OK
    said["show"] = capsys.readouterr().out
    assert (
        main(["--home", str(home), "export", "jsonl", "--out", str(home / "out.jsonl")]) == EXIT_OK
    )
    # the captures hold what the network gave each run (Date headers, times to the
    # microsecond): the same input is every other record
    exported = (home / "out.jsonl").read_text("utf-8").splitlines()
    said["export"] = "\n".join(r for r in exported if '"type": "capture"' not in r)
    return said


def files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.parts[len(root.parts)] in ("articles", "lists", "README.md")
    }


def test_the_commands_on_postgresql_give_what_they_give_on_sqlite(
    tmp_path: Path,
    server: LoopbackServer,
    capsys: pytest.CaptureFixture[str],
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    feed = server.url("/feed.xml")
    results = {}
    for name, database in (("sqlite", ""), ("postgresql", postgres_url)):
        start = [datetime(2024, 5, 2, tzinfo=UTC)]

        def clock(now: list[datetime] = start) -> datetime:
            now[0] += timedelta(seconds=1)
            return now[0]

        monkeypatch.setattr(Archive, "default_clock", clock)
        home = make_home(tmp_path / name, feed, database)
        results[name] = (run_commands(home, server, capsys), files(home))
    (said_sqlite, files_sqlite), (said_postgres, files_postgres) = results.values()
    assert not (tmp_path / "postgresql" / "newsmirror.db").exists()  # the store is elsewhere
    assert said_postgres["export"].count('"type": "article"') == 9
    assert said_postgres == said_sqlite
    assert len(files_postgres) == 9 + 2  # 9 articles, a list, the README
    assert files_postgres == files_sqlite


def test_the_database_setting_and_its_variable_choose_postgresql(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = make_home(tmp_path / "home", "http://127.0.0.1:9/feed.xml", postgres_url)
    config = load_config(home)
    assert config.database_location == postgres_url
    other = make_home(tmp_path / "other", "http://127.0.0.1:9/feed.xml")
    assert load_config(other).database_location == other / "newsmirror.db"
    monkeypatch.setenv(DATABASE_ENV, postgres_url)
    assert load_config(other).database_location == postgres_url
    archive = Archive(load_config(other))
    try:
        assert archive.store.path == postgres_url
        assert "news" in [s.source for s in archive.store.stats()]
    finally:
        archive.close()
    assert not (other / "newsmirror.db").exists()


def test_another_kind_of_database_url_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = make_home(tmp_path / "home", "http://127.0.0.1:9/feed.xml", "mysql://x@y/z")
    assert main(["--home", str(home), "stats"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "mysql:// is not a database newsmirror uses" in err and "Traceback" not in err


def test_an_unreachable_database_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], postgres_url: str
) -> None:
    missing = postgres_url.rsplit("?", 1)[0] + "_nope?" + postgres_url.rsplit("?", 1)[1]
    home = make_home(tmp_path / "home", "http://127.0.0.1:9/feed.xml", missing)
    assert main(["--home", str(home), "stats"]) != EXIT_OK
    err = capsys.readouterr().err
    assert "cannot open the database" in err and "Traceback" not in err


# -- moving an archive between backends ------------------------------------------------------


def stored_archive(home: Path, count: int, start: int = 1, every_kind: bool = False) -> None:
    """An archive in ``home`` (SQLite) holding ``count`` articles of the source "news",
    every third edited (a second version); with ``every_kind``, the contract suite's
    holdings too (sources, feeds, captures, images, aliases, visits, lists)."""
    from store_contract import edited, item, when
    from test_store_contract_feeds import holdings

    make_home(home, "http://127.0.0.1:9/feed.xml")
    archive = Archive(load_config(home))
    try:
        if every_kind:
            archive.store.sync_sources(SOURCES)
            holdings(archive.store)
        with archive.store.transaction():
            for n in range(start, start + count):
                archive.store.store_candidate(item(n, "news"), when(n))
                if n % 3 == 0:
                    changed = edited(item(n, "news"), f"<p>第{n}篇 改过</p>")
                    archive.store.store_candidate(changed, when(n + 1))
    finally:
        archive.close()


def export_of(home: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["--home", str(home), "export", "jsonl"]) == EXIT_OK
    return capsys.readouterr().out


def test_migrate_to_postgresql_and_back_exports_the_same_records(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    stored_archive(home, 30, every_kind=True)
    before = export_of(home, capsys)
    kinds = {line.split('"type": "')[1].split('"')[0] for line in before.splitlines()}
    assert {"capture", "body", "media", "media_url", "alias", "visit", "watch"} <= kinds
    articles = before.count('"type": "article"')
    assert main(["--home", str(home), "migrate", "--to", postgres_url]) == EXIT_OK
    assert f"migrated {articles} articles ({articles} new here" in capsys.readouterr().out
    on_postgres = make_home(tmp_path / "pg", "http://127.0.0.1:9/feed.xml", postgres_url)
    assert export_of(on_postgres, capsys) == before
    searched = []
    for where in (home, on_postgres):  # the copy indexed every article as it came in
        assert main(["--home", str(where), "search", "--json", "--limit", "50", "标题"]) == 0
        searched.append(capsys.readouterr().out)
    assert searched[1] == searched[0] and '"total": 32' in searched[1]
    back = tmp_path / "back" / "newsmirror.db"
    back.parent.mkdir()
    assert main(["--home", str(on_postgres), "migrate", "--to", str(back)]) == EXIT_OK
    capsys.readouterr()
    (back.parent / "newsmirror.toml").write_text((home / "newsmirror.toml").read_text())
    assert export_of(back.parent, capsys) == before
    # again: nothing to add; into another archive's store: refused in one line
    assert main(["--home", str(home), "migrate", "--to", postgres_url]) == EXIT_OK
    assert "(0 new here" in capsys.readouterr().out
    other = tmp_path / "other"
    stored_archive(other, 3, start=100)
    assert main(["--home", str(other), "migrate", "--to", postgres_url]) != EXIT_OK
    said = capsys.readouterr().err
    assert "is not empty" in said and "Traceback" not in said
    assert export_of(on_postgres, capsys) == before


def test_a_killed_migration_resumes_where_it_stopped(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import signal
    import subprocess
    import sys
    import time

    from newsmirror.store import open_store

    def held() -> int:
        target = open_store(postgres_url)
        try:
            return sum(s.articles for s in target.stats())
        finally:
            target.close()

    home = tmp_path / "home"
    stored_archive(home, 600)
    before = export_of(home, capsys)
    command = [sys.executable, "-m", "newsmirror.cli", "--home", str(home), "migrate"]
    migration = subprocess.Popen([*command, "--to", postgres_url, "--batch", "100"])
    deadline = time.monotonic() + 60
    while migration.poll() is None and time.monotonic() < deadline:
        if held():  # a batch is in: kill it in the middle of the next ones
            migration.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    migration.wait()
    assert migration.returncode == -signal.SIGKILL, "the migration ended before it was killed"
    copied = held()
    assert 0 < copied < 600
    assert main(["--home", str(home), "migrate", "--to", postgres_url]) == EXIT_OK
    assert f"migrated 600 articles ({600 - copied} new here" in capsys.readouterr().out
    on_postgres = make_home(tmp_path / "pg", "http://127.0.0.1:9/feed.xml", postgres_url)
    assert export_of(on_postgres, capsys) == before
