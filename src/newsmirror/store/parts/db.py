"""What the store's parts need of a backend: a connection (:class:`Db`) that takes SQL
with ``?`` placeholders and gives rows read by column name, the few places where the
backends' SQL differs (:class:`Dialect`), and the search index the parts keep up to date
(:class:`Index`: each backend's own)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from newsmirror.search.query import Query
from newsmirror.store.base import SearchResults
from newsmirror.types import Candidate

T = TypeVar("T")

#: A row, read by column name.
Row = Mapping[str, Any]


@dataclass(frozen=True)
class Dialect:
    """Where one backend's SQL differs from the other's."""

    #: The column that keeps the order rows of a table were stored in, by table.
    stored_order: Callable[[str], str]
    #: SQL: the smaller of two expressions.
    least: Callable[[str, str], str]
    #: SQL: the seconds since the epoch of an ISO time's text.
    epoch_seconds: Callable[[str], str]
    #: The LIMIT parameter that means "no limit".
    no_limit: int | None
    #: A join whose tables the planner takes in the order written, where it is told so.
    ordered_join: str


SQLITE = Dialect(
    stored_order=lambda table: "rowid",
    least=lambda a, b: f"MIN({a}, {b})",
    epoch_seconds=lambda text: f"CAST(strftime('%s', {text}) AS INTEGER)",
    no_limit=-1,
    ordered_join="CROSS JOIN",  # SQLite's way of keeping the order written
)
POSTGRESQL = Dialect(
    stored_order=lambda table: "id" if table == "sources" else "seq",
    least=lambda a, b: f"LEAST({a}, {b})",
    epoch_seconds=lambda text: f"floor(extract(epoch FROM {text}::timestamptz))",
    no_limit=None,
    ordered_join="JOIN",
)


class Cursor(Protocol):
    """What a statement run gives back: its rows."""

    def __iter__(self) -> Iterator[Any]: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Db(Protocol):
    """One connection to the store's database, shared by its parts."""

    dialect: Dialect
    path: str

    def close(self) -> None:
        """Close the connection (or give it back to its pool)."""

    def run(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one statement; its rows are read by column name."""

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first row of a query, None when there is none."""

    def single(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The one row of a query (a StorageError when there is none)."""

    def rows(self, sql: str, params: Sequence[Any], kind: type[T]) -> Iterator[T]:
        """The rows of a query as ``kind`` values (see :func:`store.sql.record_maker`)."""

    def dicts(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        """The rows of a query as dicts (column name → value)."""

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for many rows."""

    def count(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; how many rows it changed."""

    def insert(self, table: str, row: dict[str, Any], taken: str = "") -> int:
        """Add a row (column name → value) to ``table``; its id."""

    def transaction(self) -> AbstractContextManager[None]:
        """One transaction; nested, a savepoint."""

    def joined(self) -> AbstractContextManager[None]:
        """The caller's transaction when there is one, else one of its own."""

    def on_rollback(self, forget: Callable[[], None]) -> None:
        """Call ``forget`` when a transaction is rolled back."""

    def on_commit(self, done: Callable[[], None]) -> None:
        """Call ``done`` when a transaction is committed."""


class Index(Protocol):
    """The search index, as the parts keep it and the store asks it."""

    def index_version(
        self, article_id: int, version_id: int, c: Candidate, first: bool = False
    ) -> None:
        """Index a version as its article's entry."""

    def search(self, query: Query) -> SearchResults:
        """Articles matching the query."""

    def search_ready(self) -> bool:
        """Whether the index covers every article."""

    def pause_search_index(self) -> None:
        """Index nothing from now on (this connection)."""

    def reindex(self, progress: Callable[[int], None] = ..., workers: int | None = None) -> int:
        """Rebuild the index from every article's latest version; the count."""

    def search_index_bytes(self) -> int:
        """The index's size on disk."""

    def source_ids(self, slugs: Sequence[str]) -> tuple[int, ...]:
        """The store ids of these sources."""
