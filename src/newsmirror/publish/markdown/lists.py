"""The markdown archive's list files and README, in each dialect the script family wrote.

``lists/<name>.md`` holds a source's newest articles, one entry each, newest first::

    德国之声
    ------

    9-25 [CK母公司PVH集團抵制新疆棉遭中國調查](/articles/dw/1024206.md)

    9-24 [民调：亚太裔选民青睐哈里斯胜过特朗普](/articles/dw/1024207.md)

Dialects (:data:`LIST_STYLES`):

- ``current`` (2021 on): up to 300 entries, ``M-D [title](/articles/<folder>/<file>)``,
  the title as the file's line 2 has it (no date for a file without an epoch line), the
  file ending with an empty line;
- ``2020``: up to 100 entries whose title is taken from the file name
  (``<id>_<title>.md``, where the script had turned ``/`` into ``--``), the list ending
  with ``[查看更多](/articles/<folder>)`` and no final newline;
- ``2020-undated``: the same without the ``M-D`` dates (the first 2020 lists).

China Digital Times' own archive had no lists: its ``README.md`` listed the feed's items
(``[title](articles/<id>_<title>.md)``, links percent-encoded as Node's
``querystring.escape`` does, ending with ``[查看更多](articles)``); that README is
continued the same way (dialect ``cdt-readme``).

An imported list keeps its bytes: :func:`parse_list` reads it into its entries, and
:func:`continue_list` puts new entries in front (or an edited article's in its place) and
drops the oldest past the dialect's size, every other byte kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from newsmirror.clean.article import js_strip
from newsmirror.limits import without_controls
from newsmirror.publish.markdown.files import title_of_file_name

ListStyle = Literal["current", "2020", "2020-undated", "cdt-readme"]
#: The dialects a list file may be written in (``cdt-readme`` is a README's).
LIST_STYLES: tuple[str, ...] = ("current", "2020", "2020-undated")
#: Entries a 2020 list holds.
SIZE_2020 = 100
MORE = "查看更多"
README_TITLE = "抓取新闻媒体文章"

#: Characters Node's legacy url.resolve() percent-encodes in list links.
_NODE_ESCAPE = {c: f"%{ord(c):02X}" for c in "\t\n\r \"'<>\\^`{|}"}
_DATE = re.compile(r"\d{1,2}-\d{1,2} ")
_MORE_FOOTER = re.compile(r"\n\n\[查看更多\]\((/?articles[^()\n]*)\)\Z")


@dataclass(frozen=True)
class ListItem:
    """What a list entry is made of, for one article."""

    path: str  # the article file, relative ("articles/rfi/1048574.md")
    title: str  # the title as the file's line 2 has it (unstripped in a kept file)
    date: str  # "M-D" in the list's timezone; "" for a file without an epoch line


@dataclass(frozen=True)
class ListFile:
    """A list (or an article-listing README) read back into its parts."""

    style: ListStyle  # the dialect it is written in
    header: str  # everything before the first entry
    entries: tuple[str, ...]  # each entry's text, its final newline included
    links: tuple[str, ...]  # each entry's link, as written
    footer: str  # everything after the last entry
    newline: str = "\n"  # its line endings ("\r\n" from a Windows checkout); the parts
    # above have "\n"

    def text(self) -> str:
        """The file's text: header, entries with an empty line between, footer."""
        return self.rejoin(self.entries)

    def rejoin(self, entries: Sequence[str]) -> str:
        """The file with these entries in place of its own."""
        text = self.header + "\n".join(entries) + self.footer
        return text.replace("\n", self.newline) if self.newline != "\n" else text


def list_link(path: str) -> str:
    """The list's link to an article path, as Node's ``url.resolve('', path)`` made it."""
    rest = path.removeprefix("articles/")
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    rest = rest[:cut].replace("\\", "/") + rest[cut:]
    return "/articles/" + _escape(rest)


def readme_link(path: str) -> str:
    """A CDT README's link to an article path: each part as ``querystring.escape``."""
    parts = path.removeprefix("articles/").split("/")
    return "articles/" + "/".join(quote(p, safe="!*'()") for p in parts)


def _escape(text: str) -> str:
    """Node's url.resolve escaping (spaces and quotes) for a piece of a link."""
    return "".join(_NODE_ESCAPE.get(c, c) for c in text)


def list_title(title: str) -> str:
    """The title a list shows for a file's line-2 title: the script matched the file
    against ``\\[([\\s\\S]*?)\\]\\(`` (up to the first ``](``) and stripped it."""
    return js_strip(title.split("](", 1)[0])


def entry(style: ListStyle, item: ListItem) -> str:
    """One entry's text in a dialect, its final newline included."""
    if style == "cdt-readme":
        return f"[{without_controls(item.title)}]({readme_link(item.path)})\n"
    title = list_title(without_controls(item.title))
    if style != "current":
        from_name = title_of_file_name(item.path.rsplit("/", 1)[-1])
        title = js_strip(from_name) if from_name is not None else title
    date = f"{item.date} " if item.date and style != "2020-undated" else ""
    return f"{date}[{title}]({list_link(item.path)})\n"


def render_list(
    name: str, items: Sequence[ListItem], style: ListStyle = "current", folder: str = ""
) -> str:
    """A whole list file of ``items`` (newest first) in a dialect; a 2020 list's "more"
    link goes to ``articles/<folder>`` (the source's display name by default)."""
    body = "\n".join(entry(style, item) for item in items)
    if style == "current":
        return f"{name}\n------\n\n{body}\n"
    return f"{name}\n------\n\n{body}\n\n[{MORE}](/articles/{folder or name})"


def list_size(style: ListStyle, setting: int) -> int:
    """How many entries a list of this dialect holds (``list_size`` is the current's)."""
    return setting if style == "current" else SIZE_2020


def _lines(text: str) -> tuple[str, str] | None:
    """The text with "\n" line endings and the ending it had; None for mixed ones."""
    if "\r" not in text:
        return text, "\n"
    plain = text.replace("\r\n", "\n")
    return None if "\r" in plain or plain.count("\n") != text.count("\r\n") else (plain, "\r\n")


def parse_list(original: str) -> ListFile | None:
    """A list file's parts and dialect, None when it is in no dialect newsmirror writes
    (such a file is kept as it is and never rewritten)."""
    lines = _lines(original)
    if lines is None:
        return None
    text, newline = lines
    start = text.find("\n------\n\n")
    if start < 0 or "\n" in text[:start]:
        return None
    found = _entries(text, start + len("\n------\n\n"), "/articles/")
    if found is None:
        return None
    entries, links, footer = found
    if footer == "\n":
        style: ListStyle = "current"
    elif _MORE_FOOTER.fullmatch(footer):
        dated = any(_DATE.match(e) for e in entries)
        style = "2020" if dated or not entries else "2020-undated"
    else:
        return None
    header = text[: start + len("\n------\n\n")]
    parsed = ListFile(style, header, entries, links, footer, newline)
    return parsed if parsed.text() == original else None


def parse_cdt_readme(original: str) -> ListFile | None:
    """China Digital Times' own README (its feed's items), None when it is not one."""
    lines = _lines(original)
    if lines is None:
        return None
    text, newline = lines
    first = text.find("](articles/")
    if first < 0:
        return None
    start = text.rfind("\n", 0, first) + 1
    found = _entries(text, start, "articles/")
    if found is None or not found[0]:
        return None
    entries, links, footer = found
    if not _MORE_FOOTER.fullmatch(footer):
        return None
    parsed = ListFile("cdt-readme", text[:start], entries, links, footer, newline)
    return parsed if parsed.text() == original else None


def continue_list(listed: ListFile, fresh: Sequence[tuple[str, str]], size: int) -> str:
    """The list with ``fresh`` entries (text, link), newest first: one whose link the list
    has takes that entry's place, the others go in front; then the oldest entries past
    ``size`` are dropped. With nothing fresh (and no more entries than ``size``), the
    list's own bytes."""
    if not fresh and len(listed.entries) <= size:
        return listed.text()
    at = {link: i for i, link in enumerate(listed.links)}
    entries = list(listed.entries)
    ahead = []
    for text, link in fresh:
        if link in at:
            entries[at[link]] = text
        else:
            ahead.append(text)
    return listed.rejoin((ahead + entries)[:size])


def render_readme(names: Sequence[str]) -> str:
    """newsmirror's own README.md: a link to every list."""
    links = "".join(f"[{name}](lists/{_escape(name)}.md)\n\n" for name in names)
    return f"{README_TITLE}\n------\n\n{links}由 newsmirror 生成。\n"


def _entries(
    text: str, at: int, prefix: str
) -> tuple[tuple[str, ...], tuple[str, ...], str] | None:
    """The entries from ``at`` on (each ``[M-D ][title](<prefix>....md)\\n``, an empty
    line between two), their links, and the rest of the text; None when ``at`` does not
    start an entry or a footer."""
    entries: list[str] = []
    links: list[str] = []
    pos = at
    while True:
        found = _entry_at(text, pos, prefix)
        if found is None:
            break
        end, link = found
        entries.append(text[pos:end])
        links.append(link)
        if not text.startswith("\n", end) or _entry_at(text, end + 1, prefix) is None:
            pos = end
            break
        pos = end + 1
    if not entries:
        return (), (), text[at:]
    return tuple(entries), tuple(links), text[pos:]


def _entry_at(text: str, pos: int, prefix: str) -> tuple[int, str] | None:
    """Where the entry starting at ``pos`` ends (after its newline) and its link."""
    date = _DATE.match(text, pos)
    start = date.end() if date else pos
    if not text.startswith("[", start):
        return None
    middle = text.find("](" + prefix, start)
    if middle < 0:
        return None
    close = text.find(".md)\n", middle)
    if close < 0 or "\n" in text[middle:close] or ".md)\n" in text[start:middle]:
        return None
    return close + len(".md)\n"), text[middle + 2 : close + 3]
