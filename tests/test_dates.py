"""Dates from outside: judged where they enter (feeds of every format, pages, imports),
and every stored time shown without a traceback, whatever an older archive holds."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import DATA, LoopbackServer, rss
from newsmirror import decide
from newsmirror.cli.main import EXIT_OK, main
from newsmirror.types import Entry
from test_cli import config_for

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GOOD = "Sun, 09 Apr 2023 11:15:02 GMT"
#: Dates a hostile or broken feed gives: past datetime's last day, past it in a timezone
#: west of UTC, the first year, a "zero" date, next year.
FAR = (
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Fri, 31 Dec 9999 23:59:59 -1200",
    "Mon, 01 Jan 0001 00:00:00 GMT",
    "Sat, 30 Dec 1899 00:00:00 GMT",
    "Thu, 01 Jan 2099 00:00:00 GMT",
)


def entry(published: datetime | None = None, updated: datetime | None = None) -> Entry:
    return Entry("g", "http://example.org/1", "", "t", published, updated, "<p>x</p>")


@pytest.mark.parametrize(
    ("published", "why"),
    [
        (datetime(9999, 12, 31, 23, 59, tzinfo=UTC), "9999-12-31T23:59+00:00 is more than"),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00+00:00 is before 1900"),
        (datetime(1899, 12, 30, tzinfo=UTC), "1899-12-30T00:00+00:00 is before 1900"),
        (NOW + timedelta(days=3), "2026-03-04T12:00+00:00 is more than 2 days ahead"),
    ],
)
def test_a_date_outside_the_window_is_filed_as_a_missing_one(published: datetime, why: str) -> None:
    when, note = decide.filing_date(entry(published), NOW)
    assert when == int(NOW.timestamp() * 1000)
    assert f"its publication date {why}" in note and note.endswith("the time first seen")
    assert decide.published_ms(entry(published), NOW) == (when, True)
    updated = NOW - timedelta(hours=1)  # a sane update date is the next best
    when, note = decide.filing_date(entry(published, updated), NOW)
    assert when == int(updated.timestamp() * 1000) and note.endswith("its update time")


def test_dates_a_little_ahead_or_long_ago_are_kept() -> None:
    for published in (NOW + timedelta(hours=26), datetime(1901, 5, 1, tzinfo=UTC)):
        assert decide.filing_date(entry(published), NOW) == (
            int(published.timestamp() * 1000),
            "",
        )


def feeds(server: LoopbackServer) -> dict[str, str]:
    """The same hostile dates in RSS, Atom and JSON Feed, each beside a valid item."""
    items = [{"title": "好", "link": "http://127.0.0.1:9/ok", "guid": "ok", "pubDate": GOOD}]
    items += [
        {"title": f"远{n}", "link": f"http://127.0.0.1:9/{n}", "guid": f"r{n}", "pubDate": date}
        for n, date in enumerate(FAR)
    ]
    for item in items:
        item["description"] = f"<p>{item['title']}正文</p>"
    atom_dates = ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00Z"]
    atom = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>a</title><id>urn:a</id><updated>2023-04-09T11:15:02Z</updated>"
        + "".join(
            f"<entry><title>原子{n}</title><id>urn:a:{n}</id>"
            f'<link href="http://127.0.0.1:9/a{n}"/><published>{d}</published>'
            f"<updated>{d}</updated><content type='html'>&lt;p&gt;{n}&lt;/p&gt;</content></entry>"
            for n, d in enumerate(["2023-04-09T11:15:02Z", *atom_dates])
        )
        + "</feed>"
    )
    json_feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "j",
        "items": [
            {
                "id": f"j{n}",
                "url": f"http://127.0.0.1:9/j{n}",
                "title": f"杰{n}",
                "content_html": f"<p>{n}</p>",
                "date_published": d,
            }
            for n, d in enumerate(["2023-04-09T11:15:02Z", *atom_dates, "+99999-01-01"])
        ],
    }
    return {
        "r": server.set("/r.xml", rss(items)),
        "a": server.set("/a.xml", atom, **{"Content-Type": "application/atom+xml"}),
        "j": server.set("/j.json", json.dumps(json_feed), **{"Content-Type": "application/json"}),
    }


def test_hostile_dates_in_every_feed_format_break_nothing(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    config_for(home, feeds(server))
    with (home / "newsmirror.toml").open("a", encoding="utf-8") as toml:
        toml.write('\n[run]\npublish = ["markdown", "site", "digest"]\nwatch = false\n')
    before = int(datetime.now(UTC).timestamp() * 1000)
    assert main(["--home", str(home), "fetch"]) == EXIT_OK  # every item, its neighbours too
    after = int(datetime.now(UTC).timestamp() * 1000)
    db = sqlite3.connect(home / "newsmirror.db")
    rows = dict(db.execute("SELECT guid, published_ms FROM articles").fetchall())
    log = [r for (r,) in db.execute("SELECT reason FROM item_log WHERE action = 'archived'")]
    db.close()
    assert len(rows) == 6 + 4 + 5
    assert rows.pop("ok") == rows.pop("urn:a:0") == rows.pop("j0") == 1681038902000
    assert all(before <= ms <= after for ms in rows.values())  # filed under the time first seen
    assert any("its publication date 9999-12-31T23:59+00:00 is more than" in r for r in log)
    assert any("its publication date 0001-01-01T00:00+00:00 is before 1900" in r for r in log)
    assert sum(r.endswith("filed under the time first seen") for r in log) == len(rows)
    capsys.readouterr()
    for command in (["publish", "markdown"], ["publish", "site"], ["run", "--once"], ["digest"]):
        assert main(["--home", str(home), *command]) == EXIT_OK, command
    assert "Traceback" not in capsys.readouterr().err


def test_an_imported_file_of_a_time_outside_the_window_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkout = tmp_path / "checkout"
    shutil.copytree(DATA / "duty-machine-news", checkout)
    files = sorted((checkout / "articles").glob("*/*.md"))
    for path, stamp in zip(files, ("253402300799000", "99999999999999999999999"), strict=False):
        text = path.read_text("utf-8")
        path.write_text(f"<!--{stamp}-->" + text[text.index("\n") :], "utf-8")
    home = tmp_path / "home"
    assert main(["init", str(home)]) == EXIT_OK
    main(["--home", str(home), "import", "archive", str(checkout)])
    captured = capsys.readouterr()
    assert "104 new" in captured.out
    assert f"{files[0].relative_to(checkout).as_posix()}: line 1's time " in captured.err
    assert "is no time of the years 1 to 9999" in captured.err
    assert "Traceback" not in captured.err


#: Epoch millisecond values and ISO times an archive of an older newsmirror may hold.
STORED = [
    (-(2**63), "0001-01-01T00:00:00+14:00"),
    (-62135596800001, "9999-12-31T23:59:59-12:00"),
    (253402300800000, "garbage"),
    (2**63 - 1, "0001-01-01T00:00:00+00:00"),
]


@pytest.mark.parametrize(("stored_ms", "stored_iso"), STORED)
def test_every_command_shows_any_stored_time(
    tmp_path: Path,
    server: LoopbackServer,
    capsys: pytest.CaptureFixture[str],
    stored_ms: int,
    stored_iso: str,
) -> None:
    items = [
        {
            "title": f"t{n}",
            "link": f"http://127.0.0.1:9/{n}",
            "guid": f"g{n}",
            "pubDate": GOOD,
            "description": "<p>y</p>",
        }
        for n in range(3)
    ]
    home = tmp_path / "home"
    config_for(home, {"s": server.set("/a.xml", rss(items))})
    with (home / "newsmirror.toml").open("a", encoding="utf-8") as toml:
        toml.write('\n[run]\npublish = ["markdown", "site", "digest"]\n')
    assert main(["--home", str(home), "fetch"]) == EXIT_OK
    main(["--home", str(home), "watch", "--now"])
    db = sqlite3.connect(home / "newsmirror.db")
    one = "(SELECT id FROM articles WHERE guid = 'g1')"
    db.execute("UPDATE articles SET published_ms = ? WHERE guid = 'g1'", (stored_ms,))
    db.execute(f"UPDATE versions SET published_ms = ? WHERE article_id = {one}", (stored_ms,))
    db.execute("UPDATE articles SET first_seen = ? WHERE guid = 'g2'", (stored_iso,))
    db.execute("UPDATE versions SET fetched_at = ? WHERE article_id != " + one, (stored_iso,))
    db.execute("UPDATE visits SET at = ?, turned = 1, outcome = 'gone'", (stored_iso,))
    db.execute("UPDATE watch SET status = 'gone', status_at = ?1, last_visit = ?1", (stored_iso,))
    db.execute("UPDATE feeds SET last_success = ?1, last_checked = ?1", (stored_iso,))
    db.commit()
    db.close()
    capsys.readouterr()
    for command in (
        ["publish", "markdown", "--force"],
        ["publish", "site"],
        ["publish", "site", "--force"],
        ["digest", "--date", "2023-04-09"],
        ["show", "s/1048573"],
        ["show", "s/1048572"],
        ["report", "--since", "1900-01-01"],
        ["report", "--json", "--since", "1900-01-01"],
        ["search", "t"],
        ["search", "--json", "--newest", "t"],
        ["stats"],
        ["sources"],
        ["export", "jsonl", "--out", str(tmp_path / "x.jsonl")],
        ["export", "warc", "--out", str(tmp_path / "warc")],
        ["run", "--once"],
    ):
        main(["--home", str(home), *command])  # an exception fails the test
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err + captured.out, command
        assert "internal error" not in captured.err, command


def test_a_page_date_outside_the_window_is_not_used() -> None:
    from conftest import make_source
    from newsmirror.collect.items import Batch, _add_entry
    from newsmirror.collect.pages import Content

    source = make_source("s", ["http://example.org/feed"])
    sane = datetime(2026, 2, 27, tzinfo=UTC)
    for page_date, expected in (
        (datetime(9999, 12, 31, tzinfo=UTC), NOW),  # filed under the time first seen
        (sane, sane),
    ):
        content = Content("<p>x</p>", "page extractor", "http://e/1", "", None, page_date)
        batch = Batch(source)
        _add_entry(source, entry(), content, NOW, batch, False)
        [candidate] = batch.candidates
        assert candidate.published_ms == int(expected.timestamp() * 1000)
        notes = [note.reason for note in batch.notes]
        if page_date is sane:
            assert notes == []
        else:
            assert notes == [
                "its publication date 9999-12-31T00:00+00:00 is more than 2 days ahead (dates"
                " are taken from 1900-01-01 to 2 days after it is read): filed under the time"
                " first seen"
            ]
