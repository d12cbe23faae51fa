"""The README's map of the packages matches the tree, line for line."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "src" / "newsmirror"


def mapped() -> tuple[set[str], set[str]]:
    """(packages, root modules) the README's package map names."""
    text = (ROOT / "README.md").read_text("utf-8")
    found = re.search(r"<!-- package map -->\n(.*?)<!-- end of package map -->", text, re.S)
    assert found, "the README has no package map"
    packages, modules = set(), set()
    for line in found.group(1).splitlines():
        names = re.findall(r"`([\w/]+(?:\.py|/))`", line.split(":")[0])
        for name in names:
            (packages if name.endswith("/") else modules).add(name.rstrip("/"))
    return packages, modules


def test_the_package_map_names_every_package_and_root_module() -> None:
    packages, modules = mapped()
    tree = {
        init.parent.relative_to(PACKAGE).as_posix()
        for init in PACKAGE.rglob("__init__.py")
        if init.parent != PACKAGE
    }
    roots = {p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    assert packages == tree
    assert modules == roots
