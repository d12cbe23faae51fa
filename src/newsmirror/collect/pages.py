"""The article pages behind feed items: fetched when the source's policy asks for them,
extracted, and used instead of the feed's content when they give more.

Part of the collect stage (one source, no database). Pages are fetched concurrently,
within the Fetcher's per-host limit. A page that fails (timeout, error status, empty, not
HTML, no main content, too little text) leaves the feed's content in place, and the reason
goes with the version (``method_note``) and into the item log.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from newsmirror import decide
from newsmirror.clean.article import html_to_text, strip_tags
from newsmirror.collect.worker import Cpu
from newsmirror.errors import (
    DeferredError,
    ExtractError,
    ForbiddenAddressError,
    NewsmirrorError,
    without_url,
)
from newsmirror.extract.page import METHOD_FEED, METHOD_RULE, Extraction, extract_page
from newsmirror.fetch.client import Fetcher, FetchSettings, Request, proxy_of
from newsmirror.fetch.limits import Deadline
from newsmirror.types import Capture, CaptureKind, Entry, Source

#: Retries of an article page: one (a page that fails is tried again on the next run; a
#: feed's dozens of pages must not each cost the feed's full retry budget).
PAGE_RETRIES = 1


@dataclass(frozen=True)
class PageResult:
    """What fetching and extracting one article page gave."""

    extraction: Extraction | None  # None when it failed
    capture: Capture | None  # the page as fetched (when an answer with a body came)
    error: str  # why it failed ("" when it did not)
    refused: bool = False  # not asked: the connection policy refuses its address (for good)
    deferred: str = ""  # not asked (or cut off): what ran out ("" when it was asked)


@dataclass(frozen=True)
class Content:
    """The content chosen for one entry, and where it came from."""

    html: str  # the HTML to clean and store
    method: str  # "feed", "page rule" or "page extractor"
    content_url: str  # the feed's URL or the page's
    note: str  # why the page was not used, when it was tried, or what of it was cut ("")
    capture: Capture | None  # the page behind it, when one was fetched
    published: datetime | None  # the page's date (fills a missing feed date)
    failed: bool = False  # the page could not be fetched or read (an error line)
    stand_in: bool = False  # the feed's content stands in for it: the page is tried again
    deferred: str = ""  # the page was not asked: what ran out (it is tried next run)


def wants_page(source: Source, entry: Entry, link: str) -> bool:
    """Whether this entry's article page is to be fetched (by the source's policy)."""
    if source.full_text == "feed" or not link:
        return False
    if source.full_text == "page":
        return True
    # tags stripped, not sanitised: a feed's whole articles must not cost an nh3 pass each
    text = strip_tags(entry.content or entry.summary, " ")
    return bool(decide.page_wanted(source.full_text, link, text))


async def fetch_pages(
    source: Source,
    links: list[str],
    fetcher: Fetcher,
    proxy: str | None,
    at: str,
    cpu: Cpu | None = None,
) -> list[PageResult]:
    """Fetch and extract these pages concurrently; never raises for one page. ``cpu``
    says where the extraction runs (here by default)."""
    cpu = cpu or Cpu()
    until = fetcher.pages_deadline("pages")  # these pages in all, within the run's time
    pages = (_page(source, (link, proxy, until), fetcher, at, cpu) for link in links)
    return list(await asyncio.gather(*pages))


async def _page(
    source: Source, ask: tuple[str, str | None, Deadline], fetcher: Fetcher, at: str, cpu: Cpu
) -> PageResult:
    """One page (``ask``: its link, proxy and deadline) fetched and extracted."""
    link, proxy, until = ask
    capture = None
    try:
        request = Request(link, proxy=proxy, retries=PAGE_RETRIES, deadline=until)
        result = await fetcher.fetch(request)
        capture = Capture.of(CaptureKind.PAGE, result, at)
        content_type = result.headers.get("content-type", "")
        extraction = await cpu.run(
            extract_page, result.body, result.final_url, content_type, source.fulltext_selector
        )
    except ForbiddenAddressError as exc:
        return PageResult(None, None, without_url(str(exc), link), refused=True)
    except DeferredError as exc:
        return PageResult(None, None, without_url(str(exc), link), deferred=exc.what)
    except NewsmirrorError as exc:
        return PageResult(None, capture, without_url(str(exc), link))
    return PageResult(extraction, capture, "")


def choose(source: Source, entry: Entry, feed_url: str, page: PageResult | None) -> Content:
    """The feed's content, or the page's when it was fetched and gives more."""
    feed_html = entry.content or entry.summary
    if page is None:
        return Content(feed_html, METHOD_FEED, feed_url, "", None, None)
    got = page.extraction
    if got is None and page.refused:  # for good: no stand-in, nothing tried again
        note = f"full text not taken ({page.error}); kept the feed's content"
        return Content(feed_html, METHOD_FEED, feed_url, note, None, None, failed=True)
    if got is None:
        note = f"full text not taken ({page.error}); kept the feed's content, {decide.STAND_IN}"
        return Content(
            feed_html,
            METHOD_FEED,
            feed_url,
            note,
            page.capture,
            None,
            failed=True,
            stand_in=True,
            deferred=page.deferred,
        )
    rejected = decide.page_rejected(
        html_to_text(feed_html), html_to_text(got.html), source.full_text, got.method == METHOD_RULE
    )
    if rejected:
        note = f"full text not taken ({rejected}); kept the feed's content"
        return Content(feed_html, METHOD_FEED, feed_url, note, page.capture, got.published)
    return Content(got.html, got.method, got.url, got.cut, page.capture, got.published)


@dataclass(frozen=True)
class Trial:
    """What the pipeline would store for one page (``newsmirror extract``)."""

    extraction: Extraction  # method, page URL, title, date, raw content
    clean_html: str  # the content after clean, as it would be stored
    text: str  # its plain text


async def try_page(
    target: str, source: Source | None, settings: FetchSettings, base_url: str = ""
) -> Trial:
    """Extract one page, a URL (fetched with the source's proxy setting) or a file, as a
    fetch of that source would, and refuse what a fetch would not use; ExtractError (or
    a FetchError) says why."""
    from newsmirror.clean.article import clean_html
    from newsmirror.config.boilerplate import boilerplate_patterns

    selector = source.fulltext_selector if source else ""
    if target.lower().startswith(("http://", "https://")):
        async with Fetcher(settings) as fetcher:
            proxy = None if source is None else proxy_of(source)
            result = await fetcher.fetch(Request(target, proxy=proxy, configured=True))
        body, url, kind = result.body, result.final_url, result.headers.get("content-type", "")
    else:
        body, url, kind = _read_file(target, settings.max_bytes), base_url, ""
    try:
        extraction = extract_page(body, url, kind, selector)
    except ExtractError as exc:
        raise ExtractError(f"{target}: {without_url(str(exc), url)}") from exc
    patterns = boilerplate_patterns(source) if source else ()
    cleaned = clean_html(extraction.html, url, patterns)
    text = html_to_text(cleaned)
    rejected = decide.page_rejected("", text, "page", extraction.method == METHOD_RULE)
    if not rejected and extraction.method != METHOD_RULE:
        rejected = decide.page_rejected("", text, "auto")
    if rejected:
        raise ExtractError(f"{target}: {rejected}: a fetch would keep the feed's content")
    return Trial(extraction, cleaned, text)


def _read_file(path: str, limit: int) -> bytes:
    """A saved page's bytes, within the same cap as a fetched one."""
    try:
        with open(path, "rb") as handle:
            body = handle.read(limit + 1)
    except OSError as exc:
        raise ExtractError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(body) > limit:
        raise ExtractError(f"{path}: larger than the {limit}-byte cap on pages (max_body_mb)")
    return body
