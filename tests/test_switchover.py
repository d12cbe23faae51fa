"""Switching a real archive of the duty-machine family over to newsmirror: every layout
the script family wrote is read and written back byte for byte, lists continue in their
own dialect, files sharing an id stay apart, and the hourly job keeps exiting 0."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import DATA, LoopbackServer, rss
from newsmirror.cli.main import main
from newsmirror.errors import ArchiveFormatError
from newsmirror.jobs.archive import Archive
from newsmirror.publish.markdown.files import ArchivedArticle, FileForm, parse_article, render_kept
from newsmirror.publish.markdown.importer import article_files
from newsmirror.publish.markdown.lists import parse_cdt_readme, parse_list

NEWS = DATA / "duty-machine-news"
CDT = DATA / "duty-machine-chinadigitaltimes"


def every_file(root: Path) -> dict[str, bytes]:
    """Every article, list and README of a checkout, by relative path."""
    found = {p.relative_to(root).as_posix(): p.read_bytes() for p in article_files(root)}
    for extra in [*root.glob("lists/*.md"), root / "README.md"]:
        if extra.is_file():
            found[extra.relative_to(root).as_posix()] = extra.read_bytes()
    return found


def cli(home: Path, *args: str) -> int:
    return main(["--home", str(home), *args])


# -- the layouts -------------------------------------------------------------------------


def test_the_old_cdt_layout_reads_and_writes_back() -> None:
    path = next((CDT / "articles").glob("399577_*.md"))
    text = path.read_text("utf-8")
    article = parse_article(text)
    assert article.published_ms is None and article.form.epoch is False
    assert article.form.date_line == "Thu, 02 Jul 2020 18:28:24 +0000"
    assert article.date_ms == 1593714504000
    assert article.title == "曹教授｜谢谢俄国大使馆的特别提醒"
    assert render_kept(article) == text


@pytest.mark.parametrize(
    "path", sorted((CDT / "articles").glob("*.md"))[:40], ids=lambda p: p.name[:6]
)
def test_cdt_files_given_an_epoch_line_read_back(path: Path) -> None:
    """After the move into duty-machine/news the same files carried an epoch line first,
    the 日期 line kept: the variant refused with "no '------' line after the title"."""
    original = parse_article(path.read_text("utf-8"))
    text = f"<!--{original.date_ms}-->\n" + path.read_text("utf-8")
    article = parse_article(text)
    assert article.published_ms == original.date_ms and article.form.epoch
    assert article.form.date_line == original.form.date_line
    assert render_kept(article) == text


def with_title(path: Path, title: str) -> str:
    """A real 2020 file whose title line holds ``title`` as the script wrote it."""
    article = parse_article(path.read_text("utf-8"))
    return render_kept(replace(article, title=title))


LEGACY = sorted((NEWS / "articles" / "BBC").glob("*.md"))


@pytest.mark.parametrize("title", ["「驕傲」 ", "警方回应\n\n", " 前导\u3000", "a\n b \u00a0"])
def test_titles_keep_their_blanks_and_newlines(title: str) -> None:
    text = with_title(LEGACY[1], title)
    article = parse_article(text)
    assert article.title == title
    assert render_kept(article) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "line 1: expected <!--<epoch ms>--> or [title](link)"),
        ("<!--12-->\nno title\n------\n\nb\n", "line 2: expected [title](link)"),
        ("<!--12-->\n[t](http://a/)\n\nb\n", "line 3: expected a '------' line"),
        ("<!--12-->\n[t](http://a/)\n------\nb\n", "line 4: expected an empty line"),
        ("[t](http://a/)\n------\n日期：x", "line 3: the file ends after the date"),
        ("[t]http://a/\n------\n\nb\n", "line 1: expected [title](link)"),
    ],
)
def test_a_file_in_no_layout_names_the_line(text: str, expected: str) -> None:
    with pytest.raises(ArchiveFormatError, match=re.escape(expected)):
        parse_article(text)


_TEXT = st.text(st.characters(exclude_characters="\r"), max_size=40)


@given(
    st.integers(min_value=0, max_value=2**45) | st.none(),
    _TEXT.filter(lambda t: "\n------\n" not in t and "](" not in t),
    st.sampled_from(["https://example.org/a", "http://x.test/(1)"]),
    st.none() | st.text(st.characters(exclude_characters="\r\n"), max_size=30),
    _TEXT,
    st.booleans(),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
def test_every_kept_layout_reads_back(
    ms: int | None,
    title: str,
    link: str,
    date: str | None,
    html: str,
    eol: bool,
    newline: str,
    bom: bool,
) -> None:
    form = FileForm(ms is not None, date, eol, newline, bom)
    if date is None and html.startswith("日期："):
        return  # a body that starts like a date line needs the date line to tell them apart
    title, html = title.replace("\n", newline), html.replace("\n", newline)
    text = render_kept(ArchivedArticle(ms, title.lstrip("[\ufeff"), link, html, form))
    if ms is None and date is None:  # neither a 2021 nor a CDT file: in no layout
        with pytest.raises(ArchiveFormatError):
            parse_article(text)
        return
    assert render_kept(parse_article(text)) == text


# -- whole archives, in place and into a fresh home -----------------------------------------


@pytest.mark.parametrize("corpus", [NEWS, CDT], ids=["news", "cdt"])
def test_a_real_archive_republishes_byte_identical_in_place(tmp_path: Path, corpus: Path) -> None:
    checkout = tmp_path / "checkout"
    shutil.copytree(corpus, checkout)
    before = every_file(checkout)
    stamps = {p: os.stat(checkout / p).st_mtime_ns for p in before}
    assert cli(checkout, "import", "archive", str(checkout)) == 0
    assert cli(checkout, "publish", "markdown") == 0  # it exited 1 for ever
    after = every_file(checkout)
    assert {p: after[p] for p in before} == before
    assert {p: os.stat(checkout / p).st_mtime_ns for p in before} == stamps  # none rewritten
    assert cli(checkout, "publish", "markdown") == 0
    assert {p: os.stat(checkout / p).st_mtime_ns for p in before} == stamps


@pytest.mark.parametrize("corpus", [NEWS, CDT], ids=["news", "cdt"])
def test_a_real_archive_republishes_byte_identical_in_a_fresh_home(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    assert cli(home, "init") == 0
    assert cli(home, "import", "archive", str(corpus)) == 0
    assert cli(home, "publish", "markdown") == 0
    capsys.readouterr()
    published = every_file(home)
    original = every_file(corpus)
    assert {p: published.get(p) for p in original} == original
    assert cli(home, "publish", "markdown") == 0
    assert "0 written" in capsys.readouterr().out


def test_the_cdt_archive_without_folders_belongs_to_cdt(
    tmp_path: Path, make_archive: Callable[..., Archive]
) -> None:
    archive = make_archive()
    report = archive.import_archive(CDT)
    assert (report.new, report.errors) == (227, [])
    assert {s.source: s.articles for s in archive.stats()}["cdt"] == 227
    first = archive.show("articles/399577_曹教授｜谢谢俄国大使馆的特别提醒.md")
    assert first is not None and first.source == "cdt" and first.archive_id == 399577
    assert first.published_ms == 1593714504000 and not first.date_missing
    kept = archive.store.archive_file("README.md")
    assert kept is not None and (kept.style, kept.source) == ("cdt-readme", "cdt")


def test_a_file_without_a_folder_and_an_unknown_host_says_what_to_do(
    tmp_path: Path, make_archive: Callable[..., Archive]
) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "articles").mkdir(parents=True)
    (checkout / "articles" / "5_t.md").write_text(
        "<!--1-->\n[t](https://unknown.example/a)\n------\n\n<p>x</p>\n", "utf-8"
    )
    report = make_archive().import_archive(checkout)
    assert report.new == 0 and "--source" in report.errors[0]
    named = make_archive().import_archive(checkout, source="rfi")
    assert named.new == 1


# -- lists ----------------------------------------------------------------------------------


def test_list_dialects_are_detected() -> None:
    bbc = parse_list((NEWS / "lists" / "BBC.md").read_text("utf-8"))
    assert bbc is not None and bbc.style == "2020" and len(bbc.entries) == 100
    assert bbc.footer == "\n\n[查看更多](/articles/BBC)"
    dw = parse_list((NEWS / "lists" / "德国之声.md").read_text("utf-8"))
    assert dw is not None and dw.style == "current" and len(dw.entries) == 300
    readme = parse_cdt_readme((CDT / "README.md").read_text("utf-8"))
    assert readme is not None and len(readme.entries) == 16
    assert parse_list("x\n------\n\nsomething else\n") is None


def default_sources_with(archive: Archive, slug: str, feed: str) -> Archive:
    """The archive with one default source's feed on loopback."""
    sources = tuple(
        replace(s, feeds=(feed,), full_text="feed") if s.slug == slug else s
        for s in archive.config.sources
    )
    archive.config = replace(archive.config, sources=sources)
    return archive


def new_item(server: LoopbackServer, title: str) -> str:
    return server.set(
        "/feed.xml",
        rss(
            [
                {
                    "title": title,
                    "link": "https://www.bbc.com/zhongwen/simp/world-1",
                    "guid": "https://www.bbc.com/zhongwen/simp/world-1",
                    "pubDate": "Tue, 01 Sep 2020 12:00:00 GMT",
                    "description": "<p>正文</p>",
                }
            ]
        ),
    )


def test_a_2020_list_goes_on_in_its_dialect(
    tmp_path: Path, make_archive: Callable[..., Archive], server: LoopbackServer
) -> None:
    archive = make_archive()
    archive.import_archive(NEWS)
    archive.publish_markdown()
    list_file = archive.config.output_path / "lists" / "BBC.md"
    assert list_file.read_bytes() == (NEWS / "lists" / "BBC.md").read_bytes()
    default_sources_with(archive, "bbc", new_item(server, "新文章/标题"))
    assert archive.fetch(["bbc"])[0].new == 1
    archive.publish_markdown()
    text = list_file.read_text("utf-8")
    listed = parse_list(text)
    assert listed is not None and listed.style == "2020" and len(listed.entries) == 100
    assert listed.entries[0] == "9-1 [新文章/标题](/articles/bbc/1041691.md)\n"
    old = parse_list((NEWS / "lists" / "BBC.md").read_text("utf-8"))
    assert old is not None and listed.entries[1:] == old.entries[:99]
    assert text.endswith("\n\n[查看更多](/articles/BBC)")


def test_a_current_list_goes_on_in_its_dialect(
    tmp_path: Path, make_archive: Callable[..., Archive], server: LoopbackServer
) -> None:
    archive = make_archive()
    archive.import_archive(NEWS)
    url = new_item(server, "德国新闻")
    default_sources_with(archive, "dw", url)
    archive.fetch(["dw"])
    archive.publish_markdown()
    listed = parse_list((archive.config.output_path / "lists" / "德国之声.md").read_text("utf-8"))
    old = parse_list((NEWS / "lists" / "德国之声.md").read_text("utf-8"))
    assert listed is not None and old is not None and listed.style == "current"
    assert listed.entries[0] == "9-1 [德国新闻](/articles/dw/1022764.md)\n"
    assert listed.entries[1:] == old.entries[:299]


def test_list_style_setting(tmp_path: Path, make_archive: Callable[..., Archive]) -> None:
    archive = make_archive(list_style="2020")
    archive.import_archive(NEWS)
    archive.publish_markdown()
    text = (archive.config.output_path / "lists" / "德国之声.md").read_text("utf-8")
    listed = parse_list(text)
    assert listed is not None and listed.style == "2020"
    assert text.endswith("[查看更多](/articles/德国之声)")
    fresh = make_archive(home=tmp_path / "new")
    fresh.import_archive(NEWS)
    fresh.publish_markdown()
    rfi = parse_list((fresh.config.output_path / "lists" / "法广.md").read_text("utf-8"))
    assert rfi is not None and rfi.style == "current"  # no list was imported: today's dialect


def test_a_cdt_readme_goes_on_listing_the_newest(
    tmp_path: Path, make_archive: Callable[..., Archive], server: LoopbackServer
) -> None:
    archive = make_archive()
    archive.import_archive(CDT)
    url = server.set(
        "/cdt.xml",
        rss(
            [
                {
                    "title": "新帖 ",
                    "link": "https://chinadigitaltimes.net/chinese/2020/07/x/",
                    "guid": "https://chinadigitaltimes.net/chinese/?p=700000",
                    "pubDate": "Fri, 03 Jul 2020 10:00:00 GMT",
                    "category": "❤",
                    "content": "<p>正文</p>",
                }
            ]
        ),
    )
    default_sources_with(archive, "cdt", url)
    assert archive.fetch(["cdt"])[0].new == 1
    archive.publish_markdown()
    readme = parse_cdt_readme((archive.config.output_path / "README.md").read_text("utf-8"))
    old = parse_cdt_readme((CDT / "README.md").read_text("utf-8"))
    assert readme is not None and old is not None
    assert readme.entries[0] == f"[新帖](articles/cdt/{0xFFFFF ^ 700000}.md)\n"
    assert readme.entries[1:] == old.entries[:15] and readme.header == old.header
    assert not (archive.config.output_path / "lists").exists()  # its README is its list


# -- files sharing an id --------------------------------------------------------------------


def test_two_files_of_one_id_are_two_articles(
    tmp_path: Path, make_archive: Callable[..., Archive], capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    assert cli(home, "import", "archive", str(CDT)) == 0
    assert cli(home, "publish", "site") == 0
    pages = sorted(p.name for p in (home / "site" / "a" / "cdt").glob("400166*.html"))
    assert pages == ["400166-2.html", "400166.html"]
    first = (home / "site/a/cdt/400166.html").read_text("utf-8")
    second = (home / "site/a/cdt/400166-2.html").read_text("utf-8")
    assert "许章润：践踏斯文" in first and "许章润｜践踏斯文" in second
    capsys.readouterr()
    assert cli(home, "show", "cdt/400166") == 0
    shown = capsys.readouterr().out
    assert "2 articles match" in shown
    assert "400166_许章润：践踏斯文" in shown and "400166_许章润｜践踏斯文" in shown
    assert cli(home, "show", "cdt/400166-2") == 0
    only = capsys.readouterr().out
    assert "许章润｜践踏斯文" in only and "articles match" not in only


def test_symbolic_links_are_not_followed(
    tmp_path: Path, make_archive: Callable[..., Archive]
) -> None:
    outside = tmp_path / "outside"
    (outside / "rfi").mkdir(parents=True)
    shutil.copy(next((NEWS / "articles" / "rfi").glob("*.md")), outside / "rfi" / "5.md")
    checkout = tmp_path / "checkout"
    (checkout / "articles").mkdir(parents=True)
    (checkout / "articles" / "rfi").symlink_to(outside / "rfi")
    (checkout / "articles" / "dw").mkdir()
    (checkout / "articles" / "dw" / "6.md").symlink_to(outside / "rfi" / "5.md")
    report = make_archive().import_archive(checkout)
    assert report.new == 0
    assert sorted(report.errors) == [
        "articles/dw/6.md: a symbolic link, not followed",
        "articles/rfi: a symbolic link, not followed",
    ]


def test_an_export_carries_layouts_lists_and_twins(
    tmp_path: Path, make_archive: Callable[..., Archive]
) -> None:
    """Export, import into an empty archive, publish: the same bytes as the checkout."""
    first = make_archive()
    first.import_archive(CDT)
    exported = tmp_path / "all.jsonl"
    with exported.open("wb") as out:
        first.export_jsonl(out)
    second = make_archive(home=tmp_path / "second")
    counts = second.import_jsonl(exported)
    assert counts.errors == []
    second.publish_markdown()
    published = every_file(second.config.output_path)
    original = every_file(CDT)
    assert {p: published.get(p) for p in original} == original
    twins = second.show_all("cdt/400166")
    assert [a.twin for a in twins] == [0, 1]
    again = tmp_path / "again.jsonl"
    with again.open("wb") as out:
        second.export_jsonl(out)
    assert again.read_bytes() == exported.read_bytes()


def test_a_list_of_no_source_is_kept_as_it_is(
    tmp_path: Path, make_archive: Callable[..., Archive]
) -> None:
    checkout = tmp_path / "checkout"
    shutil.copytree(NEWS, checkout)
    other = (NEWS / "lists" / "BBC.md").read_text("utf-8").replace("BBC", "英伦网", 1)
    (checkout / "lists" / "英伦网.md").write_text(other, "utf-8")
    archive = make_archive(home=tmp_path / "fresh")
    report = archive.import_archive(checkout)
    assert any("英伦网.md: names no source: kept as it is" in n for n in report.notes)
    archive.publish_markdown()
    assert (archive.config.output_path / "lists" / "英伦网.md").read_text("utf-8") == other
    assert archive.publish_markdown().written == 0


@pytest.mark.parametrize("bom", [False, True])
def test_a_windows_checkout_s_line_endings_are_kept(
    tmp_path: Path, make_archive: Callable[..., Archive], bom: bool
) -> None:
    """CRLF (Git for Windows' core.autocrlf) and a byte order mark: read, kept, continued."""
    checkout = tmp_path / "checkout"
    shutil.copytree(NEWS, checkout)
    for path in [*article_files(checkout), *checkout.glob("lists/*.md")]:
        text = path.read_text("utf-8").replace("\n", "\r\n")
        path.write_text(("\ufeff" if bom and "articles" in path.parts else "") + text, "utf-8")
    before = every_file(checkout)
    archive = make_archive(home=tmp_path / "fresh")
    report = archive.import_archive(checkout)
    assert (report.new, report.errors, report.kept_lists) == (106, [], 3)
    archive.publish_markdown()
    published = every_file(archive.config.output_path)
    assert {p: published.get(p) for p in before} == before
    listed = parse_list(before["lists/BBC.md"].decode("utf-8"))
    assert listed is not None and listed.newline == "\r\n" and listed.style == "2020"


def test_re_importing_after_a_publish_changes_nothing(
    tmp_path: Path, make_archive: Callable[..., Archive]
) -> None:
    checkout = tmp_path / "checkout"
    shutil.copytree(NEWS, checkout)
    archive = make_archive(home=checkout)
    first = archive.import_archive(checkout)
    assert (first.kept_lists, first.kept_readme) == (3, True)
    archive.publish_markdown()  # writes lists for the sources that had none
    again = archive.import_archive(checkout)
    assert (again.new, again.changed, again.kept_lists, again.kept_readme) == (0, 0, 0, False)
    assert len(archive.store.archive_files()) == 4  # its own lists are not the archive's


def test_a_file_with_neither_an_epoch_nor_a_date_line_is_refused() -> None:
    text = (next((CDT / "articles").glob("399577_*.md"))).read_text("utf-8")
    no_date = text.replace(text.split("\n")[2] + "\n", "", 1)
    with pytest.raises(ArchiveFormatError, match="line 3: expected 日期："):
        parse_article(no_date)
    with pytest.raises(ArchiveFormatError, match="line 4: the file ends here"):
        parse_article("<!--1-->\n[t](http://a/)\n------\n")


def test_an_archive_is_imported_oldest_first(
    tmp_path: Path, make_archive: Callable[..., Archive]
) -> None:
    """Each folder's files as the script made them (the largest id first): the site's
    source pages list them in that order, and the search index takes them in date order."""
    archive = make_archive()
    archive.import_archive(NEWS)
    stored = [a.path for a in archive.store.site_source_all("dw")]
    folder = [int(path.split("/")[-1].split(".")[0]) for path in stored if "/dw/" in path]
    assert len(folder) == 12 and folder == sorted(folder, reverse=True)
    assert stored.index("articles/dw/1022765.md") == 11  # the dw folder's newest
