"""The jobs that carry an archive in and out: importing a duty-machine/news checkout or
a JSON Lines export (:class:`ImportJob`), exporting JSON Lines and WARC
(:class:`ExportJob`)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import IO, TYPE_CHECKING

from newsmirror.jobs.progress import Advance, no_progress
from newsmirror.publish.files import digest
from newsmirror.times import Clock

if TYPE_CHECKING:
    from newsmirror.config.settings import Config
    from newsmirror.publish.markdown.importer import ImportReport
    from newsmirror.publish.warc import WarcReport
    from newsmirror.store.base import Store
    from newsmirror.store.portable import ImportCounts


class ImportJob:
    """``import``: given the store it adds to, the archive's configuration (its sources,
    whether it indexes) and the clock that judges imported dates."""

    def __init__(self, store: Store, config: Config, clock: Clock) -> None:
        self.store = store
        self.config = config
        self.clock = clock

    def archive(
        self,
        path: str | os.PathLike[str],
        advance: Advance = no_progress,
        source: str | None = None,
    ) -> ImportReport:
        """Import a duty-machine/news checkout (its articles, lists and README); re-importing
        the same files changes nothing. ``source``: the slug that article files outside a
        source's folder belong to (found from their links' host otherwise)."""
        from newsmirror.publish.markdown.importer import ImportReport, kept_files, read_archive

        root = Path(path).expanduser().resolve()
        report = ImportReport()
        now = self.clock()
        flat = self.config.source(source) if source else None
        imported: dict[str, str] = {}
        with self.store.transaction():
            workers = min(2, os.cpu_count() or 1) if (os.cpu_count() or 1) >= 2 else 0
            for _, item in read_archive(
                root,
                self.config.sources,
                report.errors,
                now,
                flat,
                workers=workers,
                tokens=self.config.index and self.store.search_ready(),
            ):
                if item is not None:
                    status = self.store.import_file(item, now)
                    report.count(status)
                    imported[item.path] = item.source
                advance(1)
            for kept in kept_files(root, self.config.sources, imported, report.notes):
                if self.store.published_digest(kept.path) == digest(kept.text.encode()):
                    continue  # what newsmirror wrote there itself: not the archive's own
                if self.store.save_archive_file(replace(kept, imported_at=now)):
                    report.kept_lists += kept.kind == "list"
                    report.kept_readme = report.kept_readme or kept.kind == "readme"
        return report

    def jsonl(self, path: str | os.PathLike[str]) -> ImportCounts:
        """Add what a JSON Lines export holds (and this archive does not) to the store;
        a file imported twice changes nothing the second time. ArchiveFormatError when
        the file is not an export (see :func:`~newsmirror.publish.jsonl.check_export`)."""
        from newsmirror.publish.jsonl import check_export, read_jsonl

        check_export(Path(path))
        unreadable: list[str] = []
        counts = self.store.import_records(read_jsonl(Path(path), unreadable))
        counts.errors[:0] = unreadable
        return counts


class ExportJob:
    """``export``: given the store it reads."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def jsonl(self, out: IO[bytes]) -> int:
        """Write every record of the store as JSON Lines; the number of records."""
        from newsmirror.publish.jsonl import write_jsonl

        return write_jsonl(self.store.export_records(), out)

    def warc(self, out: str | os.PathLike[str]) -> WarcReport:
        """Write every capture as WARC 1.1 files (one a day) with a CDXJ index in ``out``;
        files whose captures did not change are left as they are."""
        from newsmirror.publish.warc import write_warc

        return write_warc(self.store.captures_in_time_order(), Path(out))
