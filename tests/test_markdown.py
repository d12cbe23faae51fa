"""The duty-machine/news format: read, write, import and republish byte for byte."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import DATA, LoopbackServer, rss
from newsmirror.cli.main import EXIT_OK, EXIT_PARTIAL, main
from newsmirror.config.settings import default_sources
from newsmirror.errors import ArchiveFormatError
from newsmirror.jobs.archive import Archive
from newsmirror.publish.markdown.files import (
    archive_id_of,
    parse_article,
    render_article,
    render_kept,
)
from newsmirror.publish.markdown.importer import article_files
from newsmirror.publish.markdown.lists import ListItem, list_link, render_list

CORPUS = DATA / "duty-machine-news"
RFC822 = "Sun, 09 Apr 2023 11:15:02 GMT"
CORPUS_FILES = article_files(CORPUS)


def test_corpus_is_complete() -> None:
    assert len(CORPUS_FILES) == 106


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.parent.name + "/" + p.name[:12])
def test_render_parse_round_trip_is_byte_identical(path: Path) -> None:
    text = path.read_text("utf-8")
    article = parse_article(text)
    assert render_article(article.published_ms, article.title, article.link, article.html) == text


def test_sample_article_round_trip() -> None:
    text = (DATA / "rfi-1681038902000.md").read_text("utf-8")
    article = parse_article(text)
    assert article.published_ms == 1681038902000
    assert article.title == "韩国总统室：韩美就加强延伸威慑做最后协调"
    assert "\u00a0" in article.html
    assert render_article(1681038902000, article.title, article.link, article.html) == text


def test_render_uses_javascript_white_space_and_node_urls() -> None:
    text = render_article(
        5,
        "\ufeff\u3000标题 \u00a0",
        "https://www.rfi.fr/cn/亚洲/a b",
        "  <p>a</p>  \n\t<p>b</p>\u3000\n\u001c<i>c</i>",
    )
    lines = text.split("\n")
    assert lines[1] == "[标题](https://www.rfi.fr/cn/%E4%BA%9A%E6%B4%B2/a%20b)"
    # U+001C is not JavaScript white space, so it stays.
    assert lines[4] == "<p>a</p><p>b</p>\u001c<i>c</i>"
    assert text.endswith("</i>\n") and lines[2] == "------" and lines[3] == ""


def test_title_with_brackets_reads_back() -> None:
    text = render_article(1, "[视频] 标题](x) 完", "https://example.org/a(1)", "<p>x</p>")
    article = parse_article(text)
    assert article.title == "[视频] 标题](x) 完"
    assert article.link == "https://example.org/a(1)"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "no header",
        "<!--x-->\n[t](u)\n------\n\nbody\n",
        "<!--1-->\nt\n------\n\nb\n",
        "<!--1-->\n[t](http://a/)\n------\nb\n",
        "<!--1-->\n[t](http://a/\n)\n------\n\nb\n",
    ],
)
def test_malformed_files_give_format_errors(bad: str) -> None:
    with pytest.raises(ArchiveFormatError):
        parse_article(bad)


@pytest.mark.parametrize(
    "odd", ["<!--1-->\n[t](http://a/)\n------\n\nb", "<!--1-->\n[t](http://a/)\n------\n\nb\nc\n"]
)
def test_files_the_script_never_wrote_are_still_kept_as_they_are(odd: str) -> None:
    """No final newline, a content of several lines: read, and written back the same."""
    assert render_kept(parse_article(odd)) == odd


@given(st.integers(min_value=0, max_value=2**45), st.text(), st.text())
def test_written_files_read_back(ms: int, title: str, html: str) -> None:
    text = render_article(ms, title, "https://example.org/x", html)
    article = parse_article(text)
    assert article.published_ms == ms
    assert render_article(article.published_ms, article.title, article.link, article.html) == text


def test_file_names() -> None:
    assert archive_id_of("1048574.md") == 1048574
    assert archive_id_of("1042083_秘鲁 – RFI.md") == 1042083
    assert archive_id_of("1046239_德国前总理施密特的艺术收藏 .md") == 1046239
    assert archive_id_of("README.md") is None
    assert archive_id_of("12.md.bak") is None


def test_list_lines_match_the_original_list() -> None:
    original = (CORPUS / "lists" / "中国数字时代.md").read_text("utf-8")
    article = parse_article((CORPUS / "articles/cdt/365567.md").read_text("utf-8"))
    text = render_list("中国数字时代", [ListItem("articles/cdt/365567.md", article.title, "6-13")])
    assert text == "中国数字时代\n------\n\n6-13 [每日一语 2022.6.12](/articles/cdt/365567.md)\n\n"
    assert text.splitlines()[3] in original.splitlines()


def test_list_links_escape_like_node() -> None:
    assert list_link("articles/BBC/1047717_Zoom营收暴增 受益于疫情.md") == (
        "/articles/BBC/1047717_Zoom营收暴增%20受益于疫情.md"
    )
    assert list_link("articles/rfi/1.md") == "/articles/rfi/1.md"


# -- import and republish ------------------------------------------------------------


def copy_corpus(dest: Path) -> Path:
    shutil.copytree(CORPUS, dest)
    return dest


def test_import_then_republish_is_byte_identical(
    tmp_path: Path, make_archive: Callable[..., Archive]
) -> None:
    checkout = copy_corpus(tmp_path / "checkout")
    out = tmp_path / "out"
    archive = make_archive(output=str(out))
    report = archive.import_archive(checkout)
    assert (report.new, report.errors) == (106, [])
    published = archive.publish_markdown()
    assert published.errors == []
    for path in CORPUS_FILES:
        relative = path.relative_to(CORPUS)
        assert (out / relative).read_bytes() == path.read_bytes(), relative


def test_import_in_place_rewrites_nothing(
    tmp_path: Path, make_archive: Callable[..., Archive]
) -> None:
    checkout = copy_corpus(tmp_path / "checkout")
    before = {p: p.stat().st_mtime_ns for p in article_files(checkout)}
    archive = make_archive(home=checkout)
    archive.import_archive(checkout)
    report = archive.publish_markdown()
    assert report.errors == []
    assert {p: p.stat().st_mtime_ns for p in article_files(checkout)} == before
    again = archive.import_archive(checkout)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 106)
    assert archive.publish_markdown().written == 0


def test_import_maps_legacy_folders_and_continues_ids(
    tmp_path: Path, make_archive: Callable[..., Archive]
) -> None:
    archive = make_archive()
    archive.import_archive(copy_corpus(tmp_path / "checkout"))
    legacy = archive.show("articles/法广/1042081.md")
    assert legacy is not None and legacy.source == "rfi" and legacy.archive_id == 1042081
    stats = {s.source: s for s in archive.stats()}
    assert stats["rfi"].articles == 27 + 5
    assert stats["rfi"].lowest_id == 1000000  # the smallest imported rfi id
    assert stats["bbc"].articles == 7 + 2
    assert stats["cdt"].lowest_id == 0xFFFFF  # CDT ids are post numbers, not a countdown


def test_import_reports_bad_files_and_goes_on(
    tmp_path: Path, make_archive: Callable[..., Archive]
) -> None:
    checkout = copy_corpus(tmp_path / "checkout")
    (checkout / "articles/rfi/5.md").write_text("not an article", "utf-8")
    (checkout / "articles/rfi/notes.md").write_text("x", "utf-8")
    (checkout / "articles/rfi/6.md").write_bytes(b"<!--1-->\n[\xff](x)\n------\n\nb\n")
    (checkout / "articles/unknown").mkdir()
    (checkout / "articles/unknown/7.md").write_text("x", "utf-8")
    report = make_archive().import_archive(checkout)
    assert report.new == 106
    assert len(report.errors) == 4
    assert any("rfi/5.md" in e and "line 1" in e for e in report.errors)
    assert any("UTF-8" in e for e in report.errors)
    assert any("matches no source" in e for e in report.errors)


def test_publish_goes_on_past_files_it_cannot_write(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    items = [
        {"title": f"标题{n}", "link": f"http://example.org/{n}", "pubDate": RFC822}
        for n in range(3)
    ]
    home = tmp_path / "home"
    home.mkdir()
    tables = [f"[sources.{s.slug}]\nenabled = false" for s in default_sources()]
    for slug in ("aa", "bb"):
        feed = server.set(f"/{slug}.xml", rss(items))
        tables.append(f'[sources.{slug}]\nname = "{slug.upper()}"\nfeeds = ["{feed}"]')
    (home / "newsmirror.toml").write_text("\n".join(tables), "utf-8")
    assert main(["--home", str(home), "fetch"]) == EXIT_OK
    (home / "lists").mkdir()
    (home / "lists/AA.md").symlink_to(tmp_path / "elsewhere.md")  # not to be written through
    with sqlite3.connect(home / "newsmirror.db") as db:  # as an older version may have let in
        db.execute(
            "UPDATE articles SET path = ? WHERE source = 'bb' AND archive_id = 1048574",
            ("articles/bb/" + "长" * 300 + ".md",),
        )
    capsys.readouterr()
    assert main(["--home", str(home), "publish", "markdown"]) == EXIT_PARTIAL
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and "Traceback" not in "".join(errors)
    assert any(e.startswith("lists/AA.md: ") for e in errors)
    assert any(e.startswith("articles/bb/长") and "too long" in e for e in errors)
    assert (home / "lists/BB.md").is_file() and (home / "README.md").is_file()
    assert len(list((home / "articles").glob("*/*.md"))) == 5
    assert not (tmp_path / "elsewhere.md").exists()


@pytest.mark.parametrize(
    ("title", "line"),
    [
        ("看[这](javascript:alert(1))", "[看[这](javascript：alert(1))]()"),
        ("x](JaVaScRiPt:alert(1)", "[x](JaVaScRiPt：alert(1)]()"),
        ("x]( \tjava\nscript:alert(1)", "[x]( \tjava\nscript：alert(1)]()"),
        ("x](<vbscript:msgbox>", "[x](<vbscript：msgbox>]()"),
        ("[视频] 标题](x) 完", "[[视频] 标题](x) 完]()"),
    ],
)
def test_a_title_cannot_make_line_2_a_link_that_runs_script(title: str, line: str) -> None:
    assert render_article(1, title, "", "<p>x</p>").split("\n------\n")[0] == f"<!--1-->\n{line}"
