"""Watching archived articles: when to revisit them, and what a revisit shows. Pure.

Every archived article URL is revisited on a decaying schedule counted from when it was
first stored: by default 1 hour, 6 hours, 1 day, 7 days and 30 days after. An article
first stored more than 30 days (or the schedule's last step) after it was published, as
an imported archive's are, has its schedule counted from its publication instead: it is
revisited once, then no more.
A revisit that finds the page as before is *unchanged*; one whose content changed is
*edited* (a new version); one that finds the article removed is *gone*; one that could
not check is *unreachable*, which is never a takedown. An article is gone when

- the server says so: 404 Not Found, 410 Gone, 451 Unavailable For Legal Reasons;
- the URL now redirects to a front page or a section page (a path that is the root, or a
  leading part of the article's own path, or one short word such as ``/news``);
- the page's main content is a removal notice ("该文章已被删除", "Page not found"...).

The network parts (fetching, extracting) are in :mod:`newsmirror.watch.revisit`; the store
keeps the visits (``visits``) and where each article stands (``watch``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit

from newsmirror import times
from newsmirror.times import parse_duration as parse_duration  # read in the root: config
from newsmirror.times import parse_schedule as parse_schedule  # reads durations too
from newsmirror.types import ArticleStatus, VisitOutcome

#: What a revisit found (the words the store keeps).
UNCHANGED, EDITED, GONE, UNREACHABLE = tuple(VisitOutcome)
OUTCOMES = tuple(VisitOutcome)
#: Where an article stands: live, edited upstream (more than one version), taken down.
LIVE = ArticleStatus.LIVE
STATUSES = tuple(ArticleStatus)
DEFAULT_SCHEDULE = ("1h", "6h", "1d", "7d", "30d")
#: HTTP statuses that say the article is no longer there.
GONE_STATUSES = frozenset({404, 410, 451})
#: An unreachable page is tried again after 1 h, 2 h, 4 h... at most a day later, and
#: given up after this many failures in a row once its schedule is over.
RETRY_BASE = timedelta(hours=1)
RETRY_CAP = timedelta(days=1)
MAX_FAILURES = 5

# -- when ------------------------------------------------------------------------------


#: An article stored this long after it was published (or longer than the schedule's
#: last step) is an old one: an imported archive's.
OLD_AFTER = timedelta(days=30)


def old_after(schedule: Sequence[timedelta]) -> timedelta:
    """How long after its publication an article stored is an old one (see
    :func:`schedule_start`): the schedule's last step, and at least OLD_AFTER."""
    return max(schedule[-1], OLD_AFTER)


def schedule_start(first_seen: datetime, published: datetime, span: timedelta) -> datetime:
    """Where an article's schedule starts: when it was first stored; when it was
    published, if that was more than ``span`` (:func:`old_after`) before."""
    return published if first_seen - published > span else first_seen


def appeared(
    first_seen: datetime | None, published_ms: int, schedule: Sequence[timedelta]
) -> datetime:
    """Where an article's schedule starts (:func:`schedule_start`), from its stored first
    time (the publication time when not known) and publication time."""
    published = times.at_ms(published_ms)
    if first_seen is None:
        return published
    return schedule_start(first_seen, published, old_after(schedule))


def first_visit(start: datetime, schedule: Sequence[timedelta]) -> datetime:
    """The first revisit of an article that appeared at ``start``."""
    return start + schedule[0]


def next_visit(start: datetime, schedule: Sequence[timedelta], after: datetime) -> datetime | None:
    """The first step of the schedule later than ``after`` (the visit just made); None
    when the schedule is over. An article found long after its steps were due (an
    imported archive, a machine that was off) is visited once, not once per step."""
    for step in schedule:
        if start + step > after:
            return start + step
    return None


def retry_visit(at: datetime, failures: int, planned: datetime | None) -> datetime | None:
    """When to try a page again after ``failures`` unreachable visits in a row: after
    1 h, 2 h, 4 h... (at most a day), or at the next planned step if that is sooner;
    None once the schedule is over and MAX_FAILURES were made."""
    if planned is None and failures >= MAX_FAILURES:
        return None
    wait: timedelta = min(RETRY_CAP, RETRY_BASE * 2 ** max(failures - 1, 0))
    retry = at + wait
    return retry if planned is None or retry < planned else planned


# -- what ------------------------------------------------------------------------------


def status_outcome(status: int) -> VisitOutcome:
    """The outcome of a revisit answered with an error status: gone for 404, 410 and
    451; unreachable for every other (403 and 5xx say nothing of the article)."""
    return VisitOutcome.GONE if status in GONE_STATUSES else VisitOutcome.UNREACHABLE


_INDEX_PAGE = re.compile(r"^(?:index|default|home)\.(?:html?|php|aspx?)$", re.IGNORECASE)
_SECTION_WORD = re.compile(r"^[a-z][a-z_-]{0,23}$", re.IGNORECASE)


def _segments(url: str) -> list[str]:
    path = unquote(urlsplit(url).path)
    parts = [p for p in path.split("/") if p]
    if parts and _INDEX_PAGE.match(parts[-1]):
        parts.pop()
    return parts


def front_page_redirect(requested: str, final: str) -> str:
    """Why a redirect from an article URL to ``final`` means the article is gone (a
    front page or a section page), or "" when it looks like the article moved."""
    if not final or final == requested:
        return ""
    asked, landed = _segments(requested), _segments(final)
    if asked == landed and urlsplit(requested).netloc == urlsplit(final).netloc:
        return ""  # the same page (scheme, query or index file aside)
    where = urlsplit(final).netloc + ("/" + "/".join(landed) if landed else "/")
    if not landed:
        return f"redirected to the front page ({where})"
    if len(landed) < len(asked) and asked[: len(landed)] == landed:
        return f"redirected to a section page ({where})"
    if len(landed) == 1 and _SECTION_WORD.match(landed[0]):
        return f"redirected to a section page ({where})"
    return ""


#: What removal notices say, in the languages of the default sources; matched in the
#: page's title and in the start of its main text, case-insensitively.
_NOTICES = re.compile(
    "|".join(
        (
            r"页面不存在|頁面不存在|网页不存在|網頁不存在|页面未找到|頁面未找到|找不到(?:该|該|此|您要的)?(?:页面|頁面|网页|網頁|文章)",
            r"(?:文章|内容|內容|页面|頁面|网页|網頁|新闻|新聞)(?:已经|已經|已)?(?:被)?(?:删除|刪除|移除|下架|撤下|撤回)",
            r"(?:该|該|此)(?:文章|内容|內容|页面|頁面)(?:不存在|已失效|无法访问|無法訪問|不可用)",
            r"(?:抱歉|对不起|對不起)[，,]?\s*(?:您|你)(?:访问|訪問|要找|请求|請求)的(?:页面|頁面|网页|網頁|文章)",
            r"page\s+(?:was\s+)?not\s+found|page\s+(?:cannot|can't|could\s+not)\s+be\s+found",
            r"(?:article|page|story|content)\s+(?:is\s+)?no\s+longer\s+available",
            r"(?:article|page|story|content)\s+(?:has\s+been|was)\s+(?:removed|deleted|taken\s+down|withdrawn)",
            r"\b404\b\s*(?:error|not\s+found|-|:|\|)",
            r"\bnot\s+found\b\s*(?:-|\||:)?\s*404\b",
        )
    ),
    re.IGNORECASE,
)
#: A page whose main text is longer than this is an article, whatever it mentions.
NOTICE_MAX_CHARS = 400


def removal_notice(title: str, text: str) -> str:
    """The words of a removal notice when the page's title says so, or when its main
    text is short and says so; "" for an article (which may well quote such words)."""
    for where, value, short_enough in (
        ("title", title, True),
        ("text", text, len("".join(text.split())) <= NOTICE_MAX_CHARS),
    ):
        found = _NOTICES.search(value[: NOTICE_MAX_CHARS * 2]) if short_enough else None
        if found:
            return f"the page's {where} is a removal notice: {found.group(0).strip()!r}"
    return ""


def status_after(current: ArticleStatus, outcome: VisitOutcome) -> ArticleStatus:
    """Whether an article is gone after a visit: gone when found gone, live again when
    found (unchanged or edited), as it was when the visit could not check."""
    if outcome == VisitOutcome.GONE:
        return ArticleStatus.GONE
    if outcome in (VisitOutcome.UNCHANGED, VisitOutcome.EDITED):
        return ArticleStatus.LIVE
    return current or ArticleStatus.LIVE


def shown_status(gone: bool, edits: int) -> ArticleStatus:
    """The status shown for an article: gone (taken down), edited (``edits``: times
    edited upstream, :func:`newsmirror.decide.edits`), else live."""
    return ArticleStatus.shown(gone, edits)
