"""Each setting is declared once (config.keys, config.sources): the Config fields, the
fetch stage's defaults, the Source defaults, init's newsmirror.toml and the README's
tables all follow those declarations, and config itself stands on the root modules only."""

from __future__ import annotations

import ast
import dataclasses
import re
import tomllib
import typing
from pathlib import Path

import pytest

from newsmirror.config.declare import shown
from newsmirror.config.keys import SETTINGS, default
from newsmirror.config.settings import Config, build_config, load_config, render_template
from newsmirror.config.sources import SOURCE_KEYS
from newsmirror.config.template import with_tables
from newsmirror.errors import ConfigError
from newsmirror.fetch.settings import MIB, FetchSettings
from newsmirror.types import Source

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
CONFIG = ROOT / "src" / "newsmirror" / "config"


def test_the_readme_tables_are_made_from_the_declarations() -> None:
    text = README.read_text("utf-8")
    assert with_tables(text) == text, (
        "README.md's settings tables differ from src/newsmirror/config: "
        "run python scripts/settings_table.py"
    )


def test_the_readme_example_shows_the_declared_defaults() -> None:
    text = README.read_text("utf-8")
    example = text[text.index("## Configuration") :].split("```toml\n", 1)[1].split("```", 1)[0]
    data = tomllib.loads(example)
    for table, values in data.items():
        if table == "sources":
            continue
        for key, value in values.items():
            assert value == default(f"{table}.{key}"), f"README example: {table}.{key}"


def test_config_has_one_field_per_setting_of_its_type() -> None:
    hints = typing.get_type_hints(Config)
    fields = [f.name for f in dataclasses.fields(Config) if f.name not in ("home", "sources")]
    assert fields == [s.key for s in SETTINGS]
    for setting in SETTINGS:
        hint = hints[setting.key]
        assert (typing.get_origin(hint) or hint) is setting.type, setting.key


def test_every_declaration_has_its_help_and_doc() -> None:
    for declared in [*SETTINGS, *SOURCE_KEYS.values()]:
        assert declared.help and "\n" not in declared.help
        assert declared.doc and "|" not in declared.doc  # a cell of a markdown table
    assert len({s.name for s in SETTINGS}) == len(SETTINGS)


def test_init_writes_every_setting_with_its_default_and_help() -> None:
    text = render_template()
    for setting in SETTINGS:
        assert f"# {setting.help}\n# {setting.key} = {shown(setting.default)}\n" in text
    for key, spec in SOURCE_KEYS.items():
        assert f"#   {key}: {spec.help}\n" in text


def test_the_fetch_stage_takes_its_defaults_from_the_declarations() -> None:
    settings = FetchSettings()
    for setting in SETTINGS:
        if setting.table == "fetch" and setting.key != "max_body_mb":
            assert getattr(settings, setting.key) == setting.default, setting.key
    assert settings.max_bytes == int(default("fetch.max_body_mb") * MIB)


def test_a_source_takes_its_defaults_from_the_declarations() -> None:
    fields = {f.name: f.default for f in dataclasses.fields(Source)}
    for key, spec in SOURCE_KEYS.items():
        if spec.default is not None and key not in ("name", "feeds", "interval"):
            expected = tuple(spec.default) if isinstance(spec.default, list) else spec.default
            assert fields[key] == expected, key
    assert fields["interval"] == 3600.0 and default("watch.schedule")[0] == "1h"


PROXIES = [
    "http://127.0.0.1:8080",
    "HTTP://proxy.example:3128",
    "socks5h://me:secret@proxy.example:1080",
    "https://proxy.example",
    "http://",
    "http:///path",
    "ftp://proxy.example",
    "socks4://proxy.example",
    "proxy.example:8080",
]


@pytest.mark.parametrize("url", PROXIES)
def test_one_proxy_check_for_the_settings_and_the_fetch_stage(tmp_path: Path, url: str) -> None:
    """The global proxy, a source's proxy and the Fetcher's settings accept the same URLs."""
    verdicts = []
    for data in ({"fetch": {"proxy": url}}, {"sources": {"rfi": {"proxy": url}}}):
        try:
            build_config(tmp_path, data)
            verdicts.append(True)
        except ConfigError as exc:
            assert "must be an http://, https:// or socks5:// URL" in str(exc)
            assert "secret" not in str(exc)
            verdicts.append(False)
    try:
        FetchSettings(proxy=url)
        verdicts.append(True)
    except ConfigError:
        verdicts.append(False)
    assert len(set(verdicts)) == 1, verdicts


#: What config may import of the package: the root modules (and itself).
ROOT_MODULES = {"types", "errors", "urls", "decide", "times", "limits", "config"}


def test_config_imports_only_the_root_modules() -> None:
    """config is read by every stage: it imports none of them (a check of a setting that
    needs a stage's code moves that code to the root or to config)."""
    found = []
    for path in sorted(CONFIG.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                match = re.fullmatch(r"newsmirror\.(\w+).*", name)
                if match and match.group(1) not in ROOT_MODULES:
                    found.append(f"{path.name}: {name}")
    assert not found, found


def test_sources_that_are_not_tables_are_a_clear_error(tmp_path: Path) -> None:
    """``sources = [...]`` (or ``[[sources]]``) is refused with a line naming the file, as
    any other misplaced value is (it stopped the proxy check with an AttributeError)."""
    (tmp_path / "newsmirror.toml").write_text('sources = ["rfi"]\n', "utf-8")
    with pytest.raises(ConfigError, match=r"newsmirror.toml: \[sources\] must be a table"):
        load_config(tmp_path)
