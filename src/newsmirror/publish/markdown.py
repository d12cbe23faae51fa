"""The duty-machine/news markdown archive: read and write it byte for byte.

An article file (``articles/<slug>/<id>.md``)::

    <!--1681038902000-->
    [title](https://www.rfi.fr/cn/...)
    ------

    <div>...</div><p>...</p>

Line 1 is the publication time in epoch milliseconds; line 2 the title stripped of
JavaScript white space and the link as Node's ``new URL(link).href`` (an http(s) link
only); line 5 the content HTML with every source line stripped and the lines joined
with nothing. Lists
(``lists/<name>.md``) hold the newest articles of a source as ``M-D [title](/articles/...)``
lines; ``README.md`` links every list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from newsmirror.clean import js_strip, strip_join
from newsmirror.errors import ArchiveFormatError
from newsmirror.limits import without_controls
from newsmirror.urls import web_href

_HEAD = re.compile(r"\A<!--(\d+)-->\n")
_SEPARATOR = "\n------\n\n"
#: Characters Node's legacy url.resolve() percent-encodes in list links.
_NODE_ESCAPE = {c: f"%{ord(c):02X}" for c in "\t\n\r \"'<>\\^`{|}"}
_FILE_NAME = re.compile(r"\A(\d+)(?:_.*)?\.md\Z", re.S)
README_TITLE = "抓取新闻媒体文章"


@dataclass(frozen=True)
class ArchivedArticle:
    """The four fields of an article file."""

    published_ms: int  # line 1
    title: str  # line 2, inside the brackets
    link: str  # line 2, inside the parentheses
    html: str  # line 5


def render_article(published_ms: int, title: str, link: str, html: str) -> str:
    """The article file exactly as the original script wrote it, except that a link that
    is not an http(s) URL (``javascript:``...: see :func:`~newsmirror.urls.web_href`) is
    left out (``[title]()``, as for an article without a link) and the title holds no
    control character (:func:`~newsmirror.limits.without_controls`: none that an RSS or
    Atom feed can carry, so no file the original wrote differs)."""
    title, href = js_strip(without_controls(title)), web_href(link)
    return f"<!--{published_ms}-->\n[{title}]({href})\n------\n\n{strip_join(html)}\n"


def parse_article(text: str) -> ArchivedArticle:
    """Read an article file; ArchiveFormatError when it is not in the format."""
    head = _HEAD.match(text)
    if head is None:
        raise ArchiveFormatError("line 1 is not <!--<epoch ms>-->")
    end = text.find(_SEPARATOR, head.end())
    if end < 0:
        raise ArchiveFormatError("no '------' line after the title")
    title_line = text[head.end() : end]
    if not (title_line.startswith("[") and title_line.endswith(")") and "](" in title_line):
        raise ArchiveFormatError("line 2 is not [title](link)")
    title, _, link = title_line[1:-1].rpartition("](")
    body = text[end + len(_SEPARATOR) :]
    if not body.endswith("\n") or "\n" in body[:-1]:
        raise ArchiveFormatError("the content is not one line ending the file")
    return ArchivedArticle(int(head.group(1)), title, link, body[:-1])


def archive_id_of(file_name: str) -> int | None:
    """The id of an article file name (``123.md`` or ``123_title.md``), None otherwise."""
    match = _FILE_NAME.match(file_name)
    return int(match.group(1)) if match else None


def list_link(path: str) -> str:
    """The list's link to an article path, as Node's ``url.resolve('', path)`` made it."""
    rest = path.removeprefix("articles/")
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    rest = rest[:cut].replace("\\", "/") + rest[cut:]
    return "/articles/" + _escape(rest)


def _escape(text: str) -> str:
    """Node's url.resolve escaping (spaces and quotes) for a piece of a link."""
    return "".join(_NODE_ESCAPE.get(c, c) for c in text)


def render_list(name: str, lines: list[tuple[str, str, str]]) -> str:
    """A list file from (M-D date, title, path) lines, newest first."""
    items = [
        f"{date} [{js_strip(without_controls(title))}]({list_link(path)})\n"
        for date, title, path in lines
    ]
    return f"{name}\n------\n\n" + "\n".join(items) + "\n"


def render_readme(names: list[str]) -> str:
    """The archive's README.md: a link to every list."""
    links = "".join(f"[{name}](lists/{_escape(name)}.md)\n\n" for name in names)
    return f"{README_TITLE}\n------\n\n{links}由 newsmirror 生成。\n"
