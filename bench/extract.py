"""Extraction benchmark: our full-text extraction against plain trafilatura, on real pages.

PAGES_DIR holds pages with what a good extraction of each gives, laid out as
tests/data/pages (the default):

- ``newspaper4k/html/NAME.html`` with the expected full text in
  ``newspaper4k/txt/NAME.txt`` (pages without one are skipped);
- ``trafilatura/html/*.html`` and ``trafilatura/evaldata.json``, which maps each page's
  URL to its ``file``, the fragments a good extraction contains (``with``) and the
  boilerplate it must leave out (``without``).

Every page goes through

- ``ours``: ``extract_page`` (bytes in) → ``clean_html`` → ``html_to_text``, the text a
  reader of the archive gets;
- ``trafilatura``: ``trafilatura.extract(text)`` with no options (its default text
  output), given the page as ``decode_page`` decodes it.

Prints per page and side by side for both: the bag-of-tokens precision, recall and F1
against the expected text (newspaper4k pages), or the share of ``with`` fragments found
and of ``without`` fragments left out (trafilatura pages; see :mod:`newsmirror.extract.quality`),
with the milliseconds each extraction took; then the means, and the mean, median and
longest time per page of each (times include any one-time set-up a page happens to
trigger in a library, hence the median). A page with no extraction scores as an empty
text. Not a test: run ``python bench/extract.py [PAGES_DIR]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean, median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from newsmirror.clean.article import clean_html, html_to_text  # noqa: E402
from newsmirror.errors import ExtractError  # noqa: E402
from newsmirror.extract.page import decode_page, extract_page  # noqa: E402
from newsmirror.extract.quality import f1, fragments  # noqa: E402

URL = "https://example.com/article"  # the same URL as tests/test_extract_quality.py
NAME_WIDTH = 34


@dataclass(frozen=True)
class Page:
    """One page to extract and what a good extraction of it gives."""

    name: str  # the HTML file's name
    body: bytes  # the page as fetched
    expected: str  # the expected full text ("" for a fragment-scored page)
    with_: tuple[str, ...]  # fragments a good extraction contains
    without: tuple[str, ...]  # boilerplate fragments it leaves out


def newspaper_pages(folder: Path) -> Iterator[Page]:
    """The newspaper4k pages that have an expected text, by name."""
    for html in sorted((folder / "html").glob("*.html")):
        txt = folder / "txt" / f"{html.stem}.txt"
        if txt.exists():
            yield Page(html.name, html.read_bytes(), txt.read_text("utf-8"), (), ())


def trafilatura_pages(folder: Path) -> Iterator[Page]:
    """The trafilatura pages that evaldata.json describes, by file name."""
    if not (folder / "evaldata.json").exists():
        return
    entries = json.loads((folder / "evaldata.json").read_text("utf-8")).values()
    for entry in sorted(entries, key=lambda e: str(e["file"])):
        path = folder / "html" / entry["file"]
        if path.exists():
            with_, without = tuple(entry.get("with", ())), tuple(entry.get("without", ()))
            yield Page(path.name, path.read_bytes(), "", with_, without)


def ours(page: bytes) -> str:
    """The text a reader gets from our extraction of the page."""
    try:
        extraction = extract_page(page, URL, "text/html")
    except ExtractError:
        return ""
    return html_to_text(clean_html(extraction.html, URL))


def plain_trafilatura(page: bytes) -> str:
    """trafilatura's default text extraction of the page (decoded as ours decodes it)."""
    import trafilatura

    return trafilatura.extract(decode_page(page, "text/html")) or ""


EXTRACTORS: dict[str, Callable[[bytes], str]] = {
    "ours": ours,
    "trafilatura": plain_trafilatura,
}


def timed(extract: Callable[[bytes], str], page: bytes) -> tuple[str, float]:
    """The extracted text and the milliseconds it took."""
    started = time.perf_counter()
    text = extract(page)
    return text, (time.perf_counter() - started) * 1000


def short(name: str) -> str:
    """A page name cut to the table's column."""
    return name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…"


def newspaper_measures(text: str, page: Page) -> tuple[float, ...]:
    """Precision, recall and F1 of the text against the page's expected text."""
    score = f1(text, page.expected)
    return score.precision, score.recall, score.f1


def trafilatura_measures(text: str, page: Page) -> tuple[float, ...]:
    """The shares of the page's fragments found and of its boilerplate left out."""
    score = fragments(text, page.with_, page.without)
    return score.found, score.left_out


def row(values: tuple[float, ...], cell: int) -> str:
    """One extractor's cells: its measures, then its milliseconds."""
    *measures, ms = values
    return " |" + "".join(f"{v:{cell}.3f}" for v in measures) + f"{ms:{cell}.0f}"


def table(
    title: str,
    pages: list[Page],
    columns: tuple[str, ...],
    measure: Callable[[str, Page], tuple[float, ...]],
) -> dict[str, list[float]]:
    """Print one row per page, the measures and milliseconds of every extractor side by
    side, then their means; return the milliseconds of each extractor per page."""
    cell = max(7, *(len(label) + 2 for label in columns))
    group = cell * (len(columns) + 1)
    print(f"{'':<{NAME_WIDTH}}" + "".join(f" | {name:<{group - 1}}" for name in EXTRACTORS))
    labels = "".join(f"{label:>{cell}}" for label in (*columns, "ms"))
    print(f"{title:<{NAME_WIDTH}}" + f" |{labels}" * len(EXTRACTORS))
    rows: dict[str, list[tuple[float, ...]]] = {name: [] for name in EXTRACTORS}
    for page in pages:
        line = f"{short(page.name):<{NAME_WIDTH}}"
        for name, extract in EXTRACTORS.items():
            text, ms = timed(extract, page.body)
            rows[name].append((*measure(text, page), ms))
            line += row(rows[name][-1], cell)
        print(line)
    line = f"{f'mean of {len(pages)} pages':<{NAME_WIDTH}}"
    for name in EXTRACTORS:
        line += row(tuple(fmean(column) for column in zip(*rows[name], strict=True)), cell)
    print(line)
    return {name: [values[-1] for values in rows[name]] for name in EXTRACTORS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "pages",
        nargs="?",
        type=Path,
        default=ROOT / "tests" / "data" / "pages",
        metavar="PAGES_DIR",
        help="folder holding newspaper4k/ and trafilatura/ (default: tests/data/pages)",
    )
    args = parser.parse_args()
    news = list(newspaper_pages(args.pages / "newspaper4k"))
    traf = list(trafilatura_pages(args.pages / "trafilatura"))
    if not news and not traf:
        parser.error(f"no pages in {args.pages}")
    for extract in EXTRACTORS.values():  # imports and first-call set-up, not timed
        extract((news or traf)[0].body)
    times: dict[str, list[float]] = {name: [] for name in EXTRACTORS}
    if news:
        ms = table("newspaper4k page", news, ("P", "R", "F1"), newspaper_measures)
        for name in EXTRACTORS:
            times[name] += ms[name]
        print()
    if traf:
        ms = table("trafilatura page", traf, ("found", "left-out"), trafilatura_measures)
        for name in EXTRACTORS:
            times[name] += ms[name]
        print()
    for name, values in times.items():
        print(
            f"{name}: {fmean(values):.0f} ms per page on average, median "
            f"{median(values):.0f} ms, slowest {max(values):.0f} ms ({len(values)} pages)"
        )


if __name__ == "__main__":
    main()
