"""The storage contract, part 3: search, site views, watching. Every test speaks to the
store through the Store Protocol only, once per backend (see store_contract.py)."""

from __future__ import annotations

import pytest

from newsmirror.errors import SearchQueryError
from newsmirror.store import Store
from newsmirror.store.siteviews import site_key
from store_contract import (
    START_MS,
    at,
    capture,
    edited,
    found,
    item,
    link,
    search,
    target_of,
    visit,
    when,
)

FIRST_ID = 1048574
MINUTE = 60_000


# -- search -------------------------------------------------------------------------------


def test_search_finds_words_of_any_length_in_either_script_and_any_case(store: Store) -> None:
    assert store.search_ready()  # a new store's empty index is ready
    for n in (1, 2, 3):
        store.store_candidate(item(n), when(n))
    store.store_candidate(item(4, title="香港的新聞", clean_html="<p>記者報道</p>"), when(4))
    assert sorted(found(store, "正文")) == [link(1), link(2), link(3)]
    assert found(store, "TEXT2") == [link(2)]  # latin words in any case
    assert sorted(found(store, "篇")) == [link(1), link(2), link(3)]  # one character
    assert found(store, "报道 香港") == [link(4)]  # simplified finds traditional
    assert sorted(found(store, "報")) == [link(1), link(2), link(3), link(4)]  # 報道, 报道
    assert sorted(found(store, "正文 -text1")) == [link(2), link(3)]
    assert sorted(found(store, "篇 -text1")) == [link(2), link(3)]
    assert found(store, "没有这个词") == []


def test_search_gives_a_page_of_hits_with_snippets_the_total_and_newest_first(
    store: Store,
) -> None:
    for n in range(1, 8):
        store.store_candidate(item(n), when(n))
    results = search(store, "正文", newest=True, limit=3, offset=1)
    assert results.total == 7
    assert [h.link for h in results.hits] == [link(6), link(5), link(4)]
    hit = results.hits[0]
    assert (hit.source, hit.archive_id, hit.path) == (
        "rfi",
        FIRST_ID - 5,
        f"articles/rfi/{FIRST_ID - 5}.md",
    )
    assert (hit.title, hit.published_ms) == (item(6).title, item(6).published_ms)
    assert hit.page == str(FIRST_ID - 5)  # its site page: a/rfi/<page>.html
    assert "正文" in hit.snippet.text and hit.snippet.marks
    start, end = hit.snippet.marks[0]
    assert hit.snippet.text[start:end] == "正文"
    assert search(store, "正文", count=False).total == -1
    assert len(search(store, "正文").hits) == 7  # by relevance: every match


def test_search_filters_by_source_and_publication_time(store: Store) -> None:
    for n in (1, 2, 3):
        store.store_candidate(item(n), when(n))
    store.store_candidate(item(4, source="cdt"), when(4))
    (cdt,) = store.source_ids(["cdt"])
    assert store.source_ids(["nothing"]) == ()
    assert found(store, "正文", source_ids=(cdt,)) == [link(4, "cdt")]
    both = store.source_ids(["rfi", "cdt"])
    assert len(found(store, "正文", source_ids=both)) == 4
    span = {"since_ms": START_MS + 2 * MINUTE, "until_ms": START_MS + 4 * MINUTE}
    assert sorted(found(store, "正文", **span)) == [link(2), link(3)]
    assert sorted(found(store, "篇", **span)) == [link(2), link(3)]


def test_search_holds_the_latest_version_only(store: Store) -> None:
    store.store_candidate(item(1), when(1))
    store.store_candidate(edited(item(1), "<p>更新后的内容</p>"), when(2))
    assert found(store, "更新") == [link(1)]
    assert found(store, "title1") == [link(1)]  # the title stays
    assert found(store, "text1") == []
    assert found(store, "正文") == []


def test_a_paused_index_refuses_to_answer_until_rebuilt(store: Store) -> None:
    for n in (1, 2):
        store.store_candidate(item(n), when(n))
    store.pause_search_index()
    assert not store.search_ready()
    store.store_candidate(item(3), when(3))
    with pytest.raises(SearchQueryError):
        search(store, "正文")
    advanced: list[int] = []
    assert store.reindex(advanced.append, workers=0) == 3
    assert sum(advanced) == 3
    assert store.search_ready()
    assert sorted(found(store, "正文")) == [link(1), link(2), link(3)]
    store.store_candidate(item(4), when(4))  # kept again after the rebuild
    assert len(found(store, "正文")) == 4
    assert store.search_index_bytes() >= 0


# -- site views ---------------------------------------------------------------------------


def stock(store: Store) -> None:
    """Three rfi articles (the first edited once) and one of cdt."""
    for n in (1, 2, 3):
        store.store_candidate(item(n), when(n))
    store.store_candidate(item(4, source="cdt"), when(4))
    store.store_candidate(edited(item(1), "<p>改过的正文</p>"), when(5))


def test_site_lists_show_articles_newest_first_by_source_page_and_day(store: Store) -> None:
    stock(store)
    newest = store.site_newest(2)
    assert [a.link for a in newest] == [link(4, "cdt"), link(3)]
    assert [a.text for a in newest] == ["", ""]
    first = store.site_newest(10, "rfi", text=True)[-1]
    assert (first.link, first.page, first.source) == (link(1), str(FIRST_ID), "rfi")
    assert (first.versions, first.edits, first.text) == (2, 1, "<p>改过的正文</p>")
    assert (first.path, first.fetched_at, first.title) == (
        f"articles/rfi/{FIRST_ID}.md",
        when(5),
        item(1).title,
    )
    assert [a.link for a in store.site_source_page("rfi", 1, 2)] == [link(1), link(2)]
    assert [a.link for a in store.site_source_page("rfi", 2, 2)] == [link(3)]
    assert store.site_source_page("rfi", 3, 2) == []
    assert [a.link for a in store.site_source_all("rfi")] == [link(1), link(2), link(3)]
    assert store.site_source_counts() == {"rfi": 3, "cdt": 1}
    day = store.site_day(START_MS + 2 * MINUTE, START_MS + 4 * MINUTE)
    assert [a.link for a in day] == [link(2), link(3)]
    assert sorted(store.site_days()) == [item(n).published_ms for n in (1, 2, 3, 4)]
    assert sorted(store.site_days(within_ms=MINUTE)) == [item(3).published_ms, item(4).published_ms]


def test_a_listing_pages_newest_first_after_a_cursor_with_filters(store: Store) -> None:
    for n in range(1, 7):
        store.store_candidate(item(n, source="cdt" if n == 4 else "rfi"), when(n))
    store.store_candidate(item(7, published_ms=item(5).published_ms), when(7))  # a tie
    store.store_candidate(edited(item(1), "<p>改过的正文</p>"), when(8))
    every = store.site_listing(100)
    assert [a.link for a in every] == [
        link(n, "cdt" if n == 4 else "rfi") for n in (6, 7, 5, 4, 3, 2, 1)
    ]
    assert every == store.site_newest(100)  # the same order and rows as the newest
    pages, after = [], None
    while page := store.site_listing(2, after=after):
        pages.append([a.link for a in page])
        after = (page[-1].published_ms, page[-1].article_id)
    assert pages == [[link(6), link(7)], [link(5), link(4, "cdt")], [link(3), link(2)], [link(1)]]
    rfi = store.site_listing(100, source="rfi")
    assert [a.link for a in rfi] == [link(n) for n in (6, 7, 5, 3, 2, 1)]
    since, until = item(2).published_ms, item(5).published_ms
    window = store.site_listing(100, since_ms=since, until_ms=until)
    assert [a.link for a in window] == [link(4, "cdt"), link(3), link(2)]
    assert [a.link for a in store.site_listing(100, "rfi", since, until)] == [link(3), link(2)]
    later = store.site_listing(100, after=(item(5).published_ms, rfi[1].article_id))
    assert [a.link for a in later] == [link(5), link(4, "cdt"), link(3), link(2), link(1)]
    assert store.site_listing(100, source="nobody") == []
    assert store.site_listing(1, since_ms=item(6).published_ms + 1) == []


def test_the_search_pages_read_every_article_with_its_text(store: Store) -> None:
    stock(store)
    every = list(store.site_search_all())
    assert [a.link for a in every] == [link(1), link(2), link(3), link(4, "cdt")]
    assert every[0].text == "<p>改过的正文</p>"
    docs = store.site_search_docs(1, 2)
    assert [(a.link, a.text) for a in docs] == [
        (link(2), item(2).clean_html),
        (link(3), item(3).clean_html),
    ]
    assert store.site_search_docs(10, 2) == []


def publish_pages(store: Store, prefix: str) -> dict[str, int]:
    """Record every stale page as written, as the site publisher does; {link: version}."""
    written = {}
    for stale in store.site_stale(prefix):
        path = f"{prefix}a/{stale.source}/{stale.page}.html"
        store.mark_published(path, "digest", stale.version_id, "site")
        written[stale.article_id] = stale.version_id
    return {
        a.link: written[a.article_id] for a in store.site_search_all() if a.article_id in written
    }


def test_stale_pages_are_those_without_their_articles_latest_version(store: Store) -> None:
    prefix = site_key("/srv/site")
    assert store.site_marks() == (0, 0)
    stock(store)
    stale = list(store.site_stale(prefix))
    assert [(s.source, s.rank, s.source_rank, s.shown) for s in stale] == [
        ("rfi", 0, 0, None),
        ("rfi", 1, 1, None),
        ("rfi", 2, 2, None),
        ("cdt", 3, 0, None),
    ]
    assert [s.page for s in stale] == [
        str(FIRST_ID),
        str(FIRST_ID - 1),
        str(FIRST_ID - 2),
        str(FIRST_ID),
    ]
    shown = publish_pages(store, prefix)
    assert list(store.site_stale(prefix)) == []
    assert len(list(store.site_stale(prefix, force=True))) == 4
    assert list(store.site_stale(site_key("/srv/other"))) != []  # another site's records
    marks = store.site_marks()
    store.set_site_marks(prefix, marks)
    assert list(store.site_stale(prefix)) == []
    store.store_candidate(edited(item(2), "<p>第二版</p>"), when(6))
    assert store.site_marks()[0] > marks[0]
    (changed,) = store.site_stale(prefix)
    assert (changed.page, changed.rank, changed.shown) == (str(FIRST_ID - 1), 1, shown[link(2)])
    assert changed.version_id != shown[link(2)]
    times = store.site_times([changed.version_id, shown[link(3)]])
    assert sorted(times) == [item(2).published_ms, item(3).published_ms]


def test_a_takedown_makes_a_page_stale_and_shows_in_the_sites_feeds(store: Store) -> None:
    prefix = site_key("/srv/site")
    stock(store)
    publish_pages(store, prefix)
    store.set_site_marks(prefix, store.site_marks())
    target = target_of(store, 2)
    assert store.site_gone(target.article_id) is None
    store.record_visit(target, visit(10, "gone"))
    assert store.site_gone(target.article_id) == (when(10), "HTTP 404")
    (stale,) = store.site_stale(prefix)
    assert stale.article_id == target.article_id
    store.record_visit(target_of(store, 2), visit(20, "unchanged"))
    turns = store.site_turns(10)
    assert [(a.link, kind, when, why) for a, kind, when, why in turns] == [
        (link(2), "back", when(20), "same content"),
        (link(2), "gone", when(10), "HTTP 404"),
    ]
    assert store.site_gone(target.article_id) is None
    ((listed, version),) = store.site_edits(10)
    assert (listed.link, listed.versions, listed.text) == (link(1), 2, "<p>改过的正文</p>")
    assert (version.seq, version.fetched_at, version.clean_html) == (
        2,
        when(5),
        "<p>改过的正文</p>",
    )


# -- watching -----------------------------------------------------------------------------


def test_revisits_are_due_when_planned_or_for_articles_never_revisited(store: Store) -> None:
    store.store_candidate(item(1), when(0))
    store.store_candidate(item(2), when(100))  # published at 2 minutes, stored at 100
    store.store_candidate(item(3, url="", link="urn:x"), when(0))  # nothing to revisit
    cut_ms = START_MS + 50 * MINUTE
    due = store.watch_due(at(200), at(50), cut_ms, 10**9, 10)
    assert [t.link for t in due] == [link(1)]
    assert (due[0].url, due[0].due, due[0].gone, due[0].failures) == (link(1), "", False, 0)
    late = store.watch_due(at(200), at(50), cut_ms, MINUTE, 10)  # stored long after its date
    assert [t.link for t in late] == [link(2), link(1)]
    assert [t.link for t in store.watch_all()] == [link(2), link(1)]
    assert store.first_unvisited() == at(0)
    assert store.next_planned_visit() == ""
    store.record_visit(target_of(store, 1), visit(60, next_visit=at(150)))
    assert store.next_planned_visit() == at(150)
    assert store.first_unvisited() == at(0)  # item 3: never revisited either
    assert [t.link for t in store.watch_due(at(120), at(50), cut_ms, 10**9, 10)] == []
    (planned,) = store.watch_due(at(150), at(50), cut_ms, 10**9, 10)  # due at the time planned
    assert (planned.link, planned.due) == (link(1), at(150))
    assert store.watch_due(at(160), at(150), cut_ms, MINUTE, 1) == [planned]


def test_a_visit_is_recorded_with_its_capture_its_version_and_where_the_article_stands(
    store: Store,
) -> None:
    store.store_candidate(item(1), when(0))
    target = target_of(store, 1)
    assert (target.title, target.content_hash, target.feed_url) == (
        item(1).title,
        item(1).content_hash,
        item(1).feed_url,
    )
    assert store.watch_state(target.article_id) is None
    page = capture("<html>改</html>".encode(), "page", 30, url=link(1))
    newer = edited(item(1), "<p>页面上改过</p>", method="page extractor")
    seen = visit(30, "edited", capture=page, version=newer, page_hash="ph", page_title="pt")
    version_id = store.record_visit(target, seen)
    assert isinstance(version_id, int)
    versions = store.versions_of(target.article_id)
    assert [(v.seq, v.fetched_at, v.method) for v in versions] == [
        (1, when(0), "feed"),
        (2, when(30), "page extractor"),
    ]
    assert store.record_visit(target_of(store, 1), visit(40)) is None
    state = store.watch_state(target.article_id)
    assert state is not None
    assert (state.gone, state.status_at, state.last_visit, state.next_visit) == (
        False,
        "",
        at(40),
        at(100),
    )
    again = target_of(store, 1)
    assert (again.page_hash, again.page_title) == ("ph", "pt")  # kept from the visit that saw it
    rows = store.visits_of(target.article_id)
    assert [(r.at, r.outcome, r.version_seq) for r in rows] == [
        (at(30), "edited", 2),
        (at(40), "unchanged", None),
    ]
    captured = store.capture(rows[0].capture_id or 0)
    assert captured is not None and captured.capture == page
    assert rows[1].capture_id is None


def test_takedowns_and_edits_of_a_period_are_listed_newest_first(store: Store) -> None:
    store.store_candidate(item(1), when(0))
    store.store_candidate(item(2), when(0))
    store.store_candidate(edited(item(1), "<p>改</p>"), when(10))
    store.record_visit(target_of(store, 2), visit(20, "gone"))
    state = store.watch_state(target_of(store, 2).article_id)
    assert state is not None and (state.gone, state.status_at) == (True, at(20))
    store.record_visit(target_of(store, 2), visit(25, "unreachable", gone=True, failures=1))
    changes = store.changes(at(0), at(60))
    assert [(c.kind, c.at, c.url, c.status) for c in changes] == [
        ("gone", at(20), link(2), "gone"),
        ("edited", at(10), link(1), "edited"),
    ]
    assert changes[1].detail == "version 2 (feed)" and changes[0].detail == "HTTP 404"
    assert (changes[0].source, changes[0].path, changes[0].title) == (
        "rfi",
        f"articles/rfi/{FIRST_ID - 1}.md",
        item(2).title,
    )
    assert [c.kind for c in store.changes(at(0), at(15))] == ["edited"]
    assert len(store.changes(at(0), at(60), limit=1)) == 1
    store.record_visit(target_of(store, 2), visit(30, "unchanged"))
    assert [c.kind for c in store.changes(at(26), at(60))] == ["back"]
