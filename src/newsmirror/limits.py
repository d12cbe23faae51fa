"""Limits on what comes from outside, applied where it enters (pure).

A feed may send a 10 MB title, a NUL, a ``javascript:`` link; an OPML file a 5,000
character title that later becomes a file name. :func:`admitted` bounds a feed item's
short fields as the parser gives it, before anything else looks at it:

- a title of more than :data:`MAX_TITLE` characters is cut (at a character, ending in
  "…"); one author or category of more than :data:`MAX_TERM` is cut, and at most
  :data:`MAX_TERMS` of each are kept;
- a link that is not an absolute http(s) URL (``javascript:``, ``data:``, ``file:``...)
  or is longer than :data:`MAX_LINK` is no link, and a guid longer than :data:`MAX_GUID`
  no guid: the item is then identified as one without them is;
- NUL and the other control characters (tab, line feed and carriage return excepted), DEL,
  lone surrogates and U+FFFE/U+FFFF are removed from title, guid, authors, categories and
  content: no file or page can hold them (no well-formed feed carries them either). C1
  controls (U+0080–U+009F) are kept: real feeds carry them in titles, the original script
  kept them, and they break no file.

Each cut is a note on the entry, which the item log records.

Names that become file names: :func:`file_name` cuts an outside name (an OPML outline's
title) to :data:`NAME_BYTES` bytes, :func:`name_problem` says what is wrong with a
source's name as a list's file name (``lists/<name>.md``), and :data:`SLUG` is what a
source's slug may be (it names folders: ``articles/<slug>/``).
:func:`article_path_problem` checks an article's path given from outside (a JSON Lines
export).
"""

from __future__ import annotations

import re
from dataclasses import replace

from newsmirror.types import Entry
from newsmirror.urls import web_href

#: Characters of a title; a longer one is cut. Real news titles hold tens of characters;
#: a feed that puts a whole post in its titles keeps the first 500.
MAX_TITLE = 500
#: Characters of an item's link; a longer one is no link (no page serves such addresses).
MAX_LINK = 4096
#: Characters of an item's guid; a longer one is no guid.
MAX_GUID = 4096
#: Characters of one author or category; a longer one is cut.
MAX_TERM = 200
#: Authors, and categories, kept of one item.
MAX_TERMS = 100
#: UTF-8 bytes of a name that becomes a file name (a source's ``lists/<name>.md``): well
#: inside the 255 bytes of a file name on every common file system (143 on eCryptfs), and
#: about 33 Chinese characters or 100 latin letters.
NAME_BYTES = 100

#: A source's slug: lower-case ASCII letters, digits, "_" and "-", at most 40.
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")

_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
ELLIPSIS = "…"


def without_controls(text: str) -> str:
    """``text`` without NUL and the other control characters a file or page must not hold
    (tab, line feed and carriage return are kept; see the module docstring)."""
    return _CONTROLS.sub("", text) if _CONTROLS.search(text) else text


def printable(value: object) -> object:
    """A template's value without control characters when it is plain text (jinja2's
    ``finalize``: a title an older version stored, or an import brought, never puts a
    NUL in a page); markup marked safe and other values are left as they are."""
    if type(value) is str and _CONTROLS.search(value):
        return _CONTROLS.sub("", value)
    return value


def cut(text: str, limit: int) -> str:
    """``text`` when it has at most ``limit`` characters, else its start and "…" in
    ``limit`` characters (white space before the "…" dropped)."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def cut_bytes(text: str, limit: int) -> str:
    """The longest start of ``text`` whose UTF-8 form has at most ``limit`` bytes (never
    half a character)."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")


def file_name(name: str, limit: int = NAME_BYTES) -> str:
    """A name cut to ``limit`` UTF-8 bytes at a character, without white space or a dot
    at its end (which some file systems drop or refuse)."""
    return cut_bytes(name, limit).rstrip(" .\t\n\r")


def name_problem(name: str) -> str:
    """What keeps ``name`` from naming a file of its own (``lists/<name>.md``) on every
    common file system, "" when nothing does: empty, a path (a "/" in it, "." or ".."),
    control characters, more than :data:`NAME_BYTES` bytes."""
    if not name.strip():
        return "is empty"
    if "/" in name or name in (".", ".."):
        return "is a path (a '/' in it, or '.' or '..')"
    if _CONTROLS.search(name) or any(c in name for c in "\t\n\r"):
        return "holds control characters"
    size = len(name.encode("utf-8"))
    if size > NAME_BYTES:
        return f"has {size} bytes (UTF-8), more than the {NAME_BYTES} a file name may take"
    return ""


#: An article file's name, as the markdown archive names them (``<id>.md`` or
#: ``<id>_<title>.md``: see :func:`newsmirror.publish.markdown.archive_id_of`).
_ARTICLE_FILE = re.compile(r"\A\d+(?:_.*)?\.md\Z", re.S)
#: Bytes of one file or folder name on the common file systems.
_PART_BYTES = 255


def article_path_problem(path: str) -> str:
    """What keeps ``path`` from being an article file's place in the markdown archive,
    ``articles/<folder>/<id>[_<title>].md`` inside it (or ``articles/<id>_<title>.md``,
    as China Digital Times' own archive had them); "" when nothing does."""
    parts = path.split("/")
    if len(parts) not in (2, 3) or parts[0] != "articles":
        return "is not articles/<folder>/<file>.md"
    if _CONTROLS.search(path):  # a NUL above all (tab and newline: in real titles)
        return "holds control characters"
    if parts[1:-1] in (
        [
            "",
        ],
        ["."],
        [".."],
    ) or not _ARTICLE_FILE.match(parts[-1]):
        return "is not articles/<folder>/<id>.md or <id>_<title>.md"
    if any(len(part.encode("utf-8")) > _PART_BYTES for part in parts):
        return f"has a name of more than {_PART_BYTES} bytes"
    return ""


def admitted(entry: Entry) -> Entry:
    """The entry within the limits (see the module docstring), each cut noted in
    ``notes``; the same entry when nothing had to change."""
    notes: list[str] = []
    title = _title(entry.title, notes)
    raw_link, link = _link(entry.raw_link, entry.link, notes)
    guid = without_controls(entry.guid)
    if len(guid) > MAX_GUID:
        notes.append(f"its guid has {len(guid)} characters, more than {MAX_GUID}: not used")
        guid = ""
    authors = _terms(entry.authors, "authors", notes)
    categories = _terms(entry.categories, "categories", notes)
    content, summary = without_controls(entry.content), without_controls(entry.summary)
    if (content, summary) != (entry.content, entry.summary):
        notes.append("control characters removed from its content")
    values = (title, raw_link, link, guid, authors, categories, content, summary)
    if values == (
        entry.title, entry.raw_link, entry.link, entry.guid, entry.authors, entry.categories,
        entry.content, entry.summary,
    ):  # fmt: skip
        return entry
    return replace(
        entry,
        content=content,
        summary=summary,
        title=title,
        raw_link=raw_link,
        link=link,
        guid=guid,
        authors=authors,
        categories=categories,
        notes=entry.notes + tuple(notes),
    )


def _title(title: str, notes: list[str]) -> str:
    clean = without_controls(title)
    if clean != title:
        notes.append("control characters removed from its title")
    if len(clean) > MAX_TITLE:
        notes.append(f"its title of {len(clean)} characters was cut to {MAX_TITLE}")
        clean = cut(clean, MAX_TITLE)
    return clean


def _link(raw_link: str, link: str, notes: list[str]) -> tuple[str, str]:
    """(raw link, canonical link) kept, or ("", "") for a link that is not used."""
    if not raw_link:
        return "", ""
    if len(raw_link) > MAX_LINK:
        notes.append(f"its link has {len(raw_link)} characters, more than {MAX_LINK}: not used")
        return "", ""
    if not web_href(raw_link):
        notes.append(f"its link is not an http(s) URL ({_scheme(raw_link)}): not used")
        return "", ""
    return raw_link, link


def _scheme(url: str) -> str:
    """What a refused link is, for a message: its scheme, not the rest of it (the item
    log is no place for a script)."""
    scheme, colon, _ = url.partition(":")
    if colon and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-\t\n\r]{0,30}", scheme):
        return re.sub(r"[\t\n\r]", "", scheme).lower() + ":"
    return "relative or invalid"


def _terms(values: tuple[str, ...], what: str, notes: list[str]) -> tuple[str, ...]:
    kept = tuple(
        dict.fromkeys(
            term
            for value in values[:MAX_TERMS]
            if (term := cut(without_controls(value), MAX_TERM).strip())
        )
    )
    if len(values) > MAX_TERMS:
        notes.append(f"{len(values)} {what}, more than {MAX_TERMS}: the first {MAX_TERMS} kept")
    elif kept != values:
        notes.append(f"{what} cut to {MAX_TERM} characters, control characters removed")
    return kept
