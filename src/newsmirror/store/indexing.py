"""What the search index holds of a version, and making it for many versions at once.

:func:`document` turns a version into the index's tokens (with :mod:`newsmirror.search`,
pure); :func:`tokenized` does it for a whole archive, in this process or in worker
processes that read the versions from the database themselves, so that the process
writing the index spends its time writing it.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from newsmirror.clean.article import index_text, shown_title
from newsmirror.search import query as searchlib

if TYPE_CHECKING:
    from concurrent.futures import Future


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


_READERS: dict[str, sqlite3.Connection] = {}  # a worker's read-only connection per database


def documents_of(path: str, version_ids: list[int]) -> list[Document]:
    """The documents of these versions, in order, read from the database at ``path`` (a
    worker process's job: it reads what the writer last committed, which a rebuild of
    the index does not change)."""
    db = _READERS.get(path)
    if db is None:
        db = _READERS[path] = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    marks = ", ".join("?" * len(version_ids))
    rows = {
        int(row[0]): (str(row[1]), str(row[2]))
        for row in db.execute(
            f"SELECT id, title, clean_html FROM versions WHERE id IN ({marks})", version_ids
        )
    }
    return [document(*rows[version_id]) for version_id in version_ids]


def tokenized(
    batches: Iterator[list[Any]], workers: int, path: str
) -> Iterator[tuple[list[Any], list[Document]]]:
    """Each batch of rows with the documents of its rows, in order.

    With no ``workers``, rows end with (…, title, clean_html) and are tokenized here;
    else rows end with a version id, and ``workers`` processes (started fresh: no
    inherited connection) read and tokenize them a few batches ahead of the caller.
    """
    if workers < 1:
        for rows in batches:
            yield rows, [document(row[-2], row[-1]) for row in rows]
        return
    from newsmirror.workers import worker_pool  # worker processes: when a rebuild uses them

    with worker_pool(workers, "spawn") as pool:
        pending: deque[tuple[list[Any], Future[list[Document]]]] = deque()
        for rows in batches:
            pending.append((rows, pool.submit(documents_of, path, [r[-1] for r in rows])))
            if len(pending) > 2 * workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
