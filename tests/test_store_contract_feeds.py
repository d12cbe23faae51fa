"""The storage contract, part 2: feeds and logs, evidence, feed memory, the markdown
archive's lists, JSON Lines records. Every test speaks to the store through the Store
Protocol only, once per backend (see store_contract.py)."""

from __future__ import annotations

import pytest

from newsmirror import decide
from newsmirror.errors import ArchiveFormatError
from newsmirror.store import FeedResult, FeedState, Store
from newsmirror.store.archivefiles import ArchiveFile
from newsmirror.store.evidence import MediaRecord
from store_contract import (
    CDT_FEED,
    FEED,
    FEED_2,
    Stores,
    at,
    capture,
    edited,
    found,
    item,
    link,
    target_of,
    visit,
    when,
)

FIRST_ID = 1048574


# -- feeds and logs -----------------------------------------------------------------------


def test_a_feeds_health_follows_its_results(store: Store) -> None:
    def rfi_first() -> FeedState:
        return next(f for f in store.feed_states() if f.url == FEED)

    ok = FeedResult(ok=True, status="200", etag='"e1"', last_modified="Wed", next_due=when(60))
    store.record_feed_result("rfi", FEED, ok, when(1))
    state = rfi_first()
    assert (state.last_success, state.last_checked, state.last_status) == (when(1), when(1), "200")
    assert (state.etag, state.last_modified, state.next_due) == ('"e1"', "Wed", when(60))
    failed = FeedResult(ok=False, status="HTTP 503", error="HTTP 503 from host", next_due=when(90))
    store.record_feed_result("rfi", FEED, failed, when(2))
    store.record_feed_result("rfi", FEED, failed, when(3))
    state = rfi_first()
    assert (state.failures, state.last_error, state.last_status) == (
        2,
        "HTTP 503 from host",
        "HTTP 503",
    )
    assert (state.last_success, state.last_checked, state.etag) == (when(1), when(3), '"e1"')
    store.record_feed_result("rfi", FEED, ok, when(4))
    assert rfi_first().failures == 0
    store.record_feed_result("other", "http://other/", ok, when(5))  # a feed never synced
    assert ("other", "http://other/") in [(f.source, f.url) for f in store.feed_states()]


def test_requests_and_skipped_items_are_logged(store: Store) -> None:
    store.log_fetch("rfi", FEED, 200, 1234, 0.5, "", False, when(1))
    store.log_fetch("rfi", FEED_2, 304, 0, 0.1, "", True, when(2))
    store.log_fetch("cdt", CDT_FEED, 0, 0, 3.0, "timed out", False, when(3))
    assert store.fetch_log() == [
        ("cdt", CDT_FEED, 0, 0, "timed out", False),
        ("rfi", FEED_2, 304, 0, "", True),
        ("rfi", FEED, 200, 1234, "", False),
    ]
    assert len(store.fetch_log(limit=1)) == 1
    store.log_item("rfi", FEED, "g1", "标题", "skipped", "no link", when(1))
    store.log_item("cdt", CDT_FEED, "g2", "t2", "archived", "no date", when(2))
    assert store.item_log() == [
        ("rfi", "g1", "标题", "skipped", "no link"),
        ("cdt", "g2", "t2", "archived", "no date"),
    ]
    assert store.item_log("cdt") == [("cdt", "g2", "t2", "archived", "no date")]


# -- evidence -----------------------------------------------------------------------------


def test_captures_read_back_byte_for_byte_and_bodies_are_kept_once(store: Store) -> None:
    feed = capture(b"<rss>\x00\xff</rss>", "feed", 1)
    page = capture("<html>同一页</html>".encode(), "page", 0.5, url="http://news.test/rfi/1")
    store.store_candidate(item(1, feed_capture=feed, page_capture=page), when(1))
    again = capture(b"<rss>\x00\xff</rss>", "feed", 2)  # the same body another time
    store.store_candidate(item(2, feed_capture=again), when(2))
    ids = store.capture_ids()
    assert len(ids) == 3
    read = [store.capture(i) for i in ids]
    assert [r.capture for r in read if r] == [feed, page, again]
    assert all(r is not None and r.source == "rfi" for r in read)
    assert [s.capture for s in store.captures_in_time_order()] == [page, feed, again]
    stats = store.evidence_stats()
    assert (stats.captures, stats.bodies) == (3, 2)
    assert stats.body_bytes == len(feed.body) + len(page.body) and stats.stored_bytes > 0
    assert store.capture(max(ids) + 1000) is None


def test_mirrored_images_are_kept_once_per_hash_and_refusals_remembered(store: Store) -> None:
    image = MediaRecord("ab" * 32, f"ab/{'ab' * 32}.jpg", "image/jpeg", 2048, 640, 480)
    store.record_media("http://img.test/a.jpg", image, at(1))
    store.record_media("http://img.test/copy.jpg", image, at(2))
    assert store.media_for("http://img.test/copy.jpg") == image
    assert store.media_for("http://img.test/none.jpg") is None
    assert store.media_tried("http://img.test/a.jpg")
    store.record_media_failure("http://img.test/a.jpg", "failed", "later", at(3))
    assert store.media_for("http://img.test/a.jpg") == image  # mirrored stays mirrored
    store.record_media_failure("http://img.test/bad.gif", "refused", "not an image", at(4))
    store.record_media_failure("http://img.test/slow.jpg", "failed", "timed out", at(5))
    assert store.media_tried("http://img.test/bad.gif")
    assert not store.media_tried("http://img.test/slow.jpg")  # tried again
    assert store.media_failures() == [
        ("http://img.test/slow.jpg", "failed", "timed out", 1),
        ("http://img.test/bad.gif", "refused", "not an image", 1),
    ]
    stats = store.evidence_stats()
    assert (stats.media, stats.media_bytes, stats.media_refused) == (1, 2048, 2)


def test_deferred_images_are_asked_for_by_their_source_a_few_times(store: Store) -> None:
    for n in (1, 2):
        store.record_media_failure(f"http://img.test/{n}.jpg", "deferred", "later", at(n), "rfi")
    assert store.deferred_images("rfi", 10, 3) == ["http://img.test/2.jpg", "http://img.test/1.jpg"]
    assert store.deferred_images("rfi", 1, 3) == ["http://img.test/2.jpg"]
    assert store.deferred_images("cdt", 10, 3) == []
    for minutes in (3, 4):
        store.record_media_failure("http://img.test/1.jpg", "deferred", "later", at(minutes), "rfi")
    assert store.deferred_images("rfi", 10, 3) == ["http://img.test/2.jpg"]  # asked 3 times


# -- feed memory --------------------------------------------------------------------------


def test_seen_feed_hashes_find_each_item_as_storing_it_would(store: Store) -> None:
    store.store_candidate(item(1, feed_hash="h1"), when(1))
    store.store_candidate(item(2, guid="", feed_hash="h2"), when(1))
    bare = item(3, guid="", url="", link="", identity="title", feed_hash="h3")
    store.store_candidate(bare, when(1))
    store.store_candidate(item(4, aliases=("http://proxy.test/4",), feed_hash="h4"), when(1))
    store.store_candidate(item(5), when(1))  # never seen with a feed hash
    items = [
        ("g1", "http://elsewhere/", "x", 0),  # by guid
        ("g-new", item(2).url, "x", 0),  # an unknown guid, then by URL
        ("", "", bare.title, bare.published_ms),  # neither: by title and day
        ("", "http://proxy.test/4", "x", 0),  # by alias
        ("g5", "", "x", 0),
        ("g-new", "http://news.test/new", "t", 0),  # nothing known
        ("", "", bare.title, bare.published_ms + 90 * 86_400_000),  # another day
    ]
    assert store.seen_feed_hashes("rfi", items) == ["h1", "h2", "h3", "h4", "", "", ""]
    assert store.seen_feed_hashes("cdt", items[:2]) == ["", ""]


def test_stand_ins_are_the_recent_versions_waiting_for_their_page(store: Store) -> None:
    note = f"page unreadable: {decide.STAND_IN}"
    waiting = item(1, method_note=note, date_missing=True)
    store.store_candidate(waiting, when(10))
    store.store_candidate(item(2, method_note=note), when(1))  # before `since`
    store.store_candidate(item(3, method_note=note, feed_hash="h"), when(10))  # settled
    store.store_candidate(item(4), when(10))  # whole
    (stand_in,) = store.stand_ins("rfi", when(5), 10)
    assert (stand_in.guid, stand_in.url, stand_in.link) == ("g1", waiting.url, waiting.link)
    assert (stand_in.title, stand_in.published_ms) == (waiting.title, waiting.published_ms)
    assert (stand_in.date_missing, stand_in.feed_html) == (True, waiting.raw_html)
    assert stand_in.feed_url == FEED
    assert store.stand_ins("cdt", when(0), 10) == []
    assert len(store.stand_ins("rfi", when(0), 1)) == 1


# -- the markdown archive's lists ---------------------------------------------------------


def test_imported_lists_are_kept_and_list_rows_read_newest_first(store: Store) -> None:
    kept = ArchiveFile("lists/法广.md", "list", "rfi", "2020", "法广\n------\n", when(1))
    assert store.save_archive_file(kept)
    assert not store.save_archive_file(kept)
    assert store.archive_file("lists/法广.md") == kept
    readme = ArchiveFile("README.md", "readme", "", "cdt-readme", "# 档案\n", when(2))
    store.save_archive_file(readme)
    assert [f.path for f in store.archive_files()] == ["README.md", "lists/法广.md"]
    assert store.archive_file("lists/none.md") is None
    newer = ArchiveFile("lists/法广.md", "list", "rfi", "2020", "法广\n------\n\nx\n", when(3))
    assert store.save_archive_file(newer) and store.archive_file(newer.path) == newer
    for n in (1, 2, 3):
        store.store_candidate(item(n), when(n))
    rows = store.list_rows("rfi", 2)
    assert [(r.path, r.title, r.published_ms, r.file_form) for r in rows] == [
        (f"articles/rfi/{FIRST_ID - 2}.md", item(3).title, item(3).published_ms, ""),
        (f"articles/rfi/{FIRST_ID - 1}.md", item(2).title, item(2).published_ms, ""),
    ]
    assert [r.path for r in store.list_rows("rfi", 10, since=when(2))] == [
        f"articles/rfi/{FIRST_ID - 2}.md"
    ]


# -- records ------------------------------------------------------------------------------


def holdings(store: Store) -> None:
    """One of everything a store keeps."""
    feed = capture(b"<rss/>", "feed", 1)
    store.store_candidate(item(1, feed_capture=feed, aliases=("http://proxy.test/1",)), when(1))
    store.store_candidate(edited(item(1), "<p>二</p>", feed_capture=feed), when(2))
    store.store_candidate(item(2, source="cdt", post_id=7), when(3))
    ok = FeedResult(ok=True, status="200", etag='"e"')
    store.record_feed_result("rfi", "http://feeds.test/rfi.xml", ok, when(4))
    image = MediaRecord("cd" * 32, f"cd/{'cd' * 32}.png", "image/png", 10, 1, 1)
    store.record_media("http://img.test/1.png", image, at(5))
    store.record_media_failure("http://img.test/2.png", "refused", "tiny", at(5))
    page = capture(b"<html/>", "page", 6, url=link(1))
    store.record_visit(target_of(store, 1), visit(6, "gone", capture=page))
    store.save_archive_file(ArchiveFile("lists/法广.md", "list", "rfi", "current", "x\n", when(7)))


def test_an_export_imported_into_an_empty_store_exports_the_same(
    stores: Stores, store: Store
) -> None:
    holdings(store)
    records = list(store.export_records())
    assert records[0]["type"] == "header"
    kinds = {r["type"] for r in records}
    assert kinds >= {
        "source",
        "feed",
        "body",
        "capture",
        "media",
        "media_url",
        "article",
        "version",
        "alias",
        "visit",
        "watch",
        "archive_file",
    }
    copy = stores.open("copy")
    counts = copy.import_records(enumerate(records, 1))
    assert counts.errors == []
    assert counts.added["article"] == 2 and counts.added["version"] == 3
    assert list(copy.export_records()) == records
    assert found(copy, "二") == [link(1)]  # indexed as imported
    again = copy.import_records(enumerate(records, 1))
    assert (again.added, again.errors) == ({}, [])
    assert again.unchanged > 0


def test_a_bad_record_is_an_error_line_and_the_rest_go_on(stores: Stores, store: Store) -> None:
    holdings(store)
    records = list(store.export_records())
    broken = [dict(r) for r in records]
    first_version = next(i for i, r in enumerate(broken) if r["type"] == "version")
    broken[first_version]["seq"] = "one"
    copy = stores.open("copy")
    counts = copy.import_records(enumerate(broken, 1))
    assert (
        len([e for e in counts.errors if e.startswith(f"line {first_version + 1}: version")]) == 1
    )
    assert counts.added["article"] == 2  # its article came with its next version
    with pytest.raises(ArchiveFormatError):
        stores.open("other").import_records(enumerate(records[1:], 1))
    with pytest.raises(ArchiveFormatError):
        stores.open("third").import_records([(1, {"type": "header", "format": "x", "version": 1})])
