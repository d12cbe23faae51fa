"""Run one benchmark on two revisions of newsmirror, alternately, in one invocation.

Each revision is extracted from git (``git archive``) into a folder of its own, and the
benchmark script runs in a fresh process with that folder's ``src`` first on the path:
the installed package is shadowed, the interpreter and the libraries are the same. Rounds
alternate the order (base, head; head, base; ...) so that a machine whose load drifts
weighs on both alike. Each ``--figure NAME=REGEX`` (one group: a number) is read from
every run's output; the medians per revision and their ratio (head / base) are printed.

The script is the working tree's, and runs against both revisions. When modules moved
between them, ``--alias NEW=OLD`` makes the script's imports of ``NEW`` load the base
revision's ``OLD`` (a package that does not exist there is made empty; a module that is
not a package gains an empty path, so that an alias can stand beneath it).
For example, across the architecture change (packages by stage):

    python bench/revisions.py --base pre-architecture --rounds 3 \\
        --alias newsmirror.search.query=newsmirror.search \\
        --figure 'build=build: .* = ([\\d,]+) articles/s' bench/search.py -- --sizes 100000

Not a test.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: sitecustomize for the base revision's processes: the aliases (NEWSMIRROR_ALIASES).
SHIM = '''
import importlib, importlib.abc, importlib.machinery, importlib.util, os, sys, types

ALIASES = dict(
    pair.split("=", 1) for pair in os.environ.get("NEWSMIRROR_ALIASES", "").split(",") if pair
)
PARENTS = {new.rsplit(".", i)[0] for new in ALIASES for i in range(1, new.count(".") + 1)}


class _Alias(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass


class _Parent(importlib.abc.Loader):
    """A module beneath which an alias stands: the real one given a path (an empty one),
    or an empty package where the revision has none."""

    def __init__(self, real):
        self.real = real

    def create_module(self, spec):
        return None if self.real is None else self.real.loader.create_module(self.real)

    def exec_module(self, module):
        if self.real is not None:
            self.real.loader.exec_module(module)
        if not hasattr(module, "__path__"):
            module.__path__ = []

    def get_code(self, name):  # python -m runs it
        return self.real.loader.get_code(name)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in ALIASES:
            return importlib.util.spec_from_loader(name, _Alias(ALIASES[name]))
        if name in PARENTS:
            real = importlib.machinery.PathFinder.find_spec(name, path)
            if real is not None and real.submodule_search_locations is not None:
                return None  # a package already
            spec = importlib.util.spec_from_loader(name, _Parent(real), is_package=real is None)
            if real is not None:
                spec.origin, spec.has_location = real.origin, real.has_location
            return spec
        return None


sys.meta_path.insert(0, _Finder())
'''


def extract(revision: str, into: Path) -> Path:
    """The tree of ``revision`` (``.`` for the working tree as it is) in ``into``."""
    into.mkdir(parents=True)
    if revision == ".":
        shutil.copytree(ROOT / "src", into / "src")
        return into
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "src"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def run(script: Path, args: list[str], tree: Path, shim: Path | None, aliases: str) -> str:
    """The output of one run of ``script`` against the sources in ``tree``."""
    paths = [str(tree / "src"), *([str(shim)] if shim else [])]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths), NEWSMIRROR_ALIASES=aliases)
    where = subprocess.run(
        [sys.executable, "-c", "import newsmirror; print(newsmirror.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(where).is_relative_to(tree):  # the installed package was not shadowed
        sys.exit(f"newsmirror loads from {where}, not from {tree}")
    done = subprocess.run(
        [sys.executable, str(script), *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"{script.name} failed against {tree.name}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def figures(output: str, wanted: dict[str, re.Pattern[str]]) -> dict[str, list[float]]:
    """Every value of each wanted figure in ``output``."""
    return {
        name: [float(m.group(1).replace(",", "")) for m in rx.finditer(output)]
        for name, rx in wanted.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the revision before (a git ref)")
    parser.add_argument("--head", default=".", help="the revision after (default: the tree)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--figure", action="append", default=[], metavar="NAME=REGEX")
    parser.add_argument("--alias", action="append", default=[], metavar="NEW=OLD")
    parser.add_argument("--show", action="store_true", help="print every run's output")
    parser.add_argument("script", help="the benchmark, e.g. bench/search.py")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments (after --)")
    options = parser.parse_args()
    args = options.args[1:] if options.args[:1] == ["--"] else options.args
    wanted = {name: re.compile(rx) for name, _, rx in (f.partition("=") for f in options.figure)}
    with tempfile.TemporaryDirectory(prefix="nm-revisions-") as work:
        trees = {
            "base": extract(options.base, Path(work) / "base"),
            "head": extract(options.head, Path(work) / "head"),
        }
        script = ROOT / options.script
        shim = Path(work) / "shim"
        shim.mkdir()
        (shim / "sitecustomize.py").write_text(SHIM)
        aliases = ",".join(options.alias)
        found: dict[str, dict[str, list[float]]] = {"base": {}, "head": {}}
        for round_ in range(options.rounds):
            order = ("base", "head") if round_ % 2 == 0 else ("head", "base")
            for which in order:
                shimmed = shim if which == "base" and aliases else None
                output = run(script, args, trees[which], shimmed, aliases)
                if options.show:
                    print(f"--- round {round_ + 1}, {which}\n{output}")
                got = figures(output, wanted)
                for name, values in got.items():
                    found[which].setdefault(name, []).extend(values)
                shown = ", ".join(f"{n} {v}" for n, v in got.items())
                print(f"round {round_ + 1} {which}: {shown}", flush=True)
    print(f"\n{'figure':<24} {'base':>10} {'head':>10} {'head/base':>10}")
    for name in wanted:
        base, head = found["base"].get(name, []), found["head"].get(name, [])
        if not base or not head:
            print(f"{name:<24} (not found in every run's output)")
            continue
        b, h = statistics.median(base), statistics.median(head)
        print(f"{name:<24} {b:>10.4g} {h:>10.4g} {h / b if b else float('nan'):>10.3f}")


if __name__ == "__main__":
    main()
