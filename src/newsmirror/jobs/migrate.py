"""``migrate``: the archive's store copied into another, of either backend (a SQLite
archive into an empty PostgreSQL database, or back into a SQLite file), as the records of
a JSON Lines export streamed from one into the other (:mod:`newsmirror.store.portable`):
what the copy holds exports as the same records."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from newsmirror.errors import StorageError
from newsmirror.jobs.progress import Advance, no_progress

if TYPE_CHECKING:
    from pathlib import Path

    from newsmirror.store.base import Store
    from newsmirror.store.portable import ImportCounts

#: Records committed at a time: a migration killed keeps what it committed, and the next
#: one adds the rest.
BATCH = 2_000


@dataclass(frozen=True)
class MigrateReport:
    """What a migration did."""

    articles: int  # articles in the archive
    counts: ImportCounts  # what the copy took of the records (and refused)


class MigrateJob:
    """Given the store to copy from."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def articles(self) -> int:
        """How many articles the archive holds (the progress bar's length)."""
        return sum(s.articles for s in self.store.stats())

    def run(
        self, target: str | Path, advance: Advance = no_progress, batch: int = BATCH
    ) -> MigrateReport:
        """Copy every record into the store at ``target`` (a PostgreSQL URL or a SQLite
        file's path), ``batch`` records a transaction; ``advance`` is called with 1 for
        each article. StorageError when the target holds anything but what an earlier
        migration from this archive left."""
        from newsmirror.store import open_store

        copy = open_store(target)
        try:
            self._check_target(copy, target)
            records = self._counted(self.store.export_records(), advance)
            counts = copy.import_records(enumerate(records, 1), batch)
        finally:
            copy.close()
        return MigrateReport(self.articles(), counts)

    def _check_target(self, copy: Store, target: str | Path) -> None:
        """A target that is empty, or holds no more of a source than this archive does
        (a migration from here cut short), is taken; any other is refused: the copy would
        not be this archive."""
        if copy.path == self.store.path:
            raise StorageError(f"cannot migrate an archive into itself ({target})")
        here = {s.source: s.articles for s in self.store.stats()}
        for held in copy.stats():
            if held.articles > here.get(held.source, 0):
                raise StorageError(
                    f"{target} is not empty: it holds {held.articles} articles of "
                    f"{held.source!r} (this archive: {here.get(held.source, 0)}); "
                    "migrate into an empty database"
                )

    @staticmethod
    def _counted(records: Iterator[dict[str, Any]], advance: Advance) -> Iterator[dict[str, Any]]:
        for record in records:
            if record["type"] == "article":
                advance(1)
            yield record
