"""Ingest benchmark: the same real items through newsmirror and lemon24/reader, and
`import archive`, each measured as a whole process tree.

``--items`` items (default 5,000: real article HTML of the test corpus, each item its own
title, link and date) in ``--feeds`` RSS feeds (default 9) served from 127.0.0.1; pages
are not fetched. Each round runs, each in a fresh process and home, in alternating order:

- ``reader``: lemon24/reader 3.26's first update of the feeds (no search index), from a
  virtual environment of its own (``--reader-python``; made in ``bench/output/`` when
  missing, with ``pip install reader==3.26 sgmllib3k``);
- ``newsmirror``: ``newsmirror fetch`` of the same feeds, the search index kept (storing,
  as reader's update does; the markdown archive is published after, measured on its own);
- ``no-index``: the same with ``[search] index = false``.

Then ``publish markdown`` of the first round's archive, ``import archive`` of the 5,000
files it published (``--import-rounds`` times) and of the corpus archives in tests/data,
and, with ``--big N``, newsmirror's peak memory for one feed of N items. Every figure
counts every process a run starts (CPU and peak memory summed over the process tree: see
bench/measure.py). Prints each run, the
medians, and newsmirror's items/s against reader's. Not a test: ``python bench/ingest.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import venv
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import measure  # noqa: E402
from newsmirror.publish.markdown.files import parse_article  # noqa: E402
from newsmirror.publish.markdown.importer import article_files  # noqa: E402

#: reader and what its vendored feedparser imports (``sgmllib``, which some indexes
#: resolve feedparser's own requirement of to another package).
READER = ("reader==3.26", "sgmllib3k")
CORPORA = ("duty-machine-news", "duty-machine-chinadigitaltimes")


def corpus_bodies(pad_kb: int) -> list[str]:
    """Real article HTML from the test corpus (each padded with others to ``pad_kb`` KB
    when asked)."""
    files = [p for name in CORPORA for p in article_files(ROOT / "tests" / "data" / name)]
    bodies = [parse_article(p.read_text("utf-8")).html for p in files]
    if not pad_kb:
        return bodies
    padded = []
    for i, body in enumerate(bodies):
        parts, j = [body], i
        while sum(len(p.encode()) for p in parts) < pad_kb * 1024:
            j = (j + 1) % len(bodies)
            parts.append(bodies[j])
        html = "\n".join(parts).encode("utf-8")[: pad_kb * 1024]
        padded.append(html[: html.rfind(b">") + 1].decode("utf-8"))
    return padded


def make_feeds(
    directory: Path, items: int, feeds: int, pad_kb: int = 0, small: bool = False
) -> list[str]:
    """Write ``feeds`` RSS files holding ``items`` items in all (``small``: each a line of
    text, as a headline feed has); return their names."""
    bodies = ["<p>短讯：一行字的新闻摘要。</p>"] if small else corpus_bodies(pad_kb)
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


def worker(mode: str, home: Path, urls: list[str], source_dir: str) -> dict[str, Any]:
    """One measured job, run in this (fresh) process; what it did, as JSON-able data."""
    from newsmirror.config.settings import build_config
    from newsmirror.jobs.archive import Archive
    from newsmirror.types import Source

    settings: dict[str, Any] = {"fetch": {"timeout": 300.0, "max_body_mb": 500.0}}
    if mode == "no-index":
        settings["search"] = {"index": False}  # what indexing every version costs
    config = build_config(home, settings)
    if urls:  # the benchmark's feeds (else the default sources: the corpus archives)
        sources = tuple(
            Source(f"bench{i}", f"bench{i}", (url,), direct=True, full_text="feed")
            for i, url in enumerate(urls)
        )
        config = replace(config, sources=sources)
    with Archive(config) as archive:
        if mode == "import":
            report = archive.import_archive(source_dir)
            return {"count": report.new, "errors": report.errors}
        if mode == "publish":
            published = archive.publish_markdown()
            return {"count": published.written, "errors": published.errors}
        reports = archive.fetch()
        errors = [e for r in reports for e in r.errors]
        return {"count": sum(r.new for r in reports), "errors": errors}


def body_bytes(home: Path) -> int:
    """Bytes of response bodies the fetch log of ``home`` recorded."""
    import sqlite3

    with sqlite3.connect(home / "newsmirror.db") as db:
        return int(db.execute("SELECT COALESCE(SUM(bytes), 0) FROM fetch_log").fetchone()[0])


def reader_python(given: str) -> str:
    """The Python of reader's own virtual environment (made when missing)."""
    if given:
        return given
    home = ROOT / "bench" / "output" / "reader-venv"
    python = home / "bin" / "python"
    if not python.exists():
        print(f"making {home} with {' '.join(READER)} ...", flush=True)
        venv.create(home, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *READER], check=True)
    return str(python)


def ours(mode: str, home: Path, urls: list[str], source_dir: Path | None = None) -> list[str]:
    args = ["--worker", mode, "--home", str(home), "--source-dir", str(source_dir or "")]
    return [sys.executable, __file__, *args, *urls]


def measured(label: str, command: list[str], count: Callable[[str], int]) -> dict[str, Any]:
    """Run a command as a process tree; its figures, printed."""
    m = measure.run(command)
    n = count(m.stdout)
    unit = "files" if label.startswith(("import", "publish")) else "items"
    row = {
        "mode": label,
        "count": n,
        "seconds": m.seconds,
        "per_second": n / m.seconds,
        "cpu": m.cpu,
        "per_cpu_second": n / m.cpu if m.cpu else 0.0,
        "peak_mb": m.peak_mb,
    }
    print(
        f"{label:>12}: {n} {unit} in {m.seconds:.1f} s = {row['per_second']:.0f} {unit}/s, "
        f"{m.cpu:.1f} CPU-s ({row['per_cpu_second']:.0f} per CPU second), "
        f"peak {m.peak_mb:.0f} MB (all its processes)",
        flush=True,
    )
    return row


def from_worker(stdout: str) -> int:
    """The count a measured job printed; its error lines, if any, printed too."""
    data = json.loads(stdout.strip().splitlines()[-1])
    for line in data["errors"][:5]:
        print(f"    {line}", flush=True)
    return int(data["count"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--feeds", type=int, default=9)
    parser.add_argument("--pad-kb", type=int, default=0, help="pad each item's HTML to N KB")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--import-rounds", type=int, default=3)
    parser.add_argument("--big", type=int, default=0, help="also one feed of N items")
    parser.add_argument("--reader-python", default="", help="reader's virtual environment")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--source-dir", default="", help=argparse.SUPPRESS)
    parser.add_argument("urls", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, Path(args.home), args.urls, args.source_dir)))
        return
    run_all(args)


def run_all(args: argparse.Namespace) -> None:
    from newsmirror.demo import serve_directory

    python = reader_python(args.reader_python)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "feeds").mkdir()
        names = make_feeds(base / "feeds", args.items, args.feeds, args.pad_kb)
        size = sum((base / "feeds" / n).stat().st_size for n in names)
        print(
            f"{args.items} items in {args.feeds} feeds, {size / 1e6:.1f} MB of XML "
            f"({size / args.items / 1024:.1f} KB per item)",
            flush=True,
        )
        with serve_directory(base / "feeds") as url:
            urls = [f"{url}/{n}" for n in names]
            rows += rounds(args.rounds, base, urls, python)
            second = base / "round0-newsmirror"
            rows.append(measured("publish", ours("publish", second, urls), from_worker))
            before = body_bytes(second)
            measured("second run", ours("no-publish", second, urls), from_worker)
            print(f"  second run: {body_bytes(second) - before} body bytes", flush=True)
            if args.big:
                rows.append(big_feed(base, url, args.big))
        urls = [f"http://127.0.0.1:9/{n}" for n in names]  # (the sources' names only)
        for n in range(args.import_rounds):
            home = base / f"imported-{n}"
            command = ours("import", home, urls, base / "round0-newsmirror")
            rows.append(measured("import", command, from_worker))
        for name in CORPORA:
            command = ours("import", base / f"corpus-{name}", [], ROOT / "tests" / "data" / name)
            rows.append(measured(f"import {name[13:]}", command, from_worker))
    summary(rows)


def rounds(count: int, base: Path, urls: list[str], python: str) -> list[dict[str, Any]]:
    """``count`` rounds of reader, newsmirror and no-index, in alternating order."""
    rows = []
    for n in range(count):
        runs = [
            ("reader", [python, str(ROOT / "bench" / "reader_run.py"), str(base / f"r{n}.db")]),
            ("newsmirror", ours("newsmirror", base / f"round{n}-newsmirror", urls)),
            ("no-index", ours("no-index", base / f"round{n}-no-index", urls)),
        ]
        for label, command in runs if n % 2 == 0 else runs[::-1]:
            if label == "reader":
                command = [*command, *urls]
                rows.append(measured(label, command, lambda out: int(out.strip().split()[-1])))
            else:
                rows.append(measured(label, command, from_worker))
    return rows


def big_feed(base: Path, url: str, items: int) -> dict[str, Any]:
    """newsmirror's peak memory for one feed of ``items`` small items."""
    folder = base / "feeds"
    [name] = make_feeds(folder, items, 1, small=True)
    (folder / name).rename(folder / "big.xml")
    size = (folder / "big.xml").stat().st_size
    print(f"one feed of {items} items, {size / 1e6:.0f} MB", flush=True)
    return measured(
        f"big {items}", ours("no-publish", base / "big", [f"{url}/big.xml"]), from_worker
    )


def summary(rows: list[dict[str, Any]]) -> None:
    by: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by.setdefault(row["mode"], []).append(row)
    print("medians:")
    for mode, runs in by.items():
        rate = statistics.median(r["per_second"] for r in runs)
        per_cpu = statistics.median(r["per_cpu_second"] for r in runs)
        peak = statistics.median(r["peak_mb"] for r in runs)
        lowest, highest = min(r["per_second"] for r in runs), max(r["per_second"] for r in runs)
        print(
            f"{mode:>12}: {rate:.0f}/s ({lowest:.0f}-{highest:.0f}), {per_cpu:.0f} per CPU-s, "
            f"peak {peak:.0f} MB, {len(runs)} runs"
        )
    if "reader" in by and "newsmirror" in by:
        ratio = statistics.median(r["per_second"] for r in by["newsmirror"]) / statistics.median(
            r["per_second"] for r in by["reader"]
        )
        print(f"newsmirror (index on) / reader: {ratio:.2f}x items/s")


if __name__ == "__main__":
    main()
