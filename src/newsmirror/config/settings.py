"""The settings of an archive: its *home* directory holds ``newsmirror.toml``, the
database and the published files; :func:`load_config` reads that file over the built-in
defaults into a frozen :class:`Config`.

Every setting is declared once, in :data:`~newsmirror.config.keys.SETTINGS` (a
``[sources.<slug>]`` key in :data:`~newsmirror.config.sources.SOURCE_KEYS`), with its
type, default, check and help; the loader checks each value and names the key and the
file on error. The names the rest of the package imports from here are kept here.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsmirror.config.boilerplate import boilerplate_patterns
from newsmirror.config.declare import Setting, SourceKey
from newsmirror.config.keys import LIST_STYLES, MARKDOWN_CONTENT, MARKDOWN_IMAGES, SETTINGS
from newsmirror.config.sources import (
    SOURCE_KEYS,
    default_source_tables,
    default_sources,
    merge_sources,
    source_from_table,
)
from newsmirror.config.template import render_template, setting_names
from newsmirror.errors import ConfigError, InvalidSourceError
from newsmirror.types import Source

CONFIG_NAME = "newsmirror.toml"
HOME_ENV = "NEWSMIRROR_HOME"


@dataclass(frozen=True)
class Config:
    """Everything an archive runs with: its home, settings and sources. One field per
    setting, in the order of :data:`SETTINGS` (tests/test_settings.py holds them to it)."""

    home: Path  # the archive directory
    database: str  # database file, relative to home
    output: str  # output directory, relative to home
    markdown_content: str  # "original" or "clean"
    list_size: int  # articles per list file
    list_style: str  # dialect of the list files: "auto", "current", "2020", "2020-undated"
    markdown_images: str  # "original" or "mirrored"
    pending_items: int  # items parsed and built ahead of the store at most
    timeout: float  # seconds per request
    max_body_mb: float  # body size cap in MB
    user_agent: str  # User-Agent, "" for the default
    proxy: str  # global proxy URL, "" for none
    concurrency: int  # requests in flight at most
    per_host: int  # requests in flight at most per host
    retries: int  # extra attempts on transient failures
    time_for_pages: float  # seconds a run spends on pages, images (or revisits) at most
    allow_private_addresses: bool  # pages, images, redirects, revisits may reach non-public ones
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
    for setting in SETTINGS:
        problem = setting.check(values[setting.key], setting.name)
        if problem:
            raise ConfigError(f"{where}: {problem}")
    sources = merge_sources(default_source_tables(), data.get("sources", {}), where)
    names: dict[str, str] = {}
    for source in sources:
        other = names.setdefault(source.name, source.slug)
        if other != source.slug:
            raise InvalidSourceError(
                f"{where}: sources.{other} and sources.{source.slug} have the same name "
                f"{source.name!r} (a name is a list file: lists/<name>.md)"
            )
    return Config(home=root, sources=sources, **values)


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


__all__ = [
    "CONFIG_NAME",
    "HOME_ENV",
    "LIST_STYLES",
    "MARKDOWN_CONTENT",
    "MARKDOWN_IMAGES",
    "SETTINGS",
    "SOURCE_KEYS",
    "Config",
    "Setting",
    "SourceKey",
    "boilerplate_patterns",
    "build_config",
    "default_source_tables",
    "default_sources",
    "load_config",
    "render_template",
    "resolve_home",
    "setting_names",
    "source_from_table",
]
