"""The search index's writes, deferred to the end of the transaction and made in key order.

FTS5 gathers the terms of the documents added in memory and writes them out as a segment
of the index when it must: when a transaction commits, when a savepoint opens or ends,
when its memory (``hashsize``) is full, and whenever a document comes with a rowid lower
than the one before it. Written as versions are stored, the index took a segment per
source of a fetch (each stored in a savepoint of its own) and, for items given newest
first (an imported archive, most feeds), a segment per article: most of a fetch's or an
import's time in the writer went there (bench/ingest.py).

So the writes of a transaction are kept here (an append-only log of documents added and
taken out, by key) and made together before it commits, each index's rows in ascending
key order: one segment per transaction, as large as the memory allows. Outside any
savepoint, once :data:`AT_ONCE` documents wait, they are written at once, so that a long
transaction (an import) holds no more than that many in memory. A savepoint rolled back
forgets what was logged inside it; the whole transaction rolled back, everything.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby
from typing import NamedTuple

from newsmirror.store.indexing import Document
from newsmirror.store.sqlite.connection import Connection

#: Documents waiting, outside any savepoint, that are written at once (each about 15 KB
#: of tokens for an article of 1,500 characters).
AT_ONCE = 512


class Change(NamedTuple):
    """A document added to (or taken out of) both indexes."""

    key: int  # its rowid in both
    insert: bool  # added (else taken out: FTS5's 'delete' needs the tokens it was given)
    made: Document  # its tokens
    source: str  # its source's token


class DeferredWrites:
    """The index writes of the running transaction (see the module's docstring)."""

    def __init__(self, db: Connection) -> None:
        self.db = db
        self.log: list[Change] = []  # this transaction's changes, in order
        self.written = 0  # how many of them the indexes hold
        db.on_savepoint(self._mark)
        db.before_commit(self.write)
        db.on_commit(self._clear)
        db.on_rollback(self._rolled_back)

    def add(self, change: Change) -> None:
        """Log a change; write what waits when enough does (outside any savepoint)."""
        self.log.append(change)
        if self.db.depth <= 1 and len(self.log) - self.written >= AT_ONCE:
            self.write()

    def write(self) -> None:
        """Make the changes not written yet: for each key, the document held before them
        taken out (when the first change takes one out) and the one left after them
        added (when the last one adds one), in ascending key order, a removal before an
        addition of the same key. Outside any savepoint the log is then let go."""
        waiting = self.log[self.written :]
        if waiting:
            first: dict[int, Change] = {}
            last: dict[int, Change] = {}
            for change in waiting:
                first.setdefault(change.key, change)
                last[change.key] = change
            made = [c for c in first.values() if not c.insert]
            made += [c for c in last.values() if c.insert]
            made.sort(key=lambda c: (c.key, c.insert))
            _write(self.db, made)
        self.written = len(self.log)
        if self.db.depth <= 1:  # no savepoint can give them back
            self._clear()

    def _mark(self) -> Callable[[], None]:
        """As a savepoint opens: how to forget what is logged inside it."""
        length, written = len(self.log), self.written

        def undo() -> None:
            del self.log[length:]
            # What was written inside the savepoint is undone with it: written again later.
            self.written = min(self.written, written)

        return undo

    def _clear(self) -> None:
        self.log.clear()
        self.written = 0

    def _rolled_back(self) -> None:
        if self.db.depth == 0:  # the whole transaction (a savepoint's undo() did its part)
            self._clear()


_ADD = (
    "INSERT INTO search_index (rowid, body, title, src) VALUES (?, ?, ?, ?)",
    "INSERT INTO search_chars (rowid, chars) VALUES (?, ?)",
)
_DELETE = (
    "INSERT INTO search_index (search_index, rowid, body, title, src) "
    "VALUES ('delete', ?, ?, ?, ?)",
    "INSERT INTO search_chars (search_chars, rowid, chars) VALUES ('delete', ?, ?)",
)


def _write(db: Connection, changes: list[Change]) -> None:
    """Changes (in key order) into both indexes, a run of additions or removals at a time."""
    for insert, run in groupby(changes, key=lambda c: c.insert):
        part = list(run)
        sql = _ADD if insert else _DELETE
        db.many(sql[0], [(c.key, c.made.body, c.made.title, c.source) for c in part])
        db.many(sql[1], [(c.key, f"{c.made.chars} {c.source}") for c in part])
