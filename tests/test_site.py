"""The static site: pages, relative links that resolve, nothing from elsewhere, Atom feeds
that feedparser reads back, incremental writes."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import feedparser
import pytest

from conftest import make_source
from newsmirror import decide
from newsmirror.cli.main import EXIT_OK, main
from newsmirror.config.settings import build_config
from newsmirror.jobs.archive import Archive
from newsmirror.publish.site.pieces import changes, page_root
from newsmirror.publish.site.writer import SitePublisher
from newsmirror.types import Candidate

SOURCES = (
    make_source("rfi", ["http://f.test/rfi.xml"], name="法广"),
    make_source("bbc", ["http://f.test/bbc.xml"], name="BBC"),
)
STAMP = "2024-05-01T08:00:00+00:00"
NOW = datetime.fromisoformat(STAMP)
DAY_MS = 86_400_000


def candidate(source: str, n: int, title: str, html: str, day: int = 0) -> Candidate:
    return Candidate(
        source=source,
        identity=f"guid:{source}{n}",
        guid=f"{source}{n}",
        url=f"https://news.test/{source}/{n}",
        link=f"https://news.test/{source}/{n}",
        title=title,
        published_ms=1_714_521_600_000 + day * DAY_MS + n * 60_000,
        date_missing=False,
        raw_html=html,
        clean_html=html,
        content_hash=decide.content_hash(title, html),
        feed_url=f"http://f.test/{source}.xml",
    )


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    config = replace(build_config(tmp_path / "home", {"archive": {}}), sources=SOURCES)
    archive = Archive(config)
    with archive.store.transaction():
        for n in range(70):  # two source pages of 50
            body = f"<p>第{n}条新闻：韩国总统谈延伸威慑。</p><p>第二段 {n}。</p>"
            archive.store.store_candidate(candidate("rfi", n, f"标题{n}", body, n % 3), NOW)
        html = (
            '<p>BBC 正文 <b>加粗</b></p><img src="https://media.test/a.jpg" alt="照片">'
            '<video src="https://media.test/v.mp4" poster="https://media.test/p.jpg" controls>'
            '</video><audio controls><source src="https://media.test/a.mp3"></audio>'
        )
        archive.store.store_candidate(candidate("bbc", 1, "英国新闻", html), NOW)
        edited = html + "<p>更正：补充了一段。</p>"
        archive.store.store_candidate(candidate("bbc", 1, "英国新闻（更新）", edited), NOW)
    yield archive
    archive.close()


def pages(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text("utf-8") for p in root.rglob("*.html")}


def test_every_page_links_only_inside_the_site(archive: Archive, tmp_path: Path) -> None:
    out = tmp_path / "site"
    report = archive.publish_site(out)
    assert report.errors == [] and report.written > 70
    found = pages(out)
    assert {"index.html", "about.html", "s/rfi/index.html", "s/rfi/1.html", "s/rfi/2.html"} <= set(
        found
    )
    assert "a/rfi/1048574.html" in found and "a/bbc/1048574.html" in found
    assert len([p for p in found if p.startswith("d/")]) == 4  # three days and their index
    for path, text in found.items():
        for attr, value in re.findall(r'\b(src|href)="([^"]*)"', text):
            if attr == "href" and value.startswith(("https://news.test/", "https://media.test")):
                continue  # the original article, and links to what was not mirrored
            if value == "data:,":  # the empty icon: no request for /favicon.ico
                continue
            if value.startswith("#"):
                assert f'id="{value[1:]}"' in text, (path, value)
                continue
            assert not urlsplit(value).scheme and not value.startswith("/"), (path, value)
            target = (out / path).parent / unquote(value.split("#")[0])
            assert target.resolve().is_file(), (path, value)
            assert out.resolve() in target.resolve().parents
        assert re.findall(r"<script\b[^>]*>", text) in (
            [],
            ['<script src="static/search.js" data-root="">'],
        )


def test_the_article_page_shows_content_versions_and_changes(
    archive: Archive, tmp_path: Path
) -> None:
    archive.publish_site(tmp_path / "site")
    page = (tmp_path / "site" / "a/bbc/1048574.html").read_text("utf-8")
    assert "<h1>英国新闻（更新）</h1>" in page and "<b>加粗</b>" in page
    assert "Edited upstream 1 time" in page
    assert "更正：补充了一段。" in page.split('id="versions"')[1]  # in the changes
    assert '<img src="https://media.test' not in page and 'href="https://media.test/a.jpg"' in page
    assert "<video" not in page and "<audio" not in page and "<source" not in page
    assert 'href="https://media.test/v.mp4">[视频 video]' in page
    assert 'href="https://media.test/a.mp3">[音频 audio]' in page
    assert "first archived 2024-05-01 16:00" in page  # stored 08:00 UTC, shown in Shanghai time
    assert 'href="https://news.test/bbc/1"' in page and 'lang="zh-Hans"' in page


def test_atom_feeds_read_back_by_feedparser(archive: Archive, tmp_path: Path) -> None:
    control = candidate("bbc", 2, "控制\x01字符\x0b", "<p>正文</p>")  # as an import may bring
    archive.store.store_candidate(control, NOW)
    archive.publish_site(tmp_path / "site")
    feed = feedparser.parse((tmp_path / "site/feeds/all.xml").read_bytes())
    assert not feed.bozo and feed.version == "atom10"
    assert len(feed.entries) == 50
    assert not feedparser.parse((tmp_path / "site/feeds/bbc.xml").read_bytes()).bozo
    first = feed.entries[0]
    assert first.title and first.content[0].type == "text/html" and "<p>" in first.content[0].value
    assert first.link.endswith(".html") and first.id.startswith("urn:newsmirror:")
    rfi = feedparser.parse((tmp_path / "site/feeds/rfi.xml").read_bytes())
    assert not rfi.bozo and all(e.id.startswith("urn:newsmirror:rfi:") for e in rfi.entries)
    bbc = feedparser.parse((tmp_path / "site/feeds/bbc.xml").read_bytes())
    edited = next(e for e in bbc.entries if e.title == "英国新闻（更新）")
    assert edited.updated == "2024-05-01T08:00:00Z"  # when its latest version was stored
    edits = feedparser.parse((tmp_path / "site/feeds/changes.xml").read_bytes())
    assert [e.title for e in edits.entries] == ["[第 2 版 version 2] 英国新闻（更新）"]
    assert "更正" in edits.entries[0].content[0].value


def test_a_base_url_makes_feed_links_absolute(archive: Archive, tmp_path: Path) -> None:
    archive.config = replace(archive.config, base_url="https://mirror.example/news/")
    archive.publish_site(tmp_path / "site")
    feed = feedparser.parse((tmp_path / "site/feeds/all.xml").read_bytes())
    assert feed.entries[0].link.startswith("https://mirror.example/news/a/")


def test_a_new_article_rewrites_only_the_pages_it_is_on(archive: Archive, tmp_path: Path) -> None:
    out = tmp_path / "site"
    archive.publish_site(out)
    again = archive.publish_site(out)
    assert again.written == 0 and again.errors == []
    before = {p: (out / p).stat().st_mtime_ns for p in pages(out)}
    new = candidate("rfi", 500, "新文章", "<p>新的</p>", 1)
    archive.store.store_candidate(new, NOW)
    day = datetime.fromtimestamp(new.published_ms / 1000, ZoneInfo("Asia/Shanghai")).date()
    report = archive.publish_site(out)
    changed = {p for p in pages(out) if before.get(p) != (out / p).stat().st_mtime_ns}
    assert changed == {
        "a/rfi/1048504.html",  # the new article
        "s/rfi/2.html",  # the last page of its source
        "s/rfi/index.html",  # its source's newest
        "index.html",  # the front page
        "about.html",  # the counts
        f"d/{day.isoformat()}.html",  # its day
    }
    # and the feeds of all and of its source, and the search shard it is in
    assert report.written == len(changed) + 3


def test_pieces() -> None:
    assert page_root("index.html") == "" and page_root("a/rfi/1.html") == "../../"
    assert changes("一\n\n二", "一\n\n三") == [("-", "二"), ("+", "三")]


def test_publish_site_command(archive: Archive, tmp_path: Path) -> None:
    home = str(archive.config.home)
    archive.close()
    assert main(["--home", home, "publish", "site"]) == EXIT_OK
    assert (Path(home) / "site" / "index.html").is_file()


def test_search_shards_read_in_one_pass_match_those_read_one_by_one(
    archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import newsmirror.publish.site.writer as site

    monkeypatch.setattr(site, "SHARD", 10)
    archive.publish_site(tmp_path / "a")  # 71 articles: 8 shards, read in one pass
    shards = sorted((tmp_path / "a" / "search").glob("docs-*.js"))
    assert len(shards) == 8 and '"shards":8' in (tmp_path / "a/search/index.js").read_text()
    archive.store.store_candidate(candidate("bbc", 9, "新", "<p>新</p>"), NOW)
    archive.publish_site(tmp_path / "a")  # one shard changed: read by itself
    last = (tmp_path / "a/search/docs-0007.js").read_text("utf-8")
    assert last.count('"p":') == 2 and "a/bbc/1048573.html" in last
    archive.publish_site(tmp_path / "b", force=True)
    for shard in (tmp_path / "b" / "search").glob("docs-*.js"):
        assert shard.read_bytes() == (tmp_path / "a" / "search" / shard.name).read_bytes()


def test_every_page_is_reached_from_the_front_page(archive: Archive, tmp_path: Path) -> None:
    out = tmp_path / "site"
    archive.publish_site(out)
    seen, todo = set(), ["index.html"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        text = (out / path).read_text("utf-8")
        for value in re.findall(r'(?:href|action)="([^"#:]+\.html)"', text):
            target = ((out / path).parent / value).resolve().relative_to(out.resolve())
            todo.append(target.as_posix())
    assert set(pages(out)) == seen


def test_a_site_folder_keeps_its_own_record_and_force_repairs_it(
    archive: Archive, tmp_path: Path
) -> None:
    archive.publish_site(tmp_path / "a")
    archive.store.store_candidate(candidate("rfi", 600, "只在后来", "<p>后来</p>"), NOW)
    archive.publish_site(tmp_path / "a")
    archive.publish_site(tmp_path / "b")  # a second folder gets every page, the new one too
    assert pages(tmp_path / "a") == pages(tmp_path / "b")
    (tmp_path / "a" / "index.html").write_text("tampered", "utf-8")
    (tmp_path / "a" / "a/rfi/1048574.html").unlink()
    assert archive.publish_site(tmp_path / "a", force=True).written == 2
    assert pages(tmp_path / "a") == pages(tmp_path / "b")


def test_pages_made_by_worker_processes_are_the_same_bytes(
    archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full build whose article pages are made in worker processes (as for thousands
    of articles) writes the same files as one made in the publisher's process, records
    them, and a second run writes nothing."""
    serial = archive.publish_site(tmp_path / "serial")
    monkeypatch.setattr(SitePublisher, "parallel_min", 1)
    monkeypatch.setattr("newsmirror.publish.site.writer.os.cpu_count", lambda: 2)
    parallel = archive.publish_site(tmp_path / "parallel")
    assert parallel.errors == serial.errors == []
    assert parallel.written == serial.written

    def files(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()
        }

    assert files(tmp_path / "parallel") == files(tmp_path / "serial")
    again = archive.publish_site(tmp_path / "parallel")
    assert again.written == 0


def test_stale_pages_found_from_the_marks_are_those_a_full_pass_finds(
    archive: Archive, tmp_path: Path
) -> None:
    from newsmirror.store.siteviews import site_key

    archive.publish_site(tmp_path / "site")
    prefix = site_key(str((tmp_path / "site").resolve()))
    assert list(archive.store.site_stale(prefix)) == []
    with archive.store.transaction():
        body = "<p>第3条新闻：更正后的内容。</p>"
        archive.store.store_candidate(candidate("rfi", 3, "标题3（更正）", body), NOW)
        archive.store.store_candidate(candidate("bbc", 9, "新的一条", "<p>新闻</p>"), NOW)
    by_marks = list(archive.store.site_stale(prefix))
    assert by_marks == list(archive.store.site._stale_everywhere(prefix, False))
    assert sorted((s.source, s.source_rank) for s in by_marks) == [("bbc", 1), ("rfi", 3)]
    archive.publish_site(tmp_path / "site")
    assert list(archive.store.site_stale(prefix)) == []


# -- navigation: every page whose links change is written again ------------------------------


def test_a_source_passing_a_page_rewrites_the_navigation_of_its_pages(
    archive: Archive, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    with archive.store.transaction():
        for n in range(2, 51):  # BBC: 50 articles, one page
            archive.store.store_candidate(candidate("bbc", n, f"英国{n}", "<p>x</p>"), NOW)
    archive.publish_site(out)
    assert 's/bbc/2.html"' not in (out / "s/bbc/1.html").read_text("utf-8")
    archive.store.store_candidate(candidate("bbc", 51, "第五十一条", "<p>y</p>"), NOW)
    archive.publish_site(out)  # 51 articles: a second page, linked from the first
    assert 's/bbc/2.html"' in (out / "s/bbc/1.html").read_text("utf-8")
    assert 's/bbc/1.html"' in (out / "s/bbc/2.html").read_text("utf-8")
    fresh = tmp_path / "fresh"
    archive.publish_site(fresh)
    assert pages(out) == pages(fresh)  # what a full build writes


def test_an_article_moved_to_another_day_leaves_the_day_it_was_on(
    archive: Archive, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    archive.publish_site(out)
    old = candidate("rfi", 5, "标题5", "<p>改过</p>", 2)
    moved = replace(old, published_ms=old.published_ms + 30 * DAY_MS, content_hash="new")
    archive.store.store_candidate(moved, NOW)
    archive.publish_site(out)
    zone = ZoneInfo("Asia/Shanghai")
    before = datetime.fromtimestamp(old.published_ms / 1000, zone).date().isoformat()
    after = datetime.fromtimestamp(moved.published_ms / 1000, zone).date().isoformat()
    assert "a/rfi/1048569.html" not in (out / f"d/{before}.html").read_text("utf-8")
    assert "a/rfi/1048569.html" in (out / f"d/{after}.html").read_text("utf-8")
    assert f"{after}.html" in (out / "d/index.html").read_text("utf-8")
    fresh = tmp_path / "fresh"
    archive.publish_site(fresh)
    assert pages(out) == pages(fresh)


def test_a_new_source_or_name_is_in_the_navigation_of_every_page(tmp_path: Path) -> None:
    home = tmp_path / "home"
    sources = (*SOURCES, make_source("dw", ["http://f.test/dw.xml"], name="德国之声"))
    archive = Archive(replace(build_config(home, {"archive": {}}), sources=sources))
    archive.store.store_candidate(candidate("rfi", 1, "标题", "<p>正文</p>"), NOW)
    out = tmp_path / "site"
    archive.publish_site(out)
    assert "s/dw/index.html" not in (out / "a/rfi/1048574.html").read_text("utf-8")
    archive.store.store_candidate(candidate("dw", 1, "德国", "<p>新闻</p>"), NOW)
    archive.publish_site(out)
    assert "../../s/dw/index.html" in (out / "a/rfi/1048574.html").read_text("utf-8")
    archive.close()
    renamed = (SOURCES[0], SOURCES[1], replace(sources[2], name="德国之声中文网"))
    archive = Archive(replace(build_config(home, {"archive": {}}), sources=renamed))
    archive.publish_site(out)
    for path, text in pages(out).items():
        assert "德国之声中文网" in text, path
    assert archive.publish_site(out).written == 0
    archive.close()
