"""Clean stage: sanitise article HTML; derive plain text, a summary and a lead image.

Pure and deterministic (same input, same string: content hashes are stable), and
idempotent: ``clean_html(clean_html(x, b, bp), b, bp) == clean_html(x, b, bp)`` for every
``str``. :func:`clean_html` does :func:`strip_join` (as duty-machine/news did) and the
boilerplate regexes, then nh3 (html5ever) with a news allowlist (other tags unwrapped:
``span``, ``font``, ``picture``...; script, style, noscript, iframe, svg and form
controls dropped with their content; http(s)/mailto URLs only; no ``rel`` added; C0
controls, U+FFFE and U+FFFF dropped afterwards, as they make XML feeds invalid), then
one pass over nh3's output. That output serialises an HTML5 tree with every ``<`` of
text escaped, so splitting it on ``<`` gives the tree back; the pass resolves relative
URLs, takes lazy (``data-src``) and responsive (``srcset``, ``<picture>``) image URLs,
drops tracking pixels, normalises white space, drops empty elements, keeps at most two
``<br>`` in a row, unwraps ``<a>`` without ``href`` and a ``<div>`` wrapping one block,
and makes ``<div>`` of what an HTML5 parser would not read back in place (a heading in
a heading, ``li`` in ``li``, ``dd``/``dt`` in ``dd``/``dt``).

White space: runs of HTML white space become one space; JavaScript white space (with
U+00A0 and U+3000) is trimmed at block boundaries (block starts and ends, ``<br>``,
``<hr>``, both ends of the fragment); elsewhere U+00A0 and U+3000 stay as written;
``<pre>`` is left alone. CR/LF left in ``<pre>`` or attributes are written ``&#13;``/
``&#10;``, so the ``strip_join`` of a second pass has nothing to change.
"""

from __future__ import annotations

import functools
import html as htmllib
import re
import unicodedata
from collections.abc import Callable

import nh3

from newsmirror.clean.bounds import bound
from newsmirror.clean.passes import (
    _ALLOWED_TAGS,
    _ATTR_RE,
    _ATTRIBUTES,
    _BOUNDARIES,
    _CONTROL_BYTES,
    _DROP_CONTENT,
    _INVALID_RE,
    _JS_SPACE,
    _TEXT_SPACE_RE,
    _URL_SCHEMES,
    _Pass,
)
from newsmirror.config.boilerplate import FEEDX_FOOTER  # the feed provider's footer

__all__ = ["FEEDX_FOOTER", "clean_html", "html_to_text", "js_strip", "lead_image"]
__all__ += ["shown_title", "strip_join", "summarize"]

_CLEANER = nh3.Cleaner(
    tags=set(_ALLOWED_TAGS), clean_content_tags=_DROP_CONTENT, attributes=_ATTRIBUTES,
    link_rel=None, url_schemes=set(_URL_SCHEMES),
)  # fmt: skip


def js_strip(text: str) -> str:
    """Strip leading and trailing white space as JavaScript's ``String.prototype.trim``."""
    return text.strip(_JS_SPACE)


#: A character reference with its semicolon: ``&quot;``, ``&#39;``, ``&#x5b;``.
_REFERENCE = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_SPACE_CLASS = "".join(f"\\u{ord(c):04x}" for c in _JS_SPACE)
#: A run of white space holding a line break.
_BROKEN_RUN = re.compile(f"[{_SPACE_CLASS}]*[\n\r\u2028\u2029][{_SPACE_CLASS}]*")


def shown_title(title: str) -> str:
    """A stored title as readers should read it (pages, feeds, search, ``show``).

    Its character references are decoded once: a feed that escaped its titles twice
    (``&amp;quot;`` in the XML) leaves ``&quot;`` in the text, which the markdown archive
    keeps as the original script wrote it; a reference needs its semicolon (``AT&T`` and
    ``&notice`` stay), and what one decoding gives is text (``&amp;lt;`` shows ``&lt;``).
    Then JavaScript white space is stripped at both ends and a run of white space holding
    a line break becomes one space. The result is text: whoever shows it escapes it."""
    if "&" in title:
        title = _REFERENCE.sub(lambda m: htmllib.unescape(m.group()), title)
    return _BROKEN_RUN.sub(" ", title.strip(_JS_SPACE))


def strip_join(html: str) -> str:
    """Split on ``\\n``, :func:`js_strip` every line and join them without separator."""
    return "".join([line.strip(_JS_SPACE) for line in html.split("\n")])


def sanitise(html: str, cuts: list[str] | None = None) -> str:
    """nh3 with the news allowlist, then drop C0 controls (but tab, LF, CR), U+FFFE and
    U+FFFF, which character references may have produced (lone surrogates go first).

    Markup nested deeper or with more attributes on a tag than any page has is cut first
    (:func:`newsmirror.clean.bounds.bound`: the parser's time would grow with their
    square), and what was cut is added to ``cuts``."""
    html, cut = bound(html)
    if cut and cuts is not None:
        cuts.append(cut)
    try:
        html = _CLEANER.clean(html)
    except UnicodeEncodeError:
        html = _CLEANER.clean(_INVALID_RE.sub("", html))
    raw = html.encode()
    if len(raw.translate(None, _CONTROL_BYTES)) != len(raw) or b"\xef\xbf\xbe" in raw:
        return _INVALID_RE.sub("", html)
    return _INVALID_RE.sub("", html) if b"\xef\xbf\xbf" in raw else html


#: The footer's element, from its start tag to its end tag (:data:`FEEDX_FOOTER` less the
#: line breaks and rule before it). Possessive, and no "<" inside a tag: a try at each
#: "<div" or "<p" reads one element at most, and only where the footer's words follow.
_FEEDX_ELEMENT = re.compile(
    r"(?i)<(div|p)\b[^<>]*+>\s*+获取更多RSS\s*+[：:]?\s*+"
    r"(?:(?:<br\s*+/?>|<a\b[^<>]*+>[^<]*+</a>)\s*+)*+</\1\s*+>"
)
#: The line breaks and the rule before the footer, read backwards (reversed text).
_FEEDX_LEAD = re.compile(r"(?i)(?:\s*+>/?\s*+rh<)?+(?:\s*+>/?\s*+rb<)*+")


def _remove_feedx(html: str) -> str:
    """:data:`FEEDX_FOOTER` removed, in time linear in ``html`` (the regex itself would
    read a run of ``<br>`` again from each of them: minutes for 40,000 of them)."""
    pieces, kept = [], 0
    for match in _FEEDX_ELEMENT.finditer(html):
        before = html[kept : match.start()][::-1]
        lead = _FEEDX_LEAD.match(before)
        pieces.append(html[kept : match.start() - (lead.end() if lead else 0)])
        kept = match.end()
    return "".join(pieces) + html[kept:] if pieces else html


def _remover(pattern: str) -> Callable[[str], str]:
    """What removes a boilerplate pattern (regex, flag ``re.S``) from HTML: the built-in
    footer by :func:`_remove_feedx`, when its words occur; another by its regex."""
    if pattern == FEEDX_FOOTER:
        return lambda html: _remove_feedx(html) if "获取更多RSS" in html else html
    return functools.partial(re.compile(pattern, re.S).sub, "")


@functools.lru_cache(maxsize=64)
def _compile(patterns: tuple[str, ...]) -> tuple[Callable[[str], str], ...]:
    """The removers of boilerplate patterns, made once per distinct tuple."""
    return tuple(_remover(pattern) for pattern in patterns)


def _remove(html: str, patterns: tuple[Callable[[str], str], ...]) -> str:
    """Remove every match of each boilerplate pattern."""
    for remove in patterns:
        html = remove(html)
    return html


def clean_html(
    html: str, base_url: str = "", boilerplate: tuple[str, ...] = (), cuts: list[str] | None = None
) -> str:
    """Return sanitised, normalised article HTML (see the module docstring); what the
    bounds on markup cut (:func:`sanitise`) is added to ``cuts``.

    The boilerplate regexes apply to the strip-joined input and again to the result,
    which is cleaned once more when they removed something from it (cleaning can bring
    a footer's parts together), so the result is a fixed point.
    """
    patterns = _compile(tuple(boilerplate))
    html = _remove(strip_join(html), patterns)
    out = _Pass(base_url).run(sanitise(html, cuts)) if html else ""
    for _ in range(8):  # every round removes a non-empty match, so this ends
        trimmed = _remove(out, patterns)
        if trimmed == out:
            break
        out = _Pass(base_url).run(sanitise(trimmed)) if trimmed else ""
    return out


#: A block element's tag (where paragraphs break), and any tag.
BLOCK_TAG_RE = re.compile(f"</?(?:{'|'.join(sorted(_BOUNDARIES - {'br'}))})(?=[ >])[^>]*>")
TAG_RE = re.compile(r"<[^>]*>")
_BLOCK_TAG_RE, _TAG_RE = BLOCK_TAG_RE, TAG_RE


def html_to_text(html: str, cleaned: bool = False) -> str:
    """Plain text of HTML: blocks separated by a blank line, ``<br>`` a line break, other
    white space (newlines in text and ``<pre>`` included) collapsed to one space.

    ``cleaned``: the HTML is :func:`clean_html`'s output, already sanitised (the search
    index reads every stored version's text this way, without a second nh3 pass).
    """
    paragraphs = []
    safe = html if cleaned else sanitise(html)
    for block in _BLOCK_TAG_RE.split(safe.replace("\n", " ").replace("<br>", "\n")):
        block = htmllib.unescape(_TAG_RE.sub("", block))
        lines = (_TEXT_SPACE_RE.sub(" ", line).strip(_JS_SPACE) for line in block.split("\n"))
        text = "\n".join(line for line in lines if line)
        if text:
            paragraphs.append(text)
    return "\n\n".join(paragraphs)


def index_text(html: str) -> str:
    """The text of :func:`clean_html`'s output for the search index: block boundaries and
    ``<br>`` as line breaks, other tags gone, entities decoded. Its words and CJK runs are
    exactly :func:`html_to_text`'s (only the white space between them differs), in a
    few passes over the whole string instead of work for each paragraph."""
    return htmllib.unescape(_TAG_RE.sub("", _BLOCK_TAG_RE.sub("\n", html.replace("<br>", "\n"))))


def strip_tags(html: str, gap: str = "") -> str:
    """HTML's text without sanitising: tags replaced by ``gap``, entities decoded. Cheap,
    for rough decisions and snippets; :func:`html_to_text` gives the exact text."""
    end = html.rfind(">") + 1  # no tag after the last ">": the regex would read on from each "<"
    return htmllib.unescape(_TAG_RE.sub(gap, html[:end]) + html[end:])


_SENTENCE_END_RE = re.compile(r"(?:[。！？!?；;…]|\.(?=\s))[”’」』）)\]\"']*")
_GLUE = frozenset({"\u200d", "\ufe0e", "\ufe0f"})


def _ascii_word(char: str) -> bool:
    """True for an ASCII letter or digit (a cut between two of them splits a word)."""
    return char.isascii() and char.isalnum()


def summarize(text: str, limit: int = 200) -> str:
    """The start of ``text``, at most ``limit`` characters, cut at a sentence end if one
    falls in the second half, else between words or characters, with "…" when cut.

    White space is collapsed first; the "…" counts towards ``limit``. Raises
    ``ValueError`` if ``limit < 1``.
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
    """URL of the first image :func:`clean_html` keeps (so no tracking pixel), or ""."""
    for piece in clean_html(html).split("<img ")[1:]:
        src = dict(_ATTR_RE.findall(piece[: piece.find(">")])).get("src")
        if src:
            return htmllib.unescape(src)
    return ""
