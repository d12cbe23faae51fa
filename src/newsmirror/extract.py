"""Full text from an article page, by a source's CSS selector rule."""

from __future__ import annotations

import codecs
import re

import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector

from newsmirror.errors import ExtractError

_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)


def decode_page(body: bytes, content_type: str = "") -> str:
    """The text of an HTML page: HTTP charset, else ``<meta charset>``, else UTF-8 when
    valid, else GB18030 (the superset of GBK and GB2312), else UTF-8 with replacements."""
    for match in (_HEADER_CHARSET.search(content_type), _META_CHARSET.search(body[:4096])):
        if match:
            name = match.group(1)
            encoding = name.decode("ascii") if isinstance(name, bytes) else name
            try:
                codecs.lookup(encoding)
            except LookupError:
                continue
            if encoding.lower().replace("_", "-") in ("gb2312", "gbk"):
                encoding = "gb18030"
            return body.decode(encoding, errors="replace")
    for encoding in ("utf-8", "gb18030"):
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    return body.decode("utf-8", errors="replace")


def select_inner_html(page: bytes | str, selector: str, url: str = "") -> str:
    """The inner HTML of the first element matching ``selector`` on the page.

    This is what the original script took for CDT (``div.post-content`` innerHTML).
    ExtractError when the page cannot be parsed or nothing matches.
    """
    try:
        text = decode_page(page) if isinstance(page, bytes) else page
        text = re.sub(r"\A\s*<\?xml[^>]*>", "", text)  # lxml refuses it in a str
        document = lxml.html.document_fromstring(text)
        matches = CSSSelector(selector)(document)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise ExtractError(f"{url}: cannot parse the page: {exc}") from exc
    except Exception as exc:  # cssselect raises its own SelectorError tree
        raise ExtractError(f"bad selector {selector!r}: {exc}") from exc
    if not matches:
        raise ExtractError(f"{url}: no element matches {selector!r}")
    element = matches[0]
    parts = [element.text or ""]
    for child in element:
        parts.append(etree.tostring(child, method="html", encoding="unicode", with_tail=True))
    return "".join(parts)
