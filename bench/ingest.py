"""Ingest benchmark: feeds on loopback → parse → clean → store → publish, and import.

Generates ``--items`` items (default 5,000) of realistic size (about 12 KB of real
article HTML each, from tests/data) in ``--feeds`` RSS feeds served from 127.0.0.1, then
runs, each in its own process pinned to one core, with a fresh archive:

- ``baseline``: the same pipeline, but with feedparser's default sanitising and
  relative-URL resolving doing the cleaning (the path most feed readers take);
- ``newsmirror``: our pipeline (fast parse path, nh3 + lxml clean);
- ``no-index``: the same with ``[search] index = false``: what keeping the search index
  costs (both runs above index every stored version, as the default archive does);
- ``import``: ``import archive`` of the files the newsmirror run published, into fresh
  homes ``--import-rounds`` times (its worker processes counted in its CPU figure).

Prints items (or files) per second and peak memory (max RSS) of each, and the ratio of
newsmirror to the baseline. Not a test: run ``python bench/ingest.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from newsmirror.publish.markdown.files import parse_article  # noqa: E402
from newsmirror.publish.markdown.importer import article_files  # noqa: E402

TARGET_HTML = 12 * 1024  # bytes of HTML per item, like the full-text feeds


def corpus_bodies() -> list[str]:
    """Real article HTML from the test corpus, each padded with others to ~12 KB."""
    files = article_files(ROOT / "tests" / "data" / "duty-machine-news")
    bodies = [parse_article(p.read_text("utf-8")).html for p in files]
    padded = []
    for i, body in enumerate(bodies):
        parts, j = [body], i
        while sum(len(p.encode()) for p in parts) < TARGET_HTML:
            j = (j + 1) % len(bodies)
            parts.append(bodies[j])
        html = "\n".join(parts).encode("utf-8")[:TARGET_HTML]
        cut = html.rfind(b">") + 1  # end on a tag, never inside a character
        padded.append(html[:cut].decode("utf-8"))
    return padded


def make_feeds(directory: Path, items: int, feeds: int) -> list[str]:
    """Write ``feeds`` RSS files holding ``items`` items in all; return their names."""
    bodies = corpus_bodies()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    names = []
    per_feed = -(-items // feeds)
    for f in range(feeds):
        parts = []
        for i in range(f * per_feed, min(items, (f + 1) * per_feed)):
            when = format_datetime(start + timedelta(minutes=i), usegmt=True)
            body = bodies[i % len(bodies)].replace("]]>", "]] >")
            parts.append(
                f"<item><title>新闻标题 {i} 第{f}号</title>"
                f"<link>https://news.example.org/{f}/article-{i}.html?utm_source=rss</link>"
                f"<guid>https://news.example.org/{f}/article-{i}.html</guid>"
                f"<pubDate>{when}</pubDate><description><![CDATA[{body}]]></description></item>"
            )
        name = f"feed{f}.xml"
        (directory / name).write_text(
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>bench {f}</title><link>https://news.example.org/</link>"
            "<description>bench</description>" + "\n".join(parts) + "</channel></rss>",
            "utf-8",
        )
        names.append(name)
    return names


def baseline_patch() -> None:
    """Make the pipeline parse with feedparser's defaults and skip our clean."""
    import feedparser

    from newsmirror.collect import source as collect
    from newsmirror.parse import feeds as parse
    from newsmirror.types import Entry, ParsedFeed

    def parse_with_defaults(body: bytes, url: str, content_type: str = "") -> ParsedFeed:
        result = feedparser.parse(body, response_headers={"content-location": url})
        entries = []
        for e in result.entries:
            when = e.get("published_parsed")
            entries.append(
                Entry(
                    guid=e.get("id", ""),
                    link=parse.canonical_url(e.get("link", "")),
                    raw_link=e.get("link", ""),
                    title=e.get("title", ""),
                    published=datetime(*when[:6], tzinfo=UTC) if when else None,
                    updated=None,
                    content=(e.get("content") or [{}])[0].get("value", "") or e.get("summary", ""),
                )
            )
        return ParsedFeed(title="", link="", entries=tuple(entries), version=result.version)

    collect.parse_feed = parse_with_defaults  # type: ignore[assignment]
    collect.clean_html = lambda html, base="", boilerplate=(): html  # type: ignore[assignment]


def cpu_seconds() -> float:
    """CPU time of this process and of every child process it has waited for (the
    worker processes a job starts and ends)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def worker(mode: str, home: Path, urls: list[str], source_dir: str) -> dict[str, Any]:
    """Run one measured job in this process; return its figures. The fetch jobs are
    pinned to one core (a like-for-like comparison with the baseline); the import uses
    the machine as `import archive` does (its worker processes read and clean files while
    this one stores), and its CPU figure counts every process."""
    if hasattr(os, "sched_setaffinity") and mode != "import":
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from newsmirror.config.settings import build_config
    from newsmirror.jobs.archive import Archive
    from newsmirror.types import Source

    if mode == "baseline":
        baseline_patch()
    settings: dict[str, Any] = {"fetch": {"timeout": 120.0, "max_body_mb": 500.0}}
    if mode == "no-index":
        settings["search"] = {"index": False}  # what indexing every version costs
    config = build_config(home, settings)
    sources = tuple(
        Source(f"bench{i}", f"bench{i}", (url,), direct=True) for i, url in enumerate(urls)
    )
    config = replace(config, sources=sources)
    started = time.perf_counter()
    cpu_before = cpu_seconds()
    with Archive(config) as archive:
        if mode == "import":
            report = archive.import_archive(source_dir)
            count, errors = report.new, len(report.errors)
        else:
            reports = archive.fetch()
            published = archive.publish_markdown()
            count = sum(r.new for r in reports)
            errors = sum(len(r.errors) for r in reports) + len(published.errors)
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "mode": mode,
        "count": count,
        "errors": errors,
        "seconds": seconds,
        "per_second": count / seconds,
        "per_cpu_second": count / cpu,
        "peak_mb": usage.ru_maxrss / 1024,
    }


def run_worker(
    mode: str, home: Path, urls: list[str], source_dir: Path | None = None
) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--worker",
        mode,
        "--home",
        str(home),
        "--source-dir",
        str(source_dir or ""),
        *urls,
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--feeds", type=int, default=10)
    parser.add_argument(
        "--import-rounds", type=int, default=3, help="times the import is measured (fresh homes)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--source-dir", default="", help=argparse.SUPPRESS)
    parser.add_argument("urls", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, Path(args.home), args.urls, args.source_dir)))
        return
    from newsmirror.demo import serve_directory

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "feeds").mkdir()
        names = make_feeds(base / "feeds", args.items, args.feeds)
        size = sum((base / "feeds" / n).stat().st_size for n in names)
        print(
            f"{args.items} items in {args.feeds} feeds, {size / 1e6:.1f} MB of XML "
            f"({size / args.items / 1024:.1f} KB per item)"
        )
        with serve_directory(base / "feeds") as url:
            urls = [f"{url}/{n}" for n in names]
            results = [
                run_worker("baseline", base / "baseline", urls),
                run_worker("newsmirror", base / "ours", urls),
                run_worker("no-index", base / "no-index", urls),
            ]
        imports = [
            run_worker("import", base / f"imported-{n}", urls, base / "ours")
            for n in range(args.import_rounds)
        ]
        results += imports
    for r in results:
        unit = "files" if r["mode"] == "import" else "items"
        print(
            f"{r['mode']:>10}: {r['count']} {unit} in {r['seconds']:.1f} s = "
            f"{r['per_second']:.0f} {unit}/s ({r['per_cpu_second']:.0f} per CPU second), "
            f"peak memory {r['peak_mb']:.0f} MB, "
            f"{r['errors']} errors"
        )
    ratio = results[1]["per_second"] / results[0]["per_second"]
    print(f"newsmirror / baseline: {ratio:.2f}x")
    rates = sorted(r["per_second"] for r in imports)
    print(
        f"import over {len(rates)} rounds: median {statistics.median(rates):.0f} files/s "
        f"(min {rates[0]:.0f}, max {rates[-1]:.0f})"
    )


if __name__ == "__main__":
    main()
