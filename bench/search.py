"""Search benchmark: synthetic archives of real sentences, the index build, and query
latency against a plain grep over the same text, in the same run.

For each size (default 100,000 and 1,000,000 articles):

1. Articles of about 1,500 characters are drawn from a pool of real sentences (every
   Chinese sentence of the corpus folder: the duty-machine/news articles, feeds and page
   texts; ``tests/data`` by default, a larger corpus with ``--corpus``). One sentence in
   five gets one character replaced at random (so that rare terms exist, not only the
   pool's), and 3% of the articles are converted to traditional characters (OpenCC s2t).
   They are written into a newsmirror store (not timed) with publication times a minute
   apart, and to a text file, one folded article per line, newest first, for grep.
2. ``reindex`` builds the search index (timed: articles per second); its size is set
   against the raw text (UTF-8 bytes of titles and texts).
3. Queries: 25 CJK substrings of each length 1 to 8, taken at random positions of random
   articles (some common, some rare), and 40 latin words or prefixes. Each runs newest
   first with a LIMIT of 20 (with snippets; without and with the total count) and ranked
   by relevance. Baselines on the text file, whose pages are in memory (it is read once
   before): ``grep -F -m 20`` (the newest 20 matching lines: stops early for a common
   term) for every query, and ``grep -F -c`` (every match: a whole scan) for one in four.

Not a test: run ``python bench/search.py [--sizes N ...] [--corpus DIR] [--work DIR]``.
It prints build rate, index size ratio and p50/p95/p99 latencies, and keeps nothing
unless ``--keep``.
"""

from __future__ import annotations

import argparse
import html
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from newsmirror.search.query import Query, Term, fold
from newsmirror.store.sqlite import SQLiteStore

HERE = Path(__file__).resolve().parent
CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")
CJK_ONLY = re.compile("^[\u3400-\u4dbf\u4e00-\u9fff]+$")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]{3,}")
SENTENCE_END = re.compile(r"(?<=[。！？!?])|\n+")
START_S = 1_600_000_000


def pool(corpus: Path) -> list[str]:
    """Distinct real sentences with at least four CJK characters."""
    texts: list[str] = []
    for path in sorted(corpus.rglob("*")):
        if path.suffix == ".md" and path.parent.parent.name == "articles":
            lines = path.read_text("utf-8", errors="replace").split("\n")
            texts += [re.sub(r"\[(.*)\]\(.*", r"\1", lines[1])] if len(lines) > 4 else []
            texts += [re.sub(r"<[^>]+>", "\n", lines[4])] if len(lines) > 4 else []
        elif path.suffix in (".xml", ".rss", ".atom"):
            raw = html.unescape(path.read_text("utf-8", errors="replace"))
            texts.append(re.sub(r"<[^>]+>|<!\[CDATA\[|\]\]>", "\n", html.unescape(raw)))
        elif path.suffix == ".txt" and "pages" in path.parts:
            texts.append(path.read_text("utf-8", errors="replace"))
    seen: dict[str, None] = {}
    for text in texts:
        for sentence in SENTENCE_END.split(text):
            sentence = " ".join(sentence.split())
            if len(CJK.findall(sentence)) >= 4:
                seen.setdefault(sentence, None)
    return list(seen)


def articles(n: int, sentences: list[str], seed: int = 1) -> Iterator[tuple[str, str]]:
    """(title, text) of n synthetic articles."""
    import opencc

    to_traditional = opencc.OpenCC("s2t").convert
    rng = random.Random(seed)
    charset = sorted(set(CJK.findall("".join(sentences))))
    for _ in range(n):
        target = 1500 + rng.randint(-300, 300)
        title = rng.choice(sentences)[:40].rstrip("。！？")
        parts, size = [], 0
        while size < target:
            sentence = rng.choice(sentences)
            if rng.random() < 0.2:
                places = [m.start() for m in CJK.finditer(sentence)]
                at = rng.choice(places)
                sentence = sentence[:at] + rng.choice(charset) + sentence[at + 1 :]
            parts.append(sentence)
            size += len(sentence)
        text = "".join(parts)
        if rng.random() < 0.03:
            title, text = to_traditional(title), to_traditional(text)
        yield title, text


def populate(
    store: SQLiteStore, n: int, sentences: list[str], grep_file: Path
) -> tuple[int, list[str]]:
    """Write n articles into the store and the grep file; (raw text bytes, a sample of
    folded texts to draw queries from)."""
    db = store.db
    db.execute("INSERT OR IGNORE INTO sources (slug, name) VALUES ('bench', 'bench')")
    raw = 0
    rng = random.Random(2)
    sample: list[str] = []
    db.execute("BEGIN")
    batch_a, batch_v = [], []
    oldest_first = grep_file.with_suffix(".oldest").open("w", encoding="utf-8")
    for i, (title, text) in enumerate(articles(n, sentences), 1):
        ms = (START_S + i * 60) * 1000
        body = "<p>" + text.replace("。", "。</p><p>") + "</p>"
        batch_a.append((i, "bench", i, f"articles/bench/{i}.md", f"guid:{i}", ms, "-", i))
        batch_v.append((i, i, 1, "-", "-", title, f"https://example.org/{i}", ms, "", body, "-"))
        raw += len(title.encode()) + len(text.encode())
        folded = fold(title + " " + text)
        oldest_first.write(folded + "\n")
        if rng.random() < 3000 / n:
            sample.append(folded)
        if len(batch_a) == 5000:
            _flush(db, batch_a, batch_v)
    _flush(db, batch_a, batch_v)
    db.execute("COMMIT")
    oldest_first.close()
    with grep_file.open("wb") as out:  # newest first, as the search's --newest
        subprocess.run(["tac", str(grep_file.with_suffix(".oldest"))], stdout=out, check=True)
    grep_file.with_suffix(".oldest").unlink()
    return raw, sample


def _flush(
    db: object, batch_a: list[tuple[object, ...]], batch_v: list[tuple[object, ...]]
) -> None:
    db.executemany(  # type: ignore[attr-defined]
        "INSERT INTO articles (id, source, archive_id, path, identity, published_ms, "
        "first_seen, latest_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        batch_a,
    )
    db.executemany(
        "INSERT INTO versions (id, article_id, seq, fetched_at, feed_url, title, link, "
        "published_ms, raw_html, clean_html, content_hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        batch_v,
    )
    batch_a.clear()
    batch_v.clear()


def queries(
    sample: list[str], count_per_length: int = 25, words: int = 40
) -> list[tuple[str, str]]:
    """(kind, term): CJK substrings of lengths 1-8 and latin words or prefixes."""
    rng = random.Random(3)
    chosen = []
    for length in range(1, 9):
        while sum(1 for kind, _ in chosen if kind == f"cjk{length}") < count_per_length:
            text = rng.choice(sample)
            start = rng.randrange(max(1, len(text) - length))
            term = text[start : start + length]
            if len(term) == length and CJK_ONLY.match(term):
                chosen.append((f"cjk{length}", term))
    vocabulary = sorted({w.lower() for text in sample for w in WORD.findall(text)})
    for word in rng.sample(vocabulary, min(words, len(vocabulary))):
        chosen.append(("latin", word[: rng.randint(3, len(word))]))
    return chosen


def _quiet(command: list[str]) -> None:
    # Output into a pipe, not /dev/null: GNU grep stops at the first match when it sees
    # its output go nowhere.
    subprocess.run(command, stdout=subprocess.PIPE, check=False)


def timed(fn: object, *args: object) -> float:
    started = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return time.perf_counter() - started


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def percentiles(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return f"p50 {q[49]:8.2f}  p95 {q[94]:8.2f}  p99 {q[98]:8.2f} ms"


def run(n: int, sentences: list[str], work: Path) -> None:
    path = work / f"search-{n}.db"
    grep_file = work / f"search-{n}.txt"
    for old in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        old.unlink(missing_ok=True)
    store = SQLiteStore(path)
    started = time.perf_counter()
    raw, sample = populate(store, n, sentences, grep_file)
    print(f"\n{n:,} articles: generated and stored in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    store.reindex()
    build = time.perf_counter() - started
    index = store.search_index_bytes()
    print(f"  build: {build:.0f} s = {n / build:,.0f} articles/s")
    print(
        f"  index: {index / 1e6:,.0f} MB for {raw / 1e6:,.0f} MB of raw text = {index / raw:.2f}x"
    )
    subprocess.run(["cat", str(grep_file)], stdout=subprocess.DEVNULL, check=True)  # cached
    chosen = queries(sample)
    modes = {
        "newest, LIMIT 20": dict(newest=True, count=False),
        "newest, LIMIT 20, with total": dict(newest=True, count=True),
        "ranked, LIMIT 20": dict(newest=False, count=False),
    }
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    grep: list[float] = []
    grep_all: list[float] = []
    for n_query, (_, term) in enumerate(chosen):
        terms = (Term(term),)
        for mode, options in modes.items():
            query = Query(terms, limit=20, **options)  # type: ignore[arg-type]
            times[mode].append(timed(store.search, query))
        needle = fold(term)
        grep.append(timed(_quiet, ["grep", "-F", "-m", "20", "--", needle, str(grep_file)]))
        if n_query % 4 == 0:  # a whole scan per query is slow: one query in four
            grep_all.append(timed(_quiet, ["grep", "-F", "-c", "--", needle, str(grep_file)]))
    print(f"  {len(chosen)} queries (25 of each CJK length 1-8, {len(chosen) - 200} latin):")
    for mode, values in times.items():
        print(f"    {mode:34} {percentiles(values)}")
    print(f"    {'grep -F -m 20 (first 20 lines)':34} {percentiles(grep)}")
    print(f"    {'grep -F -c (every match, 1 in 4)':34} {percentiles(grep_all)}")
    newest = times["newest, LIMIT 20"]
    for label, baseline in (("grep -m 20", grep), ("grep -c", grep_all)):
        print(
            f"  newest-first p95 is {_p95(baseline) / _p95(newest):,.0f}x faster than {label}'s"
            f" (p50: {statistics.median(baseline) / statistics.median(newest):,.0f}x)"
        )
    by_length: dict[str, list[float]] = {}
    for (kind, _), value in zip(chosen, times["newest, LIMIT 20"], strict=True):
        by_length.setdefault(kind, []).append(value)
    print(
        "  newest, LIMIT 20 by kind: "
        + ", ".join(f"{kind} {statistics.median(v) * 1000:.1f}" for kind, v in by_length.items())
        + " ms (median)"
    )
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--corpus", type=Path, default=HERE.parent / "tests" / "data")
    parser.add_argument(
        "--work", type=Path, help="where the archives go (default: a temporary folder)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the archives")
    args = parser.parse_args()
    sentences = pool(args.corpus)
    print(f"sentence pool: {len(sentences):,} distinct real sentences from {args.corpus.name}")
    work = args.work or Path(tempfile.mkdtemp(prefix="newsmirror-search-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        for n in args.sizes:
            run(n, sentences, work)
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
