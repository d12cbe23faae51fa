"""The SQLite store's search index writes: made together at the end of a transaction, in
key order (one FTS5 segment, however the versions came), forgotten with a savepoint
rolled back, found by a search inside the transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsmirror import decide
from newsmirror.errors import StorageError
from newsmirror.search.query import Query, parse_query
from newsmirror.store import SQLiteStore
from newsmirror.types import Candidate, Source

STAMP = datetime(2024, 1, 1, tzinfo=UTC)


def candidate(n: int, text: str = "", **kw: object) -> Candidate:
    html = f"<p>{text or f'第{n}条新闻'}</p>"
    fields: dict[str, object] = dict(
        source="s",
        identity=f"guid:g{n}",
        guid=f"g{n}",
        url=f"http://e.org/{n}",
        link=f"http://e.org/{n}",
        title=f"标题{n}",
        published_ms=1_700_000_000_000 + n * 60_000,
        date_missing=False,
        raw_html=html,
        clean_html=html,
        content_hash=decide.content_hash(f"标题{n}", html),
        feed_url="http://f/",
    )
    fields.update(kw)
    return Candidate(**fields)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    s = SQLiteStore(tmp_path / "db.sqlite")
    s.sync_sources([Source("s", "S", ("http://f/",))])
    return s


def found(store: SQLiteStore, text: str) -> set[str]:
    results = store.search(Query(terms=parse_query(text), limit=1000))
    return {hit.path for hit in results.hits}


def segments(store: SQLiteStore, table: str) -> int:
    """The segments an FTS5 table is made of (each has its own id in the %_idx table)."""
    return int(store.db.execute(f"SELECT COUNT(DISTINCT segid) FROM {table}_idx").fetchone()[0])


def test_a_transaction_of_items_newest_first_writes_one_segment(store: SQLiteStore) -> None:
    with store.transaction():
        for n in reversed(range(60)):  # newest first: each key lower than the one before
            with store.transaction():  # a savepoint per item, as a fetch has per source
                store.store_candidate(candidate(n), STAMP)
    assert segments(store, "search_index") == 1
    assert segments(store, "search_chars") == 1
    assert len(found(store, "新闻")) == 60
    assert found(store, "第7条") == {"articles/s/1048522.md"}


def test_a_version_replaced_in_the_same_transaction_is_found_as_last_stored(
    store: SQLiteStore,
) -> None:
    stamp = STAMP
    store.store_candidate(candidate(1, "旧的内容"), stamp)
    with store.transaction():
        for text in ("中间内容", "最后内容"):
            outcome = store.store_candidate(candidate(1, text), stamp)
            assert outcome.status == "changed"
    assert found(store, "最后") == {"articles/s/1048574.md"}
    assert found(store, "中间") == found(store, "旧的") == set()


def test_what_a_rolled_back_savepoint_indexed_is_forgotten(store: SQLiteStore) -> None:
    stamp = STAMP
    with store.transaction():
        store.store_candidate(candidate(1, "保留的新闻"), stamp)
        with pytest.raises(StorageError), store.transaction():
            store.store_candidate(candidate(2, "撤销的新闻"), stamp)
            raise StorageError("this source failed")
        store.store_candidate(candidate(3, "后来的新闻"), stamp)
    assert found(store, "新闻") == {"articles/s/1048574.md", "articles/s/1048573.md"}
    assert found(store, "撤销") == set()


def test_a_search_inside_the_transaction_finds_what_it_stored(store: SQLiteStore) -> None:
    with store.transaction():
        store.store_candidate(candidate(1, "事务中的新闻"), STAMP)
        assert found(store, "事务") == {"articles/s/1048574.md"}
        store.store_candidate(candidate(2, "事务后的新闻"), STAMP)
    assert len(found(store, "事务")) == 2


def test_a_long_transaction_writes_as_it_goes(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsmirror.store.sqlite import deferred

    monkeypatch.setattr(deferred, "AT_ONCE", 10)
    writes = store.index._writes
    with store.transaction():
        for n in range(35):
            store.store_candidate(candidate(n), STAMP)
            assert len(writes.log) < 10  # never more than that waits
    assert len(found(store, "新闻")) == 35
