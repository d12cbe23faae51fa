"""The ``newsmirror`` command line: thin commands over the jobs.

Exit codes (scripts may rely on them):

- 0: everything worked;
- 1: the job ran, but at least one source, file or item failed (the rest was done);
- 2: bad usage or a bad configuration, a home that holds no archive included (nothing
  was done);
- 3: the store or the file system failed;
- 4: ``run`` only: another ``newsmirror run`` holds the archive.

The parser is :mod:`newsmirror.cli.parser`; each command's module is imported when the
command runs, so that ``--version`` and ``--help`` start as fast as argparse.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator, Sequence

from newsmirror.cli.exits import EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE
from newsmirror.cli.parser import build_parser

TYPE_CHECKING = False  # typing and contextlib are loaded when a command runs, not before
if TYPE_CHECKING:
    from contextlib import AbstractContextManager

__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_PARTIAL", "EXIT_USAGE", "build_parser", "main", "run"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    args = build_parser().parse_args(argv)  # --version and --help end here
    import contextlib

    from newsmirror.cli.io import err, existing_home, home_need
    from newsmirror.errors import ConfigError, NewsmirrorError, StorageError

    try:
        existing_home(args.home, home_need(args))  # a home is never made by accident
        if args.command == "run":  # `run` stops on signals its own way
            code: int = args.func(args)
        else:
            with _interrupted_by_sigterm():
                code = args.func(args)
        return code
    except ConfigError as exc:
        err.print(f"configuration error: {exc}", markup=False)
        return EXIT_USAGE
    except StorageError as exc:
        err.print(f"storage error: {exc}", markup=False)
        return EXIT_FAILURE
    except NewsmirrorError as exc:
        err.print(f"error: {exc}", markup=False)
        return EXIT_FAILURE
    except BrokenPipeError:  # the reader went away (| head): nothing more to say to it
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PARTIAL
    except OSError as exc:  # a file or folder the user named is not usable
        err.print(f"error: {exc.strerror or exc}: {exc.filename or ''}", markup=False)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        err.print("interrupted; the next run finishes the job")
        return 130


def _interrupted_by_sigterm() -> AbstractContextManager[None]:
    """:func:`_on_sigterm_interrupt` as a context manager."""
    import contextlib

    return contextlib.contextmanager(_on_sigterm_interrupt)()


def _on_sigterm_interrupt() -> Iterator[None]:
    """SIGTERM (a CI job's timeout, a service manager stopping) ends a command as Ctrl-C
    does: what was stored is kept, a message says so, the exit code is 130."""
    import signal
    import threading

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():  # signals are the main's
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run() -> None:
    """The ``newsmirror`` executable: :func:`main`, then an immediate exit.

    By the time main returns everything is closed (the store, files, connections), so the
    process leaves without Python's teardown of its modules and objects, which takes a
    noticeable part of a short run (about 0.15 s after a fetch of hundreds of feeds).
    The garbage collector is tuned for a short run first.
    """
    # The modules' objects live as long as the process: the collector skips them, and
    # collects young objects in larger steps (a fetch allocates millions, few in cycles).
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
