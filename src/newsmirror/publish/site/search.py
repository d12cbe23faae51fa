"""Search in the browser, from static files only (works from file:// too).

The site's articles go into ``search/docs-NNNN.js`` shards of ``SHARD`` articles each, in
the order they were stored (new articles only change the last shard): per article its
page, title, date, source and the first ``LEAD`` characters of its text, and (when
folding changes them) the title and lead folded: NFKC, case, traditional → simplified,
one character for one, as ``newsmirror search`` folds them. ``search/index.js`` holds
the number of shards and the fold table for queries. ``search.html`` loads them with
script tags (which file:// allows, where fetch() is refused) and finds every term as a
substring of the folded title and lead, newest shard first: any Chinese word of one
character or more, and latin words in any case. Only the title and lead are searched,
to keep the files small (about 500 bytes an article): the full text is for
``newsmirror search``.
"""

from __future__ import annotations

import html as htmllib
import json

from newsmirror.clean.article import BLOCK_TAG_RE, TAG_RE, sanitise, shown_title
from newsmirror.search.folding import fold_aligned, fold_table
from newsmirror.store.siteviews import Listed

SHARD = 1000  # articles per shard
LEAD = 160  # characters of each article's text searched and shown


def shard_path(number: int) -> str:
    """The file of shard ``number`` (0 first)."""
    return f"search/docs-{number:04d}.js"


def shard_script(number: int, docs: list[dict[str, str]]) -> bytes:
    """A shard as a script that hands its articles to the search page."""
    data = json.dumps(docs, ensure_ascii=False, separators=(",", ":"))
    return f"nmSearch.shard({number},{data});\n".encode()


def lead_of(safe_html: str) -> str:
    """The first ``LEAD`` characters of sanitised HTML's text, white space collapsed:
    what :func:`~newsmirror.clean.html_to_text` gives, in three passes over the start
    of the HTML (blocks become spaces, other tags go, entities are decoded)."""
    head = safe_html[: LEAD * 8]
    if len(head) < len(safe_html) and "<" in head:
        head = head[: head.rindex("<")]  # no tag cut in two
    text = TAG_RE.sub("", BLOCK_TAG_RE.sub(" ", head.replace("<br>", " ")))
    return " ".join(htmllib.unescape(text).split())[:LEAD]


def shard_doc(
    a: Listed, page: str, when: str, source_name: str, lead: str | None = None
) -> dict[str, str]:
    """What a shard holds of one article (keys kept short: p, t, d, s, l, f); ``lead``
    when it is known already."""
    if lead is None:
        lead = lead_of(sanitise(a.text))
    title = shown_title(a.title)
    doc = {"p": page, "t": title, "d": when, "s": source_name, "l": lead}
    folded = fold_aligned(f"{title}\n{lead}")
    if folded != f"{title}\n{lead}":  # most text folds to itself: then it is not repeated
        doc["f"] = folded
    return doc


def index_script(shards: int) -> bytes:
    """The search's index: how many shards, and the fold table (one character for one)."""
    table = {chr(code): folded[0] for code, folded in fold_table().items() if folded}
    data = json.dumps({"shards": shards, "fold": table}, ensure_ascii=False, separators=(",", ":"))
    return f"nmSearch.index({data});\n".encode()
