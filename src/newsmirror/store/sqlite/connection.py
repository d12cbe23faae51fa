"""The connection the parts of a SQLite store share: one sqlite3 connection, its
transactions (a nested one is a savepoint), rows read by column name, and every sqlite3
error turned into a StorageError."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from newsmirror.errors import StorageError
from newsmirror.store.parts.db import SQLITE
from newsmirror.store.schema import migrate
from newsmirror.store.sql import marks, record_maker

T = TypeVar("T")
#: Seconds a connection waits for another process's lock (a migration, a write).
WAIT = 30.0


class Connection:
    """One sqlite3 connection and its transactions, shared by the parts of one store.
    Not shared between threads: open one per thread.

    Statements run through :meth:`run` and :meth:`one` give :class:`sqlite3.Row` rows,
    read by column name; :meth:`rows` and :meth:`dicts`, for the queries that read many,
    give dataclasses or named tuples whose fields the columns are named as, and dicts.
    A part that remembers something of the database (a cache) registers with
    :meth:`on_rollback` how to forget it: a rollback voids what the undone writes taught
    it; one that defers writes to the end of a transaction registers them with
    :meth:`before_commit`, and with :meth:`on_savepoint` how to undo what a savepoint
    rolled back added to them.
    """

    dialect = SQLITE  # where its SQL differs from another backend's

    def __init__(self, db: sqlite3.Connection, path: str) -> None:
        self.db = db  # the sqlite3 connection (its own rows are plain tuples)
        self.path = path  # the database file
        self.writes = True  # False: a connection that only reads (read_only)
        self.depth = 0  # transactions open (1: the outermost; more: savepoints)
        self._forget: list[Callable[[], None]] = []  # called after a rollback
        self._committed: list[Callable[[], None]] = []  # called as the outermost one commits
        self._before: list[Callable[[], None]] = []  # deferred writes, run before COMMIT
        self._marks: list[Callable[[], Callable[[], None]]] = []  # called as savepoints open
        self._inserts: dict[tuple[str, tuple[str, ...]], str] = {}  # INSERT per table, columns

    @classmethod
    def open(cls, path: str | Path) -> Connection:
        """The writing connection of the database at ``path``, created and migrated as
        needed, in WAL mode (readers never block the writer)."""
        name = str(path)
        try:
            db = sqlite3.connect(name, isolation_level=None, timeout=WAIT)
            db.execute("PRAGMA page_size = 8192")  # new databases only: articles are big
            _write_ahead(db)
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
            migrate(db)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the database {name}: {exc}") from exc
        return cls(db, name)

    @classmethod
    def read_only(cls, path: str | Path, uri: bool = False) -> Connection:
        """A connection that only reads (a worker process's), seeing what the writer
        last committed. ``uri``: opened read-only by SQLite itself (``mode=ro``), which
        never writes the file, not even a checkpoint when it closes; else a plain
        connection whose statements may not write (``query_only``)."""
        name = str(path)
        try:
            if uri:
                db = sqlite3.connect(f"file:{name}?mode=ro", uri=True, timeout=WAIT)
            else:
                db = sqlite3.connect(name, isolation_level=None, timeout=WAIT)
                db.execute("PRAGMA query_only = 1")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the database {name}: {exc}") from exc
        connection = cls(db, name)
        connection.writes = False
        return connection

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    # -- statements ------------------------------------------------------------------

    def run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Run one statement; its rows are :class:`sqlite3.Row` (read by column name)."""
        cursor = self.db.cursor()
        cursor.row_factory = sqlite3.Row
        try:
            return cursor.execute(sql, params)
        except sqlite3.Error as exc:
            raise StorageError(f"database error ({self.path}): {exc}") from exc

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        """The first row of a query, None when there is none."""
        row: sqlite3.Row | None = self.run(sql, params).fetchone()
        return row

    def rows(self, sql: str, params: Sequence[Any], kind: type[T]) -> Iterator[T]:
        """The rows of a query as ``kind`` values (a dataclass or a named tuple), for the
        queries that read many: the columns must be named as ``kind``'s fields, in their
        order (the trailing ones may be left to their defaults), which is checked once per
        query; each row then fills the fields as plain values, without a lookup by name
        per column. A field typed as a datetime is read from its stored text with
        :func:`~newsmirror.store.sql.moment`."""
        cursor = self._execute(sql, params)
        names = tuple(column[0] for column in cursor.description)
        make = record_maker(kind, names)
        return (make(row) for row in cursor)

    def dicts(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        """The rows of a query as dicts (column name → value), for the queries that read
        many rows into records."""
        cursor = self._execute(sql, params)
        names = [column[0] for column in cursor.description]
        return (dict(zip(names, row, strict=True)) for row in cursor)

    def _execute(self, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        try:
            return self.db.execute(sql, params)
        except sqlite3.Error as exc:
            raise StorageError(f"database error ({self.path}): {exc}") from exc

    def single(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row:
        """The row of a query that always has one (of aggregates: counts, sums)."""
        row = self.one(sql, params)
        if row is None:
            raise StorageError(f"database error ({self.path}): no row from {sql[:60]}")
        return row

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for many rows."""
        try:
            self.db.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise StorageError(f"database error ({self.path}): {exc}") from exc

    def count(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; how many rows it changed."""
        return int(self.run(sql, params).rowcount)

    def insert(self, table: str, row: dict[str, Any], taken: str = "") -> int:
        """Add a row (column name → value) to ``table``; its row id. ``taken``: the
        StorageError's message when a row with one of its unique keys is held already."""
        key = (table, tuple(row))
        sql = self._inserts.get(key)
        if sql is None:
            names = ", ".join(row)
            sql = self._inserts[key] = f"INSERT INTO {table} ({names}) VALUES ({marks(len(row))})"
        try:
            return int(self.db.execute(sql, tuple(row.values())).lastrowid or 0)
        except sqlite3.IntegrityError as exc:
            raise StorageError(taken or f"database error ({self.path}): {exc}") from exc
        except sqlite3.Error as exc:
            raise StorageError(f"database error ({self.path}): {exc}") from exc

    # -- transactions ----------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction; a nested call is a savepoint inside the outer one, so a
        failure undoes exactly its own writes."""
        if self.depth:
            with self._savepoint():
                yield
            return
        self.run("BEGIN IMMEDIATE")
        self.depth = 1
        try:
            yield
            for write in self._before:  # a failure here undoes the transaction too
                write()
        except BaseException:
            self.depth = 0
            self.db.execute("ROLLBACK")
            self._rolled_back()
            raise
        self.depth = 0
        for done in self._committed:
            done()
        self.run("COMMIT")

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        name = f"sp{self.depth}"
        undo = [mark() for mark in self._marks]
        self.run(f"SAVEPOINT {name}")
        self.depth += 1
        try:
            yield
        except BaseException:
            self.db.execute(f"ROLLBACK TO {name}")
            for step in undo:
                step()
            self._rolled_back()
            raise
        finally:
            self.depth -= 1
            self.db.execute(f"RELEASE {name}")

    def joined(self) -> AbstractContextManager[None]:
        """A transaction of its own, or, inside a caller's transaction, that one (the
        caller's savepoint then decides what a failure undoes)."""
        return self.transaction() if not self.depth else contextlib.nullcontext()

    def on_rollback(self, forget: Callable[[], None]) -> None:
        """Have ``forget`` called after every rollback (of a transaction or a savepoint)."""
        self._forget.append(forget)

    def on_commit(self, done: Callable[[], None]) -> None:
        """Have ``done`` called when the outermost transaction commits."""
        self._committed.append(done)

    def before_commit(self, write: Callable[[], None]) -> None:
        """Have ``write`` called as the outermost transaction ends, before it commits (a
        write deferred to then: a failure rolls the transaction back)."""
        self._before.append(write)

    def on_savepoint(self, mark: Callable[[], Callable[[], None]]) -> None:
        """Have ``mark`` called as each savepoint opens; what it returns is called when
        that savepoint is rolled back (to forget what was deferred inside it)."""
        self._marks.append(mark)

    def _rolled_back(self) -> None:
        for forget in self._forget:
            forget()


def _write_ahead(db: sqlite3.Connection) -> None:
    """Put the database in WAL mode. Another process opening it at the same moment may
    hold a lock, and SQLite answers "database is locked" to this change at once instead
    of waiting for it: wait here, as for any other lock."""
    deadline = time.monotonic() + WAIT
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
