"""Folding: text as the search index sees it, one character at a time.

NFKC (full-width forms become half-width, compatibility ideographs unified), then case
folding, then traditional characters to simplified ones with OpenCC's Hong Kong and
Taiwan tables (``hk2s``, then ``tw2s``: plain ``t2s`` leaves Hong Kong variants such as
衞 and 粧 as they are). Character by character, so that any substring of a text folds to
a substring of the folded text (phrase-level conversion would change a character
depending on its neighbours, and a search for one character would then miss it).

The result for every character of the Basic Multilingual Plane is computed once and
shipped with the package (``fold_table.json``): loading it takes milliseconds where
computing it takes a tenth of a second, and above all it keeps folding the same when
Python's Unicode database or OpenCC change, since an index must be taken apart with the
very tokens it was built with. ``python -m newsmirror.search.folding`` writes the table again
from the installed Unicode database and OpenCC (then bump ``search.INDEX_VERSION``).
"""

from __future__ import annotations

import json
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path

TABLE_FILE = "fold_table.json"
#: Han ranges given to OpenCC when the table is computed.
_HAN_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))


def fold(text: str) -> str:
    """Text as the index sees it: every character folded on its own."""
    return text.translate(_fold_list())


def fold_aligned(text: str) -> str:
    """``text`` folded to one character per character (the first of a longer fold:
    "…" → "."), so that offsets in the result are offsets in ``text``."""
    return text.translate(_aligned_list())


@lru_cache(maxsize=1)
def fold_table() -> dict[int, str]:
    """Every character that folding changes and what it becomes, as shipped."""
    return read_table(_shipped())[1]


def _shipped() -> str:
    return Path(__file__).with_name(TABLE_FILE).read_text("utf-8")


@lru_cache(maxsize=1)
def _fold_list() -> list[str]:
    # A list indexed by code point: str.translate looks a list up about twice as fast as
    # a dict. Characters past its end (outside the BMP) are left as they are.
    table = list(map(chr, range(0x10000)))
    for code, folded in fold_table().items():
        table[code] = folded
    return table


@lru_cache(maxsize=1)
def _aligned_list() -> list[str]:
    table = list(map(chr, range(0x10000)))
    for code, folded in fold_table().items():
        if folded:  # a character that folds to nothing keeps its place
            table[code] = folded[0]
    return table


def table_header() -> dict[str, str]:
    """What the shipped table was computed with (``unicode``, ``opencc``)."""
    return read_table(_shipped())[0]


def read_table(text: str) -> tuple[dict[str, str], dict[int, str]]:
    """(header, table) from a table's JSON text: {"unicode": …, "opencc": …, "table":
    {character: what it folds to}} (an empty string: it folds to nothing)."""
    data = json.loads(text)
    table = data.pop("table")
    return data, {ord(char): folded for char, folded in table.items()}


def format_table(table: dict[int, str], header: dict[str, str]) -> str:
    """The JSON text of a table (the inverse of :func:`read_table`): one character a
    line, in code point order, written as themselves where JSON allows."""

    def quoted(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)

    lines = [f"  {quoted(chr(code))}: {quoted(table[code])}" for code in sorted(table)]
    head = "".join(f"  {json.dumps(k)}: {json.dumps(v)},\n" for k, v in header.items())
    return "{\n" + head + '  "table": {\n  ' + ",\n  ".join(lines) + "\n  }\n}\n"


def computed_header() -> dict[str, str]:
    """The versions :func:`compute_table` uses here."""
    from importlib import metadata

    return {"unicode": unicodedata.unidata_version, "opencc": metadata.version("opencc")}


def compute_table() -> dict[int, str]:
    """The fold table from this Python's Unicode database and the installed OpenCC."""
    variants = _variants()
    table = {}
    for code in range(0x10000):
        if 0xD800 <= code < 0xE000:
            continue  # surrogates are not characters
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char).casefold().translate(variants)
        if folded != char:
            table[code] = folded
    return table


def _variants() -> dict[int, str]:
    """Traditional → simplified, per Han character, from OpenCC."""
    import opencc

    chars = [chr(c) for start, end in _HAN_RANGES for c in range(start, end)]
    folded = "\n".join(chars)
    for config in ("hk2s", "tw2s"):
        folded = opencc.OpenCC(config).convert(folded)
    return {
        ord(c): f for c, f in zip(chars, folded.split("\n"), strict=True) if f != c and len(f) == 1
    }


def main() -> None:
    """Write the table computed here into the package (or to the path given)."""
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name(TABLE_FILE)
    target.write_text(format_table(compute_table(), computed_header()), "utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
