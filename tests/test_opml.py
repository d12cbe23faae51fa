"""Sources in and out as OPML."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import LoopbackServer, rss
from newsmirror.cli.main import EXIT_OK, EXIT_USAGE, main
from newsmirror.config.opml import export_opml, new_source_tables, read_opml, slug_for
from newsmirror.config.settings import default_sources, load_config
from newsmirror.errors import ConfigError
from newsmirror.limits import NAME_BYTES, SLUG

READER_EXPORT = b"""<?xml version="1.0"?>
<opml version="1.0"><head><title>my feeds</title></head><body>
<outline text="News" title="News">
  <outline type="rss" text="Example &amp; Co" xmlUrl="https://example.org/feed.xml"/>
  <outline type="rss" text="\xe7\xbd\x91\xe7\xab\x99" xmlUrl="https://news.example.net/rss/zh.xml"/>
</outline>
<outline type="rss" text="RFI again" xmlUrl="https://feedx.net/rss/rfi.xml"/>
<outline text="no feed here"/>
</body></opml>"""


def test_export_round_trips_every_source_and_fallback() -> None:
    sources = default_sources()
    found = read_opml(export_opml(sources).encode("utf-8")).sources
    assert [(s.slug, s.name, s.feeds) for s in found] == [
        (s.slug, s.name, s.feeds) for s in sources
    ]


def test_import_adds_only_new_feeds_with_usable_slugs() -> None:
    found = read_opml(READER_EXPORT).sources
    assert [s.name for s in found] == ["Example & Co", "网站", "RFI again"]
    text = new_source_tables(found, default_sources())
    assert "[sources.example-co]" in text
    assert "[sources.news-example-net-zh]" in text
    assert "feedx.net/rss/rfi.xml" not in text  # already the rfi source


def test_slugs() -> None:
    assert slug_for("BBC News", "https://x/") == "bbc-news"
    assert slug_for("法广", "https://feedx.net/rss/rfi.xml") == "feedx-net-rfi"


@pytest.mark.parametrize("data", [b"not xml", b"<rss/>"])
def test_not_opml_is_a_clear_error(data: bytes) -> None:
    with pytest.raises(ConfigError):
        read_opml(data, "feeds.opml")


def test_cli_import_then_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    opml = tmp_path / "reader.opml"
    opml.write_bytes(READER_EXPORT)
    home = str(tmp_path / "home")
    assert main(["init", home]) == EXIT_OK
    assert main(["--home", home, "sources", "import", str(opml)]) == EXIT_OK
    config = load_config(home)
    assert config.source("example-co").feeds == ("https://example.org/feed.xml",)
    assert len(config.sources) == 11
    assert main(["--home", home, "sources", "import", str(opml)]) == EXIT_OK
    assert "no new feeds" in capsys.readouterr().out
    assert len(load_config(home).sources) == 11  # re-running changes nothing
    out = tmp_path / "out.opml"
    assert main(["--home", home, "sources", "export", "--opml", "-o", str(out)]) == EXIT_OK
    assert len(read_opml(out.read_bytes()).sources) == 11
    assert main(["--home", home, "sources", "import"]) == EXIT_USAGE


FEED_READER = b"""<?xml version="1.0"?>
<opml version="2.0"><head><title>feedly</title></head><body>
<outline text="WSJ">
  <outline type="rss" text="WSJ" xmlUrl="https://feeds.example.com/world.xml"/>
  <outline type="rss" text="WSJ" xmlUrl="https://feeds.example.com/economy.xml"/>
  <outline type="rss" text="WSJ again" xmlUrl="HTTPS://Feeds.Example.com:443/world.xml"/>
</outline>
<outline type="rss" text="bad" xmlUrl="javascript:alert(1)"/>
<outline type="rss" text="relative" xmlUrl="/feed.xml"/>
<outline type="rss" text="no url"/>
<outline text="a folder, not a feed"/>
<outline type="rss" text="" xmlUrl="http://127.0.0.3:8701/feed.xml"/>
<outline type="rss" text='back\\slash "quoted": name' xmlUrl="https://b.example.org/rss"/>
<outline type="rss" text="CDT" xmlUrl="https://ChinaDigitalTimes.net:443/chinese/feed/"/>
<outline type="rss" text="Upper" xmlUrl="HTTP://upper.example.com/rss.xml"/>
<outline type="rss" text="CON" xmlUrl="https://con.example.com/rss.xml"/>
<outline type="rss" text="..." xmlUrl="https://dots.example.com/rss.xml"/>
</body></opml>"""


def test_a_feed_readers_outlines_are_a_source_each_and_odd_ones_are_named() -> None:
    read = read_opml(FEED_READER)
    assert [(s.name, s.feeds) for s in read.sources] == [
        ("WSJ", ("https://feeds.example.com/world.xml",)),
        ("WSJ", ("https://feeds.example.com/economy.xml",)),  # not a fallback of the first
        ("127.0.0.3", ("http://127.0.0.3:8701/feed.xml",)),
        ("back slash quoted name", ("https://b.example.org/rss",)),
        ("CDT", ("https://ChinaDigitalTimes.net:443/chinese/feed/",)),
        ("Upper", ("HTTP://upper.example.com/rss.xml",)),
        ("CON feed", ("https://con.example.com/rss.xml",)),  # "CON" is no file name on Windows
        ("dots.example.com", ("https://dots.example.com/rss.xml",)),
    ]
    assert [line.split(":")[0] for line in read.skipped] == [
        "WSJ again",  # the first WSJ feed again, in another spelling
        "bad",
        "relative",
        "no url",
    ]
    text = new_source_tables(read.sources, default_sources())
    assert "[sources.wsj]" in text and "[sources.wsj-2]" in text
    assert 'name = "WSJ"' in text and 'name = "WSJ 2"' in text  # names are unique too
    assert "chinese/feed" not in text  # the built-in cdt source's feed, spelt otherwise


def test_cli_import_of_outlines_sharing_a_title_or_a_builtin_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    builtin = default_sources()[0].name
    opml = tmp_path / "reader.opml"
    opml.write_text(
        '<opml version="2.0"><body>'
        '<outline type="rss" text="Daily" xmlUrl="https://a.example.org/1.xml"/>'
        '<outline type="rss" text="Daily" xmlUrl="https://a.example.org/2.xml"/>'
        f'<outline type="rss" text="{builtin}" xmlUrl="https://b.example.org/rss"/>'
        "</body></opml>",
        "utf-8",
    )
    home = str(tmp_path / "home")
    assert main(["init", home]) == EXIT_OK
    assert main(["--home", home, "sources", "import", str(opml)]) == EXIT_OK
    names = [s.name for s in load_config(home).sources]
    assert names.count("Daily") == 1 and "Daily 2" in names and f"{builtin} 2" in names


def test_a_huge_outline_title_is_cut_to_a_file_name_and_publishing_goes_on(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = server.set(
        "/a.xml",
        rss(
            [
                {
                    "title": "标题",
                    "link": "http://example.org/1",
                    "pubDate": "Sun, 09 Apr 2023 11:15:02 GMT",
                    "description": "<p>正文</p>",
                }
            ]
        ),
    )
    huge = "新闻" * 2500  # 5,000 characters, 15,000 bytes
    opml = tmp_path / "reader.opml"
    opml.write_text(
        '<opml version="2.0"><body>'
        f'<outline type="rss" text="{huge}" xmlUrl="{feed}"/>'
        f'<outline type="rss" text="{huge}" xmlUrl="{server.url("/b.xml")}"/>'
        "</body></opml>",
        "utf-8",
    )
    home = tmp_path / "home"
    assert main(["init", str(home)]) == EXIT_OK
    config = (home / "newsmirror.toml").read_text("utf-8")
    enabled = "\n".join(f"[sources.{s.slug}]\nenabled = false" for s in default_sources())
    (home / "newsmirror.toml").write_text(config + "\n" + enabled + "\n", "utf-8")
    assert main(["--home", str(home), "sources", "import", str(opml)]) == EXIT_OK
    added = [s for s in load_config(home).sources if s.enabled]
    assert all(len(s.name.encode()) <= NAME_BYTES for s in added)  # cut at a character
    assert added[0].name == "新闻" * 16 + "新" and added[1].name == "新闻" * 16 + " 2"
    assert main(["--home", str(home), "fetch", "--source", added[0].slug]) == EXIT_OK
    capsys.readouterr()
    assert main(["--home", str(home), "publish", "markdown"]) == EXIT_OK
    assert (home / "lists" / f"{added[0].name}.md").is_file()
    assert "lists/" in (home / "README.md").read_text("utf-8")


def test_names_and_slugs_from_outside_fit_their_rules() -> None:
    read = read_opml(
        b'<opml version="2.0" xmlns:newsmirror="https://newsmirror.invalid/opml"><body>'
        + b'<outline type="rss" text="%s" xmlUrl="https://a.example/1"/>' % (b"x" * 5000)
        + b'<outline type="rss" text="%s" xmlUrl="https://a.example/2"/>' % (b"x" * 5000)
        + b'<outline type="rss" text="n" xmlUrl="https://a.example/3" newsmirror:slug="../etc"/>'
        + b'<outline type="rss" text="\xe6\x96\xb0\x7f" xmlUrl="https://a.example/4"/>'
        + b"</body></opml>"
    )
    text = new_source_tables(read.sources, ())
    slugs = re.findall(r"^\[sources\.(.*)\]$", text, re.M)
    names = re.findall(r'^name = "(.*)"$', text, re.M)
    assert len(slugs) == 4 and all(SLUG.match(slug) for slug in slugs), slugs
    assert names == ["x" * NAME_BYTES, "x" * (NAME_BYTES - 2) + " 2", "n", "新"]


def test_a_long_or_control_name_in_the_configuration_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("新" * 40, "a\\u0000b"):
        (tmp_path / "newsmirror.toml").write_text(
            f'[sources.x]\nname = "{name}"\nfeeds = ["https://x.example/rss"]\n', "utf-8"
        )
        assert main(["--home", str(tmp_path), "stats"]) == EXIT_USAGE
        line = capsys.readouterr().err
        assert "sources.x.name" in line and "lists/<name>.md" in line
