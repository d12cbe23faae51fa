"""Every setting of ``newsmirror.toml``, each declared once (see :mod:`.declare`): the
loader checks values against these, ``init`` writes them as a commented file, the README's
settings table is made from them (``scripts/settings_table.py``), and the fetch stage
takes its defaults from them."""

from __future__ import annotations

from typing import Any

from newsmirror.config.declare import (
    Setting,
    at_least_one,
    not_negative,
    one_of,
    positive,
    proxy,
    timezone,
)
from newsmirror.errors import ConfigError
from newsmirror.times import parse_schedule

MARKDOWN_CONTENT = ("original", "clean")
MARKDOWN_IMAGES = ("original", "mirrored")
#: The dialects of lists/<name>.md ("auto": each list continues the dialect it was
#: imported in, a list not imported is written in the current one).
LIST_STYLES = ("auto", "current", "2020", "2020-undated")
#: What `run` may republish after each cycle.
RUN_PUBLISH = ("markdown", "site", "digest")


def schedule(value: list[Any], name: str) -> str:
    """Increasing durations ("1h", "6h"...)."""
    if not all(isinstance(step, str) for step in value):
        return f'{name} must list durations such as "6h"'
    try:
        parse_schedule(value)
    except ConfigError as exc:
        return f"{name}: {exc}"
    return ""


def publish_list(value: list[Any], name: str) -> str:
    """Items of :data:`RUN_PUBLISH`."""
    for item in value:
        if item not in RUN_PUBLISH:
            return f"{name}: {item!r} is not one of {RUN_PUBLISH}"
    return ""


def fraction(value: float, name: str) -> str:
    return "" if 0 <= value < 1 else f"{name} must be at least 0 and below 1"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "archive",
        "database",
        str,
        "newsmirror.db",
        help="SQLite database file, relative to home",
        doc="the SQLite database, relative to home",
    ),
    Setting(
        "archive",
        "output",
        str,
        ".",
        help="where published files go, relative to home",
        doc="root of the published files, relative to home",
    ),
    Setting(
        "archive",
        "markdown_content",
        str,
        "original",
        help='line 5 of article files: "original" (feed HTML as received) or "clean"',
        doc=(
            "`original`: line 5 is the feed's HTML as received (exactly what the old script wrote, "
            "so a mirror that switches sees no change); `clean`: newsmirror's cleaned HTML, without"
            " the feed provider's boilerplate"
        ),
        check=one_of(*MARKDOWN_CONTENT),
    ),
    Setting(
        "archive",
        "list_size",
        int,
        300,
        help="articles per list file (lists/<name>.md)",
        doc="articles in each list file of the current dialect (a 2020 list holds 100)",
        check=at_least_one,
    ),
    Setting(
        "archive",
        "list_style",
        str,
        "auto",
        help='dialect of lists: "auto" (as imported), "current", "2020" or "2020-undated"',
        doc=(
            "the dialect of `lists/<name>.md`: `auto` continues each list in the dialect it was "
            "imported in (a list not imported, and every list of a new archive, is written in the "
            "current one); `current`, `2020` or `2020-undated` writes every list in that dialect "
            '(see "Layouts and dialects newsmirror keeps")'
        ),
        check=one_of(*LIST_STYLES),
    ),
    Setting(
        "archive",
        "markdown_images",
        str,
        "original",
        help='images in article files: "original" URLs, or "mirrored" copies (relative links)',
        doc=(
            "`original`: article files keep the images' original URLs (byte-compatible); "
            "`mirrored`: images mirrored into the media store are linked relatively "
            "(`../../media/ab/<sha256>.jpg`), and the media files are published beside the articles"
        ),
        check=one_of(*MARKDOWN_IMAGES),
    ),
    Setting(
        "archive",
        "pending_items",
        int,
        256,
        help="items parsed and built ahead of the store at most",
        doc=(
            "items parsed, cleaned and indexed ahead of the store at most: when that many wait"
            " to be stored, parsing waits (memory stays bounded, whatever the size of a feed"
            " or of a run; feeds are parsed two at a time)"
        ),
        check=at_least_one,
    ),
    Setting(
        "fetch",
        "timeout",
        float,
        30.0,
        help="seconds allowed for one request",
        doc=(
            "seconds allowed for one request, body included (within it, no connection in 10 s or no"
            " data for 15 s also ends an attempt)"
        ),
        check=positive,
    ),
    Setting(
        "fetch",
        "max_body_mb",
        float,
        20.0,
        help="largest response body accepted, in MB",
        doc="a longer body is cut off and the fetch fails",
        check=positive,
    ),
    Setting(
        "fetch",
        "user_agent",
        str,
        "",
        help='User-Agent header ("" for the built-in one)',
        doc="User-Agent header; empty for `newsmirror/<version> (news archiver; ...)`",
    ),
    Setting(
        "fetch",
        "proxy",
        str,
        "",
        help="proxy URL for every source (http://, socks5://)",
        doc=(
            "proxy for every source (HTTP(S) and SOCKS5 URLs); the standard "
            "`HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` environment variables also apply"
        ),
        check=proxy,
    ),
    Setting(
        "fetch",
        "concurrency",
        int,
        256,
        help="requests in flight at most, in all",
        doc=(
            "requests in flight at most, over all sources (each holds at most `max_body_mb` in "
            "memory)"
        ),
        check=at_least_one,
    ),
    Setting(
        "fetch",
        "per_host",
        int,
        2,
        help="requests in flight at most per host",
        doc="requests in flight at most per host name, so one slow host never holds the others",
        check=at_least_one,
    ),
    Setting(
        "fetch",
        "retries",
        int,
        2,
        help="extra attempts on network errors, 5xx, 408, 429",
        doc=(
            "extra attempts after a network error, a timeout, 5xx, 408 or 429 (never after another "
            "4xx), with exponential backoff and jitter; a Retry-After up to 10 s is waited for, a "
            "longer one defers the feed past this run"
        ),
        check=not_negative,
    ),
    Setting(
        "fetch",
        "time_for_pages",
        float,
        300.0,
        help="seconds a fetch spends on article pages and images (a watch on revisits) at most",
        doc=(
            "seconds a `fetch` (or the fetch of a `run` cycle) may spend on article pages and "
            "images in all, counted from its start, and a `watch` on revisits; what is left then is"
            ' deferred to the next run, with one line saying so (see "What newsmirror refuses")'
        ),
        check=positive,
    ),
    Setting(
        "fetch",
        "allow_private_addresses",
        bool,
        False,
        help="pages, images, redirects, revisits may reach loopback/private/link-local addresses",
        doc=(
            "let article pages, images, redirects and revisits connect to addresses that are not "
            "public (loopback, private ranges, link-local, CGNAT, unique-local IPv6...); feeds you "
            'configure may always point anywhere (see "What newsmirror refuses")'
        ),
    ),
    Setting(
        "media",
        "mirror_images",
        bool,
        False,
        help="download the images articles reference",
        doc=(
            "download the images that articles reference into the media store (`media/` in the "
            "home, one file per distinct image, named by its sha256); per source with the source "
            "key of the same name"
        ),
    ),
    Setting(
        "media",
        "max_image_mb",
        float,
        5.0,
        help="largest image mirrored, in MB",
        doc="a larger image is refused (counted while it streams)",
        check=positive,
    ),
    Setting(
        "media",
        "min_image_side",
        int,
        32,
        help="smaller images (pixels, either side) skipped",
        doc=(
            "images with a side shorter than this many pixels are skipped (tracking pixels, "
            "spacers, icons)"
        ),
        check=not_negative,
    ),
    Setting(
        "search",
        "index",
        bool,
        True,
        help="keep the search index up to date as articles come",
        doc=(
            "index every stored version for `newsmirror search`, in the same transaction. Indexing "
            "costs about as much as parsing and cleaning an article (a few milliseconds for 3,000 "
            "characters): a mirror that never searches (an hourly job that only publishes files) "
            "can set `false`; `search` then says so, and after setting it back, `newsmirror "
            "reindex` builds the index"
        ),
    ),
    Setting(
        "site",
        "site_dir",
        str,
        "site",
        help="the static site's folder (relative to the home)",
        doc="the static site's folder, relative to home (`publish site --out` overrides it)",
    ),
    Setting(
        "site",
        "site_title",
        str,
        "newsmirror",
        help="the static site's name",
        doc="the site's name, in every page's header and the feeds' titles",
    ),
    Setting(
        "site",
        "site_timezone",
        str,
        "Asia/Shanghai",
        help="IANA timezone of the site's dates",
        doc="the timezone of the site's dates and of its day pages",
        check=timezone,
    ),
    Setting(
        "site",
        "base_url",
        str,
        "",
        help='the site\'s public address, for Atom links ("": relative)',
        doc=(
            "the site's public address (`https://example.org/news/`); with it, Atom feeds link "
            "absolutely, without it relatively to the feed"
        ),
    ),
    Setting(
        "watch",
        "schedule",
        list,
        ["1h", "6h", "1d", "7d", "30d"],
        help="when to revisit an article, after it appeared (s, m, h, d, w)",
        doc=(
            "when each archived article is revisited, counted from when it was first stored (from "
            "its publication for an article stored more than 30 days, or the last step, after it "
            "was published, such as an imported one: it is revisited once); durations in `s`, `m`, "
            "`h`, `d`, `w`, increasing"
        ),
        check=schedule,
    ),
    Setting(
        "watch",
        "max_visits",
        int,
        500,
        help="revisits at most per watch run (latest due first)",
        doc=(
            "revisits at most in one `watch` (or one cycle of `run`), the latest due first; the "
            "rest wait for the next"
        ),
        check=at_least_one,
    ),
    Setting(
        "run",
        "publish",
        list,
        ["markdown"],
        help='what `run` republishes after each cycle: "markdown", "site", "digest"',
        doc=('what `run` republishes after each cycle: any of `"markdown"`, `"site"`, `"digest"`'),
        check=publish_list,
    ),
    Setting(
        "run",
        "jitter",
        float,
        0.1,
        help="fetch intervals vary by up to this fraction",
        doc=(
            "each source's interval varies by up to this fraction (fixed per source and attempt), "
            "so that sources and mirrors do not all knock at the same minute"
        ),
        check=fraction,
    ),
    Setting(
        "run",
        "watch",
        bool,
        True,
        help="revisit the articles that are due in each cycle",
        doc="revisit the articles that are due in each cycle",
    ),
)


def setting(name: str) -> Setting:
    """The setting named ``table.key``."""
    for declared in SETTINGS:
        if declared.name == name:
            return declared
    raise KeyError(name)


def default(name: str) -> Any:
    """The default of the setting named ``table.key``."""
    return setting(name).default
