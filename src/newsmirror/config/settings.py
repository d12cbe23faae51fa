"""Settings and the sources registry.

An archive lives in a *home* directory holding ``newsmirror.toml``, the database and the
published files. The nine default sources come from ``defaults.toml`` (shipped with the
package); a ``[sources.<slug>]`` table in ``newsmirror.toml`` overrides the keys it names
of a default source, or adds a new source (which then needs ``name`` and ``feeds``).
Every setting is declared once, in :data:`SETTINGS` and :data:`SOURCE_KEYS`, with its
default and help text; the loader checks types and names the key and file on error.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from newsmirror.config.checks import (
    builtin_boilerplate,
    check_run,
    check_source,
    interval_seconds,
)
from newsmirror.errors import ConfigError, InvalidSourceError
from newsmirror.limits import SLUG
from newsmirror.types import Source
from newsmirror.urls import without_password

CONFIG_NAME = "newsmirror.toml"
HOME_ENV = "NEWSMIRROR_HOME"
MARKDOWN_CONTENT = ("original", "clean")
MARKDOWN_IMAGES = ("original", "mirrored")
#: The dialects of lists/<name>.md ("auto": each list continues the dialect it was
#: imported in, a list not imported is written in the current one).
LIST_STYLES = ("auto", "current", "2020", "2020-undated")


@dataclass(frozen=True)
class Setting:
    """One setting: where it lives in the TOML, its type, default and help."""

    table: str  # TOML table holding it
    key: str  # key in that table
    type: type  # expected Python type after TOML parsing
    default: Any  # value when not set
    help: str  # one line for `init` and the README


SETTINGS: tuple[Setting, ...] = (
    Setting("archive", "database", str, "newsmirror.db", "SQLite database file, relative to home"),
    Setting("archive", "output", str, ".", "where published files go, relative to home"),
    Setting(
        "archive",
        "markdown_content",
        str,
        "original",
        'line 5 of article files: "original" (feed HTML as received) or "clean"',
    ),
    Setting("archive", "list_size", int, 300, "articles per list file (lists/<name>.md)"),
    Setting(
        "archive",
        "list_style",
        str,
        "auto",
        'dialect of lists: "auto" (as imported), "current", "2020" or "2020-undated"',
    ),
    Setting(
        "archive",
        "markdown_images",
        str,
        "original",
        'images in article files: "original" URLs, or "mirrored" copies (relative links)',
    ),
    Setting("fetch", "timeout", float, 30.0, "seconds allowed for one request"),
    Setting("fetch", "max_body_mb", float, 20.0, "largest response body accepted, in MB"),
    Setting("fetch", "user_agent", str, "", 'User-Agent header ("" for the built-in one)'),
    Setting("fetch", "proxy", str, "", "proxy URL for every source (http://, socks5://)"),
    Setting("fetch", "concurrency", int, 256, "requests in flight at most, in all"),
    Setting("fetch", "per_host", int, 2, "requests in flight at most per host"),
    Setting("fetch", "retries", int, 2, "extra attempts on network errors, 5xx, 408, 429"),
    Setting(
        "fetch",
        "time_for_pages",
        float,
        300.0,
        "seconds a fetch spends on article pages and images (a watch on revisits) at most",
    ),
    Setting(
        "fetch",
        "allow_private_addresses",
        bool,
        False,
        "pages, images, redirects, revisits may reach loopback/private/link-local addresses",
    ),
    Setting("media", "mirror_images", bool, False, "download the images articles reference"),
    Setting("media", "max_image_mb", float, 5.0, "largest image mirrored, in MB"),
    Setting("media", "min_image_side", int, 32, "smaller images (pixels, either side) skipped"),
    Setting("search", "index", bool, True, "keep the search index up to date as articles come"),
    Setting("site", "site_dir", str, "site", "the static site's folder (relative to the home)"),
    Setting("site", "site_title", str, "newsmirror", "the static site's name"),
    Setting("site", "site_timezone", str, "Asia/Shanghai", "IANA timezone of the site's dates"),
    Setting(
        "site", "base_url", str, "", 'the site\'s public address, for Atom links ("": relative)'
    ),
    Setting(
        "watch",
        "schedule",
        list,
        ["1h", "6h", "1d", "7d", "30d"],
        "when to revisit an article, after it appeared (s, m, h, d, w)",
    ),
    Setting("watch", "max_visits", int, 500, "revisits at most per watch run (latest due first)"),
    Setting(
        "run",
        "publish",
        list,
        ["markdown"],
        'what `run` republishes after each cycle: "markdown", "site", "digest"',
    ),
    Setting("run", "jitter", float, 0.1, "fetch intervals vary by up to this fraction"),
    Setting("run", "watch", bool, True, "revisit the articles that are due in each cycle"),
)


#: Keys of a [sources.<slug>] table: name → (type, help).
SOURCE_KEYS: dict[str, tuple[type, str]] = {
    "name": (str, "display name, used for the list file name"),
    "feeds": (list, "feed URLs in order; later ones are fallbacks"),
    "enabled": (bool, "fetch this source"),
    "list_timezone": (str, "IANA timezone for the M-D dates of lists"),
    "item_filter": (str, '"" (keep all) or "symbol-category" (the CDT rule)'),
    "full_text": (str, 'fetch the article page: "feed" never, "page" always, "auto" for summaries'),
    "fulltext_selector": (str, "CSS selector: the page's element holding the article"),
    "link_from_guid": (bool, "use the item's guid as its link"),
    "id_scheme": (str, '"countdown" or "post" (0xFFFFF XOR the ?p=N of the guid)'),
    "boilerplate": (list, 'regular expressions removed by clean ("builtin:feedx-footer")'),
    "proxy": (str, "proxy URL for this source only (http://, socks5://)"),
    "direct": (bool, "never use a proxy for this source (nor the environment's)"),
    "mirror_images": (bool, "download this source's images (default: media.mirror_images)"),
    "interval": (str, 'how often `run` fetches this source ("1h", "30m"; default "1h")'),
}


@dataclass(frozen=True)
class Config:
    """Everything an archive runs with: its home, settings and sources."""

    home: Path  # the archive directory
    database: str  # database file, relative to home
    output: str  # output directory, relative to home
    markdown_content: str  # "original" or "clean"
    list_size: int  # articles per list file
    list_style: str  # dialect of the list files: "auto", "current", "2020", "2020-undated"
    markdown_images: str  # "original" or "mirrored"
    timeout: float  # seconds per request
    max_body_mb: float  # body size cap in MB
    user_agent: str  # User-Agent, "" for the default
    proxy: str  # global proxy URL, "" for none
    concurrency: int  # requests in flight at most
    per_host: int  # requests in flight at most per host
    retries: int  # extra attempts on transient failures
    allow_private_addresses: bool  # pages, images, redirects, revisits may reach non-public ones
    time_for_pages: float  # seconds a run spends on pages, images (or revisits) at most
    mirror_images: bool  # download images by default
    max_image_mb: float  # image size cap in MB
    min_image_side: int  # images smaller than this (either side) are skipped
    index: bool  # keep the search index up to date
    site_dir: str  # static site folder, relative to home
    site_title: str  # the site's name
    site_timezone: str  # IANA timezone of the site's dates and day pages
    base_url: str  # the site's public address ("" when unknown)
    schedule: list[str]  # revisit steps after an article appeared ("1h", "6h"...)
    max_visits: int  # revisits at most per watch run
    publish: list[str]  # what `run` republishes: markdown, site, digest
    jitter: float  # fraction by which fetch intervals vary
    watch: bool  # `run` revisits due articles
    sources: tuple[Source, ...]  # every source, enabled or not, in order

    @property
    def database_path(self) -> Path:
        """Absolute path of the SQLite database."""
        return self.home / self.database

    @property
    def media_path(self) -> Path:
        """Absolute path of the media store (mirrored images)."""
        return self.home / "media"

    def mirrors_images(self, source: Source) -> bool:
        """Whether images of this source are downloaded."""
        return self.mirror_images if source.mirror_images is None else source.mirror_images

    @property
    def site_path(self) -> Path:
        """Absolute path of the static site's folder."""
        return (self.home / self.site_dir).resolve()

    @property
    def output_path(self) -> Path:
        """Absolute path of the published files' root."""
        return (self.home / self.output).resolve()

    def selected(self, slugs: Iterable[str] = ()) -> list[Source]:
        """The named sources (enabled or not; each once), or every enabled source;
        ConfigError for a name that is not a source."""
        names = list(dict.fromkeys(slugs))
        if names:
            return [self.source(slug) for slug in names]
        return [s for s in self.sources if s.enabled]

    def source(self, slug: str) -> Source:
        """The source with this slug; ConfigError when there is none."""
        for source in self.sources:
            if source.slug == slug:
                return source
        known = ", ".join(s.slug for s in self.sources)
        raise ConfigError(f"no source named {slug!r} (known: {known})")


def resolve_home(home: str | os.PathLike[str] | None = None) -> Path:
    """The archive directory: the argument, else $NEWSMIRROR_HOME, else the current one."""
    chosen = home if home is not None else os.environ.get(HOME_ENV) or "."
    return Path(chosen).expanduser().resolve()


def load_config(home: str | os.PathLike[str] | None = None) -> Config:
    """Read ``newsmirror.toml`` in the home (if any) over the built-in defaults."""
    root = resolve_home(home)
    path = root / CONFIG_NAME
    data: dict[str, Any] = _read_toml(path) if path.exists() else {}
    return build_config(root, data, where=str(path))


def build_config(root: Path, data: dict[str, Any], where: str = CONFIG_NAME) -> Config:
    """Validate parsed TOML ``data`` and combine it with the defaults."""
    known_tables = {s.table for s in SETTINGS} | {"sources"}
    for table in data:
        if table not in known_tables:
            raise ConfigError(f"{where}: unknown table [{table}] (known: {sorted(known_tables)})")
    values = {s.key: _setting_value(data, s, where) for s in SETTINGS}
    if values["markdown_content"] not in MARKDOWN_CONTENT:
        raise ConfigError(f"{where}: archive.markdown_content must be one of {MARKDOWN_CONTENT}")
    if values["markdown_images"] not in MARKDOWN_IMAGES:
        raise ConfigError(f"{where}: archive.markdown_images must be one of {MARKDOWN_IMAGES}")
    if values["list_style"] not in LIST_STYLES:
        raise ConfigError(f"{where}: archive.list_style must be one of {LIST_STYLES}")
    try:
        ZoneInfo(values["site_timezone"])
    except (ValueError, KeyError) as exc:
        raise ConfigError(f"{where}: site.site_timezone: unknown timezone") from exc
    if values["max_image_mb"] <= 0:
        raise ConfigError(f"{where}: media.max_image_mb must be positive")
    if values["min_image_side"] < 0:
        raise ConfigError(f"{where}: media.min_image_side must not be negative")
    check_run(values, where)
    for key in ("list_size", "concurrency", "per_host", "max_visits"):
        if values[key] < 1:
            table = {"list_size": "archive", "max_visits": "watch"}.get(key, "fetch")
            raise ConfigError(f"{where}: {table}.{key} must be at least 1")
    if values["retries"] < 0:
        raise ConfigError(f"{where}: fetch.retries must not be negative")
    for proxy in [values["proxy"]] + [
        t.get("proxy", "") for t in data.get("sources", {}).values() if isinstance(t, dict)
    ]:
        if proxy and not re.match(r"^(https?|socks5h?)://[^\s/]+", str(proxy)):
            raise ConfigError(
                f"{where}: proxy {without_password(str(proxy))!r} must be an http://, https:// or "
                "socks5:// URL"
            )
    for key in ("timeout", "max_body_mb", "time_for_pages"):
        if values[key] <= 0:
            raise ConfigError(f"{where}: fetch.{key} must be positive")
    sources = _merge_sources(default_source_tables(), data.get("sources", {}), where)
    names: dict[str, str] = {}
    for source in sources:
        other = names.setdefault(source.name, source.slug)
        if other != source.slug:
            raise InvalidSourceError(
                f"{where}: sources.{other} and sources.{source.slug} have the same name "
                f"{source.name!r} (a name is a list file: lists/<name>.md)"
            )
    return Config(home=root, sources=sources, **values)


def default_source_tables() -> dict[str, dict[str, Any]]:
    """The nine default sources as raw tables, from the packaged defaults.toml."""
    text = resources.files("newsmirror.config").joinpath("defaults.toml").read_text("utf-8")
    return dict(tomllib.loads(text)["sources"])


def default_sources() -> tuple[Source, ...]:
    """The nine default sources as Source values."""
    return _merge_sources(default_source_tables(), {}, "defaults.toml")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc


def _setting_value(data: dict[str, Any], setting: Setting, where: str) -> Any:
    table = data.get(setting.table, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [{setting.table}] must be a table")
    unknown = set(table) - {s.key for s in SETTINGS if s.table == setting.table}
    if unknown:
        raise ConfigError(f"{where}: unknown key {setting.table}.{sorted(unknown)[0]}")
    value = table.get(setting.key, setting.default)
    if setting.type is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, setting.type) or isinstance(value, bool) != (setting.type is bool):
        raise ConfigError(
            f"{where}: {setting.table}.{setting.key} must be {setting.type.__name__}, "
            f"not {type(value).__name__}"
        )
    return value


def _merge_sources(
    defaults: dict[str, dict[str, Any]], overrides: Any, where: str
) -> tuple[Source, ...]:
    if not isinstance(overrides, dict):
        raise ConfigError(f"{where}: [sources] must be a table of [sources.<slug>] tables")
    merged = {slug: dict(table) for slug, table in defaults.items()}
    for slug, table in overrides.items():
        if not isinstance(table, dict):
            raise InvalidSourceError(f"{where}: sources.{slug} must be a table")
        if slug not in merged:
            missing = [k for k in ("name", "feeds") if k not in table]
            if missing:
                raise InvalidSourceError(
                    f"{where}: new source sources.{slug} needs key {missing[0]!r}"
                )
        merged.setdefault(slug, {}).update(table)
    return tuple(source_from_table(slug, table, where) for slug, table in merged.items())


def source_from_table(slug: str, table: dict[str, Any], where: str) -> Source:
    """Build and validate one Source from its TOML table."""
    if not SLUG.match(slug):
        raise InvalidSourceError(f"{where}: source slug {slug!r} must be lower-case a-z, 0-9, _ -")
    for key, value in table.items():
        if key not in SOURCE_KEYS:
            raise InvalidSourceError(f"{where}: unknown key sources.{slug}.{key}")
        expected = SOURCE_KEYS[key][0]
        if not isinstance(value, expected):
            raise InvalidSourceError(
                f"{where}: sources.{slug}.{key} must be {expected.__name__}, "
                f"not {type(value).__name__}"
            )
    source = Source(
        slug=slug,
        name=table.get("name", ""),
        feeds=tuple(table.get("feeds", ())),
        enabled=table.get("enabled", True),
        list_timezone=table.get("list_timezone", "Asia/Shanghai"),
        item_filter=table.get("item_filter", ""),
        fulltext_selector=table.get("fulltext_selector", "").strip(),
        full_text=table.get(
            "full_text", "page" if table.get("fulltext_selector", "").strip() else "auto"
        ),
        mirror_images=table.get("mirror_images"),
        link_from_guid=table.get("link_from_guid", False),
        id_scheme=table.get("id_scheme", "countdown"),
        boilerplate=tuple(table.get("boilerplate", ())),
        direct=table.get("direct", False),
        proxy=table.get("proxy", ""),
        interval=interval_seconds(table.get("interval", "1h"), f"{where}: sources.{slug}.interval"),
    )
    check_source(source, where)
    return source


def boilerplate_patterns(source: Source) -> tuple[str, ...]:
    """The source's boilerplate as regular expressions (builtin names resolved)."""
    named = builtin_boilerplate()
    return tuple(named[p[8:]] if p.startswith("builtin:") else p for p in source.boilerplate)


def setting_names() -> list[str]:
    """Every settings key as table.key, for docs tests."""
    return [f"{s.table}.{s.key}" for s in SETTINGS] + [f"sources.<slug>.{k}" for k in SOURCE_KEYS]


def render_template() -> str:
    """The commented newsmirror.toml that ``newsmirror init`` writes."""
    lines = ["# newsmirror configuration. Every key is optional; shown with its default.", ""]
    table = ""
    for s in SETTINGS:
        if s.table != table:
            table = s.table
            lines += ["", f"[{table}]"]
        lines += [f"# {s.help}", f"# {s.key} = {_toml_value(s.default)}"]
    lines += [
        "",
        "# Sources: the nine defaults are built in. Override a key of one, e.g.:",
        "# [sources.rfi]",
        '# feeds = ["https://feedx.net/rss/rfi.xml", "https://www.rfi.fr/cn/rss"]',
        "# or add a source (name and feeds are required):",
        "# [sources.example]",
        '# name = "示例"',
        '# feeds = ["https://example.org/feed.xml"]',
        "# Keys of a source table:",
    ]
    lines += [f"#   {key}: {help_}" for key, (_, help_) in SOURCE_KEYS.items()]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


__all__ = [
    "CONFIG_NAME",
    "SETTINGS",
    "SOURCE_KEYS",
    "Config",
    "build_config",
    "default_sources",
    "load_config",
    "render_template",
    "resolve_home",
]
