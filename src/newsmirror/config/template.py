"""What is written from the declared settings: the commented ``newsmirror.toml`` that
``newsmirror init`` writes, and the README's two settings tables (kept in step by
``scripts/settings_table.py``; a test fails when they drift)."""

from __future__ import annotations

import re

from newsmirror.config.declare import shown
from newsmirror.config.keys import SETTINGS
from newsmirror.config.sources import SOURCE_KEYS


def render_template() -> str:
    """The commented newsmirror.toml that ``newsmirror init`` writes."""
    lines = ["# newsmirror configuration. Every key is optional; shown with its default.", ""]
    table = ""
    for s in SETTINGS:
        if s.table != table:
            table = s.table
            lines += ["", f"[{table}]"]
        lines += [f"# {s.help}", f"# {s.key} = {shown(s.default)}"]
    lines += [
        "",
        "# Sources: the nine defaults are built in. Override a key of one, e.g.:",
        "# [sources.rfi]",
        '# feeds = ["https://feedx.net/rss/rfi.xml", "https://www.rfi.fr/cn/rss"]',
        "# or add a source (name and feeds are required):",
        "# [sources.example]",
        '# name = "示例"',
        '# feeds = ["https://example.org/feed.xml"]',
        "# Keys of a source table:",
    ]
    lines += [f"#   {key}: {spec.help}" for key, spec in SOURCE_KEYS.items()]
    return "\n".join(lines) + "\n"


def setting_names() -> list[str]:
    """Every settings key as table.key, for docs tests."""
    return [s.name for s in SETTINGS] + [f"sources.<slug>.{k}" for k in SOURCE_KEYS]


_HEAD = "| key | default | meaning |\n| --- | --- | --- |\n"


def settings_table() -> str:
    """The README's table of settings, from :data:`SETTINGS`."""
    rows = [f"| `{s.key}` | `{shown(s.default)}` | `[{s.table}]`: {s.doc} |\n" for s in SETTINGS]
    return _HEAD + "".join(rows)


def source_keys_table() -> str:
    """The README's table of a source's keys, from :data:`SOURCE_KEYS`."""
    rows = [
        f"| `{key}` | {spec.shown or '`' + shown(spec.default) + '`'} | {spec.doc} |\n"
        for key, spec in SOURCE_KEYS.items()
    ]
    return _HEAD + "".join(rows)


#: Each table sits between these lines in the README.
_MARKS = {
    "settings": settings_table,
    "source keys": source_keys_table,
}


def with_tables(readme: str) -> str:
    """``readme`` with each table between its marks made anew from the declarations;
    ValueError when a mark is missing."""
    for name, make in _MARKS.items():
        start = f"<!-- {name}: made from src/newsmirror/config by scripts/settings_table.py -->\n"
        end = f"<!-- end of {name} -->\n"
        pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
        found = pattern.search(readme)
        if found is None:
            raise ValueError(f"the README has no {start.strip()} ... {end.strip()}")
        made = f"{start}\n{make()}\n{end}"  # blank lines: the table is a block of its own
        readme = readme[: found.start()] + made + readme[found.end() :]
    return readme
