"""The export commands, import of a JSON Lines export, and migrate (the store copied into
another backend's)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from newsmirror.cli.io import EXIT_OK, EXIT_USAGE, err, errors_exit, out, progress
from newsmirror.errors import ArchiveFormatError
from newsmirror.jobs.archive import Archive
from newsmirror.publish.files import atomic_stream
from newsmirror.publish.jsonl import check_export


def cmd_export(args: argparse.Namespace) -> int:
    """Export the archive: JSON Lines (every record) or WARC (the raw captures)."""
    if args.out is not None and not args.out.strip():
        err.print("--out needs a file (jsonl) or a folder (warc)")
        return EXIT_USAGE
    with Archive.open(args.home) as archive:
        if args.format == "warc":
            target = Path(args.out or "warc")
            report = archive.export_warc(target)
            out.print(
                f"{report.records} WARC records of {report.captures} captures in "
                f"{len(report.files)} files in {target}: "
                f"{len(report.files) - report.unchanged} written, {report.unchanged} unchanged "
                f"(index: {report.index.name})"
            )
            return EXIT_OK
        if not args.out:
            count = archive.export_jsonl(sys.stdout.buffer)
            sys.stdout.flush()
            err.print(f"exported {count} records")
            return EXIT_OK
        with atomic_stream(Path(args.out)) as handle:
            count = archive.export_jsonl(handle)
        out.print(f"exported {count} records to {args.out}")
    return EXIT_OK


def import_jsonl(args: argparse.Namespace) -> int:
    """Import a JSON Lines export into the archive. A file that is not an export is
    refused whole, in one line, before any archive is opened or made (exit 2)."""
    if not Path(args.path).is_file():
        err.print(f"{args.path}: no such file (give the .jsonl file an export wrote)")
        return EXIT_USAGE
    try:
        check_export(Path(args.path))
        with Archive.open(args.home) as archive:
            counts = archive.import_jsonl(args.path)
    except ArchiveFormatError as exc:  # not an export: nothing was imported
        err.print(str(exc), markup=False)
        return EXIT_USAGE
    added = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.added.items())) or "nothing"
    out.print(
        f"imported: {added} new; {counts.unchanged} already held; {len(counts.errors)} errors"
    )
    return errors_exit(counts.errors)


def publish_site(args: argparse.Namespace) -> int:
    """Write the static site."""
    if args.out is not None and not args.out.strip():
        err.print("--out needs a folder (leave it out for the site_dir setting)")
        return EXIT_USAGE
    with Archive.open(args.home) as archive:
        report = archive.publish_site(args.out, args.force)
        where = Path(args.out).resolve() if args.out else archive.config.site_path
    out.print(
        f"site: {report.written} written, {report.unchanged} unchanged, "
        f"{len(report.errors)} errors → {where}"
    )
    for line in report.notes:
        err.print(f"note: {line}", markup=False)
    return errors_exit(report.errors)


def cmd_migrate(args: argparse.Namespace) -> int:
    """Copy the archive's store into another (PostgreSQL, or a SQLite file)."""
    from newsmirror.jobs.migrate import MigrateJob
    from newsmirror.store import is_database_url

    target = args.to if is_database_url(args.to) else str(Path(args.to).expanduser().resolve())
    with Archive.open(args.home) as archive:
        job = MigrateJob(archive.store)
        with progress("migrating", job.articles()) as advance:
            report = job.run(target, advance, max(1, args.batch))
    added = report.counts.added
    out.print(
        f"migrated {report.articles} articles ({added.get('article', 0)} new here, "
        f"{added.get('version', 0)} versions, {added.get('capture', 0)} captures); "
        f"{report.counts.unchanged} records held already",
        markup=False,
    )
    return errors_exit(report.counts.errors)
