"""Watching archived articles: the schedule and the classification (pure), then revisits
against a loopback server under a controlled clock: a page that turns 404, one that
redirects to the front page, one whose text changes, one whose host is down (not a
takedown), one replaced by a removal notice; statuses, `show` and `report` right."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from conftest import DATA, LoopbackServer, make_source, rss
from newsmirror import decide
from newsmirror.cli.main import EXIT_OK, main
from newsmirror.errors import ConfigError
from newsmirror.jobs.archive import Archive
from newsmirror.watch import rules as watch
from servers import closed_port

PAGES = DATA / "pages" / "newspaper4k" / "html"
HTML = {"Content-Type": "text/html; charset=utf-8"}
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)
SCHEDULE = watch.parse_schedule(watch.DEFAULT_SCHEDULE)


# -- the schedule (pure) -----------------------------------------------------------------


def test_durations_and_schedules_are_read_or_refused_clearly() -> None:
    assert watch.parse_duration("90s") == timedelta(seconds=90)
    assert watch.parse_duration("6h") == 6 * H
    assert watch.parse_duration(" 2w ") == timedelta(days=14)
    assert (H, 6 * H, timedelta(days=1), timedelta(days=7), timedelta(days=30)) == SCHEDULE
    for bad in ("", "6", "h", "-1h", "0h", "1y", "1 hour"):
        with pytest.raises(ConfigError, match="not a duration"):
            watch.parse_duration(bad)
    with pytest.raises(ConfigError, match="must increase"):
        watch.parse_schedule(["6h", "1h"])
    with pytest.raises(ConfigError, match="at least one"):
        watch.parse_schedule([])


def test_revisits_decay_and_a_late_article_is_visited_once() -> None:
    start = T0
    assert watch.first_visit(start, SCHEDULE) == T0 + H
    assert watch.next_visit(start, SCHEDULE, T0 + H) == T0 + 6 * H
    assert watch.next_visit(start, SCHEDULE, T0 + 6 * H + timedelta(minutes=1)) == T0 + 24 * H
    assert watch.next_visit(start, SCHEDULE, T0 + 2 * 24 * H) == T0 + 7 * 24 * H
    assert watch.next_visit(start, SCHEDULE, T0 + 30 * 24 * H) is None
    # found 10 days late (a machine that was off): one visit now, then the next step
    assert watch.next_visit(start, SCHEDULE, T0 + 10 * 24 * H) == T0 + 30 * 24 * H
    # the schedule starts when the article was first stored, unless it was published
    # more than the schedule's span before (an imported archive): then once, now
    span = watch.old_after(SCHEDULE)
    assert span == timedelta(days=30)
    assert watch.old_after(watch.parse_schedule(["10s", "1m"])) == timedelta(days=30)
    assert watch.schedule_start(T0, T0 - 5 * H, span) == T0
    assert watch.schedule_start(T0, T0 + 5 * H, span) == T0
    old = T0 - 400 * 24 * H
    assert watch.schedule_start(T0, old, span) == old
    assert watch.next_visit(old, SCHEDULE, T0) is None


def test_unreachable_pages_are_retried_with_backoff_then_given_up() -> None:
    at = T0
    assert watch.retry_visit(at, 1, None) == at + H
    assert watch.retry_visit(at, 3, None) == at + 4 * H
    assert watch.retry_visit(at, 4, at + 2 * H) == at + 2 * H  # the planned step is sooner
    assert watch.retry_visit(at, 9, at + 48 * H) == at + 24 * H  # at most a day
    assert watch.retry_visit(at, watch.MAX_FAILURES, None) is None


# -- what a visit shows (pure) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "final", "gone"),
    [
        ("https://www.rfi.fr/cn/中国/20230409-x", "https://www.rfi.fr/", True),
        ("https://www.rfi.fr/cn/中国/20230409-x", "https://www.rfi.fr/cn/", True),
        ("https://www.bbc.com/zhongwen/simp/world-1", "https://www.bbc.com/zhongwen/simp", True),
        ("https://example.org/2023/04/09/story.html", "https://example.org/news", True),
        ("https://example.org/a/1", "https://example.org/index.html", True),
        ("https://example.org/a/1", "https://other.example/", True),
        # moved, not gone: another article's address, or the same page
        ("https://example.org/2023/story", "https://example.org/2023/story-updated", False),
        ("https://example.org/p?id=1", "https://example.org/articles/2023/1.html", False),
        ("http://example.org/a/1", "https://example.org/a/1", False),
        ("https://example.org/a/1", "https://example.org/a/1", False),
    ],
)
def test_redirects_to_a_front_or_section_page_mean_gone(
    requested: str, final: str, gone: bool
) -> None:
    assert bool(watch.front_page_redirect(requested, final)) is gone


def test_removal_notices_are_found_in_titles_and_short_pages_only() -> None:
    assert watch.removal_notice("页面不存在 - 法广", "")
    assert watch.removal_notice("", "抱歉，您访问的页面不存在或已被删除。返回首页")
    assert watch.removal_notice("", "該文章已被刪除")
    assert watch.removal_notice("404 Not Found", "")
    assert watch.removal_notice("", "Sorry, this page is no longer available.")
    assert watch.removal_notice("", "This article has been removed.")
    # an article quoting the words is an article
    long_text = "报道说，一篇批评文章已被删除，" + "这是正文的内容。" * 80
    assert not watch.removal_notice("审查：网络文章", long_text)
    assert not watch.removal_notice(
        "中美元首会晤", "在美国旧金山举行的中美元首会晤吸引了全世界的目光。"
    )


def test_statuses_follow_outcomes() -> None:
    assert watch.status_outcome(404) == watch.status_outcome(410) == watch.GONE
    assert watch.status_outcome(451) == watch.GONE
    for status in (401, 403, 429, 500, 503):
        assert watch.status_outcome(status) == watch.UNREACHABLE
    assert watch.status_after("live", watch.GONE) == "gone"
    assert watch.status_after("gone", watch.UNREACHABLE) == "gone"  # not seen: stays gone
    assert watch.status_after("gone", watch.UNCHANGED) == "live"  # back again
    assert watch.status_after("live", watch.UNREACHABLE) == "live"  # never a takedown
    assert watch.shown_status(False, 0) == "live"
    assert watch.shown_status(False, 1) == "edited"
    assert watch.shown_status(True, 1) == "gone"


# -- revisits against a loopback server ------------------------------------------------------


class Clock:
    """The archive's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """The clock the test's archives are given, at T0."""
    return Clock(T0)


ARTICLE = PAGES.joinpath("chinese_article_001.html").read_bytes()
OTHER = PAGES.joinpath("chinese_article_002.html").read_bytes()
THIRD = PAGES.joinpath("chinese_article.html").read_bytes()
EDITED = ARTICLE.replace("多名".encode(), "几名".encode())
NOTICE = (
    "<html><head><title>页面不存在 - 示例新闻</title></head><body><div class=main>"
    "<h1>抱歉，您访问的页面不存在或已被删除</h1><p><a href='/'>返回首页</a></p>"
    "</div></body></html>"
).encode()


def redirect(location: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(301)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


@pytest.fixture
def newsroom(server: LoopbackServer, make_archive: Callable[..., Archive], clock: Clock) -> Archive:
    """A source of seven articles whose content came from the feed, fetched at T0; each
    article's page served by the loopback server."""
    down = f"http://127.0.0.1:{closed_port()}/news/2026/11/down.html"
    links = {
        "deleted": server.url("/news/2026/11/deleted.html"),
        "removed": server.url("/news/2026/11/removed.html"),
        "moved": server.url("/news/2026/11/moved.html"),
        "edited": server.url("/news/2026/11/edited.html"),
        "steady": server.url("/news/2026/11/steady.html"),
        "notice": server.url("/news/2026/11/notice.html"),
        "down": down,
    }
    for name, body in (("deleted", OTHER), ("removed", THIRD), ("moved", OTHER)):
        server.set(f"/news/2026/11/{name}.html", body, **HTML)
    server.set("/news/2026/11/edited.html", ARTICLE, **HTML)
    server.set("/news/2026/11/steady.html", THIRD, **HTML)
    server.set("/news/2026/11/notice.html", OTHER, **HTML)
    pub = format_datetime(T0 - timedelta(minutes=10), usegmt=True)
    items = [
        {"title": f"标题 {name}", "link": link, "guid": f"urn:{name}", "pubDate": pub,
         "description": f"<p>{name} 的正文，在订阅源里全文给出。</p>"}
        for name, link in links.items()
    ]  # fmt: skip
    feed = server.set("/feed.xml", rss(items))
    archive = make_archive((make_source("wire", [feed]),), clock=clock)
    reports = archive.fetch()
    assert reports[0].new == 7
    return archive


def outcomes(archive: Archive) -> dict[str, str]:
    """Each article's latest visit outcome, by its guid's name."""
    found = {}
    for row in archive.store.db.execute(
        "SELECT a.guid, vi.outcome FROM visits vi JOIN articles a ON a.id = vi.article_id "
        "ORDER BY vi.id"
    ):
        found[row[0].removeprefix("urn:")] = row[1]
    return found


def status(archive: Archive, name: str) -> str:
    article = archive.show(f"urn:{name}")
    assert article is not None
    state = archive.store.watch_state(article.id)
    edits = decide.edits(article.versions)
    return watch.shown_status(bool(state and state.gone), edits)


def test_revisits_find_takedowns_edits_and_outages(
    newsroom: Archive, server: LoopbackServer, clock: Clock
) -> None:
    archive = newsroom
    clock.now = T0 + timedelta(minutes=30)
    assert archive.watch().due == 0  # nothing is due before the first step

    # an hour on: the pages change upstream, and every article is due
    server.set("/news/2026/11/deleted.html", b"gone", 404, **HTML)
    server.set("/news/2026/11/removed.html", b"", 410, **HTML)
    server.routes["/news/2026/11/moved.html"] = redirect("/")
    server.set("/", b"<html><title>Front</title><body><p>News</p></body></html>", **HTML)
    server.set("/news/2026/11/notice.html", NOTICE, **HTML)
    clock.now = T0 + H
    report = archive.watch()
    assert report.due == 7
    assert outcomes(archive) == {
        "deleted": "gone",
        "removed": "gone",
        "moved": "gone",
        "notice": "gone",
        "edited": "unchanged",  # the first look at a page is the baseline
        "steady": "unchanged",
        "down": "unreachable",
    }
    assert status(archive, "down") == "live"  # a host that is down is not a takedown
    assert status(archive, "deleted") == status(archive, "moved") == "gone"
    reasons = dict(
        archive.store.db.execute(
            "SELECT a.guid, vi.reason FROM visits vi JOIN articles a ON a.id = vi.article_id"
        ).fetchall()
    )
    assert reasons["urn:deleted"] == "HTTP 404"
    assert "front page" in reasons["urn:moved"]
    assert "removal notice" in reasons["urn:notice"]

    # not due again until the next step (6 h after it appeared), except the host that was
    # down, tried again an hour later
    clock.now = T0 + 2 * H + timedelta(minutes=1)
    assert archive.watch().due == 1

    edited = ARTICLE.replace("多名外国专家".encode(), "十多名外国专家和学者".encode())
    assert edited != ARTICLE
    server.set("/news/2026/11/edited.html", edited, **HTML)
    clock.now = T0 + 6 * H
    report = archive.watch()
    assert report.outcomes["edited"] == 1
    article = archive.show("urn:edited")
    assert article is not None and len(article.versions) == 2
    latest = article.versions[-1]
    assert "十多名外国专家和学者" in latest.clean_html
    assert latest.method == "page extractor" and latest.feed_url.startswith("watch:")
    assert status(archive, "edited") == "edited"
    assert status(archive, "steady") == "live"

    # the markdown archive shows the edit; nothing else is rewritten
    first = archive.publish_markdown()
    assert first.errors == []
    path = archive.config.output_path / article.path
    assert "十多名外国专家和学者" in path.read_text("utf-8")
    assert archive.publish_markdown().written == 0


def test_a_page_back_after_a_takedown_is_live_again(
    newsroom: Archive, server: LoopbackServer, clock: Clock
) -> None:
    archive = newsroom
    server.set("/news/2026/11/steady.html", b"", 404, **HTML)
    clock.now = T0 + H
    archive.watch()
    assert status(archive, "steady") == "gone"
    server.set("/news/2026/11/steady.html", THIRD, **HTML)
    clock.now = T0 + 6 * H
    archive.watch()
    assert status(archive, "steady") == "live"
    kinds = [(c.kind, c.url.rsplit("/", 1)[-1]) for c in archive.store.changes("", "9999")]
    assert ("gone", "steady.html") in kinds and ("back", "steady.html") in kinds


def test_a_page_never_read_is_not_taken_down_when_it_is_missing(
    server: LoopbackServer, make_archive: Callable[..., Archive], clock: Clock
) -> None:
    """The page 404s at fetch time (the feed's content stands in), and still at the
    revisit: the visit could not check (a page not published yet is no takedown); once
    the page is there, the next fetch completes the article, and nothing was taken down
    or back."""
    link = server.url("/news/2026/11/late.html")
    server.set("/news/2026/11/late.html", b"", 404, **HTML)
    pub = format_datetime(T0 - timedelta(minutes=10), usegmt=True)
    item = {"title": "标题", "link": link, "guid": "urn:late", "pubDate": pub,
            "description": "<p>摘要……</p>"}  # fmt: skip
    feed = server.set("/feed.xml", rss([item]))
    archive = make_archive((make_source("wire", [feed], full_text="auto"),), clock=clock)
    archive.fetch()
    clock.now = T0 + H
    archive.watch()
    assert outcomes(archive) == {"late": "unreachable"} and status(archive, "late") == "live"
    server.set("/news/2026/11/late.html", ARTICLE, **HTML)
    clock.now = T0 + 2 * H
    [report] = archive.fetch()
    assert report.changed == 1
    clock.now = T0 + 6 * H
    archive.watch()
    assert status(archive, "late") == "live"
    assert archive.store.changes("", "9999") == []


def test_watch_now_revisits_everything_and_reruns_add_nothing_false(
    newsroom: Archive, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("newsmirror.jobs.watch.BATCH", 3)  # three batches of 3, 3 and 1
    archive = newsroom
    assert archive.watch().due == 0  # at T0 nothing is due...
    report = archive.watch(everything=True)  # ...but --now revisits every URL
    assert report.due == 7
    assert report.outcomes["unreachable"] == 1 and report.outcomes["gone"] == 0
    again = archive.watch(everything=True)
    assert again.outcomes["edited"] == 0 and again.outcomes["unchanged"] == 6
    versions = archive.store.db.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
    assert versions == 7


def test_articles_read_from_their_page_are_compared_with_their_version(
    server: LoopbackServer, make_archive: Callable[..., Archive], clock: Clock
) -> None:
    link = server.set("/a/1.html", ARTICLE, **HTML)
    pub = format_datetime(T0, usegmt=True)
    feed = server.set("/feed.xml", rss([{"title": "中美", "link": link, "pubDate": pub}]))
    archive = make_archive((make_source("pages", [feed], full_text="page"),), clock=clock)
    archive.fetch()
    clock.now = T0 + H
    assert archive.watch().outcomes["unchanged"] == 1  # the same page: no version
    server.set("/a/1.html", ARTICLE.replace("中美合作共赢".encode(), "合作".encode()), **HTML)
    clock.now = T0 + 6 * H
    assert archive.watch().outcomes["edited"] == 1


def take_down_then_edit(archive: Archive, server: LoopbackServer, clock: Clock) -> None:
    """An hour on, "deleted" answers 404 (the first look at every other page); six hours
    on, "edited" has changed."""
    server.set("/news/2026/11/deleted.html", b"", 404, **HTML)
    clock.now = T0 + H
    archive.watch()
    server.set("/news/2026/11/edited.html", EDITED, **HTML)
    clock.now = T0 + 6 * H
    archive.watch()


def test_show_and_report_name_statuses(
    newsroom: Archive,
    server: LoopbackServer,
    clock: Clock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    archive = newsroom
    monkeypatch.setattr(Archive, "default_clock", clock)  # the archives the commands open
    home = str(archive.config.home)
    capsys.readouterr()
    assert main(["--home", home, "show", "urn:steady"]) == EXIT_OK  # stored at T0 (08:00)
    assert "not revisited yet, first revisit 2026-11-02 09:00 UTC" in capsys.readouterr().out
    clock.now = T0 + 2 * H  # its first revisit is past due: due now
    assert main(["--home", home, "show", "urn:steady"]) == EXIT_OK
    assert "not revisited yet, first revisit due now" in capsys.readouterr().out
    clock.now = T0
    take_down_then_edit(archive, server, clock)
    assert main(["--home", home, "show", "urn:deleted"]) == EXIT_OK
    shown = capsys.readouterr().out
    assert "status: gone" in shown and "HTTP 404" in shown
    day = T0.date().isoformat()
    assert main(["--home", home, "report", "--since", day, "--until", day, "--json"]) == EXIT_OK
    document = json.loads(capsys.readouterr().out)
    by_url = {c["url"]: c for c in document["changes"]}
    deleted = server.url("/news/2026/11/deleted.html")
    assert by_url[deleted]["kind"] == "gone" and by_url[deleted]["status"] == "gone"
    edited = server.url("/news/2026/11/edited.html")
    assert by_url[edited]["kind"] == "edited" and by_url[edited]["status"] == "edited"
    assert document["sources"] == {"wire": {"edited": 1, "gone": 1, "back": 0}}
    assert main(["--home", home, "report", "--since", day]) == EXIT_OK
    table = capsys.readouterr().out
    assert "taken down" in table and deleted in table
    # a period without changes says so
    assert main(["--home", home, "report", "--since", "2020-01-01", "--until", "2020-01-02"]) == 0
    assert "none found" in capsys.readouterr().out
    assert main(["--home", home, "report", "--since", "2020-01-02", "--until", "2020-01-01"]) == 2
    assert "the period is empty" in capsys.readouterr().err
    assert main(["--home", home, "show", "urn:edited"]) == EXIT_OK
    assert "found by a revisit" in capsys.readouterr().out


def test_a_file_whose_record_was_lost_to_a_kill_is_still_updated(
    newsroom: Archive, server: LoopbackServer, clock: Clock
) -> None:
    """A run killed after writing an article file and before recording it: once the
    article has a new version, the file (an earlier version, as newsmirror wrote it) is
    replaced rather than refused as someone else's."""
    archive = newsroom
    assert archive.publish_markdown().errors == []
    archive.store.db.execute("DELETE FROM published")  # the record the kill lost
    clock.now = T0 + H
    archive.watch()  # the baseline
    server.set("/news/2026/11/edited.html", EDITED, **HTML)
    clock.now = T0 + 6 * H
    assert archive.watch().outcomes["edited"] == 1
    report = archive.publish_markdown()
    assert report.errors == [] and report.notes == []  # README.md too is known as ours
    article = archive.show("urn:edited")
    assert article is not None
    text = (archive.config.output_path / article.path).read_text("utf-8")
    assert "几名外国专家" in text


def test_the_site_shows_takedowns_and_feeds_them_without_churn(
    newsroom: Archive, server: LoopbackServer, clock: Clock
) -> None:
    import feedparser

    archive = newsroom
    site = archive.config.site_path
    archive.publish_site()
    server.set("/news/2026/11/deleted.html", b"", 404, **HTML)
    clock.now = T0 + H
    archive.watch()
    report = archive.publish_site()
    assert report.errors == []
    article = archive.show("urn:deleted")
    steady = archive.show("urn:steady")
    assert article is not None and steady is not None
    page = (site / "a" / "wire" / f"{article.archive_id}.html").read_text("utf-8")
    assert "Taken down upstream" in page and "HTTP 404" in page
    other = (site / "a" / "wire" / f"{steady.archive_id}.html").read_text("utf-8")
    assert "Taken down" not in other
    feed = feedparser.parse((site / "feeds" / "changes.xml").read_bytes())
    assert not feed.bozo
    titles = [e.title for e in feed.entries]
    assert any(t.startswith("[已删除 taken down]") and "标题 deleted" in t for t in titles)
    # revisits that change nothing rewrite no page
    clock.now = T0 + 6 * H
    archive.watch()
    assert archive.publish_site().written == 0
    # back again: the notice goes
    server.set("/news/2026/11/deleted.html", OTHER, **HTML)
    clock.now = T0 + 24 * H
    archive.watch()
    archive.publish_site()
    page = (site / "a" / "wire" / f"{article.archive_id}.html").read_text("utf-8")
    assert "Taken down upstream" not in page


def test_visits_and_statuses_travel_in_json_lines(
    newsroom: Archive,
    server: LoopbackServer,
    clock: Clock,
    make_archive: Callable[..., Archive],
    tmp_path: Path,
) -> None:
    import io

    archive = newsroom
    take_down_then_edit(archive, server, clock)
    first = io.BytesIO()
    archive.export_jsonl(first)
    path = tmp_path / "export.jsonl"
    path.write_bytes(first.getvalue())
    copy = make_archive(archive.config.sources, home=tmp_path / "copy", clock=clock)
    counts = copy.import_jsonl(path)
    assert counts.errors == []
    assert (
        counts.added["visit"]
        == archive.store.db.execute("SELECT COUNT(*) FROM visits").fetchone()[0]
    )
    assert counts.added["watch"] == 7
    second = io.BytesIO()
    copy.export_jsonl(second)
    assert second.getvalue() == first.getvalue()
    assert copy.import_jsonl(path).added == {}  # twice changes nothing
    gone = copy.show("urn:deleted")
    assert gone is not None
    state = copy.store.watch_state(gone.id)
    assert state is not None and state.gone
    assert [c.kind for c in copy.store.changes("", "9999")] == [
        c.kind for c in archive.store.changes("", "9999")
    ]


def test_a_page_of_unclosed_scripts_is_read_in_linear_time() -> None:
    from newsmirror.watch.revisit import _notice_on_page, _without_hidden

    body = b"<html><title>Page not found</title><body>" + b"<script>" * 24_000  # 17 s before
    started = time.process_time()
    assert "removal notice" in _notice_on_page(body, "text/html")
    assert time.process_time() - started < 5
    page = "<p>a</p><SCRIPT>x</script ><p>b</p><style>y<script>z</style>c<noscript>d<script>"
    assert _without_hidden(page) == "<p>a</p> <p>b</p> c<noscript>d<script>"
