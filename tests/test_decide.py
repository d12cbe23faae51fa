"""Pure decisions: identity, dates, ids, filters, list dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsmirror import decide
from newsmirror.types import Entry, Source, Version


def entry(**kw: object) -> Entry:
    base: dict[str, object] = dict(
        guid="", link="", raw_link="", title="t", published=None, updated=None, content=""
    )
    base.update(kw)
    return Entry(**base)  # type: ignore[arg-type]


def test_identity_prefers_guid_then_url_then_title_and_day() -> None:
    assert decide.identity_of(" g ", "http://a/", "t", 0) == "guid:g"
    assert decide.identity_of("", "http://a/", "t", 0) == "url:http://a/"
    day = decide.identity_of("", "", "Ｔｉｔｌｅ  一", 86_400_000)
    assert day == "title:1970-01-02:title一"


def test_published_falls_back_to_updated_then_first_seen() -> None:
    seen = datetime(2024, 1, 1, tzinfo=UTC)
    when = datetime(2023, 4, 9, 11, 15, 2, tzinfo=UTC)
    assert decide.published_ms(entry(published=when), seen) == (1681038902000, False)
    assert decide.published_ms(entry(updated=when), seen) == (1681038902000, True)
    assert decide.published_ms(entry(), seen) == (int(seen.timestamp() * 1000), True)


def test_classify() -> None:
    assert decide.classify(None, "h") == "new"
    assert decide.classify("h", "h") == "unchanged"
    assert decide.classify("h", "i") == "changed"


def test_content_hash_ignores_title_padding_only() -> None:
    assert decide.content_hash(" t ", "<p>x</p>") == decide.content_hash("t", "<p>x</p>")
    assert decide.content_hash("t", "<p>x</p>") != decide.content_hash("u", "<p>x</p>")
    assert decide.content_hash("t", "<p>x</p>") != decide.content_hash("t", "<p>y</p>")


def test_cdt_category_rule() -> None:
    cdt = Source("cdt", "中国数字时代", ("http://a/",), item_filter="symbol-category")
    assert decide.keep_entry(cdt, entry(categories=("【CDT周报】",)))
    assert decide.keep_entry(cdt, entry(categories=("x", "🎬 影像")))
    assert not decide.keep_entry(cdt, entry(categories=("中国", "news")))
    assert not decide.keep_entry(cdt, entry())
    plain = Source("x", "x", ("http://a/",))
    assert decide.keep_entry(plain, entry())


def test_post_ids() -> None:
    assert decide.post_id("https://chinadigitaltimes.net/chinese/?p=683008") == 683008
    assert decide.post_id("https://chinadigitaltimes.net/chinese/2022/x.html") is None
    assert decide.post_archive_id(683008) == 0xFFFFF ^ 683008 == 365567


@given(st.integers(min_value=1, max_value=0xFFFFF), st.sets(st.integers(0, 0xFFFFF)))
def test_countdown_never_returns_a_used_or_higher_id(lowest: int, used: set[int]) -> None:
    try:
        got = decide.next_countdown_id(lowest, used)
    except ValueError:
        assert all(i in used for i in range(lowest))
        return
    assert 0 <= got < lowest and got not in used


def test_list_dates_in_the_list_timezone() -> None:
    ms = int(datetime(2022, 6, 12, 17, 30, tzinfo=UTC).timestamp() * 1000)
    assert decide.list_date(ms, "Asia/Shanghai") == "6-13"
    assert decide.list_date(ms, "UTC") == "6-12"


def test_link_from_guid() -> None:
    rfa = Source("rfa", "rfa", ("http://a/",), link_from_guid=True)
    e = entry(guid="https://www.rfa.org/x.html", raw_link="http://feeds/x", link="http://feeds/x")
    assert decide.entry_link(rfa, e) == "https://www.rfa.org/x.html"
    assert decide.entry_link(rfa, entry(guid="tag:1", raw_link="http://l/")) == "http://l/"


@pytest.mark.parametrize("title", ["A  b", "a b", "Ａ b"])
def test_normalised_titles_fold(title: str) -> None:
    assert decide.normalised_title(title) == "ab"


def version(method: str, note: str = "", feed: str = "http://a.test/feed") -> Version:
    return Version(1, 1, "", feed, "t", "", 0, "", "", "", method, "", note)


def test_a_version_that_completes_a_stand_in_is_no_edit() -> None:
    note = f"full text not taken (HTTP 404); kept the feed's content, {decide.STAND_IN}"
    stand_in, page, feed = version("feed", note), version("page extractor"), version("feed")
    assert decide.is_stand_in("feed", note) and not decide.is_stand_in("feed", "")
    assert not decide.is_stand_in("page rule", note)
    assert decide.edits([feed]) == 0
    assert decide.edits([stand_in, page]) == 0  # the page, read at last
    assert decide.edits([stand_in, page, page]) == 1  # then edited upstream
    assert decide.edits([feed, stand_in, page]) == 1  # the feed's item changed, then completed
    assert decide.edits([]) == 0


def test_another_way_in_is_no_edit() -> None:
    first, fallback = version("feed"), version("feed", feed="http://b.test/summary")
    assert decide.edits([fallback, first]) == 0  # the first feed back: its whole text
    assert decide.edits([first, first, fallback, fallback]) == 2  # each feed's own changes
    assert decide.edits([version("import", feed="import:a.md"), first]) == 1
    whole, summary = ("feed", "http://a.test/feed", 8000), ("feed", "http://b.test/summary", 80)
    assert decide.lesser_way_in(summary, whole) and not decide.lesser_way_in(whole, summary)
    assert not decide.lesser_way_in(("feed", whole[1], 80), whole)  # the same feed: an edit
    assert not decide.lesser_way_in(("page extractor", summary[1], 80), whole)  # the page
    assert not decide.lesser_way_in(("feed", "http://b.test/summary", 8100), whole)
