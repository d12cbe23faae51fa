"""Markup bounded before an HTML parser reads it, so that parsing stays linear (pure).

HTML parsers do work for each tag in proportion to how deep it stands (html5ever, behind
nh3, looks down the stack of open elements for a ``<p>`` to close at every block, for the
element an end tag closes...) and for each attribute in proportion to how many came
before it on its tag (html5ever and libxml2 both look for a repeated name). A page of
100,000 nested ``<div>`` or one tag of 200,000 attributes costs minutes that way; no real
page comes near :data:`MAX_DEPTH` or :data:`MAX_ATTRIBUTES`. :func:`bound` cuts what goes
past them in one pass, with the standard's tokenizer rules (quoted values, comments,
raw-text elements) and a model of its tree builder that errs towards deeper: tags past
the depth are dropped (their content is kept, one level up), attributes past the count
are dropped. Markup within the bounds is returned as it is, the same string.
"""

from __future__ import annotations

import re

from newsmirror.clean.tags import _COMMENT_END_RE, _RAW_TEXT, _RAW_TEXT_END

#: Elements open at once at most (Chromium's parser stops nesting at 512).
MAX_DEPTH = 512
#: Attributes of one tag at most.
MAX_ATTRIBUTES = 256


def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


#: A tag at "<": end tag mark, name, attributes (the standard's rules: a quote opens a
#: value only after "="), and its ">" (or the end of the document, inside the tag).
_TAG_RE = re.compile(
    r"<(/?)([A-Za-z][^\t\n\f\r />]*)"
    r"((?:[\t\n\f\r /]++|[^\t\n\f\r />][^\t\n\f\r />=]*+"
    r"(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:\"[^\"]*+\"|'[^']*+'|[^\t\n\f\r >]*+))?+)*+)(>|\Z)"
)
_ATTR_RE = re.compile(
    r"[^\t\n\f\r />][^\t\n\f\r />=]*+"
    r"(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:\"[^\"]*+\"|'[^']*+'|[^\t\n\f\r >]*+))?+"
)
#: A tag with more than MAX_ATTRIBUTES attributes (an end tag's are read too).
_MANY_RE = re.compile(
    rf"</?[A-Za-z][^\t\n\f\r />]*+(?:[\t\n\f\r /]*+{_ATTR_RE.pattern}){{{MAX_ATTRIBUTES + 1}}}"
)
_MARKUP_RE = re.compile(r"<(?:/?[A-Za-z]|!|\?|/)")

_VOID = _names(
    "area base basefont bgsound br col embed frame hr image img input keygen link meta "
    "param source track wbr"
)
#: Kept in the list of active formatting elements and opened again after an element that
#: closed them: only their own end tag (or another ``<a>``, ``<nobr>``) ends them.
_FORMATTING = _names("a b big code em font i nobr s small strike strong tt u")
#: The standard's "special" elements: an end tag of another element stops at them.
_SPECIAL = _names(
    "address applet area article aside base basefont bgsound blockquote body br button "
    "caption center col colgroup dd details dir div dl dt embed fieldset figcaption figure "
    "footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html iframe img "
    "input keygen li link listing main marquee menu meta nav noembed noframes noscript "
    "object ol p param plaintext pre script search section select source style summary "
    "table tbody td template textarea tfoot th thead title tr track ul wbr xmp mi mo mn ms "
    "mtext annotation-xml foreignobject desc"
)
#: Where the search for an open li, dd or dt to close stops.
_LISTING = _SPECIAL - {"address", "div", "p"}
#: Elements an end tag of a special element, or a ``<p>`` to close, is not looked for
#: past (the standard's scopes, all of them at once: the model closes less, never more).
_SCOPE = _names(
    "applet caption html table td th marquee object template button ol ul select svg math "
    "foreignobject desc title mi mo mn ms mtext annotation-xml"
)
_TABLE_SCOPE = frozenset({"html", "table", "template"})
_BARRIERS = (_SPECIAL, _LISTING, _SCOPE, _TABLE_SCOPE)
_CLOSES_P = _names(
    "address article aside blockquote center details dialog dir div dl fieldset figcaption "
    "figure footer header hgroup main menu nav ol p search section summary ul h1 h2 h3 h4 "
    "h5 h6 pre listing form plaintext table hr xmp li dd dt"
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_TABLE_PARTS = frozenset({"tr", "td", "th", "tbody", "thead", "tfoot", "table", "caption"})
#: What a start tag of a table's part closes (within the table).
_ROW_PARTS = {"td": ("td", "th"), "th": ("td", "th"), "tr": ("tr",)}
_ROW_PARTS |= {name: ("tbody", "thead", "tfoot") for name in ("tbody", "thead", "tfoot")}
_IGNORED = frozenset({"html", "head", "body"})  # a fragment's parser ignores them
#: Formatting elements active at once at most: each is opened again in every paragraph
#: that follows (so they multiply the document), and no page holds this many.
MAX_FORMATTING = 32


class _Model:
    """The open elements as a parser would have them, or more (a parser's tree is never
    deeper than a small multiple of the model's)."""

    __slots__ = ("active", "at", "barriers", "dropped", "formatting", "stack")

    def __init__(self) -> None:
        self.stack: list[str] = []  # open elements, formatting ones aside
        self.at: dict[str, list[int]] = {}  # where each name is open in the stack
        self.barriers: tuple[list[int], ...] = tuple([] for _ in _BARRIERS)  # where each is
        self.active: dict[str, int] = {}  # formatting elements open (or to be reopened)
        self.formatting = 0  # their sum
        self.dropped: dict[str, int] = {}  # start tags dropped whose end tags are to come

    def close(self, name: str, barrier: int) -> None:
        """Close the nearest open ``name`` unless an element of ``_BARRIERS[barrier]``
        stands above it, and all above it."""
        found = self.at.get(name)
        if not found:
            return
        index = found[-1]
        bounds = self.barriers[barrier]
        if bounds and index < bounds[-1]:
            return
        stack, at = self.stack, self.at
        while len(stack) > index:
            top = stack.pop()
            at[top].pop()
            for kind, where in zip(_BARRIERS, self.barriers, strict=True):
                if top in kind:
                    where.pop()

    def start(self, name: str) -> bool:
        """A start tag: what it closes, then whether it may open (False: drop it)."""
        self.implied(name)
        if name in _VOID or name in _IGNORED:
            return True
        if name in _FORMATTING:
            if self.formatting >= MAX_FORMATTING or len(self.stack) >= MAX_DEPTH:
                return self.drop(name)
            self.active[name] = self.active.get(name, 0) + 1
            self.formatting += 1
            return True
        if len(self.stack) + self.formatting >= MAX_DEPTH:
            return self.drop(name)
        self.at.setdefault(name, []).append(len(self.stack))
        for kind, where in zip(_BARRIERS, self.barriers, strict=True):
            if name in kind:
                where.append(len(self.stack))
        self.stack.append(name)
        return True

    def implied(self, name: str) -> None:
        """What a start tag closes before it opens."""
        top = self.stack[-1] if self.stack else ""
        if name in _CLOSES_P:
            self.close("p", 2)
        if name == "li":
            self.close("li", 1)
        elif name in ("dd", "dt"):
            nearest = max(("dd", "dt"), key=lambda n: (self.at.get(n) or [-1])[-1])
            self.close(nearest, 1)
        elif name in _ROW_PARTS:
            for part in _ROW_PARTS[name]:
                self.close(part, 3)
        elif name in ("option", "optgroup") and top == "option":
            self.close("option", 0)
        elif name in _HEADINGS and top in _HEADINGS:
            self.close(top, 0)
        elif name in ("a", "nobr") and self.active.get(name):
            self.active[name] -= 1
            self.formatting -= 1
        elif name == "button":
            self.close("button", 2)

    def drop(self, name: str) -> bool:
        self.dropped[name] = self.dropped.get(name, 0) + 1
        return False

    def end(self, name: str) -> bool:
        """An end tag: whether it stays (False: its start tag was dropped)."""
        if self.dropped.get(name):
            self.dropped[name] -= 1
            return False
        if name in _FORMATTING:
            if self.active.get(name):
                self.active[name] -= 1
                self.formatting -= 1
        elif name not in _IGNORED:
            special = name in _SPECIAL
            self.close(name, 3 if name in _TABLE_PARTS else 2 if special else 0)
        return True


def bound(html: str) -> tuple[str, str]:
    """``html`` with what lies past :data:`MAX_DEPTH` and :data:`MAX_ATTRIBUTES` cut, and
    what was cut ("" when nothing was: then ``html`` itself is returned)."""
    if html.count("<") - html.count("</") <= MAX_DEPTH and not _MANY_RE.search(html):
        return html, ""  # too few start tags to nest that deep, none with that many attributes
    model = _Model()
    pieces: list[str] = []
    kept = pos = tags = attributes = 0
    while (found := _MARKUP_RE.search(html, pos)) is not None:
        lt = found.start()
        tag = _TAG_RE.match(html, lt)
        if tag is None:
            pos = _skip_other(html, lt)
            continue
        pos = tag.end()
        if not tag.group(4):  # the document ends inside the tag: no tag
            break
        name = tag.group(2).lower()
        keep = model.end(name) if tag.group(1) else model.start(name)
        if not keep:
            pieces.append(html[kept:lt])
            kept, tags = pos, tags + (not tag.group(1))  # elements: start tags
        elif len(tag.group(3)) > 2 * MAX_ATTRIBUTES:
            names = _ATTR_RE.findall(tag.group(3), 0)
            if len(names) > MAX_ATTRIBUTES:
                pieces += [html[kept:lt], "<", tag.group(1), tag.group(2), " "]
                pieces += [" ".join(names[:MAX_ATTRIBUTES]), ">"]
                kept, attributes = pos, attributes + len(names) - MAX_ATTRIBUTES
        if name == "plaintext" and not tag.group(1):
            break
        if name in _RAW_TEXT and not tag.group(1):
            end = _RAW_TEXT_END[name].search(html, pos)
            if end is None:
                break
            pos = end.start()
    if not kept:
        return html, ""
    pieces.append(html[kept:])
    return "".join(pieces), _why(tags, attributes)


def _skip_other(html: str, lt: int) -> int:
    """The index after a comment, doctype or bogus comment at ``lt`` (the end of the
    document when it runs to it)."""
    if html.startswith("<!--", lt):
        for abrupt in ("<!-->", "<!--->"):
            if html.startswith(abrupt, lt):
                return lt + len(abrupt)
        close = _COMMENT_END_RE.search(html, lt + 4)
        return close.end() if close else len(html)
    if html.startswith("</>", lt):
        return lt + 3
    gt = html.find(">", lt)
    return gt + 1 if gt >= 0 else len(html)


def _why(elements: int, attributes: int) -> str:
    said = []
    if elements:
        said.append(
            f"{elements} elements nested deeper than {MAX_DEPTH} were unwrapped (their text is"
            " kept)"
        )
    if attributes:
        said.append(f"{attributes} attributes past {MAX_ATTRIBUTES} on a tag were dropped")
    return "the markup was cut: " + " and ".join(said)
