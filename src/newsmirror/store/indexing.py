"""What the search index holds of a version (pure): :func:`document` turns a version
into the index's tokens (with :mod:`newsmirror.search`), :func:`search_key` gives the
index's key of an article. Every backend's index holds these."""

from __future__ import annotations

from typing import NamedTuple

from newsmirror.clean.article import index_text, shown_title
from newsmirror.search import query as searchlib


class Document(NamedTuple):
    """What the two indexes hold of one version."""

    body: str  # chunk tokens of the text
    title: str  # chunk tokens of the title
    chars: str  # its distinct characters


def search_key(published_ms: int) -> int:
    """The index rowid an article wants: its publication second (the next free one when
    another article has it). Publication order makes newest-first the index's own order;
    seconds keep the gaps between neighbours small, and FTS5 stores every posting's rowid
    as a varint of that gap (milliseconds would cost two more bytes per term and article)."""
    return max(published_ms, 0) // 1000


def document(title: str, clean_html: str) -> Document:
    """The index's tokens of a version's title (as shown: :func:`shown_title`) and clean
    HTML."""
    return Document(*searchlib.index_document(shown_title(title), index_text(clean_html)))
