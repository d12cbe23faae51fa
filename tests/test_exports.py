"""JSON Lines export and import (lossless round trip), and WARC export read back by warcio."""

from __future__ import annotations

import gzip
import io
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator

from conftest import make_source
from newsmirror import decide
from newsmirror.cli.main import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, main
from newsmirror.config.settings import build_config
from newsmirror.errors import ArchiveFormatError
from newsmirror.jobs.archive import Archive
from newsmirror.publish.warc import read_back, write_warc
from newsmirror.store.evidence import MediaRecord
from newsmirror.types import Candidate, Capture

SOURCES = (make_source("rfi", ["http://f.test/rfi.xml"]), make_source("cdt", ["http://f.test/c"]))
STAMP = "2024-05-01T08:00:00+00:00"
NOW = datetime.fromisoformat(STAMP)


def capture(body: bytes, at: str = STAMP, kind: str = "feed", url: str = "http://f.test/rfi.xml"):
    headers = (("Content-Type", "application/rss+xml; charset=utf-8"), ("ETag", '"x"'))
    if kind == "page":
        headers = (("Content-Type", "text/html"), ("Content-Encoding", "gzip"))
    return Capture(kind, url, url, 200, (("User-Agent", "newsmirror"),), headers, body, at)


def candidate(n: int, title: str, html: str, feed: Capture | None, page: Capture | None = None):
    return Candidate(
        source="rfi",
        identity=f"guid:g{n}",
        guid=f"g{n}",
        url=f"http://f.test/a/{n}",
        link=f"http://f.test/a/{n}",
        title=title,
        published_ms=1_700_000_000_000 + n * 60_000,
        date_missing=False,
        raw_html=html,
        clean_html=html,
        content_hash=decide.content_hash(title, html),
        feed_url="http://f.test/rfi.xml",
        feed_hash=f"h{n}",
        feed_capture=feed,
        page_capture=page,
        method="page extractor" if page else "feed",
        content_url=page.url if page else "",
    )


def open_archive(home: Path) -> Archive:
    config = build_config(home, {"archive": {}})
    from dataclasses import replace

    return Archive(replace(config, sources=SOURCES))


def export(archive: Archive) -> bytes:
    buffer = io.BytesIO()
    archive.export_jsonl(buffer)
    return buffer.getvalue()


def fill(archive: Archive, items: list[tuple[str, str, bytes]]) -> None:
    """Store the items (a second copy of an item is a new version), with captures."""
    with archive.store.transaction():
        for n, (title, html, body) in enumerate(items):
            feed = capture(body)
            archive.store.store_candidate(candidate(n % 3, title, html, feed), NOW)
        archive.store.record_media(
            "http://f.test/i.jpg",
            MediaRecord("ab" * 32, f"ab/{'ab' * 32}.jpg", "image/jpeg", 9, 40, 40),
            STAMP,
        )
        archive.store.record_media_failure("http://f.test/bad.svg", "refused", "SVG", STAMP)


TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
ITEMS = st.lists(st.tuples(TEXT, TEXT, st.binary(max_size=64)), min_size=1, max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ITEMS)
def test_export_import_export_is_identical(items: list[tuple[str, str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        first = open_archive(Path(tmp) / "a")
        fill(first, items)
        exported = export(first)
        path = Path(tmp) / "a.jsonl"
        path.write_bytes(exported)
        second = open_archive(Path(tmp) / "b")
        counts = second.import_jsonl(path)
        assert counts.errors == []
        assert export(second) == exported
        again = second.import_jsonl(path)  # twice: nothing changes
        assert again.added == {} and export(second) == exported
        first.close()
        second.close()


def test_an_import_is_searchable_and_keeps_every_version(tmp_path: Path) -> None:
    first = open_archive(tmp_path / "a")
    for html in ("<p>延伸威慑</p>", "<p>第二版</p>"):  # one article, two versions
        first.store.store_candidate(candidate(7, "韩国总统", html, capture(b"1")), NOW)
    (tmp_path / "a.jsonl").write_bytes(export(first))
    second = open_archive(tmp_path / "b")
    second.import_jsonl(tmp_path / "a.jsonl")
    assert [h.title for h in second.search("第二版").hits] == ["韩国总统"]
    assert second.search("延伸威慑").total == 0  # only the latest version is searched
    shown = second.show("rfi/1048574")
    assert shown is not None and [v.seq for v in shown.versions] == [1, 2]
    assert second.store.capture(1) is not None  # bodies and captures came along
    first.close()
    second.close()


def test_bad_lines_are_reported_and_the_rest_imported(tmp_path: Path) -> None:
    first = open_archive(tmp_path / "a")
    fill(first, [("标题", "<p>正文</p>", b"x")])
    lines = export(first).decode().splitlines()
    article = next(i for i, line in enumerate(lines) if '"type": "article"' in line)
    broken = json.loads(lines[article])
    del broken["path"]
    lines[article] = json.dumps(broken, ensure_ascii=False)
    lines.insert(2, "{not json")
    (tmp_path / "bad.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    second = open_archive(tmp_path / "b")
    counts = second.import_jsonl(tmp_path / "bad.jsonl")
    assert any("line 3: not JSON" in e for e in counts.errors)
    assert any("missing field 'path'" in e for e in counts.errors)
    assert any("a version before any article" in e for e in counts.errors)
    assert counts.added["capture"] == 1 and "article" not in counts.added
    first.close()
    second.close()


def test_a_file_that_is_no_export_is_refused_whole(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text('{"type": "source", "slug": "x"}\n', "utf-8")
    archive = open_archive(tmp_path / "b")
    with pytest.raises(ArchiveFormatError, match="header"):
        archive.import_jsonl(tmp_path / "x.jsonl")
    assert export(archive).count(b'"type": "source"') == 2  # the configured sources only
    archive.close()


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\n\n",
        "".join(f"{n}\n" for n in range(20_000)).encode(),  # a file of numbers
        b"\x1f\x8b\x08\x00" + bytes(range(256)) * 40,  # gzip, not UTF-8
        b"<html><body>not an export</body></html>\n",
        b'{"type": "source", "slug": "x", "name": "x", "id_scheme": "countdown"}\n',
        b'{"format": "newsmirror-jsonl", "type": "header", "version": 99}\n',
        b'{"format": "other", "type": "header", "version": 1}\n',
        b"x" * 200_000,  # one huge line
    ],
    ids=["empty", "blank", "numbers", "gzip", "html", "no-header", "v99", "other", "huge"],
)
def test_import_of_a_file_that_is_not_an_export_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    (tmp_path / "x.jsonl").write_bytes(content)
    home = tmp_path / "new"
    assert main(["--home", str(home), "import", "jsonl", str(tmp_path / "x.jsonl")]) == EXIT_USAGE
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "not a newsmirror-jsonl export" in lines[0], lines[:3]
    assert "nothing imported" in lines[0] and captured.out == ""
    assert not home.exists()  # no archive made for it


BAD_PATHS = [
    "../../outside/1048574.md",
    "/tmp/1048574.md",
    "articles/rfi/1048574\x00.md",
    "articles/../1048574.md",
    "articles/rfi/../../1048574.md",
    "articles/./1048574.md",
    "articles/rfi/notes.txt",
    "articles/rfi/sub/1048574.md",
    "articles/rfi/1048574_" + "长" * 100 + ".md",  # 300 bytes and more: no file name
]


def test_imported_paths_and_names_that_leave_the_archive_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = open_archive(tmp_path / "a")
    for n in range(len(BAD_PATHS) + 1):
        html = f"<p>正文{n}</p>"
        first.store.store_candidate(candidate(n, f"标题{n}", html, capture(b"x")), NOW)
    records = [json.loads(line) for line in export(first).decode().splitlines()]
    first.close()
    paths = iter(BAD_PATHS)
    renamed: dict[str, str] = {}
    for record in records:
        if record["type"] == "article" and record["archive_id"] != 1048574:
            renamed[record["path"]] = record["path"] = next(paths)
        elif record["type"] == "version":
            record["article"] = renamed.get(record["article"], record["article"])
        elif record["type"] == "source" and record["slug"] == "cdt":
            record["slug"] = "../cdt"
    records.append(
        {
            "type": "media",
            "sha256": "ab" * 32,
            "path": "../../x.jpg",
            "mime": "image/jpeg",
            "size": 1,
            "width": 40,
            "height": 40,
            "first_seen": STAMP,
        }
    )
    (tmp_path / "b.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8"
    )
    home = str(tmp_path / "b")
    assert main(["--home", home, "import", "jsonl", str(tmp_path / "b.jsonl")]) == EXIT_PARTIAL
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == len(BAD_PATHS) + 2, errors  # one a record: each article, source, media
    assert all(
        re.match(r"line \d+: (article|source|media): field '(path|slug)'", e) for e in errors
    )
    assert main(["--home", home, "publish", "markdown"]) == EXIT_OK  # nothing left to refuse
    assert main(["--home", home, "publish", "site"]) == EXIT_OK
    assert sorted(p.name for p in (tmp_path / "b/articles").rglob("*.md")) == ["1048574.md"]
    assert not (tmp_path / "outside").exists() and not Path("/tmp/1048574.md").exists()


def test_export_and_import_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = open_archive(tmp_path / "a")
    fill(first, [("标题", "<p>正文</p>", b"x")])
    first.close()
    home = str(tmp_path / "a")
    assert main(["--home", home, "export", "jsonl", "--out", str(tmp_path / "o.jsonl")]) == EXIT_OK
    assert "records to" in capsys.readouterr().out
    assert main(["--home", home, "export", "jsonl"]) == EXIT_OK
    assert capsys.readouterr().out.encode() == (tmp_path / "o.jsonl").read_bytes()
    target = str(tmp_path / "c")
    assert main(["--home", target, "import", "jsonl", str(tmp_path / "o.jsonl")]) == EXIT_OK
    assert "1 article" in capsys.readouterr().out
    (tmp_path / "bad.jsonl").write_bytes((tmp_path / "o.jsonl").read_bytes() + b"[]\n")
    assert main(["--home", target, "import", "jsonl", str(tmp_path / "bad.jsonl")]) == EXIT_PARTIAL
    assert "not a record" in capsys.readouterr().err
    assert main(["--home", home, "publish", "markdown", "--out", str(tmp_path / "x")]) == 2
    assert "--out is for publish site" in capsys.readouterr().err


def test_a_reader_that_goes_away_gets_no_error_message(tmp_path: Path) -> None:
    archive = open_archive(tmp_path / "a")
    fill(archive, [(f"标题{n}", "<p>" + "正文" * 2000 + "</p>", b"x" * 50_000) for n in range(40)])
    archive.close()
    reader = subprocess.Popen(
        [sys.executable, "-m", "newsmirror.cli", "--home", str(tmp_path / "a"), "export", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.readline()  # like `| head -1`
    reader.stdout.close()
    assert reader.stderr.read() == b""
    assert reader.wait(timeout=60) == EXIT_PARTIAL


# -- WARC ----------------------------------------------------------------------------------


def warc_archive(tmp_path: Path) -> Archive:
    archive = open_archive(tmp_path / "w")
    page_body = "<html><body><p>文章正文</p></body></html>".encode()
    with archive.store.transaction():
        for n, at in enumerate(("2024-05-01T08:00:00+00:00", "2024-05-02T23:59:59.5+00:00")):
            feed = capture(f"<rss>{n}</rss>".encode(), at)
            page = capture(page_body, at, "page", f"http://f.test/a/{n}?x=1")
            archive.store.store_candidate(
                candidate(n, "标题", "<p>文章正文</p>", feed, page), datetime.fromisoformat(at)
            )
    return archive


def test_warc_files_read_back_with_every_digest_right(tmp_path: Path) -> None:
    archive = warc_archive(tmp_path)
    report = archive.export_warc(tmp_path / "out")
    names = [p.name for p in report.files]
    assert names == ["newsmirror-20240501.warc.gz", "newsmirror-20240502.warc.gz"]
    assert report.captures == 4 and report.records == 2 + 4 * 3
    records = [r for path in report.files for r in read_back(path)]  # digests checked
    assert [r["type"] for r in records[:4]] == ["warcinfo", "request", "response", "metadata"]
    assert records[1]["date"] == "2024-05-01T08:00:00Z"
    pages = []
    with report.files[1].open("rb") as handle:
        for record in ArchiveIterator(handle):
            assert record.rec_headers.protocol == "WARC/1.1"
            uri = record.rec_headers.get_header("WARC-Target-URI") or ""
            if record.rec_type == "response" and "?x=1" in uri:
                pages.append((record.http_headers, record.content_stream().read().decode()))
    ((headers, text),) = pages
    assert headers.get_header("Content-Encoding") is None
    assert headers.get_header("Content-Length") == str(len(text.encode()))
    assert headers.get_header("X-Newsmirror-Original-Content-Encoding") == "gzip"
    assert text == "<html><body><p>文章正文</p></body></html>"
    assert gzip.decompress(report.files[0].read_bytes()).startswith(b"WARC/1.1\r\n")
    index = report.index.read_text("utf-8").splitlines()
    assert len(index) == 4 and all(line.startswith("test,f)/") for line in index)
    entry = json.loads(index[0].split(" ", 2)[2])
    assert entry["filename"] in names and entry["status"] == "200"
    archive.close()


def test_a_second_export_rewrites_nothing_unchanged(tmp_path: Path) -> None:
    archive = warc_archive(tmp_path)
    first = archive.export_warc(tmp_path / "out")
    before = {p: p.read_bytes() for p in first.files}
    again = archive.export_warc(tmp_path / "out")
    assert again.unchanged == 2 and {p: p.read_bytes() for p in again.files} == before
    archive.close()


def test_a_day_past_the_size_bound_is_cut_into_segments(tmp_path: Path) -> None:
    archive = warc_archive(tmp_path)
    report = write_warc(archive.store.captures_in_time_order(), tmp_path / "seg", max_bytes=40)
    assert [p.name for p in report.files] == [
        "newsmirror-20240501.warc.gz",
        "newsmirror-20240501-002.warc.gz",
        "newsmirror-20240502.warc.gz",
        "newsmirror-20240502-002.warc.gz",
    ]
    assert sum(len(read_back(p)) for p in report.files) == 4 + 4 * 3
    archive.close()


def test_warc_command(make_archive: Callable[..., Archive], tmp_path: Path) -> None:
    warc_archive(tmp_path).close()
    out = tmp_path / "warc-out"
    assert main(["--home", str(tmp_path / "w"), "export", "warc", "--out", str(out)]) == EXIT_OK
    assert sorted(p.name for p in out.iterdir()) == [
        "index.cdxj",
        "newsmirror-20240501.warc.gz",
        "newsmirror-20240502.warc.gz",
    ]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("published_ms", "yesterday", "field 'published_ms' must be integer"),
        ("seq", 0, "field 'seq' must be 1 or more"),
        ("clean_html", 123, "field 'clean_html' must be text"),
        ("published_ms", 4102444800000, "field 'published_ms': 2100-01-01T00:00+00:00 is more"),
        ("published_ms", -62135596800001, "field 'published_ms': -62135596800001 ms is no time"),
        ("published_ms", 2**63 - 1, "field 'published_ms': 9223372036854775807 ms is no time"),
        ("fetched_at", "0001-01-01T00:00:00+00:00", "field 'fetched_at': 0001-01-01T00:00+00"),
        ("fetched_at", "2024-05-01T08:00:00", "field 'fetched_at': '2024-05-01T08:00:00' is not"),
        ("fetched_at", "yesterday", "field 'fetched_at': 'yesterday' is not an ISO time"),
    ],
)
def test_a_version_of_the_wrong_shape_is_refused_clearly(
    tmp_path: Path, field: str, value: object, reason: str
) -> None:
    first = open_archive(tmp_path / "a")
    fill(first, [("标题", "<p>正文</p>", b"x")])
    lines = export(first).decode().splitlines()
    at = next(i for i, line in enumerate(lines) if '"type": "version"' in line)
    record = json.loads(lines[at])
    record[field] = value
    lines[at] = json.dumps(record, ensure_ascii=False)
    (tmp_path / "bad.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    second = open_archive(tmp_path / "b")
    counts = second.import_jsonl(tmp_path / "bad.jsonl")
    assert any(f"line {at + 1}: version: {reason}" in e for e in counts.errors), counts.errors
    assert any("no version: not imported" in e for e in counts.errors)  # nor its article
    assert "article" not in counts.added and second.stats()  # the store still reads
    first.close()
    second.close()


def test_a_version_whose_capture_is_missing_is_kept_without_it(tmp_path: Path) -> None:
    first = open_archive(tmp_path / "a")
    fill(first, [("标题", "<p>正文</p>", b"x")])
    lines = [json.loads(line) for line in export(first).decode().splitlines()]
    for record in lines:
        if record["type"] == "version":
            record["feed_capture"] = 999
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(r) for r in lines) + "\n", "utf-8")
    second = open_archive(tmp_path / "b")
    counts = second.import_jsonl(tmp_path / "b.jsonl")
    assert counts.added["version"] == 1 and len(counts.errors) == 1
    assert "feed_capture 999 is not among the captures imported" in counts.errors[0]
    first.close()
    second.close()


def test_other_records_of_the_wrong_shape_are_refused_clearly(tmp_path: Path) -> None:
    first = open_archive(tmp_path / "a")
    fill(first, [("标题", "<p>正文</p>", b"x")])
    lines = export(first).decode().splitlines()
    for n, line in enumerate(lines):
        record = json.loads(line)
        if record["type"] == "body":
            record["sha256"] = "0" * 64
        elif record["type"] == "capture":
            record["headers"] = "not a list"
        lines[n] = json.dumps(record, ensure_ascii=False)
    (tmp_path / "bad.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    second = open_archive(tmp_path / "b")
    counts = second.import_jsonl(tmp_path / "bad.jsonl")
    assert any("data does not have the sha256 it names" in e for e in counts.errors)
    assert any("field 'headers' must be list of [name, value] pairs" in e for e in counts.errors)
    assert "capture" not in counts.added and counts.added["article"] == 1
    assert any(
        "feed_capture 1 is not among the captures imported: kept" in e for e in counts.errors
    )
    assert second.export_warc(tmp_path / "warc").captures == 0  # nothing half-made to trip on
    first.close()
    second.close()


def test_records_with_a_word_no_newsmirror_writes_are_refused(tmp_path: Path) -> None:
    """A capture's kind is read back as a CaptureKind (the WARC export names it): a record
    with another word is refused, not kept to break the export later."""
    first = open_archive(tmp_path / "a")
    fill(first, [("标题", "<p>正文</p>", b"x")])
    lines = export(first).decode().splitlines()
    for n, line in enumerate(lines):
        record = json.loads(line)
        if record["type"] == "capture":
            record["kind"] = "video"
        lines[n] = json.dumps(record, ensure_ascii=False)
    (tmp_path / "bad.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    second = open_archive(tmp_path / "b")
    counts = second.import_jsonl(tmp_path / "bad.jsonl")
    assert any("field 'kind' must be one of feed, page, image" in e for e in counts.errors)
    assert "capture" not in counts.added and counts.added["article"] == 1
    assert second.export_warc(tmp_path / "warc").captures == 0
    first.close()
    second.close()


def test_a_file_cut_short_imports_what_it_holds(tmp_path: Path) -> None:
    first = open_archive(tmp_path / "a")
    fill(first, [("标题一", "<p>一</p>", b"x"), ("标题二", "<p>二</p>", b"y")])
    data = export(first)
    cut = data[: data.rindex(b'"type": "version"')]  # in the middle of the last version
    (tmp_path / "cut.jsonl").write_bytes(cut)
    second = open_archive(tmp_path / "b")
    counts = second.import_jsonl(tmp_path / "cut.jsonl")
    assert any("not JSON" in e for e in counts.errors)
    assert any("no version: not imported" in e for e in counts.errors)
    assert counts.added["article"] == 1  # the whole one
    (tmp_path / "a.jsonl").write_bytes(data)
    second.import_jsonl(tmp_path / "a.jsonl")  # the whole file afterwards: all of it
    assert export(second) == data
    first.close()
    second.close()
