"""The package as installed: every library the code imports is declared in pyproject.toml,
and the private parts of feedparser that the fast path relies on are there in the
versions pinned."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).parent.parent
SRC = ROOT / "src" / "newsmirror"


def declared() -> dict[str, str]:
    """The runtime requirements of pyproject.toml, by normalised distribution name."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    named = {}
    for requirement in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement)
        assert name, requirement
        named[normalised(name.group())] = requirement
    return named


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules(folder: Path) -> dict[str, str]:
    """The top-level modules imported anywhere in ``folder`` (lazy imports included),
    each with one file that imports it."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_library_the_code_imports_is_declared() -> None:
    """A module that comes only with another package (anyio with httpx, say) may go
    away in that package's next version: what the code imports, it declares."""
    dists = metadata.packages_distributions()
    runtime = declared()
    missing = []
    for module, where in sorted(imported_modules(SRC).items()):
        if module in sys.stdlib_module_names or module in ("newsmirror", "__future__"):
            continue
        names = {normalised(d) for d in dists.get(module, [module])}
        if not names & set(runtime):
            missing.append(f"{module} (imported in {where}; distribution {sorted(names)})")
    assert not missing, "imported but not declared in pyproject.toml: " + "; ".join(missing)


#: The private names of feedparser that newsmirror.parse.fast uses, and what they must be.
FEEDPARSER_PRIVATE = (
    "feedparser.datetimes._parse_date (any date form feedparser reads)",
    "feedparser.mixin._FeedParserMixin.namespaces (the namespaces feedparser acts on)",
)


def test_feedparser_is_pinned_to_the_versions_whose_private_names_we_use() -> None:
    requirement = declared()["feedparser"]
    assert "<" in requirement, (
        f"feedparser must be pinned below its next minor version ({requirement!r}): "
        f"newsmirror.parse.fast uses {'; '.join(FEEDPARSER_PRIVATE)}"
    )
    lowest, below = re.findall(r"[0-9][0-9.]*", requirement)[:2]
    installed = metadata.version("feedparser")
    as_tuple = [int(part) for part in installed.split(".")[:3]]
    assert [int(p) for p in lowest.split(".")] <= as_tuple < [int(p) for p in below.split(".")], (
        f"feedparser {installed} is outside the pinned range {requirement!r}"
    )


def test_feedparser_still_has_the_private_names_the_fast_path_uses() -> None:
    """If this fails, feedparser changed its insides: newsmirror.parse.fast must be
    brought in line (and tests/test_fastfeed.py rerun) before the pin is moved."""
    try:
        from feedparser.datetimes import _parse_date
        from feedparser.mixin import _FeedParserMixin
    except ImportError as exc:
        raise AssertionError(
            f"feedparser {metadata.version('feedparser')} no longer has what "
            f"newsmirror.parse.fast uses: {'; '.join(FEEDPARSER_PRIVATE)} ({exc})"
        ) from exc
    namespaces = getattr(_FeedParserMixin, "namespaces", None)
    assert isinstance(namespaces, dict) and "http://purl.org/dc/elements/1.1/" in namespaces, (
        f"feedparser's _FeedParserMixin.namespaces is gone or changed: {FEEDPARSER_PRIVATE[1]}"
    )
    parsed = _parse_date("2023-04-09T11:15:02+08:00")
    assert parsed is not None and tuple(parsed)[:6] == (2023, 4, 9, 3, 15, 2), (
        f"feedparser's _parse_date no longer reads a W3C date: {FEEDPARSER_PRIVATE[0]}"
    )
