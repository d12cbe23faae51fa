"""The SQLite store: migrations, WAL, identity lookup, id allocation, no loss."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsmirror import decide
from newsmirror.errors import MigrationError, StorageError
from newsmirror.store import SQLiteStore
from newsmirror.store.schema import latest_version, migration_sql
from newsmirror.store.sqlite import FeedMemory
from newsmirror.types import Candidate, Source

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def candidate(n: int, **kw: object) -> Candidate:
    fields: dict[str, object] = dict(
        source="s",
        identity=f"guid:g{n}",
        guid=f"g{n}",
        url=f"http://e.org/{n}",
        link=f"http://e.org/{n}",
        title=f"t{n}",
        published_ms=n * 1000,
        date_missing=False,
        raw_html=f"<p>{n}</p>",
        clean_html=f"<p>{n}</p>",
        content_hash=decide.content_hash(f"t{n}", f"<p>{n}</p>"),
        feed_url="http://f/",
    )
    fields.update(kw)
    return Candidate(**fields)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    s = SQLiteStore(tmp_path / "db.sqlite")
    s.sync_sources([Source("s", "S", ("http://f/",))])
    return s


def test_fresh_database_is_migrated_and_in_wal_mode(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "a.db")
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == latest_version()
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()
    again = SQLiteStore(tmp_path / "a.db")  # reopening migrates nothing
    assert again.db.execute("PRAGMA user_version").fetchone()[0] == latest_version()


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "new.db")
    db.execute("PRAGMA user_version = 999")
    db.close()
    with pytest.raises(MigrationError):
        SQLiteStore(tmp_path / "new.db")


def test_not_a_database_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError):
        SQLiteStore(tmp_path / "junk.db")


def test_ids_count_down_and_identity_is_stable(store: SQLiteStore) -> None:
    ids = [store.store_candidate(candidate(n), NOW).archive_id for n in range(3)]
    assert ids == [1048574, 1048573, 1048572]
    again = store.store_candidate(candidate(1), NOW)
    assert (again.status, again.archive_id) == ("unchanged", 1048573)
    # The same URL without a guid is the same article.
    by_url = store.store_candidate(candidate(1, guid="", identity="url:x"), NOW)
    assert by_url.archive_id == 1048573


def test_changed_content_adds_a_version_and_keeps_the_old(store: SQLiteStore) -> None:
    store.store_candidate(candidate(1), NOW)
    changed = candidate(1, clean_html="<p>edited</p>", content_hash="other")
    assert store.store_candidate(changed, NOW).status == "changed"
    article = store.find_article("g1")
    assert article is not None
    assert [v.clean_html for v in article.versions] == ["<p>1</p>", "<p>edited</p>"]


def test_post_ids_and_fallback_to_countdown(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db")
    store.sync_sources([Source("cdt", "C", ("http://f/",), id_scheme="post")])
    first = store.store_candidate(candidate(1, source="cdt", post_id=683008), NOW)
    assert first.archive_id == 365567
    clash = store.store_candidate(candidate(2, source="cdt", post_id=683008), NOW)
    assert clash.archive_id == 1048574
    none = store.store_candidate(candidate(3, source="cdt", post_id=None), NOW)
    assert none.archive_id == 1048573


def test_a_failed_transaction_leaves_nothing(store: SQLiteStore) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.store_candidate(candidate(1), NOW)
        raise RuntimeError("crash")
    assert store.find_article("g1") is None
    assert store.store_candidate(candidate(1), NOW).archive_id == 1048574


def test_seen_feed_hashes_finds_each_item_as_store_candidate_would(store: SQLiteStore) -> None:
    store.store_candidate(candidate(1, feed_hash="h1"), NOW)
    store.store_candidate(candidate(2, guid="", feed_hash="h2"), NOW)
    dateless = candidate(3, guid="", url="", link="", identity="title:t3", feed_hash="h3")
    store.store_candidate(dateless, NOW)
    items = [
        ("g1", "http://other/", "x", 0),  # by guid
        ("g-new", "http://e.org/2", "x", 0),  # an unknown guid, then by url
        ("", "", "t3", 3000),  # neither: by title and day
        ("g-new", "http://e.org/new", "t1", 1000),  # nothing known
        ("", "", "t3", 90 * 86_400_000),  # the same title another day: another article
    ]
    assert store.seen_feed_hashes("s", items) == ["h1", "h2", "h3", "", ""]
    assert store.seen_feed_hashes("other", items[:2]) == ["", ""]
    memory = FeedMemory(store.path)  # a worker's own read-only view: the same answers
    try:
        assert memory.seen_feed_hashes("s", items) == ["h1", "h2", "h3", "", ""]
        with pytest.raises(StorageError, match="readonly"):
            memory.db.run("DELETE FROM articles")
    finally:
        memory.close()


def test_a_small_publish_syncs_its_own_files_and_a_large_one_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsmirror.publish import files

    synced: list[str] = []
    everything: list[bool] = []
    real_fsync = os.fsync
    monkeypatch.setattr(files.os, "fsync", lambda fd: (synced.append(str(fd)), real_fsync(fd)))
    monkeypatch.setattr(files.os, "sync", lambda: everything.append(True))
    for n in range(3):
        files.write_atomic(tmp_path / "a" / f"{n}.html", b"x", sync=False)
    files.flush_to_disk()
    assert len(synced) == 4 and everything == []  # three files and their folder
    synced.clear()
    for n in range(files.SYNC_EACH_MAX + 1):
        files.note_unsynced(tmp_path / f"{n}.html")
    files.flush_to_disk()
    assert synced == [] and everything == [True]
    files.flush_to_disk()  # nothing left
    assert synced == [] and everything == [True]


# -- opening a store from several processes at once --------------------------------------------

_OPEN_AT_ONCE = """
import sys, time
from newsmirror.jobs.archive import Archive
from newsmirror.config.settings import load_config
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))  # every process opens the store at that moment
with Archive(load_config(sys.argv[1])) as archive:
    assert archive.store.db.execute("PRAGMA user_version").fetchone()[0] == int(sys.argv[3])
    archive.publish_markdown()
"""


@pytest.mark.parametrize("old", [False, True], ids=["new home", "old schema"])
def test_processes_opening_a_store_at_once_all_see_it_migrated(tmp_path: Path, old: bool) -> None:
    import subprocess
    import sys
    import time

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent / "src")}
    for attempt in range(8):
        home = tmp_path / f"home{attempt}"
        home.mkdir()
        (home / "newsmirror.toml").write_text("[archive]\n", "utf-8")
        if old:  # a database of an older newsmirror: the first migration only
            db = sqlite3.connect(home / "newsmirror.db")
            db.executescript(migration_sql(0) + "\nPRAGMA user_version = 1;")
            db.close()
        at = str(time.time() + 1.0)
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", _OPEN_AT_ONCE, str(home), at, str(latest_version())],
                env=env,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        for process in processes:
            _, errors = process.communicate(timeout=120)
            assert process.returncode == 0, errors
