"""Full text from an article page: a source's CSS selector rule, else trafilatura.

:func:`extract_page` takes the page as fetched and returns an :class:`Extraction`: the
main content as HTML (not yet cleaned: the clean stage does that, as for feed content),
the page's title and publication date, and how the content was found. Whether to fetch
the page at all, and whether its content beats the feed's, are pure decisions in
:mod:`newsmirror.decide`.

The extractor keeps what an article is made of: paragraphs, headings, lists, tables,
images with their captions, links, and bold or italic runs. It runs with
``favor_precision``: with images included, trafilatura otherwise keeps lists of related
articles with thumbnails and loses text after image blocks (a known trafilatura issue);
``bench/extract.py`` measures the choice against plain trafilatura on real pages.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from newsmirror.clean.bounds import bound
from newsmirror.errors import ExtractError

if TYPE_CHECKING:  # lxml is imported where a page is read: a fetch of feeds does without
    import lxml.html

#: How a version's content was obtained (stored with every version).
METHOD_FEED = "feed"
METHOD_RULE = "page rule"
METHOD_EXTRACTOR = "page extractor"

_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_HTML_START = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
    rb"<(?:!doctype\s+html|html|head|body|meta|title|div|p)\b",
    re.I | re.S,
)
_DATE = re.compile(r"\A(\d{4})-(\d{2})-(\d{2})")


@dataclass(frozen=True)
class Extraction:
    """The main content of one article page."""

    method: str  # METHOD_RULE or METHOD_EXTRACTOR
    url: str  # the page's URL (after redirects)
    title: str  # the page's title ("" when none found)
    published: datetime | None  # the page's publication date (UTC midnight), if found
    html: str  # the main content as HTML, not yet cleaned
    cut: str = ""  # what of the page's markup was cut before reading it ("" when nothing)


def decode_page(body: bytes, content_type: str = "") -> str:
    """The text of an HTML page: the first of its HTTP charset, its ``<meta charset>``,
    UTF-8 and GB18030 (the superset of GBK and GB2312) that decodes it without an error,
    so a charset declared wrongly (UTF-8 over GBK bytes) does not garble it; else the
    declared charset (or UTF-8) with replacement characters."""
    declared = [
        _charset(match.group(1))
        for match in (_HEADER_CHARSET.search(content_type), _META_CHARSET.search(body[:4096]))
        if match
    ]
    names = [name for name in declared if name]
    for encoding in [*names, "utf-8", "gb18030"]:
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    return body.decode(names[0] if names else "utf-8", errors="replace")


def _charset(name: str | bytes) -> str:
    """A usable codec name for a declared charset ("" when Python has none)."""
    encoding = name.decode("ascii") if isinstance(name, bytes) else name
    try:
        codecs.lookup(encoding)
    except LookupError:
        return ""
    if encoding.lower().replace("_", "-") in ("gb2312", "gbk"):
        return "gb18030"
    return encoding


def check_html(body: bytes, content_type: str, url: str = "") -> None:
    """ExtractError unless the response is an HTML page: by its Content-Type when it
    names one, else by how the body starts."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body.strip():
        raise ExtractError(f"{url}: the page is empty")
    if kind in _HTML_TYPES:
        return
    if kind and kind not in ("text/plain", "application/octet-stream"):
        raise ExtractError(f"{url}: not an HTML page ({kind})")
    if not _HTML_START.match(body[:2048]):
        raise ExtractError(f"{url}: not an HTML page (no HTML markup at the start)")


def extract_page(
    page: bytes | str, url: str, content_type: str = "", selector: str = ""
) -> Extraction:
    """The main content of an article page: the element ``selector`` matches when given
    (a source's rule), else what trafilatura finds. ExtractError when there is none."""
    if isinstance(page, bytes):
        check_html(page, content_type, url)
        text = decode_page(page, content_type)
    else:
        text = page
    text = re.sub(r"\A\s*<\?xml[^>]*>", "", text)  # lxml refuses a declaration in a str
    if not text.strip():
        raise ExtractError(f"{url}: the page is empty")
    text, cut = bound(text)  # the parsers' time grows with nesting and attributes squared
    if selector:
        html = select_inner_html(text, selector, url)
        title, published = page_metadata(text, url)
        return Extraction(METHOD_RULE, url, title, published, html, cut)
    return replace(_extract_generic(text, url), cut=cut)


def select_inner_html(page: bytes | str, selector: str, url: str = "") -> str:
    """The inner HTML of the first element matching ``selector`` on the page.

    This is what the original script took for CDT (``div.post-content`` innerHTML).
    ExtractError when the page cannot be parsed or nothing matches.
    """
    import lxml.html
    from lxml import etree
    from lxml.cssselect import CSSSelector

    try:
        text = decode_page(page) if isinstance(page, bytes) else page
        text = re.sub(r"\A\s*<\?xml[^>]*>", "", text)
        document = lxml.html.document_fromstring(text)
        matches = CSSSelector(selector)(document)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise ExtractError(f"{url}: cannot parse the page: {exc}") from exc
    except Exception as exc:  # cssselect raises its own SelectorError tree
        raise ExtractError(f"bad selector {selector!r}: {exc}") from exc
    if not matches:
        raise ExtractError(f"{url}: no element matches {selector!r}")
    return _inner_html(matches[0])


def page_metadata(text: str, url: str) -> tuple[str, datetime | None]:
    """The page's title and publication date, as trafilatura's metadata finds them."""
    from trafilatura.metadata import extract_metadata  # heavy: only when pages are read

    try:
        meta = extract_metadata(text, default_url=url)
    except Exception:  # metadata is a bonus: a page without it is still a page
        return "", None
    return (meta.title or "").strip(), _day(meta.date or "")


def _extract_generic(text: str, url: str) -> Extraction:
    import lxml.html
    import trafilatura  # heavy: only when pages are read
    from lxml import etree

    try:
        result = trafilatura.extract(
            text,
            url=url or None,
            output_format="html",
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_images=True,
            include_links=True,
            include_formatting=True,
            favor_precision=True,  # fewer related-article lists and captions: see below
            deduplicate=False,
        )
    except Exception as exc:  # trafilatura's own failures, whatever their type
        raise ExtractError(f"{url}: the extractor failed: {type(exc).__name__}: {exc}") from exc
    if not result:
        raise ExtractError(f"{url}: the extractor found no main content")
    try:
        document = lxml.html.document_fromstring(result)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractError(f"{url}: the extractor's output cannot be read: {exc}") from exc
    metas = {m.get("name", ""): m.get("content", "") for m in document.iter("meta")}
    body = document.find("body")
    if body is not None:
        _unwrap_lines(body)
    html = _inner_html(body) if body is not None else ""
    if not html.strip():
        raise ExtractError(f"{url}: the extractor found no main content")
    title = metas.get("title", "").strip()
    return Extraction(METHOD_EXTRACTOR, url, title, _day(metas.get("date", "")), html)


def _unwrap_lines(root: lxml.html.HtmlElement) -> None:
    """Line breaks in the extractor's text become spaces (outside ``<pre>``): clean joins
    lines without a space, which would glue the words at each break together."""
    for element in root.iter():
        if element.tag == "pre" or any(a.tag == "pre" for a in element.iterancestors()):
            continue
        if element.text and "\n" in element.text:
            element.text = element.text.replace("\n", " ")
        if element.tail and "\n" in element.tail:
            element.tail = element.tail.replace("\n", " ")


def _inner_html(element: lxml.html.HtmlElement) -> str:
    from lxml import etree

    parts = [element.text or ""]
    for child in element:
        parts.append(etree.tostring(child, method="html", encoding="unicode", with_tail=True))
    return "".join(parts)


def _day(value: str) -> datetime | None:
    """A YYYY-MM-DD date (trafilatura's form) as UTC midnight; None when absent or odd."""
    match = _DATE.match(value.strip())
    if not match:
        return None
    try:
        return datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=UTC)
    except ValueError:
        return None
