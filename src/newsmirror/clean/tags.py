"""A small HTML tokenizer reduced to start tags, for edits that keep every other byte.

It follows the HTML standard's tokenizer rules for what decides where a tag is: quoting of
attribute values, comments, bogus comments, raw-text elements (``<script>``, ``<style>``,
``<textarea>``, ``<title>``...) and ``<plaintext>``; so what it calls a start tag is what a
browser (and lxml's HTML parser) would. Attributes come with their positions, so a caller
can change one value and leave the rest of the document byte for byte.
"""

from __future__ import annotations

import html as htmllib
import re
import string
from collections.abc import Iterator
from html.entities import html5 as _ENTITIES
from typing import NamedTuple

HTML_SPACE = "\t\n\f\r "
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class Attr(NamedTuple):
    """An attribute of a start tag, with where it lies in the document."""

    name: str  # ASCII-lowercased name
    start: int  # index of its first character
    end: int  # index after its last character (after the closing quote of its value)
    value_start: int  # index of its value (its opening quote when quoted); -1 without one
    value: str  # raw value, quotes removed, character references not decoded


_REF_RE = re.compile(r"&(?:#[0-9]+;?|#[xX][0-9a-fA-F]+;?|([A-Za-z][A-Za-z0-9]*)(;?))")


def unescape_attr(value: str) -> str:
    """Decode character references as the HTML standard does in an attribute value.

    Unlike ``html.unescape``, a named reference without ";" followed by "=" or a letter
    or digit is left alone (``?a=1&copy=2`` keeps its ``&copy``).
    """
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")  # as the tokenizer does
    if "&" not in value:
        return value

    def decode(match: re.Match[str]) -> str:
        name, semicolon = match.group(1), match.group(2)
        if name is None:
            return htmllib.unescape(match.group())
        key = name + semicolon
        if key in _ENTITIES and (semicolon or value[match.end() : match.end() + 1] != "="):
            return _ENTITIES[key]
        return match.group()

    return _REF_RE.sub(decode, value)


# --- an HTML tokenizer reduced to start tags ------------------------------------------------

#: Elements whose content is text up to their end tag (no tags, no comments in there).
_RAW_TEXT = frozenset({"script", "style", "xmp", "iframe", "noembed", "noframes"})
_RAW_TEXT |= {"textarea", "title"}
_TAG_NAME_RE = re.compile(r"[A-Za-z][^\t\n\f\r />]*")
_ATTR_NAME_RE = re.compile(r"[^\t\n\f\r />][^\t\n\f\r />=]*")
_EQUALS_RE = re.compile(r"[\t\n\f\r ]*=[\t\n\f\r ]*")
_UNQUOTED_RE = re.compile(r"[^\t\n\f\r >]*")
_BETWEEN_RE = re.compile(r"[\t\n\f\r /]*")
_COMMENT_END_RE = re.compile(r"--!?>")
_RAW_TEXT_END = {name: re.compile(rf"</{name}(?=[\t\n\f\r />])", re.I | re.A) for name in _RAW_TEXT}


def _skip(pattern: re.Pattern[str], html: str, pos: int) -> int:
    """The index after the run of ``pattern`` (which matches the empty string) at ``pos``."""
    match = pattern.match(html, pos)
    assert match is not None
    return match.end()


def start_tags(html: str) -> Iterator[tuple[str, list[Attr]]]:
    """Every start tag of ``html`` as (lowercased name, attributes), in order.

    Comments, doctypes, end tags and the content of raw-text elements are skipped; a
    tag, comment or raw-text element left open at the end is not a tag (as in browsers).
    """
    pos = 0
    while (lt := html.find("<", pos)) >= 0:
        token = _token(html, lt)
        if token is None:
            return
        name, attrs, pos = token
        if attrs is None or not name:
            continue
        yield name, attrs
        if name == "plaintext":  # all that follows is text
            return
        if name in _RAW_TEXT:
            end = _RAW_TEXT_END[name].search(html, pos)
            if end is None:
                return
            pos = end.start()


def _token(html: str, lt: int) -> tuple[str, list[Attr] | None, int] | None:
    """The token at ``html[lt] == "<"``: (start tag name or "", attributes or None, the
    index after it); ``None`` when it runs to the end of the document."""
    after = html[lt + 1 : lt + 2]
    if after.isascii() and after.isalpha():
        return _tag(html, lt + 1, start=True)
    if after == "/":
        after = html[lt + 2 : lt + 3]
        if after.isascii() and after.isalpha():
            return _tag(html, lt + 2, start=False)
        if after in (">", ""):
            return "", None, lt + 2 + len(after)
        return _bogus_comment(html, lt + 2)
    if after == "!":
        if html.startswith("--", lt + 2):
            return _comment(html, lt + 4)
        return _bogus_comment(html, lt + 2)
    if after == "?":
        return _bogus_comment(html, lt + 1)
    return "", None, lt + 1  # a "<" of text


def _tag(html: str, pos: int, start: bool) -> tuple[str, list[Attr] | None, int] | None:
    """A start or end tag whose name begins at ``pos``."""
    match = _TAG_NAME_RE.match(html, pos)
    assert match is not None  # the caller saw a letter
    scanned = _attributes(html, match.end())
    if scanned is None:
        return None
    attrs, end = scanned
    return (match.group().translate(_ASCII_LOWER) if start else ""), attrs, end


def _comment(html: str, pos: int) -> tuple[str, None, int] | None:
    """A comment whose text begins at ``pos`` (after ``<!--``)."""
    for abrupt in (">", "->"):  # "<!-->" and "<!--->" are whole comments
        if html.startswith(abrupt, pos):
            return "", None, pos + len(abrupt)
    end = _COMMENT_END_RE.search(html, pos)
    return None if end is None else ("", None, end.end())


def _bogus_comment(html: str, pos: int) -> tuple[str, None, int] | None:
    """A doctype, ``<?...>`` or other bogus comment: up to the next ``>``."""
    end = html.find(">", pos)
    return None if end < 0 else ("", None, end + 1)


def _attributes(html: str, pos: int) -> tuple[list[Attr], int] | None:
    """The attributes of a tag from ``pos`` and the index after its ``>``; ``None``
    when the document ends inside the tag."""
    attrs: list[Attr] = []
    while True:
        pos = _skip(_BETWEEN_RE, html, pos)
        if pos >= len(html):
            return None
        if html[pos] == ">":
            return attrs, pos + 1
        name = _ATTR_NAME_RE.match(html, pos)
        assert name is not None  # html[pos] is neither space, "/" nor ">"
        start, pos = pos, name.end()
        equals = _EQUALS_RE.match(html, pos)
        if equals is None:
            attrs.append(Attr(name.group().translate(_ASCII_LOWER), start, pos, -1, ""))
            continue
        value_start = pos = equals.end()
        quote = html[pos : pos + 1]
        if quote in ('"', "'"):
            close = html.find(quote, pos + 1)
            if close < 0:
                return None
            value, pos = html[pos + 1 : close], close + 1
        else:
            pos = _skip(_UNQUOTED_RE, html, pos)
            value = html[value_start:pos]
        attrs.append(Attr(name.group().translate(_ASCII_LOWER), start, pos, value_start, value))


#: Attributes a browser follows or loads as a URL.
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "poster", "background", "cite", "data",
     "codebase", "longdesc", "lowsrc", "dynsrc", "manifest", "xlink:href", "ping"}
)  # fmt: skip
_SCRIPT_SCHEME = re.compile(r"(?:java|vb)script:", re.I)
_URL_NOISE = re.compile("[\t\n\r]")


def runs_script(value: str) -> bool:
    """Whether a URL attribute's raw value is a ``javascript:`` or ``vbscript:`` URL as a
    browser reads it: references decoded, leading C0 controls and spaces and every tab or
    line break inside ignored, in any case."""
    url = _URL_NOISE.sub("", unescape_attr(value)).lstrip("".join(map(chr, range(0x21))))
    return _SCRIPT_SCHEME.match(url) is not None


def without_script_urls(html: str) -> str:
    """``html`` with every URL attribute that would run script (:func:`runs_script`)
    emptied (``href=""``); every other byte is left as it was."""
    lowered = html.lower()
    if "script" not in lowered and "&" not in lowered:
        return html  # (neither spelt out nor hidden behind a character reference)
    edits = [
        (attr.start, attr.end, f'{attr.name}=""')
        for _, attrs in start_tags(html)
        for attr in attrs
        if attr.name in URL_ATTRIBUTES and attr.value_start >= 0 and runs_script(attr.value)
    ]
    if not edits:
        return html
    pieces, pos = [], 0
    for start, end, text in edits:
        pieces += [html[pos:start], text]
        pos = end
    pieces.append(html[pos:])
    return "".join(pieces)
