"""Quality gate of full-text extraction: our extraction scored on real pages.

Every page of tests/data/pages goes through what a reader of the archive gets,
``extract_page`` → ``clean_html`` → ``html_to_text`` (URL ``https://example.com/article``),
and is scored with :mod:`newsmirror.extract.quality`:

- ``newspaper4k/`` pages: bag-of-tokens F1 against the expected full text;
- ``trafilatura/`` pages: the share of ``with`` fragments found and the share of
  ``without`` (boilerplate) fragments left out.

The tests fail when a mean falls more than 0.005 below the one stored in
tests/data/pages/baseline.json, when a single page's score falls more than 0.05 below
its stored score, or when the pages and the baseline no longer match.

After a deliberate change of the extraction (or of the pages), rewrite the baseline and
commit it with the change, saying why the scores moved::

    NEWSMIRROR_UPDATE_BASELINE=1 pytest tests/test_extract_quality.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from statistics import fmean
from typing import Any

import pytest

from newsmirror.clean.article import clean_html, html_to_text
from newsmirror.errors import ExtractError
from newsmirror.extract.page import extract_page
from newsmirror.extract.quality import f1, fragments

PAGES = Path(__file__).parent / "data" / "pages"
BASELINE = PAGES / "baseline.json"
URL = "https://example.com/article"
MEAN_TOLERANCE = 0.005  # how far a mean may fall below the baseline's
PAGE_TOLERANCE = 0.05  # how far one page's score may fall below its stored score
CORPORA = ("newspaper4k", "trafilatura")

Scores = dict[str, dict[str, float]]  # page file name → measure → score


def reader_text(page: Path) -> str:
    """The text a reader gets from our extraction of the page ("" when there is none)."""
    try:
        extraction = extract_page(page.read_bytes(), URL, "text/html")
    except ExtractError:
        return ""
    return html_to_text(clean_html(extraction.html, URL))


def newspaper_scores() -> Scores:
    """F1 of every newspaper4k page against its expected text."""
    folder = PAGES / "newspaper4k"
    scores = {}
    for page in sorted((folder / "html").glob("*.html")):
        expected = (folder / "txt" / f"{page.stem}.txt").read_text("utf-8")
        scores[page.name] = {"f1": f1(reader_text(page), expected).f1}
    return scores


def trafilatura_scores() -> Scores:
    """Fragment shares of every trafilatura page that evaldata.json describes."""
    folder = PAGES / "trafilatura"
    scores = {}
    for entry in json.loads((folder / "evaldata.json").read_text("utf-8")).values():
        text = reader_text(folder / "html" / entry["file"])
        score = fragments(text, entry["with"], entry["without"])
        scores[entry["file"]] = {"found": score.found, "left_out": score.left_out}
    return dict(sorted(scores.items()))


def summary(pages: Scores) -> dict[str, Any]:
    """The mean of each measure and the per-page scores, rounded to 4 places."""
    measures = sorted({measure for scores in pages.values() for measure in scores})
    return {
        "mean": {m: round(fmean(scores[m] for scores in pages.values()), 4) for m in measures},
        "pages": {
            name: {m: round(s, 4) for m, s in scores.items()} for name, scores in pages.items()
        },
    }


def baseline_json(result: dict[str, Any]) -> str:
    """``result`` as JSON with one line per page, so that a rewritten baseline reads as a
    short diff."""
    corpora = []
    for corpus, data in result.items():
        pages = ",\n".join(
            f"   {json.dumps(name, ensure_ascii=False)}: {json.dumps(scores)}"
            for name, scores in data["pages"].items()
        )
        mean = json.dumps(data["mean"])
        corpora.append(f' "{corpus}": {{\n  "mean": {mean},\n  "pages": {{\n{pages}\n  }}\n }}')
    return "{\n" + ",\n".join(corpora) + "\n}\n"


@pytest.fixture(scope="module")
def measured() -> dict[str, Any]:
    """This run's scores (written as the new baseline when NEWSMIRROR_UPDATE_BASELINE=1)."""
    result = {
        "newspaper4k": summary(newspaper_scores()),
        "trafilatura": summary(trafilatura_scores()),
    }
    if os.environ.get("NEWSMIRROR_UPDATE_BASELINE") == "1":
        BASELINE.write_text(baseline_json(result), "utf-8")
    return result


@pytest.fixture(scope="module")
def baseline(measured: dict[str, Any]) -> dict[str, Any]:
    """The stored scores (read after ``measured``, which may have rewritten them)."""
    stored: dict[str, Any] = json.loads(BASELINE.read_text("utf-8"))
    return stored


def fallen(now: dict[str, float], before: dict[str, float], tolerance: float) -> list[str]:
    """Each measure that fell more than ``tolerance`` below its stored score."""
    return [
        f"{measure} {before[measure]:.4f} → {score:.4f}"
        for measure, score in now.items()
        if score < before.get(measure, 0.0) - tolerance
    ]


@pytest.mark.parametrize("corpus", CORPORA)
def test_means_hold(measured: dict[str, Any], baseline: dict[str, Any], corpus: str) -> None:
    drops = fallen(measured[corpus]["mean"], baseline[corpus]["mean"], MEAN_TOLERANCE)
    assert not drops, f"{corpus} mean fell below the baseline: {', '.join(drops)}"


@pytest.mark.parametrize("corpus", CORPORA)
def test_no_page_falls(measured: dict[str, Any], baseline: dict[str, Any], corpus: str) -> None:
    stored = baseline[corpus]["pages"]
    drops = [
        f"{name}: {', '.join(lost)}"
        for name, scores in measured[corpus]["pages"].items()
        if (lost := fallen(scores, stored.get(name, {}), PAGE_TOLERANCE))
    ]
    assert not drops, f"{corpus} pages fell below the baseline:\n" + "\n".join(drops)


@pytest.mark.parametrize("corpus", CORPORA)
def test_baseline_covers_the_pages(
    measured: dict[str, Any], baseline: dict[str, Any], corpus: str
) -> None:
    assert sorted(measured[corpus]["pages"]) == sorted(baseline[corpus]["pages"])
    assert sorted(measured[corpus]["mean"]) == sorted(baseline[corpus]["mean"])
