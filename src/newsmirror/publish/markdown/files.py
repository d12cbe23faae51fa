"""The duty-machine/news markdown archive's article files: read and write them byte for byte.

newsmirror writes an article file (``articles/<slug>/<id>.md``) as the script did from
2021 on::

    <!--1681038902000-->
    [title](https://www.rfi.fr/cn/...)
    ------

    <div>...</div><p>...</p>

Line 1 is the publication time in epoch milliseconds; line 2 the title stripped of
JavaScript white space and the link as Node's ``new URL(link).href``; line 5 the content
HTML with every source line stripped and the lines joined with nothing.

The script family wrote other layouts before, and an imported file is kept as it was
(:class:`FileForm` records how it differs):

- 2020 files kept their title unstripped: trailing blanks, and newlines, so that the
  title "line" may span several lines (``[...回应\\n\\n](url)``);
- China Digital Times' own archive (before it moved into duty-machine/news) had no epoch
  line and a ``日期：<pubDate>`` line after the hyphens; the same files were later given an
  epoch line in front, the date line kept.

:func:`parse_article` reads any of them; :func:`render_kept` writes the same bytes back.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from newsmirror.clean.article import js_strip, strip_join
from newsmirror.errors import ArchiveFormatError
from newsmirror.limits import without_controls
from newsmirror.urls import web_href

_DATE_MARK = "日期："
_FILE_NAME = re.compile(r"\A(\d+)(?:_.*)?\.md\Z", re.S)


@dataclass(frozen=True)
class FileForm:
    """How an article file lays out its fields, where it differs from newsmirror's own
    layout (the default: every field as :func:`render_article` writes it)."""

    epoch: bool = True  # line 1 is ``<!--<epoch ms>-->``
    date_line: str | None = None  # the text of a ``日期：...`` line after the hyphens
    final_newline: bool = True  # the file ends with a line ending
    newline: str = "\n"  # its line endings: "\n", or "\r\n" (a Windows checkout's)
    bom: bool = False  # it starts with a byte order mark

    def encode(self) -> str:
        """A short JSON text for the store (line endings and BOM only when they differ)."""
        data: dict[str, object] = {
            "epoch": self.epoch, "date": self.date_line, "eol": self.final_newline
        }  # fmt: skip
        if self.newline != "\n":
            data["newline"] = self.newline
        if self.bom:
            data["bom"] = True
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def decode(cls, text: str) -> FileForm:
        """The form :meth:`encode` wrote; ArchiveFormatError when it is not one."""
        try:
            data = json.loads(text)
            date, newline = data["date"], data.get("newline", "\n")
            if not isinstance(date, str | None) or newline not in ("\n", "\r\n"):
                raise TypeError("date or newline")
            return cls(bool(data["epoch"]), date, bool(data["eol"]), newline, bool(data.get("bom")))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ArchiveFormatError(f"not a file form: {text[:60]!r}") from exc


@dataclass(frozen=True)
class ArchivedArticle:
    """The fields of an article file, each exactly as written."""

    published_ms: int | None  # line 1 (None: no epoch line; see ``date_ms``)
    title: str  # between ``[`` and the last ``](`` of the title line(s), unstripped
    link: str  # inside the parentheses
    html: str  # the content: everything after the empty line but the final newline
    form: FileForm = FileForm()  # how the file lays these out

    @property
    def date_ms(self) -> int | None:
        """The publication time: line 1's, else the ``日期：`` line's when it is a date."""
        if self.published_ms is not None:
            return self.published_ms
        return date_line_ms(self.form.date_line or "")


def render_article(published_ms: int, title: str, link: str, html: str) -> str:
    """The article file exactly as the original script wrote it, except that a link that
    is not an http(s) URL (``javascript:``...: see :func:`~newsmirror.urls.web_href`) is
    left out (``[title]()``, as for an article without a link) and the title holds no
    control character (:func:`~newsmirror.limits.without_controls`: none that an RSS or
    Atom feed can carry, so no file the original wrote differs)."""
    title, href = defused(js_strip(without_controls(title))), web_href(link)
    return f"<!--{published_ms}-->\n[{title}]({href})\n------\n\n{strip_join(html)}\n"


_LINK_OPENING = re.compile(r"\]\(")
_SCRIPT_SCHEME = re.compile(r"[\x00-\x20<]*(?:java|vb)script:", re.I)


def defused(title: str) -> str:
    """A title that cannot make line 2 a link that runs script: where ``](`` in it is
    followed by a ``javascript:`` or ``vbscript:`` destination (as a markdown renderer
    and a browser would read it: case, blanks, tabs and line breaks inside), that
    scheme's colon is written as a full-width "：". Any other title is left as it is."""
    if "](" not in title:
        return title
    chars = list(title)
    for opening in _LINK_OPENING.finditer(title):
        rest = title[opening.end() :]
        squeezed = re.sub("[\t\n\r]", "", rest)
        found = _SCRIPT_SCHEME.match(squeezed)
        if found is None:
            continue
        colon = opening.end() + rest.index(":")  # the first colon is the scheme's
        chars[colon] = "："
    return "".join(chars)


def render_kept(article: ArchivedArticle) -> str:
    """An imported file's bytes again: its own layout, every field as it was written."""
    form, nl = article.form, article.form.newline
    bom = "\ufeff" if form.bom else ""
    head = f"<!--{article.published_ms}-->{nl}" if form.epoch else ""
    date = f"{_DATE_MARK}{form.date_line}{nl}" if form.date_line is not None else ""
    end = nl if form.final_newline else ""
    rule = f"{nl}------{nl}"
    return f"{bom}{head}[{article.title}]({article.link}){rule}{date}{nl}{article.html}{end}"


def parse_article(text: str) -> ArchivedArticle:
    """Read an article file of any layout the script family wrote (with its line endings
    as a Windows checkout may have made them, and a byte order mark an editor may have
    put first).

    ArchiveFormatError, naming the line and what was expected there, when it is none.
    """
    bom = text.startswith("\ufeff")
    text = text.removeprefix("\ufeff")
    first = text.find("\n")
    nl = "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"
    at, published_ms = 0, None
    epoch = re.match(r"<!--(\d{1,16})-->" + nl, text)
    if epoch is not None:
        published_ms, at = int(epoch.group(1)), epoch.end()
    elif not text.startswith("["):
        raise ArchiveFormatError("line 1: expected <!--<epoch ms>--> or [title](link)")
    if not text.startswith("[", at):
        raise ArchiveFormatError(f"line {_line(text, at)}: expected [title](link)")
    rule = text.find(f"{nl}------{nl}", at)
    if rule < 0:
        raise ArchiveFormatError(
            f"line {_line(text, at) + 1}: expected a '------' line after the title"
        )
    title, sep, link = text[at + 1 : rule].rpartition("](")
    if not sep or not link.endswith(")") or "\n" in link or "\r" in link:
        raise ArchiveFormatError(f"line {_line(text, rule)}: expected [title](link)")
    at = rule + len(nl) * 2 + len("------")
    date_line = None
    if text.startswith(_DATE_MARK, at):
        end = text.find(nl, at)
        if end < 0:
            raise ArchiveFormatError(f"line {_line(text, at)}: the file ends after the date")
        date_line, at = text[at + len(_DATE_MARK) : end], end + len(nl)
    elif epoch is None:
        raise ArchiveFormatError(
            f"line {_line(text, at)}: expected 日期：<date> (a file without an epoch line "
            "has its date there)"
        )
    if not text.startswith(nl, at):
        ends = "the file ends here; " if at >= len(text) else ""
        raise ArchiveFormatError(f"line {_line(text, at)}: {ends}expected an empty line")
    body = text[at + len(nl) :]
    final_newline = body.endswith(nl)
    form = FileForm(epoch is not None, date_line, final_newline, nl, bom)
    html = body[: -len(nl)] if final_newline else body
    return ArchivedArticle(published_ms, title, link[:-1], html, form)


def is_own_layout(article: ArchivedArticle) -> bool:
    """Whether :func:`render_article` writes the file back byte for byte (newsmirror's
    own layout, and the fields already as it normalises them)."""
    if article.form != FileForm() or article.published_ms is None:
        return False
    try:
        again = render_article(article.published_ms, article.title, article.link, article.html)
    except ArchiveFormatError:
        return False
    return again == render_kept(article)


def date_line_ms(text: str) -> int | None:
    """Epoch milliseconds of a ``日期：`` line's date (RFC 822, as rss-parser kept the
    feed's pubDate), None when it is not one."""
    try:
        when = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None or not 1970 <= when.year <= 9000:
        return None
    return int(when.timestamp() * 1000)


def archive_id_of(file_name: str) -> int | None:
    """The id of an article file name (``123.md`` or ``123_title.md``), None otherwise."""
    match = _FILE_NAME.match(file_name)
    return int(match.group(1)) if match else None


def title_of_file_name(file_name: str) -> str | None:
    """The title part of a ``<id>_<title>.md`` name (as the 2020 lists took it), None for
    a name without one."""
    match = re.match(r"\A\d+_(.+)\.md\Z", file_name, re.S)
    return match.group(1) if match else None


def _line(text: str, at: int) -> int:
    """The 1-based line number of position ``at``."""
    return text.count("\n", 0, at) + 1
