"""FTS5 insertion floor: what SQLite's FTS5 costs per article for the search index's own
tokens, under each setting that might lower it.

The tokens are the index's (``store.indexing.document``) of N synthetic articles of about
1,500 characters (``bench/search.py``'s, drawn from real sentences of ``tests/data``),
made once and not timed. Each variant then inserts them, in one transaction, into a fresh
contentless FTS5 table shaped as the index's chunk table (body, title, source token;
``tokenize = 'ascii'``; ``hashsize`` 64 MB, as ``reindex`` sets it), and prints the
milliseconds per article and the database size:

- ``index``: the settings the index uses;
- ``detail=column`` and ``detail=none``: no positions, or no columns either (fewer bytes
  a token; phrase queries would need another way to check adjacency);
- ``columnsize=0``: no per-document sizes;
- ``automerge=0`` + ``optimize``: no merging while loading, one merge at the end.

It is one process on one core: ``reindex`` runs this insertion in its main process while
workers tokenize, so the rate it can reach is at most 1,000 / (the ``index`` figure) per
second, less the second (character) table and the document rows.
Not a test: run ``python bench/fts_insert.py [--articles N]``.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from newsmirror.store.indexing import Document, document
from search import articles, pool

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
HASHSIZE = 64 * 1024 * 1024
VARIANTS = {
    "index": ("", []),
    "detail=column": (", detail=column", []),
    "detail=none": (", detail=none", []),
    "columnsize=0": (", columnsize=0", []),
    "automerge=0 + optimize": ("", ["automerge"]),
}


def insert(documents: list[Document], path: Path, options: str, steps: list[str]) -> float:
    """Seconds to insert every document into a new table at ``path`` (and optimize)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA page_size = 8192")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute(
        "CREATE VIRTUAL TABLE t USING fts5 "
        f"(body, title, src, content = '', tokenize = 'ascii'{options})"
    )
    db.execute(f"INSERT INTO t (t, rank) VALUES ('hashsize', {HASHSIZE})")
    if "automerge" in steps:
        db.execute("INSERT INTO t (t, rank) VALUES ('automerge', 0)")
    started = time.perf_counter()
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO t (rowid, body, title, src) VALUES (?, ?, ?, 's1')",
        ((i, d.body, d.title) for i, d in enumerate(documents, 1)),
    )
    db.execute("COMMIT")
    if "automerge" in steps:
        db.execute("INSERT INTO t (t) VALUES ('optimize')")
    took = time.perf_counter() - started
    db.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000, help="how many articles")
    n = parser.parse_args().articles
    started = time.perf_counter()
    documents = [document(title, f"<p>{text}</p>") for title, text in articles(n, pool(DATA))]
    tokens = sum(len(d.body.split()) for d in documents) / n
    print(
        f"{n} articles tokenized in {time.perf_counter() - started:.1f} s "
        f"(not timed below): {tokens:.0f} body tokens an article"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name, (options, steps) in VARIANTS.items():
            path = Path(tmp) / f"{len(list(Path(tmp).iterdir()))}.db"
            took = insert(documents, path, options, steps)
            size = sum(p.stat().st_size for p in Path(tmp).glob(f"{path.name}*")) / 1e6
            print(
                f"{name:24s} {took / n * 1000:6.3f} ms an article "
                f"({n / took:5.0f} articles/s), {size:6.1f} MB"
            )


if __name__ == "__main__":
    main()
