"""The storage contract, part 1: the store itself and its transactions, sources,
articles and versions, identity, archive ids, published files. Every test speaks to the
store through the Store Protocol only, once per backend (see store_contract.py); parts 2
and 3 are test_store_contract_feeds.py and test_store_contract_views.py."""

from __future__ import annotations

import ast
import inspect
from dataclasses import replace
from pathlib import Path

import pytest

from newsmirror import decide
from newsmirror.errors import StorageError
from newsmirror.search.query import Query, parse_query
from newsmirror.store import FeedResult, ImportedFile, Store
from newsmirror.types import Source
from store_contract import (
    CDT_FEED,
    FEED,
    FEED_2,
    START_MS,
    Stores,
    edited,
    item,
    when,
)

FIRST_ID = 1048574  # 0xFFFFF - 1: the countdown's first id

# -- the suite covers the whole interface -------------------------------------------------


def protocol_members() -> set[str]:
    """The names of every method and attribute of the Store Protocol."""
    names: set[str] = set()
    for part in inspect.getmro(Store):
        if part in (Store, object) or not getattr(part, "_is_protocol", False):
            continue
        names |= {name for name in vars(part) if not name.startswith("_")}
    return names


def test_the_suite_calls_every_method_of_the_protocol() -> None:
    here = Path(__file__).parent
    called: set[str] = set()
    for module in (here / "store_contract.py", *here.glob("test_store_contract*.py")):
        tree = ast.parse(module.read_text("utf-8"))
        called |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    members = protocol_members()
    assert len(members) > 60
    assert sorted(members - called) == []


# -- the store itself ---------------------------------------------------------------------


def test_a_store_closed_and_opened_again_holds_what_was_stored(
    stores: Stores, store: Store
) -> None:
    stored = store.store_candidate(item(1), when(1))
    place = store.path
    assert isinstance(place, str) and place
    store.close()
    again = stores.open()
    assert again.path == place
    found = again.find_article("g1")
    assert found is not None and found.id == stored.article_id


def test_a_reader_sees_what_the_writer_committed_and_writes_nothing(
    stores: Stores, store: Store
) -> None:
    reader = stores.reader()
    assert reader.site_source_counts() == {} and reader.search_ready()
    stored = store.store_candidate(item(1), when(1))
    found = reader.find_article("g1")
    assert found is not None and found.id == stored.article_id
    with store.transaction():  # what is not committed yet is not seen
        store.store_candidate(item(2), when(2))
        assert reader.site_source_counts() == {"rfi": 1}
    assert reader.site_source_counts() == {"rfi": 2}
    with pytest.raises(StorageError):
        reader.store_candidate(item(3), when(3))
    assert store.site_source_counts() == {"rfi": 2}


def test_a_failure_inside_a_transaction_undoes_every_write_in_it(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.store_candidate(item(1), when(1))
        store.record_feed_result("rfi", FEED, FeedResult(ok=True, status="200"), when(1))
        store.log_item("rfi", FEED, "g1", "t", "skipped", "why", when(1))
        raise RuntimeError("crash")
    assert store.find_article("g1") is None
    assert store.item_log() == []
    assert all(f.last_success is None for f in store.feed_states())
    assert store.store_candidate(item(1), when(2)).status == "new"


def test_writes_inside_a_transaction_commit_together_and_a_nested_failure_undoes_its_own(
    stores: Stores, store: Store
) -> None:
    with store.transaction():
        store.store_candidate(item(1), when(1))
        with pytest.raises(ValueError), store.transaction():
            store.store_candidate(item(2), when(1))
            raise ValueError("one bad item")
        store.store_candidate(item(3), when(1))
    store.close()
    again = stores.open()
    assert [again.find_article(f"g{n}") is not None for n in (1, 2, 3)] == [True, False, True]


# -- sources, articles and versions -------------------------------------------------------


def test_a_stored_item_reads_back_as_it_was_given(store: Store) -> None:
    candidate = item(1, method_note="kept", content_url="http://news.test/rfi/1?amp")
    outcome = store.store_candidate(candidate, when(5))
    assert outcome.status == "new"
    found = store.find_article("g1")
    assert found is not None
    assert (found.id, found.source, found.archive_id) == (outcome.article_id, "rfi", FIRST_ID)
    assert found.path == f"articles/rfi/{FIRST_ID}.md"
    assert (found.identity, found.guid, found.url) == ("guid:g1", "g1", candidate.url)
    assert (found.published_ms, found.date_missing, found.first_seen) == (
        candidate.published_ms,
        False,
        when(5),
    )
    (version,) = found.versions
    assert version == store.versions_of(found.id)[0]
    assert (version.article_id, version.seq, version.fetched_at) == (found.id, 1, when(5))
    assert (version.title, version.link, version.feed_url) == (
        candidate.title,
        candidate.link,
        FEED,
    )
    assert (version.raw_html, version.clean_html) == (candidate.raw_html, candidate.clean_html)
    assert (version.content_hash, version.method) == (candidate.content_hash, "feed")
    assert (version.content_url, version.method_note) == (candidate.content_url, "kept")


def test_the_same_content_again_changes_nothing_and_new_content_is_a_new_version(
    store: Store,
) -> None:
    first = store.store_candidate(item(1), when(1))
    same = store.store_candidate(item(1), when(2))
    assert (same.status, same.article_id, same.archive_id) == (
        "unchanged",
        first.article_id,
        first.archive_id,
    )
    newer = edited(item(1), "<p>更正后的正文</p>", published_ms=START_MS + 999_000)
    changed = store.store_candidate(newer, when(3))
    assert (changed.status, changed.article_id) == ("changed", first.article_id)
    versions = store.versions_of(first.article_id)
    assert [(v.seq, v.clean_html, v.fetched_at) for v in versions] == [
        (1, item(1).clean_html, when(1)),
        (2, "<p>更正后的正文</p>", when(3)),
    ]
    found = store.find_article("g1")
    assert found is not None and found.published_ms == START_MS + 999_000


def test_an_item_is_its_article_by_guid_else_url_else_alias_else_title_and_day(
    store: Store,
) -> None:
    by_guid = store.store_candidate(item(1), when(1)).article_id
    moved = item(1, url="http://news.test/moved", link="http://news.test/moved")
    assert store.store_candidate(moved, when(2)).article_id == by_guid
    no_guid = item(2, guid="", identity="url:x")
    by_url = store.store_candidate(no_guid, when(1)).article_id
    assert store.store_candidate(replace(no_guid, identity="url:y"), when(2)).article_id == by_url
    proxied = item(3, guid="", aliases=("http://proxy.test/3",))
    by_alias = store.store_candidate(proxied, when(1)).article_id
    original = item(3, guid="", url="http://proxy.test/3", link="http://proxy.test/3")
    assert store.store_candidate(original, when(2)).article_id == by_alias
    bare = item(4, guid="", url="", link="", identity="title")
    by_title = store.store_candidate(bare, when(1)).article_id
    assert store.store_candidate(bare, when(2)).status == "unchanged"
    next_day = replace(bare, published_ms=bare.published_ms + 86_400_000)
    assert store.store_candidate(next_day, when(2)).article_id != by_title
    assert len({by_guid, by_url, by_alias, by_title}) == 4


def test_a_fallback_feeds_shorter_text_neither_replaces_nor_edits_the_article(
    store: Store,
) -> None:
    whole = item(1, clean_html="<p>" + "全文" * 200 + "</p>")
    first = store.store_candidate(whole, when(1))
    summary = edited(whole, "<p>摘要</p>", feed_url=FEED_2)
    assert store.store_candidate(summary, when(2)).status == "unchanged"
    assert len(store.versions_of(first.article_id)) == 1


def test_archive_ids_count_down_per_source_and_are_never_given_twice(store: Store) -> None:
    ids = [store.store_candidate(item(n), when(n)).archive_id for n in range(1, 5)]
    assert ids == [FIRST_ID, FIRST_ID - 1, FIRST_ID - 2, FIRST_ID - 3]
    assert store.store_candidate(item(9, source="cdt"), when(9)).archive_id == FIRST_ID
    imported = imported_file(1000, "articles/rfi/1000.md")
    assert store.import_file(imported, when(10)) == "new"
    assert store.store_candidate(item(5), when(11)).archive_id == 999  # below every id held
    assert store.stats()[0].lowest_id == 999


def test_a_post_scheme_source_takes_the_posts_own_id_when_free(store: Store) -> None:
    post = store.store_candidate(item(1, source="cdt", post_id=42), when(1))
    assert post.archive_id == decide.post_archive_id(42)
    taken = store.store_candidate(item(2, source="cdt", post_id=42), when(2))
    assert taken.archive_id not in (post.archive_id,)
    plain = store.store_candidate(item(3, source="cdt"), when(3))
    assert len({post.archive_id, taken.archive_id, plain.archive_id}) == 3


def imported_file(archive_id: int, path: str, **changes: object) -> ImportedFile:
    html = f"<p>旧档案 {archive_id}</p>"
    fields: dict[str, object] = {
        "source": "rfi",
        "path": path,
        "archive_id": archive_id,
        "identity": f"url:http://old.test/{path}",
        "url": f"http://old.test/{path}",
        "title_key": decide.title_key("旧标题", START_MS),
        "title": "旧标题",
        "link": f"http://old.test/{path}",
        "published_ms": START_MS,
        "raw_html": html,
        "clean_html": html,
        "content_hash": decide.content_hash("旧标题", html),
    }
    fields.update(changes)
    return ImportedFile(**fields)  # type: ignore[arg-type]


def test_an_imported_file_is_recorded_by_its_path(store: Store) -> None:
    file = imported_file(1000, "articles/rfi/1000.md", file_form='{"x": 1}')
    assert store.import_file(file, when(1)) == "new"
    assert store.import_file(file, when(2)) == "unchanged"
    changed = replace(file, raw_html="<p>改过</p>", clean_html="<p>改过</p>", content_hash="h2")
    assert store.import_file(changed, when(3)) == "changed"
    found = store.find_article("articles/rfi/1000.md")
    assert found is not None and found.archive_id == 1000
    assert [v.feed_url for v in found.versions] == ["import:articles/rfi/1000.md"] * 2
    assert [v.method for v in found.versions] == ["import", "import"]
    assert [r.file_form for r in store.list_rows("rfi", 10)] == ['{"x": 1}']


def test_two_files_of_one_id_are_two_articles_named_by_the_id_and_its_twin(store: Store) -> None:
    store.import_file(imported_file(1000, "articles/rfi/1000.md"), when(1))
    second = imported_file(1000, "articles/rfi/1000_标题.md", raw_html="<p>2</p>")
    store.import_file(second, when(1))
    both = store.find_articles("rfi/1000")
    assert [a.path for a in both] == ["articles/rfi/1000.md", "articles/rfi/1000_标题.md"]
    assert [a.twin for a in both] == [0, 1]
    assert [a.path for a in store.find_articles("rfi/1000-2")] == ["articles/rfi/1000_标题.md"]
    newest = store.find_article("rfi/1000")
    assert newest is not None and newest.path == "articles/rfi/1000_标题.md"
    hits = store.search(Query(terms=parse_query("旧标题"), limit=10)).hits
    assert sorted((h.path, h.page) for h in hits) == [
        ("articles/rfi/1000.md", "1000"),
        ("articles/rfi/1000_标题.md", "1000-2"),
    ]


def test_an_article_is_found_by_id_path_url_alias_or_guid(store: Store) -> None:
    outcome = store.store_candidate(item(1, aliases=("http://proxy.test/1",)), when(1))
    for ref in (
        f"rfi/{FIRST_ID}",
        f"articles/rfi/{FIRST_ID}.md",
        "http://news.test/rfi/1",
        "http://news.test/rfi/1?utm_source=x",  # canonical
        "http://proxy.test/1",
        "g1",
        "  g1 ",
    ):
        found = store.find_article(ref)
        assert found is not None and found.id == outcome.article_id, ref
        assert [a.id for a in store.find_articles(ref)] == [outcome.article_id], ref
    assert store.find_article("rfi/1") is None
    assert store.find_articles("nothing") == []


def test_sources_and_their_feeds_are_kept_in_order_and_never_removed(store: Store) -> None:
    assert [(f.source, f.url, f.position) for f in store.feed_states()] == [
        ("cdt", CDT_FEED, 0),
        ("rfi", FEED, 0),
        ("rfi", FEED_2, 1),
    ]
    assert all(
        f.last_success is f.last_checked is None and f.failures == 0 for f in store.feed_states()
    )
    store.sync_sources([Source("rfi", "法广", (FEED_2,)), Source("new", "新", ("http://n/",))])
    rfi = [(f.url, f.position) for f in store.feed_states() if f.source == "rfi"]
    assert rfi[0] == (FEED_2, 0) and rfi[1][0] == FEED and rfi[1][1] > 1
    assert [s.source for s in store.stats()] == ["rfi", "cdt", "new"]


def test_stats_count_articles_versions_and_edits_per_source(store: Store) -> None:
    store.store_candidate(item(1), when(1))
    store.store_candidate(edited(item(1), "<p>改</p>"), when(2))
    store.store_candidate(item(2), when(3))
    rfi, cdt = store.stats()
    assert (rfi.source, rfi.articles, rfi.versions, rfi.edited) == ("rfi", 2, 3, 1)
    assert (rfi.newest_ms, rfi.lowest_id) == (item(2).published_ms, FIRST_ID - 1)
    assert (cdt.articles, cdt.versions, cdt.edited, cdt.newest_ms) == (0, 0, 0, 0)


# -- published files ----------------------------------------------------------------------


def test_publish_rows_are_the_articles_whose_file_lacks_their_latest_version(
    store: Store,
) -> None:
    first = store.store_candidate(item(1), when(1))
    store.store_candidate(item(2), when(1))
    rows = list(store.publish_rows("original"))
    assert [r.article_id for r in rows] == sorted(r.article_id for r in rows)
    row = rows[0]
    assert (row.source, row.path, row.title, row.url) == (
        "rfi",
        f"articles/rfi/{FIRST_ID}.md",
        item(1).title,
        item(1).url,
    )
    assert (row.raw_html, row.clean_html, row.file_form) == (
        item(1).raw_html,
        item(1).clean_html,
        "",
    )
    for r in rows:
        store.mark_published(r.path, "d", r.version_id, "original")
    assert list(store.publish_rows("original")) == []
    assert len(list(store.publish_rows("clean"))) == 2  # another mode
    assert len(list(store.publish_rows("original", force=True))) == 2
    store.store_candidate(edited(item(1), "<p>新</p>"), when(2))
    assert [r.article_id for r in store.publish_rows("original")] == [first.article_id]


def test_a_published_file_records_its_digest_and_one_gone_missing_is_written_again(
    store: Store,
) -> None:
    assert store.published_digest("README.md") is None
    store.mark_published("README.md", "d1", None, "")
    store.mark_published("README.md", "d2", None, "")
    assert store.published_digest("README.md") == "d2"
    for n in (1, 2):
        store.store_candidate(item(n), when(n))
    for r in list(store.publish_rows("original")):
        store.mark_published(r.path, "d", r.version_id, "original")
    missing = f"articles/rfi/{FIRST_ID}.md"
    assert store.forget_missing("original", lambda path: path != missing) == 1
    assert [r.path for r in store.publish_rows("original")] == [missing]
    assert store.forget_missing("original", lambda path: True) == 0


def test_newest_lists_a_sources_articles_smallest_id_first(store: Store) -> None:
    for n in (1, 2, 3):
        store.store_candidate(item(n), when(n))
    assert store.newest("rfi", 2) == [
        (f"articles/rfi/{FIRST_ID - 2}.md", item(3).title, item(3).published_ms),
        (f"articles/rfi/{FIRST_ID - 1}.md", item(2).title, item(2).published_ms),
    ]
    assert store.newest("cdt", 5) == []
