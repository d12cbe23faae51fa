"""``python -m newsmirror.cli``: the newsmirror command."""

from newsmirror.cli import run

run()
