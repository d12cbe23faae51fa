"""The pass over nh3's output that :func:`newsmirror.clean.clean_html` makes.

nh3 serialises an HTML5 tree with every ``<`` of text escaped, so splitting its output on
``<`` gives the tree back. :class:`_Pass` walks it once with a stack of open elements:
it resolves URLs, takes lazy and responsive image URLs, drops tracking pixels, trims
white space at block boundaries, drops empty elements, unwraps what carries nothing and
rewrites nestings an HTML5 parser would not read back in place. Also the tag sets that
both the nh3 allowlist and the pass use.
"""

from __future__ import annotations

import contextlib
import functools
import html as htmllib
import re
from urllib.parse import urljoin

import ada_url

from newsmirror.clean.bounds import MAX_DEPTH

#: What JavaScript's ``\s`` (and so ``String.prototype.trim``) counts as white space.
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
_JS_SPACE += "\u2028\u2029\u202f\u205f\u3000\ufeff"
_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPACE_RE = re.compile(r"[ \t\n\r\f]+")
_TEXT_SPACE_RE = re.compile(r"[ \t\r\f\v\u00a0]+")
_ATTR_RE = re.compile(r'([^ =]+)="([^"]*)"')
_URL_JUNK_RE = re.compile(r"[\t\n\r]")
_SCHEME_RE = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*):")
_URL_SCHEMES = frozenset({"http", "https", "mailto"})
#: Image URLs holding one of these are tracking pixels (modest on purpose); so are
#: images 0 or 1 pixel wide or high.
_TRACKERS = ("feedburner.", "doubleclick.net", "google-analytics.com", "scorecardresearch.",
    "//stats.", ".stats.", "//pixel.", ".pixel.", "/pixel.", "/pixel/", "/beacon")  # fmt: skip
_PIXEL_SIZES = frozenset({"0", "1", "0px", "1px"})

_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_LISTS = {"dl", "ol", "ul", "li", "dd", "dt"}
_TABLES = {"table", "caption", "thead", "tbody", "tfoot", "tr", "td", "th"}
_SECTIONS = {"address", "article", "aside", "blockquote", "div", "figcaption", "figure"}
_SECTIONS |= {"footer", "header", "main", "p", "pre", "section"}
_BLOCKS = frozenset(_HEADINGS | _LISTS | _TABLES | _SECTIONS | {"video", "audio"})
_INLINE = {"a", "abbr", "b", "cite", "code", "del", "em", "i", "ins", "mark", "q", "s"}
_INLINE |= {"small", "strong", "sub", "sup", "time", "u"}
_VOIDS = frozenset({"img", "br", "hr", "source"})
_ALLOWED_TAGS = frozenset(_BLOCKS | _INLINE | _VOIDS)
_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "time": {"datetime"}, "ol": {"start"}}
_ATTRIBUTES |= {"img": {"src", "alt", "title", "width", "height", "data-src", "srcset"}}
_ATTRIBUTES |= {"td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
_ATTRIBUTES |= {"video": {"src", "controls", "poster"}, "audio": {"src", "controls"}}
_ATTRIBUTES |= {"source": {"src", "type", "srcset"}}
_DROP_CONTENT = {"script", "style", "noscript", "iframe", "template", "svg", "math", "object"}
_DROP_CONTENT |= {"embed", "applet", "button", "select", "textarea", "canvas", "frame", "head"}
_DROP_CONTENT |= {"frameset", "noembed", "noframes", "title", "marquee"}
_BOUNDARIES = _BLOCKS | {"br", "hr"}
_NESTING = _HEADINGS | {"li", "dd", "dt"}
_PLAYERS = frozenset({"video", "audio"})
_URL_ATTRS: dict[str, tuple[str, ...]] = {"img": ("src",), "a": ("href",), "source": ("src",)}
_URL_ATTRS |= {"video": ("src", "poster"), "audio": ("src",)}
# HTML5 "special" tags of the allowlist that end the search for an open li, dd or dt.
_SPECIAL = _BOUNDARIES - {"address", "div", "p", "video", "audio"} | {"img", "source"}
# Where a <div> wrapping a single block may be unwrapped: parents ("" is the fragment)
# an HTML5 parser lets keep any such child, and the children that may move up.
_FLOW = {"", "div", "section", "article", "aside", "header", "footer", "main"}
_FLOW |= {"blockquote", "li", "dd", "td", "th", "figure", "figcaption", "caption"}
_MOVABLE = _BLOCKS - _TABLES - {"li", "dd", "dt"}
_BR_RUN_RE = re.compile("(?:<br>){3,}")


@functools.lru_cache(maxsize=4096)  # pure; the same image and link URLs recur across items
def _url(value: str, base_url: str) -> str | None:
    """Resolve a URL as nh3 wrote it (escaped) against ``base_url``; ``None`` if unsafe."""
    if "\t" in value or "\n" in value or "\r" in value:
        value = _URL_JUNK_RE.sub("", value)  # URL parsers drop these anywhere
    value = value.strip(" \f")
    match = _SCHEME_RE.match(value)
    if match is None and base_url and value:
        with contextlib.suppress(ValueError):  # a malformed base or URL: keep it
            value = urljoin(base_url, htmllib.unescape(value)).replace("&", "&amp;")
            value = value.replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
            value = value.replace("\xa0", "&nbsp;")  # as nh3 writes it in attributes
        match = _SCHEME_RE.match(value)
    if not value or (match is not None and match.group(1).lower() not in _URL_SCHEMES):
        return None
    absolute = match is not None and match.group(1).lower() != "mailto"
    if absolute and not ada_url.check_url(htmllib.unescape(value)):
        return None  # "https:<p" and the like: nh3 would drop it on a second pass
    return value


def _is_tracker(attrs: dict[str, str], src: str) -> bool:
    """True for a tracking pixel: 0 or 1 pixel wide or high, or a tracker's URL."""
    sizes = (attrs.get("width", "").strip().lower(), attrs.get("height", "").strip().lower())
    src = src.lower()
    return sizes[0] in _PIXEL_SIZES or sizes[1] in _PIXEL_SIZES or any(t in src for t in _TRACKERS)


def _fix_attrs(name: str, attrs: str, base_url: str, fallback: str = "") -> str | None:
    """Rewrite the attributes of a URL-bearing tag; ``None`` drops the element.

    An image without ``src`` takes its lazy ``data-src``, else the first ``srcset``
    candidate, else ``fallback`` (the ``srcset`` of a ``<picture>`` source before it).
    """
    pairs = dict(_ATTR_RE.findall(attrs))
    changed = "data-src" in pairs or "srcset" in pairs
    lazy = pairs.pop("data-src", "")
    srcset = pairs.pop("srcset", "")  # always dropped, even when data-src gives the URL
    lazy = lazy or "".join(srcset.split(",", 1)[0].split()[:1]) or fallback
    if name == "img" and not pairs.get("src") and lazy:
        pairs["src"] = lazy
        changed = True
    for key in _URL_ATTRS[name]:
        value = pairs.get(key)
        if value is not None:
            url = _url(value, base_url)
            if url != value:
                changed = True
                if url is None:
                    del pairs[key]
                else:
                    pairs[key] = url
    src = pairs.get("src")
    if name == "source" and not src:
        return None
    if name == "img" and (not src or _is_tracker(pairs, src)):
        return None
    return " ".join(f'{key}="{value}"' for key, value in pairs.items()) if changed else attrs


_NEVER, _NO_BLOCKS, _ALWAYS = 0, 1, 2  # when to unwrap an element


class _Frame:
    """An open element during the pass."""

    __slots__ = ("block", "full", "kid", "kids", "name", "start", "tag", "text", "unwrap")

    def __init__(self, name: str, tag: str, start: int) -> None:
        self.name = name  # tag name in nh3's output
        self.tag = tag  # tag name written (a mis-nested one becomes "div")
        self.start = start  # index of the start tag in the output list
        self.full = False  # has text, media or a non-empty child
        self.text = False  # has non-blank text of its own
        self.kids = 0  # element children kept
        self.kid = ""  # tag of the last element child kept
        self.block = False  # has a block child
        self.unwrap = _NEVER  # when to drop the tags but keep the content


class _Pass:
    """One pass over nh3's output: a stack of open elements and a list of output pieces."""

    __slots__ = ("base", "fresh", "links", "out", "picture", "pre", "slots", "spaced", "stack")

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.out: list[str] = []
        self.stack = [_Frame("", "", -1)]
        self.slots: list[int] = []  # output text pieces since the last boundary
        self.fresh = True  # only white space since the last boundary
        self.spaced = True  # the last character written was a space
        self.pre = 0  # open <pre> elements
        self.links = 0  # open <a> elements
        self.picture: tuple[str, int] | None = None  # first srcset URL and where it was

    def run(self, html: str) -> str:
        """Transform one nh3 serialisation and return the cleaned HTML."""
        text, start, end = self.text, self.open, self.close
        pieces = html.split("<")
        if pieces[0]:
            text(pieces[0])
        for piece in pieces[1:]:
            tag, closed, rest = piece.partition(">")
            if not closed:  # nh3 escapes every "<" of text; defensive
                text("&lt;" + piece)
            elif tag[0] == "/":
                end(tag[1:])
            else:
                name, _, attrs = tag.partition(" ")
                start(name, attrs)
            if rest:
                text(rest)
        while len(self.stack) > 1:
            end(self.stack[-1].name)
        self.boundary()
        out = "".join(self.out)
        if "<br><br><br>" in out:  # unwrapping may have brought line breaks together
            out = _BR_RUN_RE.sub("<br><br>", out)
        if "\n" in out or "\r" in out:
            out = out.replace("\r", "&#13;").replace("\n", "&#10;")
        return out

    def boundary(self) -> None:
        """Trim white space on both sides of a block boundary."""
        slots = self.slots
        while slots:
            index = slots.pop()
            self.out[index] = value = self.out[index].rstrip(_JS_SPACE)
            if value:
                slots.clear()
        self.fresh = self.spaced = True

    def text(self, value: str) -> None:
        """Add a text piece, collapsing and trimming white space outside ``<pre>``."""
        if "&nbsp;" in value:
            value = value.replace("&nbsp;", "\xa0")
        if not self.pre:
            if "  " in value or "\t" in value or "\n" in value or "\r" in value:
                value = _SPACE_RE.sub(" ", value)
            if self.fresh:
                value = value.lstrip(_JS_SPACE)
            elif self.spaced and value.startswith(" "):
                value = value[1:]
            if not value:
                return
            self.slots.append(len(self.out))
            self.fresh = False
            self.spaced = value.endswith(" ")
        self.out.append(value)
        frame = self.stack[-1]
        if not frame.text and value.strip(_JS_SPACE):
            frame.full = frame.text = True

    def open(self, name: str, attrs: str) -> None:
        """Handle a start tag."""
        parent = self.stack[-1]
        if name == "source" and parent.tag not in _PLAYERS:  # of an unwrapped <picture>
            srcset = dict(_ATTR_RE.findall(attrs)).get("srcset", "")
            if not self.picture or self.picture[1] != len(self.out):
                self.picture = ("".join(srcset.split(",", 1)[0].split()[:1]), len(self.out))
            return
        if name in _URL_ATTRS:
            picture = self.picture
            fallback = picture[0] if picture and picture[1] == len(self.out) else ""
            fixed = _fix_attrs(name, attrs, self.base, fallback)
            if fixed is None:
                return
            attrs = fixed
        tag = "div" if name in _NESTING and self.misnested(name) else name
        if tag in _BOUNDARIES:
            if not self.pre:
                if self.slots:
                    self.boundary()
                self.fresh = self.spaced = True
        elif tag == "img" and not self.pre:
            self.slots.clear()
            self.fresh = self.spaced = False
        self.out.append(f"<{tag} {attrs}>" if attrs else f"<{tag}>")
        if tag in _VOIDS:
            parent.full = True
            parent.kids += 1
            parent.kid = tag
            return
        frame = _Frame(name, tag, len(self.out) - 1)
        if name == "a":
            frame.unwrap = _NEVER if 'href="' in attrs else _NO_BLOCKS
            if self.links:
                for other in self.stack:
                    if other.name == "a":  # HTML5 never nests links: keep the inner one
                        other.unwrap = _ALWAYS
            self.links += 1
        elif name in _PLAYERS:
            frame.full = 'src="' in attrs
        elif name == "pre":
            self.pre += 1
        if len(self.stack) > MAX_DEPTH:  # what a parser made deeper than the input's bound
            frame.unwrap = _ALWAYS
        self.stack.append(frame)

    def misnested(self, name: str) -> bool:
        """True for a heading, li or dd/dt an HTML5 parser would move out of its parent."""
        if name in _HEADINGS:
            return any(frame.tag in _HEADINGS for frame in self.stack)
        family = ("li",) if name == "li" else ("dd", "dt")
        for frame in reversed(self.stack):
            if frame.tag in family or frame.tag in _SPECIAL:
                return frame.tag in family
        return False

    def close(self, name: str) -> None:
        """Handle an end tag: drop, unwrap or keep the element."""
        stack = self.stack
        if stack[-1].name != name:  # nh3 writes balanced tags; defensive
            if not any(frame.name == name for frame in stack[1:]):
                return
            while stack[-1].name != name:
                self.close(stack[-1].name)
        frame = stack.pop()
        parent, tag = stack[-1], frame.tag
        if name == "a":
            self.links -= 1
        elif tag in _BOUNDARIES:
            if name == "pre":
                self.pre -= 1
                self.strip_pre_newline(frame.start)
            if not self.pre:
                if self.slots:
                    self.boundary()
                self.fresh = self.spaced = True
        if frame.full:
            parent.full = True
            unwrap = frame.unwrap
        elif tag in _BLOCKS and tag != "td" and tag != "th":
            del self.out[frame.start :]
            return
        else:
            unwrap = _NEVER if tag in _BLOCKS else _ALWAYS
        if (
            unwrap == _ALWAYS
            or (unwrap == _NO_BLOCKS and not frame.block)
            or (tag == "div" and self.lone_div(frame))
        ):
            self.out[frame.start] = ""
            if frame.kids:
                parent.kids += frame.kids
                parent.kid = frame.kid
            parent.text = parent.text or frame.text
            parent.block = parent.block or frame.block
            return
        self.out.append(f"</{tag}>")
        parent.kids += 1
        parent.kid = tag
        if tag in _BLOCKS:
            parent.block = True

    def lone_div(self, frame: _Frame) -> bool:
        """True for a ``<div>`` whose only content is one block its parent can take."""
        return (
            frame.kids == 1
            and not frame.text
            and frame.kid in _MOVABLE
            and self.stack[-1].tag in _FLOW
        )

    def strip_pre_newline(self, start: int) -> None:
        """Drop newlines that open a ``<pre>``: an HTML5 parser would eat the first."""
        out = self.out
        first = next((i for i in range(start + 1, len(out)) if out[i]), 0)
        if first and out[first][0] != "<":
            out[first] = out[first].lstrip("\n")
