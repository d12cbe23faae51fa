"""The commands that run the archive unattended: ``run`` (the scheduler, or one cycle
with ``--once``), ``digest``, and the deployment files ``init --ci github`` and
``init --systemd`` write."""

from __future__ import annotations

import argparse
import getpass
import json
import shutil
import sys
import threading
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from newsmirror.cli.installspec import Package, default_package, installed_from
from newsmirror.cli.io import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, err, errors_exit, out
from newsmirror.config.settings import Config, load_config
from newsmirror.jobs.archive import Archive
from newsmirror.publish.files import sweep_temporaries, write_atomic

#: Exit code of a second ``run`` on an archive another run holds.
EXIT_LOCKED = 4
WORKFLOW = Path(".github/workflows/newsmirror.yml")


def _say(line: str) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    sys.stdout.write(f"{stamp} {line}\n")
    sys.stdout.flush()


def cmd_run(args: argparse.Namespace) -> int:
    """The scheduler: cycles of fetch, watch and publish; --once for one cycle."""
    from newsmirror.errors import LockedError
    from newsmirror.schedule.runner import Runner, run_lock, stop_on_signals

    if args.summary and not args.once:
        err.print("--summary goes with --once (a long run logs a summary line per cycle)")
        return EXIT_USAGE
    config = load_config(args.home)
    stop = threading.Event()
    try:
        with run_lock(config.database_path), stop_on_signals(stop, _say):
            _sweep(config)
            with Archive(config) as archive:
                runner = Runner(archive, _say, stop)
                if not args.once:
                    _say(f"running on {config.home} (SIGTERM or Ctrl-C to stop)")
                    runner.loop()
                    _say("stopped")
                    return EXIT_OK
                report = runner.cycle(once=True)
    except LockedError as exc:
        err.print(str(exc), markup=False)
        return EXIT_LOCKED
    summary = report.summary()
    _say(summary)
    if args.summary:
        write_atomic(Path(args.summary), (summary + "\n").encode("utf-8"))
    for line in report.errors:
        err.print(line, markup=False)
    return EXIT_PARTIAL if report.failed else EXIT_OK


def _sweep(config: Config) -> None:
    """Temporary files left by a killed process, in every folder newsmirror writes."""
    root = config.output_path
    flat = [root, root / "lists", root / "digests"]
    articles = root / "articles"
    if articles.is_dir():
        flat += [p for p in articles.iterdir() if p.is_dir()]
    deep = [config.media_path, config.site_path]
    removed = sweep_temporaries(flat) + sweep_temporaries(deep, recursive=True)
    if removed:
        _say(f"removed {removed} temporary files of an earlier run that was killed")


def cmd_digest(args: argparse.Namespace) -> int:
    """Write one day's digest (markdown and HTML) of the articles per source."""
    from newsmirror.publish.digest import write_digest
    from newsmirror.publish.report import PublishReport

    with Archive.open(args.home) as archive:
        config = archive.config
        if args.date:
            try:
                day = date.fromisoformat(args.date.strip())
            except ValueError:
                err.print(f"not a date: {args.date!r} (use YYYY-MM-DD)")
                return EXIT_USAGE
        else:
            day = datetime.now(ZoneInfo(config.site_timezone)).date()
        report = PublishReport()
        write_digest(config, archive.store, day, report)
    for line in report.notes:
        out.print(line, markup=False)
    if report.written or report.unchanged:
        where = config.output_path / "digests" / f"{day.isoformat()}.md"
        out.print(
            f"digest: {report.written} written, {report.unchanged} unchanged → {where}",
            markup=False,
        )
    return errors_exit(report.errors)


def workflow_package(given: str | None) -> Package:
    """What the workflow installs: ``given`` (``--package``), else what this newsmirror
    was installed from, pinned; ConfigError saying what to pass when there is none."""
    if given is not None:
        return Package(given, "as given with --package")
    return default_package(installed_from())


def init_ci(home: Path, package: Package | None) -> int:
    """Write the GitHub Actions workflow into ``home`` (never over an existing one),
    installing ``package`` (None only when the workflow exists)."""
    target = home / WORKFLOW
    if target.exists() or package is None:
        out.print(f"{target} exists; left as it is.", markup=False)
        return EXIT_OK
    # a JSON string is a YAML double-quoted scalar: quotes in the spec are escaped
    text = _template("github-workflow.yml").replace('"__PACKAGE__"', json.dumps(package.spec))
    write_atomic(target, text.encode("utf-8"))
    out.print(f"wrote {target}", markup=False)
    out.print(f"it installs {package.spec}: {package.why}", markup=False)
    out.print(
        "next: commit it and push; the workflow runs every hour (Actions → newsmirror → "
        "Run workflow to start one now). See the README, 'Running on a CI runner'.",
        markup=False,
    )
    return EXIT_OK


def init_systemd(home: Path) -> int:
    """Write systemd units for ``newsmirror run`` and ``newsmirror serve`` in this home
    into the home (neither over an existing file)."""
    executable = shutil.which("newsmirror") or f"{sys.executable} -m newsmirror.cli"
    for name in ("newsmirror.service", "newsmirror-serve.service"):
        target = home / name
        if target.exists():
            out.print(f"{target} exists; left as it is.", markup=False)
            continue
        text = (
            _template(name)
            .replace("__HOME__", str(home))
            .replace("__EXECUTABLE__", executable)
            .replace("__USER__", getpass.getuser())
        )
        write_atomic(target, text.encode("utf-8"))
        out.print(f"wrote {target} (install it: see the comments at its top)", markup=False)
    return EXIT_OK


def _template(name: str) -> str:
    return resources.files("newsmirror.cli").joinpath("deploy", name).read_text("utf-8")
