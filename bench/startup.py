"""Start-up benchmark: how long ``newsmirror --version`` and ``newsmirror --help`` take,
next to ``python -c "import argparse"`` (the interpreter's start and the parser library,
the least a command line can cost).

Each command runs ``--runs`` times (default 30) in a fresh process, the three taking
turns so that a busy machine slows them alike, after one untimed run of each (bytecode
cached, as an installed package has it). Prints the median, least and most wall time of
each in milliseconds, the ratio of each median to argparse's (the aim: 1.3 at most), and
the modules of the package that ``--version`` loads. Runs the ``newsmirror`` executable
beside this Python, else ``python -m newsmirror.cli``. Not a test: run
``python bench/startup.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def executable() -> list[str]:
    """The installed ``newsmirror`` script beside this Python, else ``-m newsmirror.cli``."""
    script = Path(sys.executable).parent / "newsmirror"
    if script.is_file():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "newsmirror.cli"]


def child_env() -> dict[str, str]:
    """The timed processes' environment: bytecode caching on (an installed package has
    its modules compiled), the package importable from this checkout."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return env


def timed(command: list[str], env: dict[str, str]) -> float:
    """Seconds one run of ``command`` takes, from start to exit."""
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def loaded_modules(env: dict[str, str]) -> list[str]:
    """The package's modules that ``--version`` imports (the parser exits the process,
    so the list is printed by an atexit hook)."""
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print(' '.join(sorted(m for m in sys.modules "
        "if m.startswith('newsmirror'))), file=sys.stderr))\n"
        "sys.argv = ['newsmirror', '--version']\n"
        "from newsmirror.cli.main import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    return done.stderr.split()


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--runs", type=int, default=30, help="runs of each command")
    runs = options.parse_args().runs
    env = child_env()
    commands = {
        'python -c "import argparse"': [sys.executable, "-c", "import argparse"],
        "newsmirror --version": [*executable(), "--version"],
        "newsmirror --help": [*executable(), "--help"],
    }
    for command in commands.values():
        timed(command, env)  # untimed: bytecode written, files in the page cache
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(timed(command, env))
    base = statistics.median(times['python -c "import argparse"'])
    print(f"{runs} runs each (ms): median, least, most; median / argparse's")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(
            f"  {name:30} {median * 1000:7.1f} {min(seconds) * 1000:7.1f} "
            f"{max(seconds) * 1000:7.1f}   {median / base:4.2f}"
        )
    print("modules of the package --version loads:", " ".join(loaded_modules(env)))


if __name__ == "__main__":
    main()
