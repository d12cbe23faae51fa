"""The ``newsmirror`` command: thin commands over the jobs, one module per group of
commands, consoles and exit codes."""

from __future__ import annotations

#: Exit codes (see :mod:`newsmirror.cli.main`): here, where ``--version`` need not load more.
EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_FAILURE = 0, 1, 2, 3


def run() -> None:
    """The console script's entry point (``main`` is loaded only now: ``--version`` and
    ``--help`` import no more than they need)."""
    from newsmirror.cli.main import run as run_main

    run_main()
