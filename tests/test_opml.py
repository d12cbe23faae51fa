"""Sources in and out as OPML."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmirror.cli import EXIT_OK, EXIT_USAGE, main
from newsmirror.config import default_sources, load_config
from newsmirror.errors import ConfigError
from newsmirror.opml import export_opml, new_source_tables, read_opml, slug_for

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
