"""The sources: every key of a ``[sources.<slug>]`` table declared once (type, default,
check, help; see :mod:`.declare`), and the tables made into :class:`Source` values. The
nine default sources come from the packaged ``defaults.toml``; a table in
``newsmirror.toml`` overrides the keys it names of a default source, or adds a source
(which then needs ``name`` and ``feeds``)."""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from typing import Any

from newsmirror.config.boilerplate import BUILTIN, PREFIX
from newsmirror.config.declare import SourceKey, one_of, proxy, timezone
from newsmirror.errors import ConfigError, InvalidSourceError
from newsmirror.limits import SLUG, name_problem
from newsmirror.times import parse_duration
from newsmirror.types import Source

ITEM_FILTERS = ("", "symbol-category")
ID_SCHEMES = ("countdown", "post")
FULL_TEXT = ("feed", "page", "auto")


def list_name(value: str, name: str) -> str:
    """A name that can name the source's list file: lists/<name>.md."""
    problem = name_problem(value)
    return f"{name} {problem}: it names the file lists/<name>.md" if problem else ""


def feed_urls(value: list[Any], name: str) -> str:
    """At least one feed, each an http(s) URL."""
    if not value:
        return f"{name} must list at least one feed URL"
    for url in value:
        if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
            return f"{name}: {url!r} is not an http(s) URL"
    return ""


def css_selector(value: str, name: str) -> str:
    """ "" or a CSS selector that lxml can use."""
    if not value:
        return ""
    from cssselect import SelectorError
    from lxml.cssselect import CSSSelector

    try:
        CSSSelector(value)
    except SelectorError as exc:
        return f"{name}: bad CSS selector: {exc}"
    return ""


def patterns(value: list[Any], name: str) -> str:
    """Regular expressions, or names of builtin ones (``builtin:feedx-footer``)."""
    for pattern in value:
        if not isinstance(pattern, str):
            return f"{name} entries must be strings"
        if pattern.startswith(PREFIX):
            if pattern[len(PREFIX) :] not in BUILTIN:
                return f"{name}: unknown {pattern!r} (known: {sorted(BUILTIN)})"
            continue
        try:
            re.compile(pattern)
        except re.error as exc:
            return f"{name}: bad regular expression: {exc}"
    return ""


def interval(value: str, name: str) -> str:
    """A duration of at least a minute."""
    try:
        seconds = parse_duration(value).total_seconds()
    except ConfigError as exc:
        return f"{name}: {exc}"
    return "" if seconds >= 60 else f"{name}: at least a minute ({value!r})"


_KEYS = (
    SourceKey(
        "name",
        str,
        "",
        help="display name, used for the list file name",
        doc=(
            "display name; the list file is `lists/<name>.md` (so at most 100 bytes of UTF-8, "
            "without `/` or control characters)"
        ),
        check=list_name,
        shown="required for a new source",
    ),
    SourceKey(
        "feeds",
        list,
        [],
        help="feed URLs in order; later ones are fallbacks",
        doc=(
            "feed URLs in order; later ones are fallbacks tried when earlier ones fail, and every "
            "version records which one produced it"
        ),
        check=feed_urls,
        shown="required for a new source",
    ),
    SourceKey(
        "enabled",
        bool,
        True,
        help="fetch this source",
        doc="fetched by a plain `newsmirror fetch`",
    ),
    SourceKey(
        "list_timezone",
        str,
        "Asia/Shanghai",
        help="IANA timezone for the M-D dates of lists",
        doc="IANA timezone of the `M-D` dates in the list",
        check=timezone,
    ),
    SourceKey(
        "item_filter",
        str,
        "",
        help='"" (keep all) or "symbol-category" (the CDT rule)',
        doc=(
            '`""` keeps every item; `"symbol-category"` keeps items having a category with a symbol'
            " or emoji (the CDT rule: ©, ®, U+2000–U+3300, emoji)"
        ),
        check=one_of(*ITEM_FILTERS),
    ),
    SourceKey(
        "full_text",
        str,
        None,
        help='fetch the article page: "feed" never, "page" always, "auto" for summaries',
        doc=(
            "when to fetch an item's article page: `\"feed\"` never (the feed's content is the "
            'article); `"page"` always; `"auto"` when the feed\'s content looks like a summary '
            "(short: under 200 characters of mostly-CJK text or 500 of other text; cut off with "
            '"…"; or ending in a "read more"/"阅读全文" link). The page\'s content replaces the '
            'feed\'s only when it gives more text (with `"page"`: whenever it gives any); '
            "otherwise, and when the page fails (timeout, error, empty, not HTML), the feed's "
            "content is kept and the reason is stored with the version and logged; a page that "
            "failed is tried again on the next runs (one retry within a run; then once per run, "
            "from the archive, where its link is, for 3 days after the item was stored, whether "
            "the feed changed or answers 304: a 404 may be a page not published yet), one that "
            "gave too little is not; a run's failed pages make one error line for the source. An "
            "item the feed repeats unchanged is not fetched again"
        ),
        check=one_of(*FULL_TEXT),
        shown=(
            '`"auto"` for a source you add (`"page"` with a `fulltext_selector`); `"feed"` for the '
            "nine defaults, whose feeds carry whole articles (so line 5 stays what the old script "
            'wrote), `"page"` for CDT'
        ),
    ),
    SourceKey(
        "fulltext_selector",
        str,
        "",
        help="CSS selector: the page's element holding the article",
        doc=(
            "a CSS selector for the page's article element: its inner HTML is the content (CDT: "
            "`div.post-content`); without one, trafilatura finds the main content (paragraphs, "
            "headings, lists, tables, images with captions, links). The page's date fills a missing"
            " feed date"
        ),
        check=css_selector,
    ),
    SourceKey(
        "link_from_guid",
        bool,
        False,
        help="use the item's guid as its link",
        doc="use the item's guid (when it is a URL) as its link (RFA)",
    ),
    SourceKey(
        "id_scheme",
        str,
        "countdown",
        help='"countdown" or "post" (0xFFFFF XOR the ?p=N of the guid)',
        doc=(
            "`countdown`: ids count down from 0xFFFFF; `post`: `0xFFFFF XOR N` for a `?p=N` guid "
            "(CDT), countdown when that id is taken or there is no `?p=`"
        ),
        check=one_of(*ID_SCHEMES),
    ),
    SourceKey(
        "boilerplate",
        list,
        [],
        help='regular expressions removed by clean ("builtin:feedx-footer")',
        doc=(
            'regular expressions removed from the cleaned HTML; `"builtin:feedx-footer"` is the '
            'feed provider\'s "获取更多RSS" footer'
        ),
        check=patterns,
    ),
    SourceKey(
        "proxy",
        str,
        "",
        help="proxy URL for this source only (http://, socks5://)",
        doc=(
            "a proxy for this source only (`http://`, `https://`, `socks5://`); empty: the global "
            "`proxy`, else the environment"
        ),
        check=proxy,
    ),
    SourceKey(
        "direct",
        bool,
        False,
        help="never use a proxy for this source (nor the environment's)",
        doc="never use a proxy for this source, not even the environment's",
    ),
    SourceKey(
        "mirror_images",
        bool,
        None,
        help="download this source's images (default: media.mirror_images)",
        doc="download this source's images",
        shown="the `[media]` setting",
    ),
    SourceKey(
        "interval",
        str,
        "1h",
        help='how often `run` fetches this source ("1h", "30m"; default "1h")',
        doc=(
            'how often `newsmirror run` fetches this source (at least `"1m"`); `run --once` and '
            "`fetch` fetch whenever they are run"
        ),
        check=interval,
    ),
)
#: Keys of a [sources.<slug>] table, in the order of the docs.
SOURCE_KEYS: dict[str, SourceKey] = {spec.key: spec for spec in _KEYS}


def source_from_table(slug: str, table: dict[str, Any], where: str) -> Source:
    """Build and validate one Source from its TOML table."""
    if not SLUG.match(slug):
        raise InvalidSourceError(f"{where}: source slug {slug!r} must be lower-case a-z, 0-9, _ -")
    for key, value in table.items():
        if key not in SOURCE_KEYS:
            raise InvalidSourceError(f"{where}: unknown key sources.{slug}.{key}")
        expected = SOURCE_KEYS[key].type
        if not isinstance(value, expected):
            raise InvalidSourceError(
                f"{where}: sources.{slug}.{key} must be {expected.__name__}, "
                f"not {type(value).__name__}"
            )
    values = {key: table.get(key, spec.default) for key, spec in SOURCE_KEYS.items()}
    values["fulltext_selector"] = values["fulltext_selector"].strip()
    if values["full_text"] is None:  # a page rule means the page is wanted
        values["full_text"] = "page" if values["fulltext_selector"] else "auto"
    for key, spec in SOURCE_KEYS.items():
        problem = spec.check(values[key], f"sources.{slug}.{key}")
        if problem:
            raise InvalidSourceError(f"{where}: {problem}")
    values["feeds"] = tuple(values["feeds"])
    values["boilerplate"] = tuple(values["boilerplate"])
    values["interval"] = parse_duration(values["interval"]).total_seconds()
    return Source(slug=slug, **values)


def merge_sources(
    defaults: dict[str, dict[str, Any]], overrides: Any, where: str
) -> tuple[Source, ...]:
    """The default sources' tables with the user's over them, as Source values."""
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


def default_source_tables() -> dict[str, dict[str, Any]]:
    """The nine default sources as raw tables, from the packaged defaults.toml."""
    text = resources.files("newsmirror.config").joinpath("defaults.toml").read_text("utf-8")
    return dict(tomllib.loads(text)["sources"])


def default_sources() -> tuple[Source, ...]:
    """The nine default sources as Source values."""
    return merge_sources(default_source_tables(), {}, "defaults.toml")
