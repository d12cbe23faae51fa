"""The ``newsmirror`` command: thin commands over the jobs, one module per group of
commands, consoles and exit codes."""

from __future__ import annotations


def run() -> None:
    """The console script's entry point (``main`` is loaded only now: ``--version`` and
    ``--help`` import no more than they need)."""
    from newsmirror.cli.main import run as run_main

    run_main()
