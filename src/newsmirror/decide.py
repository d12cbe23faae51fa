"""Pure decisions of the pipeline: no network, no disk, no database.

Which entries a source keeps, what identity an entry has, which date it is filed under,
whether stored content changed, which archive id comes next, how a list line is dated.
Everything here takes plain values and returns plain values, so it is tested directly.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from newsmirror import times
from newsmirror.types import ID_CEILING, Entry, Source, StoreStatus, Version

#: The original script's CDT rule: keep an item when a category holds one of these
#: (©, ®, U+2000–U+3300 punctuation and symbols, or an emoji plane character).
_SYMBOL = re.compile("[\u00a9\u00ae\u2000-\u3300\U0001f000-\U0001fbff]")
_POST = re.compile(r"[?&]p=(\d+)")
_SPACE = re.compile(r"\s+")


def keep_entry(source: Source, entry: Entry) -> bool:
    """Whether the source's item filter keeps this entry."""
    if source.item_filter == "symbol-category":
        return any(_SYMBOL.search(term) for term in entry.categories)
    return True


def entry_link(source: Source, entry: Entry) -> str:
    """The link to archive: the guid for sources that say so (RFA), else the feed link."""
    if source.link_from_guid and entry.guid.startswith(("http://", "https://")):
        return entry.guid
    return entry.raw_link or entry.link


def normalised_title(title: str) -> str:
    """A title folded for identity: NFKC, case-folded, white space removed."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", title)).casefold()


def title_key(title: str, published_ms: int) -> str:
    """Identity of an entry without guid or link: normalised title and UTC day."""
    day = times.day(times.at_ms(published_ms))
    return f"title:{day}:{normalised_title(title)}"


def identity_of(guid: str, url: str, title: str, published_ms: int) -> str:
    """Stable identity: the guid, else the canonical URL, else title and day."""
    if guid.strip():
        return f"guid:{guid.strip()}"
    if url:
        return f"url:{url}"
    return title_key(title, published_ms)


def published_ms(entry: Entry, first_seen: datetime) -> tuple[int, bool]:
    """Epoch milliseconds to file the entry under, and whether its publication date was
    not used (missing, or outside the window: see :func:`filing_date`)."""
    when, why = filing_date(entry, first_seen)
    return when, bool(why)


def filing_date(entry: Entry, first_seen: datetime) -> tuple[int, str]:
    """Epoch milliseconds to file the entry under, and why it is not the publication date
    ("" when it is), for the item log.

    The publication date; else the update date; else the time it was first seen. A date
    outside the window of :func:`newsmirror.times.refused` counts as missing.
    """
    refused = []
    for label, when in (("publication", entry.published), ("update", entry.updated)):
        if when is None or (label == "update" and when == entry.published):
            continue
        why = times.refused(when, first_seen)
        if why:
            refused.append(f"its {label} date {why}")
            continue
        if label == "publication":
            return int(when.timestamp() * 1000), ""
        return int(when.timestamp() * 1000), _fallback(refused, "its update time")
    return int(first_seen.timestamp() * 1000), _fallback(refused, "the time first seen")


def _fallback(refused: list[str], used: str) -> str:
    if not refused:
        return f"no usable publication date: filed under {used}"
    return f"{'; '.join(refused)} (dates are taken {times.WINDOW}): filed under {used}"


def content_hash(title: str, clean_html: str) -> str:
    """Hash of what makes a version: the stripped title and the cleaned content."""
    digest = hashlib.sha256()
    digest.update(title.strip().encode("utf-8"))
    digest.update(b"\x00")
    digest.update(clean_html.encode("utf-8"))
    return digest.hexdigest()


def classify(latest_hash: str | None, new_hash: str) -> StoreStatus:
    """NEW (no article yet), CHANGED (new version) or UNCHANGED."""
    if latest_hash is None:
        return StoreStatus.NEW
    return StoreStatus.UNCHANGED if latest_hash == new_hash else StoreStatus.CHANGED


#: How a version that stands in for its article's page ends its method note: the page
#: could not be read, so the feed's content was kept, and the next run tries the page again
#: (see :func:`newsmirror.collect.pages.choose`). The version after a stand-in completes it
#: with the page: a new version, but no edit of the article upstream.
STAND_IN = "next run tries again"


def is_stand_in(method: str, method_note: str) -> bool:
    """Whether a version (its method and method note) stands in for an unread page."""
    return method == "feed" and method_note.endswith(STAND_IN)


def is_edit(before: Version, after: Version) -> bool:
    """Whether a version (``after``) edited its article upstream. It did, unless it
    completes a stand-in (:func:`is_stand_in`), or both versions hold a feed's content and
    came from two different feeds of the source (another way in: a fallback feed's
    summary, then the first feed's whole text again, is no edit)."""
    if is_stand_in(before.method, before.method_note):
        return False
    return not (before.method == after.method == "feed" and before.feed_url != after.feed_url)


def edits(versions: Sequence[Version]) -> int:
    """How many times an article was edited upstream, from its versions in order
    (:func:`is_edit`)."""
    return sum(is_edit(before, after) for before, after in pairwise(versions))


def lesser_way_in(new: tuple[str, str, int], old: tuple[str, str, int]) -> bool:
    """Whether an item's content came by a worse way in than its article's latest version,
    each given as (method, feed URL, size of the clean HTML): both are a feed's content,
    from two different feeds, and the new one is shorter. A fallback feed's summary must
    not replace the whole text another feed gave (the source's first feed, or one no
    longer listed), nor count as an edit of it."""
    if new[0] != "feed" or old[0] != "feed" or new[1] == old[1]:
        return False
    return new[2] < old[2]


def post_id(guid: str) -> int | None:
    """The WordPress post number of a ``?p=N`` guid (CDT), or None."""
    match = _POST.search(guid)
    return int(match.group(1)) if match else None


def post_archive_id(number: int) -> int:
    """The original's CDT file id: 0xFFFFF XOR the post number."""
    return ID_CEILING ^ number


def next_countdown_id(lowest: int, used: set[int] | frozenset[int] = frozenset()) -> int:
    """The next id below ``lowest`` that is not in ``used``; ValueError when none is left."""
    candidate = lowest - 1
    while candidate in used:
        candidate -= 1
    if candidate < 0:
        raise ValueError("archive ids exhausted for this source")
    return candidate


def page_name(archive_id: int, twin: int) -> str:
    """The name of an article's site page: its file id, with ``-2``, ``-3``... for the
    second and later articles sharing one (``twin`` earlier articles have it)."""
    return f"{archive_id}-{twin + 1}" if twin else str(archive_id)


def list_date(published_ms: int, timezone: str) -> str:
    """The list's ``M-D`` for a time, in the source's list timezone (no zero padding)."""
    local = times.at_ms(published_ms, ZoneInfo(timezone))
    return f"{local.month}-{local.day}"


def entry_order(entry: Entry) -> tuple[float, str]:
    """Sort key: oldest first, so the newest entry gets the smallest countdown id."""
    when = entry.published or entry.updated
    return (when.timestamp() if when else float("inf"), entry.guid or entry.link)


#: Backoff of a failing feed: BASE after the first failure, doubling, at most CAP.
BACKOFF_BASE = timedelta(minutes=15)
BACKOFF_CAP = timedelta(hours=24)
#: The longest a feed's own Cache-Control max-age may keep it from being fetched.
MAX_AGE_CAP = timedelta(hours=24)


def next_due(
    now: datetime,
    ok: bool,
    failures: int,
    max_age: float | None = None,
    retry_after: float | None = None,
) -> datetime:
    """When a feed should be fetched next.

    A feed that answered is due again at once, unless it asked for a while with
    Cache-Control max-age (capped at a day). A feed that failed ``failures`` times in a
    row waits 15 min, 30 min, 1 h... at most a day, and at least what Retry-After asked.
    """
    if ok:
        return now + _at_most(max_age, MAX_AGE_CAP)
    doublings = min(max(failures - 1, 0), 32)  # past the cap long before: no huge numbers
    backoff: timedelta = min(BACKOFF_CAP, BACKOFF_BASE * 2**doublings)
    return now + max(backoff, _at_most(retry_after, BACKOFF_CAP))


def _at_most(seconds: float | None, cap: timedelta) -> timedelta:
    """``seconds`` (a server's number: any size, negative, NaN) as a wait within ``cap``."""
    if seconds is None or not seconds > 0:
        return timedelta(0)
    return timedelta(seconds=min(seconds, cap.total_seconds()))


def is_due(next_due: datetime | None, now: datetime) -> bool:
    """Whether a feed whose next due time is ``next_due`` (None = any time) is due."""
    return next_due is None or next_due <= now


# -- full text: whether to fetch the article page, and whether to use it ---------------

FULL_TEXT_POLICIES = ("feed", "page", "auto")
#: Feed text shorter than this (in characters that are not spaces) looks like a summary:
#: the first figure for text that is mostly CJK, the second for other scripts.
SUMMARY_CHARS = (200, 500)
#: A page whose main content has less text than this is not used.
MIN_PAGE_CHARS = 50
_CJK_RUN = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
_TRUNCATED = re.compile(r"(?:…|\.\.\.|\[…\]|\[\.\.\.\]|\(…\)|\(\.\.\.\)|»|&hellip;)\W{0,3}\Z")
_READ_MORE = re.compile(
    r"(?:read\s+more|continue\s+reading|read\s+the\s+(?:full|whole|rest)|full\s+(?:story|article)"
    r"|keep\s+reading|more\s*»|阅读全文|閱讀全文|继续阅读|繼續閱讀|查看全文|阅读更多|閱讀更多"
    r"|点击阅读|點擊閱讀|全文链接|全文連結|更多内容|更多內容)\W{0,6}\Z",
    re.IGNORECASE,
)


def text_size(text: str) -> int:
    """Characters of ``text`` that are not white space."""
    return len("".join(text.split()))


def summary_reason(text: str) -> str:
    """Why a feed's text looks like a summary of the article rather than the article:
    short, cut off ("…"), or ending in a "read more" link; "" when it looks whole."""
    size = text_size(text)
    if not size:
        return "the feed has no text"
    stripped = text.rstrip()
    if _READ_MORE.search(stripped[-40:]):
        return 'the feed\'s text ends in a "read more" link'
    if _TRUNCATED.search(stripped[-12:]):
        return "the feed's text is cut off"
    if size >= max(SUMMARY_CHARS):
        return ""
    cjk = sum(map(len, _CJK_RUN.findall(text)))  # runs, not characters: fewer objects
    limit = SUMMARY_CHARS[0] if cjk * 2 >= size else SUMMARY_CHARS[1]
    if size < limit:
        return f"the feed's text is short ({size} characters)"
    return ""


def page_wanted(policy: str, link: str, feed_text: str) -> str:
    """Why to fetch the article page ("" not to): never for "feed", always for "page",
    for "auto" when the feed's text looks like a summary; only when there is a link."""
    if not link or policy == "feed":
        return ""
    if policy == "page":
        return "the source takes its text from the page"
    return summary_reason(feed_text)


def page_rejected(feed_text: str, page_text: str, policy: str, by_rule: bool = False) -> str:
    """Why the page's text is not used instead of the feed's ("" when it is used).

    A source's own rule (``by_rule``) is trusted when it found any text; the extractor's
    result must have some substance (MIN_PAGE_CHARS); and unless the source always takes
    the page, it must not be shorter than the feed's.
    """
    page, feed = text_size(page_text), text_size(feed_text)
    if by_rule and not page:
        return "the page rule's element holds no text"
    if not by_rule and page < MIN_PAGE_CHARS:
        return f"the page gave too little text ({page} characters)"
    if policy != "page" and page < feed:
        return f"the page gave less text than the feed ({page} < {feed} characters)"
    return ""
