"""Settings, the nine default sources, overrides and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmirror.config.settings import (
    CONFIG_NAME,
    boilerplate_patterns,
    default_sources,
    load_config,
    render_template,
)
from newsmirror.errors import ConfigError, InvalidSourceError

NINE = {
    "reuters": ("路透", "https://feedx.net/rss/reuters.xml"),
    "nyt": ("纽约时报", "https://feedx.net/rss/nytimes.xml"),
    "voa": ("美国之音", "https://feedx.net/rss/mgzy1.xml"),
    "ft": ("金融时报", "https://feedx.net/rss/ft.xml"),
    "bbc": ("BBC", "https://feedx.net/rss/bbc.xml"),
    "rfi": ("法广", "https://feedx.net/rss/rfi.xml"),
    "dw": ("德国之声", "https://feedx.net/rss/dw.xml"),
    "rfa": ("自由亚洲电台", "https://www.rfa.org/mandarin/yataibaodao/rss2.xml"),
    "cdt": ("中国数字时代", "https://chinadigitaltimes.net/chinese/feed/"),
}


def test_the_nine_default_sources() -> None:
    sources = default_sources()
    assert {s.slug: (s.name, s.feeds[0]) for s in sources} == NINE
    by_slug = {s.slug: s for s in sources}
    assert by_slug["cdt"].item_filter == "symbol-category"
    assert by_slug["cdt"].fulltext_selector == "div.post-content"
    assert by_slug["cdt"].id_scheme == "post"
    assert by_slug["rfa"].link_from_guid
    assert all(s.list_timezone == "Asia/Shanghai" for s in sources)
    assert boilerplate_patterns(by_slug["rfi"])  # the feed provider's footer


def write(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / CONFIG_NAME).write_text(text, "utf-8")
    return home


def test_override_a_default_and_add_a_source(tmp_path: Path) -> None:
    home = write(
        tmp_path,
        """
[archive]
markdown_content = "clean"
[sources.rfi]
feeds = ["https://feedx.net/rss/rfi.xml", "https://www.rfi.fr/cn/rss"]
[sources.ft]
enabled = false
[sources.example]
name = "示例"
feeds = ["https://example.org/feed.xml"]
list_timezone = "Europe/Berlin"
""",
    )
    config = load_config(home)
    assert config.markdown_content == "clean"
    assert config.source("rfi").feeds == (
        "https://feedx.net/rss/rfi.xml",
        "https://www.rfi.fr/cn/rss",
    )
    assert config.source("rfi").name == "法广"
    assert not config.source("ft").enabled
    assert config.source("example").list_timezone == "Europe/Berlin"
    assert len(config.sources) == 10


@pytest.mark.parametrize(
    "text, words",
    [
        ("[archive]\nmarkdown_content = 'fancy'", "archive.markdown_content"),
        ("[archive]\ncolour = 1", "archive.colour"),
        ("[fetch]\ntimeout = 'soon'", "fetch.timeout"),
        ("[sources.new]\nname = 'x'", "needs key 'feeds'"),
        ("[sources.rfi]\nfeeds = ['ftp://x']", "sources.rfi.feeds"),
        ("[sources.rfi]\nfeeds = []", "sources.rfi.feeds"),
        ("[sources.rfi]\nlist_timezone = 'Mars/Base'", "sources.rfi.list_timezone"),
        ("[sources.rfi]\nboilerplate = ['(']", "sources.rfi.boilerplate"),
        ("[sources.rfi]\nspeed = 3", "sources.rfi.speed"),
        ("[sources.Bad]\nname = 'x'\nfeeds = ['http://a/']", "slug"),
        ("[sources.rfi]\nname = '../x'", "sources.rfi.name"),
        ("[nonsense]\na = 1", "[nonsense]"),
        ("this is = not toml =", "not valid TOML"),
    ],
)
def test_bad_config_names_the_key_and_the_file(tmp_path: Path, text: str, words: str) -> None:
    home = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(home)
    assert words in str(info.value)
    assert CONFIG_NAME in str(info.value)


def test_invalid_source_is_also_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        load_config(write(tmp_path, "[sources.x]\nname = 'x'"))
    assert issubclass(InvalidSourceError, ConfigError)


def test_init_template_loads_and_documents_every_key(tmp_path: Path) -> None:
    text = render_template()
    config = load_config(write(tmp_path, text))
    assert len(config.sources) == 9 and config.markdown_content == "original"
    for key in ("markdown_content", "max_body_mb", "proxy", "fulltext_selector", "boilerplate"):
        assert key in text


def test_home_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "[archive]\nlist_size = 7")
    monkeypatch.setenv("NEWSMIRROR_HOME", str(tmp_path))
    assert load_config().list_size == 7


def test_full_text_defaults(tmp_path: Path) -> None:
    """The nine feeds carry whole articles: taken as is, as the old script did (CDT reads
    its pages by rule); a source a user adds reads pages when its feed gives summaries."""
    (tmp_path / "newsmirror.toml").write_text(
        '[sources.mine]\nname = "Mine"\nfeeds = ["https://example.org/feed"]\n'
        '[sources.blank]\nname = "Blank"\nfeeds = ["https://example.org/b"]\n'
        'fulltext_selector = "   "\n',
        "utf-8",
    )
    config = load_config(tmp_path)
    policies = {s.slug: s.full_text for s in config.sources}
    assert policies.pop("cdt") == "page" and policies.pop("mine") == "auto"
    assert policies.pop("blank") == "auto" and config.source("blank").fulltext_selector == ""
    assert set(policies.values()) == {"feed"} and len(policies) == 8
