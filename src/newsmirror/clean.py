"""Clean stage: sanitise article HTML and derive plain text, a summary and a lead image.

Every function here is pure (no I/O) and deterministic: the same input gives the same
string, so content hashes of cleaned HTML are stable. ``clean_html`` is idempotent:
``clean_html(clean_html(x, b, bp), b, bp) == clean_html(x, b, bp)`` for every ``str``.

Pipeline of :func:`clean_html` (one nh3 pass, one lxml parse, a few C-level tree walks):

1. :func:`strip_join` the raw feed HTML (what duty-machine/news did), then drop
   characters no HTML tree can hold (C0 controls, lone surrogates, U+FFFE/U+FFFF).
2. Remove the caller's boilerplate regexes (for example :data:`FEEDX_FOOTER`).
3. nh3 with a news allowlist (``_ALLOWED_TAGS``). Tags outside the allowlist are
   unwrapped (``span``, ``font``, ``picture``, custom elements); script, style,
   noscript, iframe, svg, forms and similar are dropped with their content.
4. lxml: promote lazy ``data-src`` images, resolve relative URLs, drop tracking pixels,
   unwrap ``<a>`` without ``href``, normalise white space, drop empty elements, keep at
   most two consecutive ``<br>``, collapse ``<div>`` that only wraps one block.
5. Serialise; ``\\n``/``\\r`` are written as character references so that the
   ``strip_join`` of a second pass cannot change ``<pre>`` text or attribute values.

White space rule: runs of ASCII white space (space, tab, CR, LF) become one space and
are trimmed at block boundaries (block starts and ends, ``<br>``, ``<hr>``); U+00A0 and
U+3000 are kept as written (Chinese paragraph indents); ``<pre>`` text is untouched.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin

import nh3
from lxml import etree

__all__ = [
    "FEEDX_FOOTER",
    "clean_html",
    "html_to_text",
    "js_strip",
    "lead_image",
    "strip_join",
    "summarize",
]

#: The provider footer of feedx.net full-text feeds (``<br><hr><div>获取更多RSS：<br>
#: <a href="https://feedx.net">…</a> <br><a href="https://feedx.top">…</a><br></div>``),
#: for every feedx mirror domain and with or without the ``<br><hr>`` before it.
FEEDX_FOOTER = (
    r"(?i)<(?:br\s*/?>\s*<)*(?:hr\s*/?>\s*<)?(div|p)\b[^>]*>\s*获取更多RSS\s*[：:]?\s*"
    r"(?:(?:<br\s*/?>|<a\b[^>]*>[^<]*</a>)\s*)*</\1\s*>"
)

_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_STRIP_RE = re.compile(f"^[{_JS_SPACE}]+|[{_JS_SPACE}]+$")
# Characters an lxml/libxml2 tree or the Rust sanitiser cannot hold.
_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPACE_RE = re.compile(r"[ \t\n\r]+")
_TEXT_SPACE_RE = re.compile(r"[ \t\r\f\v\u00a0]+")
_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_URL_SCHEMES = frozenset({"http", "https", "mailto"})
#: Images from these hosts or paths are counted as tracking pixels (kept modest).
_TRACKER_RE = re.compile(
    r"feedburner\.|doubleclick\.net|google-analytics\.com|scorecardresearch\.com"
    r"|(?:^|[/.@])(?:stats|pixel)\.|/(?:pixel|beacon)(?:[./?#]|$)",
    re.IGNORECASE,
)
_PIXEL_SIZES = frozenset({"0", "1", "0px", "1px"})

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = {"address", "article", "aside", "blockquote", "dd", "div", "dl", "dt"}
_BLOCKS |= {"figcaption", "figure", "footer", "header", "li", "main", "ol", "p", "pre"}
_BLOCKS |= {"section", "ul", "table", "caption", "thead", "tbody", "tfoot", "tr", "td"}
_BLOCKS |= {"th", "video", "audio", "source"} | _HEADINGS
_INLINE = {"a", "abbr", "b", "cite", "code", "del", "em", "i", "ins", "mark", "q", "s"}
_INLINE |= {"small", "strong", "sub", "sup", "time", "u"}
#: Tags kept by :func:`clean_html`; every other tag is unwrapped or dropped.
_ALLOWED_TAGS = frozenset(_BLOCKS | _INLINE | {"br", "hr", "img"})
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height", "data-src"},
    "abbr": {"title"},
    "time": {"datetime"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
    "video": {"src", "controls", "poster"},
    "audio": {"src", "controls"},
    "source": {"src", "type"},
}
_DROP_CONTENT = frozenset(
    {"script", "style", "noscript", "iframe", "template", "svg", "math", "object"}
    | {"embed", "applet", "button", "select", "textarea", "canvas", "frame", "frameset"}
    | {"noembed", "noframes", "title", "marquee", "head", "datalist"}
)
_CLEANER = nh3.Cleaner(
    tags=set(_ALLOWED_TAGS),
    clean_content_tags=set(_DROP_CONTENT),
    attributes=_ATTRIBUTES,
    link_rel=None,
    url_schemes=set(_URL_SCHEMES),
    strip_comments=True,
)
_BOUNDARIES = _BLOCKS | {"br", "hr"}
_VOIDS = {"img", "br", "hr"}
_PLAYERS = {"video", "audio"}
_KEEP_EMPTY = {"td", "th"}
# Containers where both parsers accept any block child, and the blocks they accept.
_FLOW = {"div", "section", "article", "aside", "header", "footer", "main", "blockquote"}
_FLOW |= {"li", "dd", "td", "th", "figure", "figcaption", "caption"}
_MOVABLE = _BLOCKS - {"li", "dd", "dt", "thead", "tbody", "tfoot", "tr", "td", "th"}
_MOVABLE -= {"caption", "source"}
_PARSER = etree.HTMLParser(
    encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True
)


def js_strip(text: str) -> str:
    """Strip leading and trailing white space as JavaScript's ``String.prototype.trim``."""
    return _JS_STRIP_RE.sub("", text)


def strip_join(html: str) -> str:
    """Split on ``\\n``, :func:`js_strip` every line and join them without separator."""
    return "".join([js_strip(line) for line in html.split("\n")])


@functools.lru_cache(maxsize=64)
def _compile(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    """Compile boilerplate regexes once per distinct tuple (``re.S``)."""
    return tuple(re.compile(pattern, re.S) for pattern in patterns)


def _parse(html: str) -> Any:
    """Parse an HTML fragment with lxml and return the ``<body>`` holding it."""
    doc = f"<html><body>{_INVALID_RE.sub('', html)}</body></html>".encode()
    return etree.fromstring(doc, _PARSER).find("body")


def _serialise(body: Any) -> str:
    """Serialise the children of ``body``; CR/LF become character references."""
    out: str = etree.tostring(body, encoding="unicode", method="html", with_tail=False)
    out = out[out.index(">") + 1 : out.rindex("<")]
    return js_strip(out.replace("\r", "&#13;").replace("\n", "&#10;"))


def clean_html(html: str, base_url: str = "", boilerplate: tuple[str, ...] = ()) -> str:
    """Return sanitised, normalised article HTML (see the module docstring)."""
    html = _INVALID_RE.sub("", strip_join(html))
    for pattern in _compile(boilerplate):
        html = pattern.sub("", html)
    if not html:
        return ""
    body = _parse(_CLEANER.clean(html))
    _fix_elements(body, base_url)
    _normalise_space(body)
    _drop_empty(body)
    _collapse_br(body)
    _unwrap_single_divs(body)
    return _serialise(body)


def _remove(el: Any) -> None:
    """Remove ``el`` and its subtree, keeping its tail text in place."""
    _move_text(el, el.tail)
    el.getparent().remove(el)


def _unwrap(el: Any) -> None:
    """Replace ``el`` by its text and children (the element's tags disappear)."""
    parent = el.getparent()
    children = list(el)
    _move_text(el, el.text)
    if children:
        children[-1].tail = (children[-1].tail or "") + (el.tail or "")
    else:
        _move_text(el, el.tail)
    index = parent.index(el)
    parent[index : index + 1] = children


def _move_text(el: Any, text: str | None) -> None:
    """Append ``text`` to whatever text precedes ``el`` (previous tail or parent text)."""
    if not text:
        return
    previous = el.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + text
    else:
        parent = el.getparent()
        parent.text = (parent.text or "") + text


def _url(value: str | None, base_url: str) -> str | None:
    """Resolve one URL attribute; ``None`` when missing or of a disallowed scheme."""
    if value is None:
        return None
    value = value.strip(" \t\n\r\f")
    match = _SCHEME_RE.match(value)
    if match is None and base_url and value:
        try:
            value = urljoin(base_url, value)
        except ValueError:
            return value
        match = _SCHEME_RE.match(value)
    if match is not None and match.group(1).lower() not in _URL_SCHEMES:
        return None
    return value


def _set_url(el: Any, name: str, base_url: str) -> None:
    """Resolve attribute ``name`` of ``el`` in place, deleting it when unsafe."""
    value = _url(el.get(name), base_url)
    if value is None:
        el.attrib.pop(name, None)
    else:
        el.set(name, value)


def _is_tracking_image(src: str, width: str | None = None, height: str | None = None) -> bool:
    """True for tracking pixels: a 0/1 pixel width or height, or a known tracker URL."""
    if width is not None and width.strip().lower() in _PIXEL_SIZES:
        return True
    if height is not None and height.strip().lower() in _PIXEL_SIZES:
        return True
    return _TRACKER_RE.search(src) is not None


def _fix_image(img: Any, base_url: str) -> None:
    """Promote a lazy ``data-src``, resolve ``src``; drop the image if unusable."""
    lazy = img.attrib.pop("data-src", None)
    if not img.get("src") and lazy:
        img.set("src", lazy)
    _set_url(img, "src", base_url)
    src = img.get("src")
    if not src or _is_tracking_image(src, img.get("width"), img.get("height")):
        _remove(img)


def _fix_elements(body: Any, base_url: str) -> None:
    """Per-element fixes: images, links, media sources and ``<pre>`` leading newlines."""
    for el in list(body.iter("img", "a", "video", "audio", "source", "pre")):
        tag = el.tag
        if tag == "img":
            _fix_image(el, base_url)
        elif tag == "a":
            _set_url(el, "href", base_url)
            if not el.get("href") and not any(c.tag in _BLOCKS for c in el):
                _unwrap(el)
        elif tag == "pre":
            if el.text:
                el.text = el.text.lstrip("\n") or None
        elif tag == "source":
            _set_url(el, "src", base_url)
            if not el.get("src") or el.getparent().tag not in ("video", "audio"):
                _remove(el)
        else:
            _set_url(el, "src", base_url)
            _set_url(el, "poster", base_url)


class _Spacer:
    """Collapses and trims white space over the text slots of a tree in order."""

    def __init__(self) -> None:
        self.pending: tuple[Any, str] | None = None  # last text slot since a boundary
        self.after_space = True  # previous character was a space or a boundary

    def boundary(self) -> None:
        """Trim the trailing space before a block boundary."""
        if self.pending is not None:
            el, attr = self.pending
            setattr(el, attr, getattr(el, attr).rstrip(" ") or None)
        self.pending = None
        self.after_space = True

    def atom(self) -> None:
        """An inline replaced element (an image) counts as a non-space character."""
        self.pending = None
        self.after_space = False

    def text(self, el: Any, attr: str) -> None:
        """Collapse one text slot (``el.text`` or ``el.tail``)."""
        value = getattr(el, attr)
        if not value:
            return
        value = _SPACE_RE.sub(" ", value)
        if self.after_space:
            value = value.lstrip(" ")
        if value:
            self.after_space = value[-1] == " "
            self.pending = (el, attr)
        setattr(el, attr, value or None)


def _normalise_space(body: Any) -> None:
    """Apply the module's white-space rule to every text node outside ``<pre>``."""
    spacer = _Spacer()
    in_pre = 0
    for event, el in etree.iterwalk(body, events=("start", "end")):
        tag = el.tag
        if event == "start":
            if not in_pre:
                if tag in _BOUNDARIES:
                    spacer.boundary()
                elif tag == "img":
                    spacer.atom()
            if tag == "pre":
                in_pre += 1
            if not in_pre:
                spacer.text(el, "text")
        else:
            if tag == "pre":
                in_pre -= 1
            if in_pre:
                continue
            if tag in _BLOCKS or el is body:
                spacer.boundary()
            if el is not body:
                spacer.text(el, "tail")


def _blank(text: str | None) -> bool:
    """True for ``None`` or text made only of (Unicode) white space."""
    return not text or text.isspace()


def _drop_empty(body: Any) -> None:
    """Drop elements without text or media, bottom-up; inline ones keep their spaces."""
    full: set[Any] = set()
    for el in reversed(list(body.iter())):
        tag = el.tag
        if (
            tag in _VOIDS
            or (tag in _PLAYERS and (el.get("src") or el.find("source") is not None))
            or not _blank(el.text)
            or any(c in full or not _blank(c.tail) for c in el)
        ):
            full.add(el)
            continue
        if el is body or tag in _KEEP_EMPTY:
            continue
        if tag in _BLOCKS or tag in _VOIDS:
            _remove(el)
        else:
            _unwrap(el)


def _collapse_br(body: Any) -> None:
    """Keep at most two consecutive ``<br>`` (nothing but nothing between them)."""
    for br in list(body.iter("br")):
        first = br.getprevious()
        if first is None or first.tag != "br" or first.tail:
            continue
        second = first.getprevious()
        if second is not None and second.tag == "br" and not second.tail:
            _remove(br)


def _unwrap_single_divs(body: Any) -> None:
    """Unwrap a ``<div>`` whose only content is one block, if its parent takes blocks."""
    for div in reversed(list(body.iter("div"))):
        if len(div) == 1 and _blank(div.text) and _blank(div[0].tail):
            parent = div.getparent()
            if div[0].tag in _MOVABLE and (parent is body or parent.tag in _FLOW):
                _unwrap(div)


def _paragraphs(body: Any) -> Iterable[str]:
    """Yield the text of every block of an lxml tree (``<br>`` gives ``\\n``)."""
    parts: list[str] = []
    skip = 0
    for event, el in etree.iterwalk(body, events=("start", "end")):
        tag = el.tag
        if event == "start":
            if tag in _DROP_CONTENT:
                skip += 1
            if skip:
                continue
            if tag in _BOUNDARIES and tag != "br":
                yield "".join(parts)
                parts.clear()
            parts.append("\n" if tag == "br" else el.text or "")
        else:
            if tag in _DROP_CONTENT:
                skip -= 1
            if skip:
                continue
            if tag in _BOUNDARIES and tag != "br":
                yield "".join(parts)
                parts.clear()
            if el is not body:
                parts.append(el.tail or "")
    yield "".join(parts)


def html_to_text(html: str) -> str:
    """Plain text of (cleaned) HTML: blocks separated by a blank line, spaces collapsed."""
    paragraphs = []
    for block in _paragraphs(_parse(html)):
        lines = [js_strip(_TEXT_SPACE_RE.sub(" ", line)) for line in block.split("\n")]
        text = "\n".join(line for line in lines if line)
        if text:
            paragraphs.append(text)
    return "\n\n".join(paragraphs)


_SENTENCE_END_RE = re.compile(r"(?:[。！？!?；;…]|\.(?=\s))[”’」』）)\]\"']*")
_GLUE = frozenset({"\u200d", "\ufe0e", "\ufe0f"})


def _ascii_word(char: str) -> bool:
    """True for an ASCII letter or digit (a cut between two of them splits a word)."""
    return char.isascii() and char.isalnum()


def summarize(text: str, limit: int = 200) -> str:
    """First ``limit`` characters of ``text``, cut at a sentence end if one is late enough.

    White space is collapsed first. A cut text ends with "…" and the result, ellipsis
    included, is never longer than ``limit``. Raises ``ValueError`` if ``limit < 1``.
    """
    if limit < 1:
        raise ValueError(f"summary limit must be at least 1, not {limit}")
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    window = flat[: limit - 1]
    cut = 0
    for match in _SENTENCE_END_RE.finditer(window):
        cut = match.end()
    if cut < len(window) // 2:
        cut = len(window)
        if _ascii_word(flat[cut]) and _ascii_word(window[-1]):
            space = window.rfind(" ")
            cut = space if space >= len(window) // 2 else cut
    while cut > 0 and (flat[cut] in _GLUE or unicodedata.combining(flat[cut])):
        cut -= 1
    while cut > 0 and flat[cut - 1] in _GLUE:
        cut -= 1
    return flat[:cut].rstrip() + "…"


def lead_image(html: str) -> str:
    """``src`` (or lazy ``data-src``) of the first non-tracking image, or ``""``."""
    for img in _parse(html).iter("img"):
        src = (img.get("src") or img.get("data-src") or "").strip()
        if src.lower().startswith("data:"):
            src = (img.get("data-src") or "").strip()
        if src and not _is_tracking_image(src, img.get("width"), img.get("height")):
            return src
    return ""
