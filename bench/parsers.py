"""Feed parsers compared for robustness and speed, to choose ours (robustness first).

Parsers: feedparser as newsmirror configures it (the reference), newsmirror's
``parse_feed`` (the lxml fast path with feedparser as fallback), and, when installed,
fastfeedparser and feedparser-rs (``pip install fastfeedparser feedparser-rs``; they are
not dependencies of newsmirror). Robustness: on every XML/JSON document of tests/data
(feedparser's own test corpus and real news feeds), how many documents each parses
without an exception, how many entries it finds, and on how many documents its entry
count and titles agree with feedparser's. Speed: items per second on a feed of 500
items of about 12 KB of real article HTML each. Run ``python bench/parsers.py``.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import feedparser  # noqa: E402

from newsmirror.parse.feeds import parse_feed  # noqa: E402

URL = "https://feeds.example/feed.xml"
Titles = list[str]


def reference(body: bytes) -> Titles:
    doc = feedparser.parse(
        io.BytesIO(body),
        sanitize_html=False,
        resolve_relative_uris=False,
        response_headers={"content-location": URL, "content-type": "application/xml"},
    )
    return [str(e.get("title", "")) for e in doc.entries]


def ours(body: bytes) -> Titles:
    return [e.title for e in parse_feed(body, URL).entries]


def optional_parsers() -> dict[str, Callable[[bytes], Titles]]:
    found: dict[str, Callable[[bytes], Titles]] = {}
    try:
        import fastfeedparser

        def fast(body: bytes) -> Titles:
            return [str(e.get("title", "")) for e in fastfeedparser.parse(body).entries]

        found["fastfeedparser"] = fast
    except ImportError:
        print("fastfeedparser not installed: left out")
    try:
        import feedparser_rs

        def rust(body: bytes) -> Titles:
            return [str(e.get("title", "") or "") for e in feedparser_rs.parse(body).entries]

        found["feedparser-rs"] = rust
    except ImportError:
        print("feedparser-rs not installed: left out")
    return found


def robustness(
    name: str, parse: Callable[[bytes], Titles], documents: list[Path], expected: dict[Path, Titles]
) -> None:
    ok = entries = same_count = same_titles = 0
    for path in documents:
        try:
            titles = parse(path.read_bytes())
        except Exception:  # each parser's own errors: counted as a failure
            continue
        ok += 1
        entries += len(titles)
        want = expected.get(path)
        if want is not None and len(want) == len(titles):
            same_count += 1
            same_titles += [t.strip() for t in want] == [t.strip() for t in titles]
    print(
        f"{name:>15}: {ok}/{len(documents)} documents parsed, {entries} entries; "
        f"agrees with feedparser on {same_count} entry counts and {same_titles} title lists"
    )


def speed(name: str, parse: Callable[[bytes], Any], body: bytes, items: int) -> None:
    parse(body)
    started = time.perf_counter()
    rounds = 3
    for _ in range(rounds):
        parse(body)
    rate = items * rounds / (time.perf_counter() - started)
    print(f"{name:>15}: {rate:,.0f} items/s")


def main() -> None:
    from ingest import make_feeds

    data = ROOT / "tests" / "data"
    documents = sorted(p for p in data.rglob("*") if p.suffix in (".xml", ".json", ".rdf"))
    parsers = {"feedparser": reference, "newsmirror": ours, **optional_parsers()}
    expected = {}
    for path in documents:
        try:
            expected[path] = reference(path.read_bytes())
        except Exception:  # the reference failing leaves nothing to agree with
            continue
    print(f"robustness on {len(documents)} documents of tests/data:")
    for name, parse in parsers.items():
        robustness(name, parse, documents, expected)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        [name] = make_feeds(Path(tmp), 500, 1)
        body = (Path(tmp) / name).read_bytes()
    print(f"speed on one feed of 500 items ({len(body) / 500 / 1024:.1f} KB each):")
    for name, parse in parsers.items():
        speed(name, parse, body, 500)


if __name__ == "__main__":
    main()
