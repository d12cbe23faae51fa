"""Static site benchmark: a full build of a large archive, then the incremental step.

1. An archive of N articles (default 100,000) over the nine default sources, made from
   real sentences of the corpus (about 1,500 characters each, as ``bench/search.py``),
   is written straight into a store (not timed).
2. ``newsmirror publish site`` builds the whole site in a fresh process: wall time and
   the process's peak memory (its maximum resident set).
3. 100 new articles are stored through the pipeline's store, and ``publish site`` runs
   again: the time of that incremental step, its peak memory, and how many files it
   wrote.
4. As a baseline measured in the same run on the same archive: ``publish markdown``
   (the duty-machine/news format), full.

Each step starts once the files of the one before are on the disk (a sync, not timed):
right after a full build wrote a gigabyte, the kernel's writing it back would otherwise
be counted in the next step. Peak memory is each command's own (it is started from a
small launcher: a process forked from this one would report this one's size).

Not a test: run ``python bench/publish.py [--articles N] [--work DIR] [--keep]``.
Targets: full build at 100,000 articles at most 120 s, the incremental step at most
2 s, at most 300 MB.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from newsmirror import decide  # noqa: E402
from newsmirror.store.sqlite import SQLiteStore  # noqa: E402
from newsmirror.types import Candidate  # noqa: E402
from search import articles, pool  # noqa: E402

#: The modules of every command (``--version`` loads none of them).
COMMAND_MODULES = ", ".join(
    f"newsmirror.cli.{name}"
    for name in ("commands", "export", "service", "sources", "views", "watch")
)

SLUGS = ("reuters", "nyt", "voa", "ft", "bbc", "rfi", "dw", "rfa", "cdt")
START_S = 1_600_000_000


def populate(store: SQLiteStore, n: int, sentences: list[str]) -> None:
    """n articles, spread over the sources, a few minutes apart, 5% of them edited once."""
    db = store.db
    rng = random.Random(3)
    db.execute("BEGIN")
    rows_a, rows_v = [], []
    version = 0
    lowest = dict.fromkeys(SLUGS, 1048575)
    for i, (title, text) in enumerate(articles(n, sentences), 1):
        slug = SLUGS[i % len(SLUGS)]
        lowest[slug] -= 1
        ms = (START_S + i * 240) * 1000
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(ms / 1000))
        body = "<p>" + text.replace("。", "。</p><p>") + "</p>"
        path = f"articles/{slug}/{lowest[slug]}.md"
        seqs = (1, 2) if rng.random() < 0.05 else (1,)
        for seq in seqs:
            version += 1
            html = body if seq == len(seqs) else body.replace("。", "，", 3)
            rows_v.append(
                (version, i, seq, stamp, "-", title, f"https://example.org/{i}", ms, "", html,
                 decide.content_hash(title, html))
            )  # fmt: skip
        rows_a.append((i, slug, lowest[slug], path, f"guid:{i}", ms, stamp, version))
        if len(rows_a) >= 5000:
            _flush(db, rows_a, rows_v)
    _flush(db, rows_a, rows_v)
    for slug, low in lowest.items():
        db.execute("UPDATE sources SET lowest_id = ? WHERE slug = ?", (low, slug))
    db.execute("COMMIT")


def _flush(db: object, rows_a: list[tuple[object, ...]], rows_v: list[tuple[object, ...]]) -> None:
    db.executemany(  # type: ignore[attr-defined]
        "INSERT INTO articles (id, source, archive_id, path, identity, published_ms, "
        "first_seen, latest_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows_a,
    )
    db.executemany(  # type: ignore[attr-defined]
        "INSERT INTO versions (id, article_id, seq, fetched_at, feed_url, title, link, "
        "published_ms, raw_html, clean_html, content_hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows_v,
    )
    rows_a.clear()
    rows_v.clear()


def add_new(store: SQLiteStore, sentences: list[str], count: int = 100) -> None:
    """``count`` new articles, stored as a fetch stores them."""
    stamp = datetime.now(UTC).replace(microsecond=0)
    with store.transaction():
        for i, (title, text) in enumerate(articles(count, sentences, seed=99)):
            html = "<p>" + text + "</p>"
            slug = SLUGS[i % len(SLUGS)]
            store.store_candidate(
                Candidate(
                    source=slug,
                    identity=f"guid:new{i}",
                    guid=f"new{i}",
                    url=f"https://example.org/new/{i}",
                    link=f"https://example.org/new/{i}",
                    title=title,
                    published_ms=int(time.time() * 1000) - i * 60_000,
                    date_missing=False,
                    raw_html=html,
                    clean_html=html,
                    content_hash=decide.content_hash(title, html),
                    feed_url="-",
                ),
                stamp,
            )


#: Runs a command and reports its peak memory. A process forked from this one would
#: report at least this process's own size (the high-water mark survives exec), so the
#: command is started from a small launcher instead.
LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
output = child.stdout.read()
_, status, usage = os.wait4(child.pid, 0)
sys.stdout.buffer.write(output)
sys.stdout.write(f"\\n{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}\\n")
"""


def timed(home: Path, *args: str) -> tuple[float, float, str]:
    """Run ``newsmirror --home HOME ARGS`` in a fresh process: (seconds, peak MB, output)."""
    command = [sys.executable, "-m", "newsmirror.cli", "--home", str(home), *args]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    os.sync()  # not timed: the previous step's writes reach the disk before this one starts
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *command], capture_output=True, text=True, env=env
    )
    elapsed = time.perf_counter() - started  # the launcher's start included (~30 ms)
    output, _, last = done.stdout.rstrip().rpartition("\n")
    code, maxrss = (int(x) for x in last.split())
    if code != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{output}")
    return elapsed, maxrss / 1024, output.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000, help="archive size")
    parser.add_argument("--corpus", type=Path, default=HERE.parent / "tests" / "data")
    parser.add_argument("--work", type=Path, help="where to build (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the archive and the site")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="newsmirror-publish-"))
    home = work / "home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    (home / "newsmirror.toml").write_text("[search]\nindex = false\n", "utf-8")
    sentences = pool(args.corpus)
    store = SQLiteStore(home / "newsmirror.db")
    from newsmirror.config.settings import load_config

    store.sync_sources(load_config(home).sources)
    started = time.perf_counter()
    populate(store, args.articles, sentences)
    print(f"{args.articles:,} articles stored in {time.perf_counter() - started:.0f} s")
    # Bytecode of the commands' modules cached (--version alone loads none of them).
    subprocess.run([sys.executable, "-c", f"import {COMMAND_MODULES}"], check=True)
    full, full_mb, said = timed(home, "publish", "site")
    print(f"full site build: {full:.1f} s, peak {full_mb:.0f} MB ({said})")
    add_new(store, sentences)
    store.close()
    step, step_mb, said = timed(home, "publish", "site")
    print(f"100 new articles, incremental: {step:.2f} s, peak {step_mb:.0f} MB ({said})")
    base, base_mb, said = timed(home, "publish", "markdown")
    print(f"baseline, markdown archive, full: {base:.1f} s, peak {base_mb:.0f} MB ({said})")
    print(f"site full build / markdown full build: {full / base:.2f}x")
    files = sum(1 for _ in (home / "site").rglob("*") if _.is_file())
    size = sum(p.stat().st_size for p in (home / "site").rglob("*") if p.is_file())
    print(f"site: {files:,} files, {size / 1e6:,.0f} MB")
    if not args.keep and args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
