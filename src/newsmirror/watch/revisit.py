"""One revisit of an archived article: fetch its page through the Fetcher, read it the
way the article was read, and say what the visit found (see :mod:`newsmirror.watch`).

No database: the archive gives a :class:`~newsmirror.store.watching.WatchTarget` and
stores the :class:`~newsmirror.store.watching.VisitRecord` this returns.

How an edit is told from a page that merely looks different: the page's main content is
extracted and cleaned exactly as a fetch would (the source's rule, else the extractor),
and hashed. An article whose content came from its page is compared with its latest
version directly; one whose content came from a feed (a feed's HTML is not a page's) is
compared with the page as first revisited, which the first visit records as unchanged.
An edit stores the page's content as a new version, as a fetch of the page would.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from newsmirror import decide, times
from newsmirror.clean.article import clean_html, html_to_text, strip_tags
from newsmirror.collect.pages import PAGE_RETRIES
from newsmirror.config.boilerplate import boilerplate_patterns
from newsmirror.errors import (
    DeferredError,
    ExtractError,
    FetchError,
    HTTPStatusError,
    without_url,
)
from newsmirror.extract.page import METHOD_RULE, decode_page, extract_page
from newsmirror.fetch.client import AttemptLog, Fetcher, FetchSettings, Request, proxy_of, run_clock
from newsmirror.store.watching import VisitRecord, WatchTarget
from newsmirror.types import (
    ArticleStatus,
    Candidate,
    Capture,
    CaptureKind,
    FetchResult,
    Source,
    VisitOutcome,
)
from newsmirror.watch import rules as watch


@dataclass
class WatchReport:
    """What one watch run did."""

    due: int = 0  # revisits that were due (or asked for)
    outcomes: dict[VisitOutcome, int] = field(
        default_factory=lambda: dict.fromkeys(VisitOutcome, 0)
    )
    by_source: dict[str, dict[VisitOutcome, int]] = field(
        default_factory=dict
    )  # slug → outcome → n
    errors: list[str] = field(default_factory=list)  # visits that could not be recorded
    deferred: int = 0  # visits not made: the run's time for pages ran out (still due)
    why_deferred: str = ""  # what ran out

    @property
    def deferred_line(self) -> str:
        """The one line that says visits were left for the next run ("" when none)."""
        if not self.deferred:
            return ""
        return f"{self.deferred} revisits deferred to the next run: {self.why_deferred} ran out"

    def count(self, source: str, outcome: VisitOutcome) -> None:
        self.outcomes[outcome] += 1
        per = self.by_source.setdefault(source, dict.fromkeys(VisitOutcome, 0))
        per[outcome] += 1


#: Called with each revisit's attempts (for the request log) and its record, in the
#: order the visits end; the caller stores them. A visit deferred (the run's time for
#: pages ran out) has no record: its article stays due.
OnVisit = Callable[[WatchTarget, VisitRecord | DeferredError, list[AttemptLog]], None]
_ATTEMPTS: contextvars.ContextVar[list[AttemptLog]] = contextvars.ContextVar("newsmirror_visit")


def _note_attempt(log: AttemptLog) -> None:
    attempts = _ATTEMPTS.get(None)
    if attempts is not None:
        attempts.append(log)


async def revisit_many(
    targets: Sequence[WatchTarget],
    sources: dict[str, Source],
    settings: FetchSettings,
    now: datetime,
    schedule: Sequence[timedelta],
    on_visit: OnVisit,
    transport: httpx.AsyncBaseTransport | None = None,
    pages_until: float | None = None,
) -> None:
    """Revisit these articles concurrently (within the Fetcher's limits), handing each
    visit to ``on_visit`` as soon as it ends. ``pages_until``: when the run's time for
    pages ends (time.monotonic(); by default ``time_for_pages`` from now)."""

    async def one(
        target: WatchTarget,
    ) -> tuple[WatchTarget, VisitRecord | DeferredError, list[AttemptLog]]:
        attempts: list[AttemptLog] = []
        _ATTEMPTS.set(attempts)
        source = sources[target.source]
        record: VisitRecord | DeferredError
        try:
            record = await revisit(target, source, fetcher, now, schedule)
        except DeferredError as exc:
            record = exc
        except Exception as exc:  # a bug must not stop the other visits
            reason = f"internal error: {type(exc).__name__}: {exc}"
            record = _unreachable(target, now, _planned(target, schedule, now), reason)
        return target, record, attempts

    clock = run_clock(now)
    async with Fetcher(
        settings, transport, on_attempt=_note_attempt, clock=clock, pages_until=pages_until
    ) as fetcher:
        tasks = [asyncio.create_task(one(t)) for t in targets]
        for finished in asyncio.as_completed(tasks):
            on_visit(*await finished)


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HIDDEN = re.compile(r"<(script|style|noscript)\b", re.IGNORECASE)
_HIDDEN_END = {
    name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in ("script", "style", "noscript")
}
_TITLE_TAIL = re.compile(r"\s*[-|_–—·]\s*[^-|_–—·]{1,40}$")


async def revisit(
    target: WatchTarget,
    source: Source,
    fetcher: Fetcher,
    now: datetime,
    schedule: Sequence[timedelta],
) -> VisitRecord:
    """Revisit one article's page; never raises for the page's sake, only DeferredError
    when the run's time for pages ran out before it could be made."""
    at = now.isoformat()
    request = Request(
        target.url,
        proxy=proxy_of(source),
        retries=PAGE_RETRIES,
        keep=watch.GONE_STATUSES,
        deadline=fetcher.pages_deadline(),
    )
    try:
        result = await fetcher.fetch(request)
    except DeferredError:
        raise
    except FetchError as exc:
        status = exc.status if isinstance(exc, HTTPStatusError) else 0
        reason = without_url(str(exc), target.url)
        return _unreachable(target, now, _planned(target, schedule, now), reason, status)
    capture = Capture.of(CaptureKind.PAGE, result, at)
    visit = _Visit(target, at, now, schedule, result, capture)
    missing = watch.status_outcome(result.status) is VisitOutcome.GONE  # an error status kept
    why = (
        f"HTTP {result.status}"
        if missing
        else watch.front_page_redirect(target.url, result.final_url)
    )
    if why and target.stand_in:  # never read: a page not there (yet) is no takedown
        reason = f"{why}: the page was never read (the feed's content stands in for it)"
        planned = _planned(target, schedule, now)
        return _unreachable(target, now, planned, reason, result.status, result.final_url, capture)
    if why:
        return visit.gone(why)
    return visit.read(source)


class _Visit:
    """A revisit that got an answer: what it found, as a VisitRecord."""

    def __init__(
        self,
        target: WatchTarget,
        at: str,
        now: datetime,
        schedule: Sequence[timedelta],
        result: FetchResult,
        capture: Capture,
    ) -> None:
        self.target, self.at, self.now = target, at, now
        self.result, self.capture = result, capture
        self.planned = _planned(target, schedule, now)

    def record(
        self,
        outcome: VisitOutcome,
        reason: str,
        page_hash: str = "",
        page_title: str = "",
        version: Candidate | None = None,
    ) -> VisitRecord:
        now = ArticleStatus.GONE if self.target.gone else ArticleStatus.LIVE
        gone = watch.status_after(now, outcome) is ArticleStatus.GONE
        return VisitRecord(
            at=self.at,
            url=self.target.url,
            outcome=outcome,
            http_status=self.result.status,
            final_url=self.result.final_url,
            reason=reason,
            gone=gone,
            failures=0,
            next_visit=self.planned.isoformat() if self.planned else "",
            page_hash=page_hash,
            page_title=page_title,
            capture=self.capture,
            version=version,
        )

    def gone(self, reason: str) -> VisitRecord:
        return self.record(VisitOutcome.GONE, reason)

    def read(self, source: Source) -> VisitRecord:
        """Extract the page as the article was read, and compare."""
        result, target = self.result, self.target
        kind = result.headers.get("content-type", "")
        try:
            got = extract_page(result.body, result.final_url, kind, source.fulltext_selector)
        except ExtractError as exc:
            notice = _notice_on_page(result.body, kind)
            if notice:
                return self.gone(notice)
            return self._unusable(
                f"no article content on the page ({without_url(str(exc), result.final_url)})"
            )
        cleaned = clean_html(got.html, result.final_url, boilerplate_patterns(source))
        text = html_to_text(cleaned)
        notice = watch.removal_notice(got.title, text)
        if notice:
            return self.gone(notice)
        thin = decide.page_rejected("", text, "page", got.method == METHOD_RULE)
        if thin:
            return self._unusable(thin)
        page_hash = decide.content_hash(got.title, cleaned)
        if target.page_hash:
            changed = page_hash != target.page_hash
        elif target.method in ("page rule", "page extractor"):
            changed = decide.content_hash(target.title, cleaned) != target.content_hash
        else:
            reason = "first look at the page: kept to compare later visits with"
            return self.record(VisitOutcome.UNCHANGED, reason, page_hash, got.title)
        title = _edited_title(target.title, target.page_title, got.title)
        version_hash = decide.content_hash(title, cleaned)
        if not changed or version_hash == target.content_hash:
            return self.record(
                VisitOutcome.UNCHANGED, "the page's content is as before", page_hash, got.title
            )
        version = Candidate(
            source=target.source,
            identity="",
            guid="",
            url=target.url,
            link=target.link,
            title=title,
            published_ms=target.published_ms,
            date_missing=False,
            raw_html=got.html,
            clean_html=cleaned,
            content_hash=version_hash,
            feed_url=f"watch:{target.url}",
            method=got.method,
            content_url=result.final_url,
            page_capture=self.capture,
        )
        reason = "the page's content changed" + (
            " (and its title)" if title != target.title else ""
        )
        return self.record(VisitOutcome.EDITED, reason, page_hash, got.title, version)

    def _unusable(self, reason: str) -> VisitRecord:
        """A page that answered but could not be checked: unreachable, not a takedown."""
        result = self.result
        return _unreachable(
            self.target,
            self.now,
            self.planned,
            reason,
            result.status,
            result.final_url,
            self.capture,
        )


def _planned(target: WatchTarget, schedule: Sequence[timedelta], now: datetime) -> datetime | None:
    """The article's next step on its schedule after ``now`` (None: the schedule is over)."""
    return watch.next_visit(_start(target, schedule), schedule, now)


def _unreachable(
    target: WatchTarget,
    now: datetime,
    planned: datetime | None,
    reason: str,
    status: int = 0,
    final_url: str = "",
    capture: Capture | None = None,
) -> VisitRecord:
    """A visit that could not check the article: tried again soon, no status change."""
    failures = target.failures + 1
    retry = watch.retry_visit(now, failures, planned)
    return VisitRecord(
        at=now.isoformat(),
        url=target.url,
        outcome=VisitOutcome.UNREACHABLE,
        http_status=status,
        final_url=final_url,
        reason=reason,
        gone=target.gone,
        failures=failures,
        next_visit=retry.isoformat() if retry else "",
        page_hash="",
        page_title="",
        capture=capture,
        version=None,
    )


def _start(target: WatchTarget, schedule: Sequence[timedelta]) -> datetime:
    """When the article appeared (see :func:`newsmirror.watch.schedule_start`)."""
    return watch.appeared(times.parse_iso(target.first_seen), target.published_ms, schedule)


def _notice_on_page(body: bytes, content_type: str) -> str:
    """A removal notice on a page without article content: in its title or its text."""
    text = decode_page(body[:200_000], content_type)
    found = _TITLE.search(text)
    title = strip_tags(found.group(1)).strip() if found else ""
    visible = " ".join(strip_tags(_without_hidden(text), " ").split())
    return watch.removal_notice(title, visible)


def _without_hidden(text: str) -> str:
    """The page without its scripts, styles and noscripts (each a space), in one pass: a
    kind with no end tag left is looked for no more (a regex would read on from each)."""
    pieces, kept, pos, unclosed = [], 0, 0, set()
    while (start := _HIDDEN.search(text, pos)) is not None:
        kind = start.group(1).lower()
        end = None if kind in unclosed else _HIDDEN_END[kind].search(text, start.end())
        if end is None:
            unclosed.add(kind)
            pos = start.end()
            continue
        pieces += [text[kept : start.start()], " "]
        kept = pos = end.end()
    return "".join(pieces) + text[kept:]


def _edited_title(stored: str, page_before: str, page_now: str) -> str:
    """The title of an edit's version: the stored one, unless the page's title changed
    since it was last seen (then the page's, without the site name it ends with)."""
    if not page_now or not page_before or page_now == page_before:
        return stored
    tail = _TITLE_TAIL.search(page_before)
    if tail and page_now.endswith(tail.group(0)):
        return page_now[: -len(tail.group(0))].strip() or stored
    return page_now.strip()
