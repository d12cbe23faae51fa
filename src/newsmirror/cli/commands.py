"""The commands that make and fill an archive: ``init``, ``fetch``, ``publish``,
``import`` and ``demo`` (each loaded when its command runs)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from newsmirror.cli import export as cliexport
from newsmirror.cli import service as clirun
from newsmirror.cli.io import (
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    err,
    errors_exit,
    minute,
    out,
    progress,
)
from newsmirror.config.settings import CONFIG_NAME, load_config, render_template, resolve_home
from newsmirror.errors import ConfigError
from newsmirror.jobs.archive import Archive
from newsmirror.types import SourceReport


def cmd_init(args: argparse.Namespace) -> int:
    """Write a commented newsmirror.toml (and a .gitignore for the database)."""
    if args.package is not None and not args.ci:
        err.print("--package goes with --ci (what the workflow installs)")
        return EXIT_USAGE
    home = resolve_home(args.dir or args.home)
    package = None
    if args.ci and not (home / clirun.WORKFLOW).exists():
        try:  # refused before anything is written
            package = clirun.workflow_package(args.package)
        except ConfigError as exc:
            err.print(str(exc), markup=False)
            return EXIT_USAGE
    home.mkdir(parents=True, exist_ok=True)
    config = home / CONFIG_NAME
    if config.exists():
        out.print(f"{config} exists; left as it is.")
    else:
        config.write_text(render_template(), "utf-8")
        out.print(f"wrote {config}")
    ignore = home / ".gitignore"
    if not ignore.exists():
        ignore.write_text("newsmirror.db\nnewsmirror.db-*\n", "utf-8")
    if args.ci:
        return clirun.init_ci(home, package)
    if args.systemd:
        return clirun.init_systemd(home)
    out.print(f"next: cd {home} && newsmirror fetch && newsmirror publish markdown")
    return EXIT_OK


def cmd_fetch(args: argparse.Namespace) -> int:
    """Fetch sources, store new articles and versions, print a summary per source."""
    config = load_config(args.home)
    sources = config.selected(args.source or ())  # a wrong name: refused before anything is made
    with Archive(config) as archive:
        with progress("fetching", len(sources)) as advance:
            reports = archive.fetch(args.source or (), advance, args.force)
        rows = [
            (r.source, str(r.new), str(r.changed), str(r.unchanged), str(r.skipped), _via(r))
            for r in reports
        ]
        _plain_table(("source", "new", "changed", "unchanged", "skipped", "via"), rows)
        for r in reports:
            for line in r.errors:
                err.print(f"{r.source}: {line}", markup=False)
        failed = [r.source for r in reports if r.failed]
        if args.publish:
            cmd_status = _publish(archive, None, False)
            if cmd_status != EXIT_OK:
                return cmd_status
        if failed:
            err.print(f"failed: {', '.join(failed)} (will be tried again on the next run)")
            return EXIT_PARTIAL
    return EXIT_OK


def _plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns of plain text: fast for hundreds of sources, and easy to grep in logs."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = [headers, *rows]
    text = "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _via(report: SourceReport) -> str:
    """How a source was reached in a run, for the summary table."""
    if report.deferred_until:
        return f"not due until {minute(report.deferred_until)} UTC"
    if report.failed:
        return "FAILED"
    return report.feed_url + (" (304 not modified)" if report.not_modified else "")


def _publish(archive: Archive, content: str | None, force: bool, images: str | None = None) -> int:
    with progress("publishing", None) as advance:
        report = archive.publish_markdown(content, force, advance, images)
    out.print(
        f"markdown: {report.written} written, {report.unchanged} unchanged, "
        f"{len(report.errors)} errors → {archive.config.output_path}"
    )
    for line in report.errors:
        err.print(line, markup=False)
    for line in report.notes:
        err.print(f"note: {line}", markup=False)
    return EXIT_PARTIAL if report.errors else EXIT_OK


def cmd_publish(args: argparse.Namespace) -> int:
    """Publish the store as files: the markdown archive, or the static site."""
    if args.format == "site":
        return cliexport.publish_site(args)
    if args.out is not None:
        err.print("--out is for publish site: the markdown archive goes to the output setting")
        return EXIT_USAGE
    with Archive.open(args.home) as archive:
        return _publish(archive, args.content, args.force, args.images)


def cmd_import(args: argparse.Namespace) -> int:
    """Import an existing duty-machine/news checkout, or a JSON Lines export."""
    from newsmirror.publish.markdown.importer import article_files

    if args.format == "jsonl":
        return cliexport.import_jsonl(args)

    root = Path(args.path)
    if not (root / "articles").is_dir():
        err.print(f"{root} has no articles/ folder: not a duty-machine/news checkout")
        return EXIT_USAGE
    total = len(article_files(root.resolve()))
    with Archive.open(args.home) as archive, progress("importing", total) as advance:
        report = archive.import_archive(root, advance, args.source)
    kept_parts = []
    if report.kept_lists:
        kept_parts.append(f"{report.kept_lists} list{'s' if report.kept_lists != 1 else ''}")
    if report.kept_readme:
        kept_parts.append("the README")
    kept = f"; kept {' and '.join(kept_parts)}" if kept_parts else ""
    out.print(
        f"imported: {report.new} new, {report.changed} changed, "
        f"{report.unchanged} unchanged, {len(report.errors)} errors{kept}"
    )
    for line in report.notes:
        err.print(f"note: {line}", markup=False)
    return errors_exit(report.errors)


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the whole job offline against sample feeds served on loopback."""
    from newsmirror.demo import run_demo

    return run_demo(Path(args.dir), out, err)
