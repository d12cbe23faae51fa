"""The package's layout: imports run one way, along the pipeline's stages (:data:`ORDER`);
no module imports itself back through others; no module is over :data:`MAX_LINES` lines.

Every import counts wherever it is written: at the top of a module, inside a function
(the imports made late so that commands start faster) and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import newsmirror

SRC = Path(newsmirror.__file__).parent

#: The packages in the order they may import each other: each imports only those of the
#: ranks before its own ("" is the root: types, errors, urls, decide, times, limits,
#: workers). Packages of one rank do not import each other.
ORDER: list[tuple[str, ...]] = [
    ("",),
    ("config",),
    ("fetch",),
    ("parse",),
    ("clean",),
    ("extract",),
    ("search",),
    ("media",),
    ("store",),
    ("collect",),
    ("watch",),
    ("publish",),
    ("publish.markdown", "publish.site"),
    ("jobs",),
    ("schedule", "serve"),
    ("demo",),
    ("cli",),
]
RANK = {package: rank for rank, packages in enumerate(ORDER) for package in packages}

#: Imports against the order, allowed until they go (none now). An exception no longer
#: used fails the test, so that this list only shrinks.
ALLOWED: set[tuple[str, str]] = set()

MAX_LINES = 400
#: Modules over MAX_LINES, until they are split (none now); one no longer over the limit
#: fails the test, so that this list only shrinks.
LONG: set[str] = set()


@dataclass(frozen=True)
class Import:
    """One import of a newsmirror module by another."""

    importer: str  # the module that imports (dotted name)
    imported: str  # the module it imports
    line: int  # where, in the importer's file

    def __str__(self) -> str:
        return f"{self.importer} (line {self.line}) imports {self.imported}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(SRC.rglob("*.py"))}


def package_of(module: str) -> str:
    """The package of ORDER a module belongs to: the longest one that holds it."""
    parts = module.split(".")[1:]
    for size in range(len(parts), 0, -1):
        if ".".join(parts[:size]) in RANK:
            return ".".join(parts[:size])
    is_package = (SRC / parts[0]).is_dir() if parts else False
    return parts[0] if is_package else ""


def imports_of(module: str) -> Iterator[Import]:
    """Every newsmirror module ``module`` imports, anywhere in its file."""
    path = MODULES[module]
    here = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package, up level - 1
                above = here.split(".")[: len(here.split(".")) - node.level + 1]
                base = ".".join([*above, base] if base else above)
            # a name that is a module is that module; another name is its module's
            names = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names
            ]
        else:
            continue
        for name in dict.fromkeys(names):
            if name in MODULES and name != module:
                yield Import(module, name, node.lineno)


IMPORTS = [found for module in MODULES for found in imports_of(module)]


def against_order(found: Import) -> bool:
    """Whether an import goes against ORDER (a later package, or another of one rank)."""
    mine, theirs = package_of(found.importer), package_of(found.imported)
    last = len(ORDER)  # a package not placed yet (the first test says so)
    return mine != theirs and RANK.get(theirs, last) >= RANK.get(mine, last)


def test_every_package_has_its_place_in_the_order() -> None:
    packages = {package_of(module) for module in MODULES}
    assert packages - RANK.keys() == set(), "place these packages in ORDER"
    assert RANK.keys() - packages == set(), "these packages of ORDER are gone"


def test_imports_run_one_way_along_the_stages() -> None:
    wrong = [found for found in IMPORTS if against_order(found)]
    unexpected = [str(f) for f in wrong if (f.importer, f.imported) not in ALLOWED]
    assert unexpected == [], "imports against ORDER:\n" + "\n".join(unexpected)
    used = {(f.importer, f.imported) for f in wrong}
    assert ALLOWED - used == set(), "exceptions no longer used: remove them from ALLOWED"


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, through any number of others
    (strongly connected components of more than one module; Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in sorted(edges[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = stack[stack.index(module) :]
            del stack[stack.index(module) :]
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def test_circles_are_found() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert circles(edges) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back() -> None:
    edges: dict[str, set[str]] = {module: set() for module in MODULES}
    for found in IMPORTS:
        edges[found.importer].add(found.imported)
    assert circles(edges) == []


def test_no_module_is_over_the_limit() -> None:
    sizes = {
        path.relative_to(SRC).as_posix(): len(path.read_text("utf-8").splitlines())
        for path in MODULES.values()
    }
    over = {name: lines for name, lines in sizes.items() if lines > MAX_LINES}
    assert {name: n for name, n in over.items() if name not in LONG} == {}
    assert LONG - over.keys() == set(), "no longer over the limit: remove them from LONG"


def test_only_the_store_knows_its_backend() -> None:
    """Above store/, every layer takes the Store Protocol (and the read-only views that
    ``newsmirror.store`` opens): no module outside store/ imports a backend's modules, or
    sqlite3, so that a second backend changes nothing above it."""
    backend = [
        str(found)
        for found in IMPORTS
        if found.imported.startswith("newsmirror.store.sqlite")
        and not found.importer.startswith("newsmirror.store")
    ]
    assert backend == []
    sqlite3_users = [
        module_name(path)
        for path in MODULES.values()
        if not module_name(path).startswith("newsmirror.store")
        and any(
            isinstance(node, ast.Import | ast.ImportFrom)
            and any(
                (alias.name if isinstance(node, ast.Import) else node.module or "") == "sqlite3"
                for alias in node.names
            )
            for node in ast.walk(ast.parse(path.read_text("utf-8")))
        )
    ]
    assert sqlite3_users == []
