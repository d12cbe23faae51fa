"""Write the README's two settings tables (the settings, the keys of a source) from their
declarations in src/newsmirror/config (keys.py, sources.py), between the marks
``<!-- settings: ... -->`` and ``<!-- end of settings -->`` (and the same for
``source keys``). Run from the repository root after changing a setting's default or
doc: ``python scripts/settings_table.py``; ``--check`` only says whether the README is
in step (tests/test_config_docs.py checks it too).
"""

from __future__ import annotations

import sys
from pathlib import Path

from newsmirror.config.template import with_tables

README = Path(__file__).resolve().parent.parent / "README.md"


def main(argv: list[str]) -> int:
    text = README.read_text("utf-8")
    made = with_tables(text)
    if made == text:
        print("README.md: the settings tables are in step")
        return 0
    if "--check" in argv:
        print("README.md: the settings tables differ from the declarations", file=sys.stderr)
        return 1
    README.write_text(made, "utf-8")
    print("README.md: settings tables written")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
