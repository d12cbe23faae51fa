"""What every command shares: exit codes, the consoles (made on first use), progress
bars on a terminal only, and the check that an archive exists."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsmirror import times
from newsmirror.cli.exits import EXIT_FAILURE as EXIT_FAILURE
from newsmirror.cli.exits import EXIT_OK as EXIT_OK
from newsmirror.cli.exits import EXIT_PARTIAL as EXIT_PARTIAL
from newsmirror.cli.exits import EXIT_USAGE as EXIT_USAGE
from newsmirror.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Console

    from newsmirror.jobs.progress import Advance


class _LazyConsole:
    """A rich Console made on first use: a quiet run (cron, CI) never loads rich."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)

    def print(self, *objects: Any, markup: bool | None = None, **kwargs: Any) -> None:
        """Console.print; a plain line to a pipe or a log is written as it is, without
        loading rich (a cron or CI run prints a few such lines)."""
        stream = sys.stderr if self._stderr else sys.stdout
        plain = len(objects) == 1 and isinstance(objects[0], str) and not kwargs
        if plain and self._console is None and not stream.isatty():
            text = objects[0]
            if markup is False or "[" not in text:
                stream.write(text + "\n")
                stream.flush()
                return
        self.real().print(*objects, markup=markup, **kwargs)

    def real(self) -> Console:
        """The Console itself, made now if need be."""
        if self._console is None:
            from rich.console import Console

            stream = sys.stderr if self._stderr else sys.stdout
            # In pipes and logs nothing is wrapped or cut short: lines stay whole for grep.
            self._console = Console(
                stderr=self._stderr,
                highlight=False,
                soft_wrap=True,
                width=None if stream.isatty() else 1000,
            )
        return self._console


out: Any = _LazyConsole(stderr=False)
err: Any = _LazyConsole(stderr=True)


@contextmanager
def progress(label: str, total: int | None) -> Iterator[Advance]:
    """A progress bar on a terminal, nothing otherwise; yields an ``advance`` callable."""
    if not sys.stderr.isatty():  # cron, CI, pipes: no bar, and no need to load one
        yield lambda n: None
        return
    from rich.progress import Progress

    with Progress(console=err.real(), transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


#: What a command asks of its home: nothing (it may make one: init, demo, import), the
#: folder (it reads settings only, or adds to newsmirror.toml), or an archive.
NEEDS_NOTHING, NEEDS_FOLDER, NEEDS_ARCHIVE = "nothing", "folder", "archive"


def existing_home(home: str | None, need: str = NEEDS_ARCHIVE) -> str | None:
    """``home`` when it is what a command needs (see :data:`NEEDS_ARCHIVE`); ConfigError
    otherwise. An archive is a folder holding newsmirror.toml or the database (at its
    default name, as no newsmirror.toml names another): a typo in --home, a wrong
    $NEWSMIRROR_HOME or the wrong current directory must not quietly make a new, empty
    archive."""
    if need == NEEDS_NOTHING:
        return home
    from newsmirror.config.settings import resolve_home

    path = resolve_home(home)
    if not path.is_dir() or (need == NEEDS_ARCHIVE and not holds_archive(path)):
        raise ConfigError(f"no archive at {path} (newsmirror init {path} makes one)")
    return home


def holds_archive(path: Path) -> bool:
    """Whether a folder holds an archive: newsmirror.toml, or the database (or
    $NEWSMIRROR_DATABASE names one elsewhere)."""
    from newsmirror.config.keys import default
    from newsmirror.config.settings import CONFIG_NAME, DATABASE_ENV

    database = default("archive.database")
    if os.environ.get(DATABASE_ENV, "").startswith(("postgresql://", "postgres://")):
        return True
    return (path / CONFIG_NAME).is_file() or (path / str(database)).is_file()


def home_need(args: argparse.Namespace) -> str:
    """What a command asks of its home: an archive, but for the commands that may make
    one (init, demo, import) and those that only read settings or add to newsmirror.toml
    (extract, sources export and import), which need the folder alone. A new command
    needs an archive unless it is named here."""
    if args.command in ("init", "demo", "import"):
        return NEEDS_NOTHING
    if args.command == "extract" or (
        args.command == "sources" and args.action in ("export", "import")
    ):
        return NEEDS_FOLDER
    return NEEDS_ARCHIVE


def errors_exit(errors: list[str]) -> int:
    """Print each error line on stderr; the exit code: partial when there were any."""
    for line in errors:
        err.print(line, markup=False)
    return EXIT_PARTIAL if errors else EXIT_OK


def minute(when: datetime) -> str:
    """A stored UTC time to the minute, as the error lines write it: 2026-11-27 16:31."""
    return times.iso(when)[:16].replace("T", " ")
