"""Chinese full-text search on real articles (the duty-machine/news corpus in tests/data):
every answer is checked against a plain substring scan of the same folded text."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import DATA, make_source
from newsmirror.clean.article import html_to_text
from newsmirror.cli.main import EXIT_OK, EXIT_USAGE, main
from newsmirror.config.settings import load_config
from newsmirror.errors import SearchQueryError
from newsmirror.jobs.archive import Archive
from newsmirror.search import query as search
from newsmirror.search.query import fold
from newsmirror.types import Candidate

CJK = re.compile("[\u4e00-\u9fff]+")
WORD = re.compile(r"[^\W_\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")


BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="module", params=BACKENDS)
def database(request: pytest.FixtureRequest) -> str:
    """The archive.database setting of the backend under test ("": SQLite's file)."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_module_databases")("search"))
    return ""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[Archive]:
    """An archive holding the real corpus, imported once for the module (per backend)."""
    home = tmp_path_factory.mktemp("search") / "home"
    home.mkdir()
    if database:
        (home / "newsmirror.toml").write_text(f'[archive]\ndatabase = "{database}"\n', "utf-8")
    archive = Archive(load_config(home))
    archive.import_archive(DATA / "duty-machine-news")
    yield archive
    archive.close()


@pytest.fixture(params=BACKENDS)
def archive_of(
    request: pytest.FixtureRequest, make_archive: Callable[..., Archive]
) -> Callable[..., Archive]:
    """sources → a new archive of them on the backend under test."""
    settings = {}
    if request.param == "postgresql":
        settings["database"] = request.getfixturevalue("postgres_url")
    return lambda sources: make_archive(sources, **settings)


def latest_versions(archive: Archive) -> dict[str, tuple[str, str]]:
    """path → (title, clean HTML) of every article's latest version, read through the
    store's interface (its records)."""
    latest: dict[str, tuple[str, str]] = {}
    for record in archive.store.export_records():
        if record["type"] == "version":
            latest[record["article"]] = (record["title"], record["clean_html"])
    return latest


def documents(archive: Archive) -> dict[str, tuple[str, str]]:
    """path → (folded title, folded text) of every article's latest version."""
    return {
        path: (fold(title), fold(html_to_text(html)))
        for path, (title, html) in latest_versions(archive).items()
    }


def found(archive: Archive, query: str, **kw: object) -> set[str]:
    results = archive.search(query, limit=10_000, **kw)  # type: ignore[arg-type]
    assert results.total == len(results.hits)
    return {hit.path for hit in results.hits}


def scan(docs: dict[str, tuple[str, str]], needle: str) -> set[str]:
    """The grep answer: articles whose folded title or text holds the folded needle."""
    folded = fold(needle)
    return {path for path, (title, text) in docs.items() if folded in title or folded in text}


def cjk_terms(docs: dict[str, tuple[str, str]], length: int, count: int) -> list[str]:
    """Substrings of CJK runs of the corpus, some common and some rare (seeded)."""
    rng = random.Random(length)
    runs = [
        run for _, text in sorted(docs.values()) for run in CJK.findall(text) if len(run) >= length
    ]
    terms = []
    for _ in range(count):
        run = rng.choice(runs)
        start = rng.randrange(len(run) - length + 1)
        terms.append(run[start : start + length])
    return terms


@pytest.mark.parametrize("length", [1, 2, 3, 4, 6])
def test_cjk_terms_find_exactly_what_a_substring_scan_finds(corpus: Archive, length: int) -> None:
    docs = documents(corpus)
    assert len(docs) > 100
    for term in cjk_terms(docs, length, 40):
        assert found(corpus, term) == scan(docs, term), term


def test_latin_words_match_whole_words_and_prefixes_case_insensitively(corpus: Archive) -> None:
    docs = documents(corpus)
    words = sorted({w for _, text in docs.values() for w in WORD.findall(text) if len(w) > 3})
    rng = random.Random(7)
    for word in rng.sample(words, 40):
        prefix = word[: max(2, len(word) - 2)]
        expected = {
            path
            for path, (title, text) in docs.items()
            if any(w.startswith(prefix) for w in WORD.findall(title) + WORD.findall(text))
        }
        assert found(corpus, prefix.upper()) == expected, prefix
        whole = {p for p, (t, x) in docs.items() if word in WORD.findall(t) + WORD.findall(x)}
        assert found(corpus, f'"{word}"') == whole, word


def test_names_readers_search_for(corpus: Archive) -> None:
    docs = documents(corpus)
    for name in ("韩国", "尹锡悦", "拜登", "国防部长", "戒严", "特朗普"):
        hits = found(corpus, name)
        assert hits and hits == scan(docs, name), name


def test_traditional_and_simplified_find_each_other(archive_of: Callable[..., Archive]) -> None:
    archive = archive_of((make_source("hk", ["http://127.0.0.1:9/f"]),))
    texts = {
        "simplified": "美国总统与韩国总统讨论延伸威慑，防线与卫生里程。",
        "taiwan": "美國總統與韓國總統討論延伸威懾，防線與衛生裡程。",
        "hongkong": "美國總統與韓國總統討論延伸威懾，防綫與衞生裏程。",
    }
    for n, (name, text) in enumerate(texts.items()):
        store(archive, f"urn:{name}", name, f"<p>{text}</p>", published_ms=1_700_000_000_000 + n)
    everything = {f"articles/hk/{0xFFFFF - n - 1}.md" for n in range(3)}
    for query in (
        "美国总统",
        "美國總統",
        "延伸威慑",
        "延伸威懾",
        "防线",
        "防綫",
        "卫生",
        "衞生",
        "里程",
        "裏程",
        "裡程",
    ):
        assert found(archive, query) == everything, query


def test_full_width_forms_fold_to_half_width(archive_of: Callable[..., Archive]) -> None:
    archive = archive_of((make_source("x", ["http://127.0.0.1:9/f"]),))
    store(archive, "urn:a", "G20 summit", "<p>The G20 met in Ｂｅｉｊｉｎｇ（北京）.</p>")
    assert len(found(archive, "Ｇ２０")) == 1 and len(found(archive, "beijing")) == 1
    assert len(found(archive, "ＢＥＩＪ")) == 1


def test_mixed_phrases_and_exclusions(corpus: Archive) -> None:
    docs = documents(corpus)
    both = found(corpus, "G20 峰会")
    assert both and both == scan(docs, "g20") & scan(docs, "峰会")
    joined = found(corpus, "G20峰会")
    assert joined <= both and joined == scan(docs, "g20峰会")
    assert found(corpus, '"国防部长"') == scan(docs, "国防部长")
    biden = found(corpus, "拜登")
    without = found(corpus, "拜登 -韩国")
    assert without and without == biden - scan(docs, "韩国")
    assert found(corpus, "拜登 -韩国 -特朗普") == biden - scan(docs, "韩国") - scan(docs, "特朗普")


def test_no_match_across_a_boundary_the_term_does_not_have(
    archive_of: Callable[..., Archive],
) -> None:
    archive = archive_of((make_source("x", ["http://127.0.0.1:9/f"]),))
    store(archive, "urn:1", "一", "<p>他谈到国防。部长没有出席。</p>")  # 国防|部长 split by 。
    store(
        archive, "urn:2", "二", "<p>延伸到海外，伸威风，威慑力。</p>"
    )  # every chunk, not in a row
    store(archive, "urn:3", "三", "<p>国防部长延伸威慑</p>")
    assert found(archive, "国防部长") == {"articles/x/1048572.md"}
    assert found(archive, "延伸威慑") == {"articles/x/1048572.md"}
    assert len(found(archive, "防部")) == 1 and len(found(archive, "伸威")) == 2


@pytest.mark.parametrize(
    "query",
    ["", "   ", '"', '""', "-", "-韩国", "!!! ???", "（）。，", "((("],
)
def test_queries_with_nothing_to_find_get_a_clear_message(corpus: Archive, query: str) -> None:
    with pytest.raises(SearchQueryError, match="nothing to search for"):
        corpus.search(query)


@pytest.mark.parametrize(
    "query",
    [
        "AND",
        "OR 韩国",
        "NOT",
        "NEAR(韩国 总统)",
        "韩国*",
        "^韩国",
        "title:韩国",
        "a:b",
        '"韩国',
        '韩国"总统',
        "{title body}: x",
        "'; DROP TABLE articles; --",
        "\x00韩国",
    ],
)
def test_search_syntax_in_a_query_is_just_text(corpus: Archive, query: str) -> None:
    results = corpus.search(query)  # never an FTS5 error: the words are searched for
    assert results.total >= 0


def test_a_very_long_query_is_refused_clearly(corpus: Archive) -> None:
    with pytest.raises(SearchQueryError, match="too long"):
        corpus.search("韩国" * 1000)
    with pytest.raises(SearchQueryError, match="too many terms"):
        corpus.search(" ".join(["韩国"] * 40))


@given(st.text(max_size=200))
def test_any_text_gives_results_or_a_clear_message(text: str) -> None:
    try:
        terms = search.parse_query(text)
    except SearchQueryError:
        return
    planned = search.plan(terms)
    expressions = [
        planned.chunks,
        *planned.chunks_excluded,
        *planned.chars,
        *planned.chars_excluded,
    ]
    assert all(e.count('"') % 2 == 0 for e in expressions)
    assert planned.chunks or planned.chars  # something to find


def test_newest_first_filters_and_snippets(corpus: Archive) -> None:
    hits = corpus.search("美国", newest=True, limit=50).hits
    dates = [hit.published_ms for hit in hits]
    assert dates == sorted(dates, reverse=True) and len(hits) == 50
    since = corpus.search("美国", since="2023-01-01", until="2023-12-31", limit=500).hits
    assert since and all(1672531200000 <= h.published_ms < 1704067200000 for h in since)
    rfi = corpus.search("美国", sources=["rfi"], limit=500).hits
    assert rfi and all(hit.source == "rfi" for hit in rfi)
    for hit in hits:
        marked = [hit.snippet.text[a:b] for a, b in hit.snippet.marks]
        assert marked and all(fold(m) == "美国" for m in marked), hit.snippet


def test_the_index_follows_new_versions_in_the_same_transaction(
    archive_of: Callable[..., Archive],
) -> None:
    archive = archive_of((make_source("x", ["http://127.0.0.1:9/f"]),))
    store(archive, "urn:1", "标题", "<p>第一版提到韩国。</p>")
    assert len(found(archive, "韩国")) == 1
    store(archive, "urn:1", "标题", "<p>第二版改成日本。</p>")
    assert found(archive, "韩国") == set() and len(found(archive, "日本")) == 1
    with pytest.raises(RuntimeError), archive.store.transaction():
        store(archive, "urn:1", "标题", "<p>第三版写朝鲜。</p>")
        raise RuntimeError("rolled back")
    assert found(archive, "朝鲜") == set() and len(found(archive, "日本")) == 1
    assert archive.reindex() == 1 and len(found(archive, "日本")) == 1


def test_an_archive_from_before_search_needs_a_reindex(corpus: Archive) -> None:
    if corpus.config.is_postgres:
        pytest.skip("the SQLite store's upgrade (an index built before): its own tables")
    before = found(corpus, "韩国")
    corpus.store.db.execute("UPDATE search_meta SET value = '' WHERE key = 'index_version'")
    corpus.store._search_ready = None
    with pytest.raises(SearchQueryError, match="newsmirror reindex"):
        corpus.search("韩国")
    assert corpus.reindex() > 100
    assert found(corpus, "韩国") == before
    assert corpus.store.reindex(workers=1) > 100  # tokens made in a worker process
    assert found(corpus, "韩国") == before and found(corpus, "尹") == scan(documents(corpus), "尹")


def test_search_and_reindex_commands(
    corpus: Archive, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    home = str(corpus.config.home)
    assert main(["--home", home, "search", "韩国", "--limit", "3", "--json"]) == EXIT_OK
    record = json.loads(capsys.readouterr().out)
    assert record["total"] >= 3 and len(record["results"]) == 3
    first = record["results"][0]
    assert {"source", "id", "path", "title", "link", "published", "snippet", "marks"} <= set(first)
    a, b = first["marks"][0]
    assert first["snippet"][a:b] == "韩国"
    assert main(["--home", home, "search", "韩国", "--newest"]) == EXIT_OK
    assert "articles" in capsys.readouterr().out
    assert main(["--home", home, "search", "--", "-韩国"]) == EXIT_USAGE
    assert "nothing to search for" in capsys.readouterr().err
    assert main(["--home", home, "search", "韩国", "--since", "yesterday"]) == EXIT_USAGE
    assert main(["--home", home, "reindex"]) == EXIT_OK
    assert "search index:" in capsys.readouterr().out


def store(
    archive: Archive, guid: str, title: str, html: str, published_ms: int = 1_700_000_000_000
) -> None:
    """Store one version as a fetch would (the store indexes it in the same transaction)."""
    source = archive.config.sources[0].slug
    candidate = Candidate(
        source=source,
        identity=f"guid:{guid}",
        guid=guid,
        url="",
        link=f"https://example.org/{guid}",
        title=title,
        published_ms=published_ms,
        date_missing=False,
        raw_html=html,
        clean_html=html,
        content_hash=str(hash((title, html))),
        feed_url="https://example.org/feed",
    )
    archive.store.store_candidate(replace(candidate), datetime(2024, 1, 1, tzinfo=UTC))


def test_one_character_terms_combine_with_others(corpus: Archive) -> None:
    docs = documents(corpus)
    one, two = scan(docs, "尹"), scan(docs, "总统")
    assert one and two
    assert found(corpus, "尹 总统") == one & two
    assert found(corpus, "总统 -尹") == two - one
    assert found(corpus, "尹 -总统") == one - two
    assert found(corpus, "尹 韩") == one & scan(docs, "韩")
    dw = {p for p in one if p.startswith("articles/dw/")}
    assert found(corpus, "尹", sources=["dw"]) == dw
    newest = corpus.search("的", newest=True, limit=30).hits
    assert [h.published_ms for h in newest] == sorted(
        (h.published_ms for h in newest), reverse=True
    )


def test_an_archive_may_keep_no_index(make_archive: Callable[..., Archive], tmp_path: Path) -> None:
    home = tmp_path / "quiet"
    home.mkdir()
    (home / "newsmirror.toml").write_text("[search]\nindex = false\n", "utf-8")
    archive = Archive(load_config(home))
    archive.config = replace(archive.config, sources=(make_source("x", ["http://127.0.0.1:9/f"]),))
    store(archive, "urn:1", "标题", "<p>韩国</p>")
    with pytest.raises(SearchQueryError, match=r"search\.index = false"):
        archive.search("韩国")
    assert archive.store.db.execute("SELECT COUNT(*) FROM search_docs").fetchone()[0] == 0
    archive.close()
    (home / "newsmirror.toml").write_text("", "utf-8")
    again = Archive(load_config(home))
    with pytest.raises(SearchQueryError, match="newsmirror reindex"):
        again.search("韩国")
    assert again.reindex() == 1 and len(again.search("韩国").hits) == 1
    again.close()


def test_the_index_reads_the_same_text_as_html_to_text(corpus: Archive) -> None:
    from newsmirror.clean.article import index_text

    htmls = [html for _, html in latest_versions(corpus).values()]
    assert len(htmls) > 50
    for html in htmls:
        made = search.index_tokens(index_text(html)).split()
        assert made == search.index_tokens(html_to_text(html)).split()
