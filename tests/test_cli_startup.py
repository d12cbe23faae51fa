"""``newsmirror --version`` and ``--help`` load argparse and the parser, nothing of the
pipeline; each command's module (and parser) is made when that command runs."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from newsmirror.cli.main import build_parser, main

#: What the parser path may load of the package.
PARSER_MODULES = {
    "newsmirror",
    "newsmirror.cli",
    "newsmirror.cli.exits",
    "newsmirror.cli.main",
    "newsmirror.cli.parser",
}


def loaded_by(*argv: str) -> tuple[set[str], set[str]]:
    """The modules ``newsmirror ARGV`` has loaded when it exits, and those that a parser
    of argparse with a --version alone loads for ARGV, each in a fresh interpreter."""
    listing = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('\\n'.join(sys.modules), file=sys.stderr))\n"
    )
    run = listing + f"sys.argv = ['newsmirror', *{list(argv)!r}]\n"
    run += "from newsmirror.cli.main import main\nmain()\n"
    done = subprocess.run([sys.executable, "-c", run], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    alone = "import argparse\nparser = argparse.ArgumentParser()\n"
    alone += "parser.add_argument('--version', action='version', version='1')\n"
    alone += f"parser.parse_args({list(argv)!r})\n"
    base = subprocess.run([sys.executable, "-c", listing + alone], capture_output=True, text=True)
    return set(done.stderr.split()), set(base.stderr.split())


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_version_and_help_load_only_the_parser(argv: list[str]) -> None:
    modules, argparse_alone = loaded_by(*argv)
    ours = {m for m in modules if m.split(".")[0] == "newsmirror"}
    assert ours == PARSER_MODULES, sorted(ours - PARSER_MODULES)
    others = modules - argparse_alone - ours
    assert len(others) <= 3, sorted(others)  # __future__, collections.abc, gc: nothing heavy


def commands() -> list[str]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


@pytest.mark.parametrize("name", commands())
def test_every_command_parser_is_made_when_asked_for(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main([name, "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: newsmirror {name} ")
