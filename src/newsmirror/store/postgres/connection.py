"""The connection the parts of a PostgreSQL store share: one connection borrowed from a
pool of the process (one pool per database URL), its transactions (a nested one is a
savepoint), rows read by column name, and every psycopg error turned into a
StorageError.

The parts write their SQL with ``?`` placeholders, as the PostgreSQL store's do; the
connection hands psycopg ``%s`` ones (and doubles the ``%`` of a ``LIKE`` pattern).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from typing import Any, TypeVar

import psycopg
from psycopg import sql as pgsql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from newsmirror.errors import StorageError
from newsmirror.store.parts.db import POSTGRESQL
from newsmirror.store.postgres.schema import migrate
from newsmirror.store.sql import record_maker

T = TypeVar("T")
#: A row as psycopg gives it to the store (column name → value).
Row = dict[str, Any]
#: Seconds a store waits for a connection from its pool.
WAIT = 30.0
#: Connections a process keeps open to one database at most.
POOL_SIZE = 8


def is_url(location: object) -> bool:
    """Whether ``location`` names a PostgreSQL database (a ``postgresql://`` or
    ``postgres://`` URL) rather than a SQLite file."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def shown(url: str) -> str:
    """The URL as messages show it: without its password."""
    scheme, sep, rest = url.partition("://")
    user, at, host = rest.rpartition("@")
    if at and ":" in user:
        user = user.split(":", 1)[0] + ":***"
    return f"{scheme}{sep}{user}{at}{host}"


class _Pools:
    """The process's connection pools, one per database URL, each closed when the last
    store or view using it closes. A process started by fork makes its own."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.pools: dict[str, tuple[ConnectionPool[psycopg.Connection[Any]], int]] = {}

    def borrow(self, url: str) -> psycopg.Connection[Any]:
        with self.lock:
            if self.pid != os.getpid():  # a forked child: its parent's pools are not its own
                self.pools, self.pid = {}, os.getpid()
            pool, users = self.pools.get(url, (None, 0))
            if pool is None:
                pool = ConnectionPool(
                    url,
                    min_size=1,
                    max_size=POOL_SIZE,
                    kwargs={"autocommit": True},
                    open=False,
                    name="newsmirror",
                )
                try:
                    pool.open(wait=True, timeout=WAIT)
                except Exception as exc:
                    pool.close()
                    raise StorageError(f"cannot open the database {shown(url)}: {exc}") from exc
            self.pools[url] = (pool, users + 1)
        try:
            return pool.getconn(timeout=WAIT)
        except Exception as exc:
            self.give_back(url, None)
            raise StorageError(f"cannot open the database {shown(url)}: {exc}") from exc

    def give_back(self, url: str, db: psycopg.Connection[Any] | None) -> None:
        with self.lock:
            pool, users = self.pools.get(url, (None, 0))
            if pool is None:
                return
            if db is not None:
                pool.putconn(db)
            if users <= 1:
                del self.pools[url]
                pool.close()
            else:
                self.pools[url] = (pool, users - 1)


POOLS = _Pools()


class Connection:
    """One connection and its transactions, shared by the parts of one store. Not shared
    between threads: open one per thread (the pool makes that cheap).

    :meth:`run` and :meth:`one` give rows as dicts, read by column name; :meth:`rows`
    gives dataclasses or named tuples whose fields the columns are named as. A part that
    remembers something of the database registers with :meth:`on_rollback` how to forget
    it, and with :meth:`on_commit` what to do when the outermost transaction commits.
    """

    dialect = POSTGRESQL  # where its SQL differs from another backend's

    def __init__(self, db: psycopg.Connection[Any], url: str, read_only: bool = False) -> None:
        self.db = db  # the psycopg connection (autocommit: transactions are explicit)
        self.path = url  # the database's URL
        self.read_only = read_only
        self.depth = 0  # transactions open (1: the outermost; more: savepoints)
        self._forget: list[Callable[[], None]] = []
        self._committed: list[Callable[[], None]] = []
        self._closed = False

    @classmethod
    def open(cls, url: str) -> Connection:
        """A writing connection to the database at ``url``, migrated as needed."""
        db = POOLS.borrow(url)
        connection = cls(db, url)
        try:
            migrate(db)
        except BaseException:
            connection.close()
            raise
        return connection

    @classmethod
    def read_only_view(cls, url: str) -> Connection:
        """A connection whose transactions only read (a worker process's), each statement
        seeing what was committed when it began."""
        db = POOLS.borrow(url)
        connection = cls(db, url, read_only=True)
        try:
            db.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        except psycopg.Error as exc:
            connection.close()
            raise StorageError(f"cannot open the database {shown(url)}: {exc}") from exc
        return connection

    def close(self) -> None:
        """Give the connection back to its pool (made writable again)."""
        if self._closed:
            return
        self._closed = True
        if self.read_only and not self.db.closed:
            with suppress(psycopg.Error):  # a broken connection: the pool replaces it
                self.db.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
        POOLS.give_back(self.path, self.db)

    # -- statements ------------------------------------------------------------------

    def run(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Row]:
        """Run one statement; its rows are dicts (read by column name)."""
        cursor = self.db.cursor(row_factory=dict_row)
        try:
            return cursor.execute(_query(sql), params)
        except psycopg.Error as exc:
            raise StorageError(f"database error ({shown(self.path)}): {exc}") from exc

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a query, None when there is none."""
        return self.run(sql, params).fetchone()

    def single(self, sql: str, params: Sequence[Any] = ()) -> Row:
        """The row of a query that always has one (of aggregates: counts, sums)."""
        row = self.one(sql, params)
        if row is None:
            raise StorageError(f"database error ({shown(self.path)}): no row from {sql[:60]}")
        return row

    def rows(self, sql: str, params: Sequence[Any], kind: type[T]) -> Iterator[T]:
        """The rows of a query as ``kind`` values (a dataclass or a named tuple): the
        columns must be named as ``kind``'s fields, in their order (the trailing ones may
        be left to their defaults), which is checked once per query. A field typed as a
        datetime is read from its stored text with
        :func:`~newsmirror.store.sql.moment`."""
        cursor = self._execute(sql, params)
        names = tuple(column.name for column in cursor.description or ())
        make = record_maker(kind, names)
        return (make(row) for row in cursor)

    def dicts(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Row]:
        """The rows of a query as dicts (column name → value)."""
        return iter(self.run(sql, params))

    def _execute(self, sql: str, params: Sequence[Any]) -> psycopg.Cursor[tuple[Any, ...]]:
        try:
            return self.db.execute(_query(sql), params)
        except psycopg.Error as exc:
            raise StorageError(f"database error ({shown(self.path)}): {exc}") from exc

    def stream(self, sql: str, params: Sequence[Any], size: int) -> Iterator[list[Row]]:
        """The rows of a query in batches of ``size``, read from the server as they are
        needed (a server-side cursor, inside the caller's transaction or one of its own):
        a query over the whole archive never holds it all in memory."""
        with self.transaction(), self.db.cursor(name="stream", row_factory=dict_row) as cursor:
            try:
                cursor.execute(_query(sql), params)
                while rows := cursor.fetchmany(size):
                    yield rows
            except psycopg.Error as exc:
                raise StorageError(f"database error ({shown(self.path)}): {exc}") from exc

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for many rows."""
        try:
            with self.db.cursor() as cursor:
                cursor.executemany(_query(sql), rows)
        except psycopg.Error as exc:
            raise StorageError(f"database error ({shown(self.path)}): {exc}") from exc

    def count(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; how many rows it changed."""
        try:
            return self.db.execute(_query(sql), params).rowcount
        except psycopg.Error as exc:
            raise StorageError(f"database error ({shown(self.path)}): {exc}") from exc

    def insert(self, table: str, row: dict[str, Any], taken: str = "") -> int:
        """Add a row (column name → value) to ``table`` (one with an ``id`` column); its
        id. ``taken``: the StorageError's message when a row with one of its unique keys
        is held already."""
        statement = pgsql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
            pgsql.Identifier(table),
            pgsql.SQL(", ").join(map(pgsql.Identifier, row)),
            pgsql.SQL(", ").join(pgsql.Placeholder() * len(row)),
        )
        try:
            with self.transaction() if self.depth else nullcontext():  # undoes itself only
                found = self.db.execute(statement, tuple(row.values())).fetchone()
        except psycopg.errors.UniqueViolation as exc:
            raise StorageError(taken or f"database error ({shown(self.path)}): {exc}") from exc
        except psycopg.Error as exc:
            raise StorageError(f"database error ({shown(self.path)}): {exc}") from exc
        return int(found[0]) if found else 0

    # -- transactions ----------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction; a nested call is a savepoint inside the outer one, so a
        failure undoes exactly its own writes."""
        self.depth += 1
        try:
            with self.db.transaction():
                yield
        except psycopg.Error as exc:
            self._rolled_back()
            raise StorageError(f"database error ({shown(self.path)}): {exc}") from exc
        except BaseException:
            self._rolled_back()
            raise
        finally:
            self.depth -= 1
        if not self.depth:
            for done in self._committed:
                done()

    def joined(self) -> AbstractContextManager[None]:
        """A transaction of its own, or, inside a caller's transaction, that one (the
        caller's savepoint then decides what a failure undoes: PostgreSQL refuses every
        later statement of a transaction after a failed one until it is undone)."""
        return self.transaction() if not self.depth else nullcontext()

    def on_rollback(self, forget: Callable[[], None]) -> None:
        """Have ``forget`` called after every rollback (of a transaction or a savepoint)."""
        self._forget.append(forget)

    def on_commit(self, done: Callable[[], None]) -> None:
        """Have ``done`` called when the outermost transaction commits."""
        self._committed.append(done)

    def _rolled_back(self) -> None:
        for forget in self._forget:
            forget()


_QUERIES: dict[str, str] = {}


def _query(sql: str) -> str:
    """The statement with psycopg's placeholders (the parts' SQL holds no ``?`` but its
    placeholders)."""
    query = _QUERIES.get(sql)
    if query is None:
        query = _QUERIES[sql] = sql.replace("%", "%%").replace("?", "%s")
    return query
