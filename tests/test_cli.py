"""The command line: every command runs, exit codes hold, and the README documents it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA, LoopbackServer, rss
from newsmirror.cli.main import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, build_parser, main
from newsmirror.jobs.archive import Archive

README = Path(__file__).parent.parent / "README.md"
RFC822 = "Sun, 09 Apr 2023 11:15:02 GMT"


def commands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sorted(sub.choices)  # type: ignore[union-attr,arg-type]


def test_every_command_is_in_the_readme() -> None:
    text = README.read_text("utf-8")
    for name in commands():
        assert f"newsmirror {name}" in text, name


def test_every_setting_is_in_the_readme() -> None:
    from newsmirror.config.settings import setting_names

    text = README.read_text("utf-8")
    for name in setting_names():
        assert f"`{name.split('.')[-1]}`" in text, name


def config_for(home: Path, feeds: dict[str, str]) -> None:
    home.mkdir(parents=True, exist_ok=True)
    tables = [
        f"[sources.{slug}]\nenabled = false"
        for slug in ("reuters", "nyt", "voa", "ft", "bbc", "rfi", "dw", "rfa", "cdt")
    ]
    tables += [
        f'[sources.{slug}]\nname = "{slug}"\nfeeds = ["{url}"]' for slug, url in feeds.items()
    ]
    (home / "newsmirror.toml").write_text("\n".join(tables), "utf-8")


def test_fetch_publish_show_stats_sources(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = server.set(
        "/a.xml",
        rss(
            [
                {
                    "title": "标题",
                    "link": "http://example.org/1",
                    "guid": "g1",
                    "pubDate": RFC822,
                    "description": "<p>正文</p>",
                }
            ]
        ),
    )
    home = tmp_path / "home"
    config_for(home, {"good": feed, "dead": server.url("/missing.xml")})
    assert main(["--home", str(home), "fetch"]) == EXIT_PARTIAL  # one source failed
    captured = capsys.readouterr()
    assert "dead" in captured.err and "404" in captured.err and "Traceback" not in captured.err
    assert main(["--home", str(home), "fetch", "--source", "good", "--publish"]) == EXIT_OK
    assert (home / "articles/good/1048574.md").exists()
    assert main(["--home", str(home), "publish", "markdown"]) == EXIT_OK
    assert "0 written" in capsys.readouterr().out
    assert main(["--home", str(home), "show", "good/1048574", "--html", "1"]) == EXIT_OK
    shown = capsys.readouterr().out
    assert "标题" in shown and "<p>正文</p>" in shown
    assert main(["--home", str(home), "show", "nothing/1"]) == EXIT_PARTIAL
    assert main(["--home", str(home), "stats"]) == EXIT_OK
    assert "1 articles" in capsys.readouterr().out
    assert main(["--home", str(home), "sources"]) == EXIT_OK
    assert "missing.xml" in capsys.readouterr().out


def test_show_prints_a_title_with_brackets_as_it_is(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    title = "[bold]粗[/x] [link=javascript:alert(1)]点[/link]"
    item = {"title": title, "link": "http://example.org/1", "pubDate": RFC822}
    feed = server.set("/a.xml", rss([{**item, "description": "<p>正文</p>"}]))
    home = tmp_path / "home"
    config_for(home, {"good": feed})
    assert main(["--home", str(home), "fetch"]) == EXIT_OK
    capsys.readouterr()
    assert main(["--home", str(home), "show", "good/1048574"]) == EXIT_OK
    assert title in capsys.readouterr().out


def test_bad_config_exits_2_with_a_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "newsmirror.toml").write_text("[fetch]\ntimeout = 'x'", "utf-8")
    assert main(["--home", str(tmp_path), "stats"]) == EXIT_USAGE
    assert "fetch.timeout" in capsys.readouterr().err


def test_demo_refuses_a_folder_that_is_not_its_own(tmp_path: Path) -> None:
    (tmp_path / "newsmirror.toml").write_text("[archive]\nlist_size = 5\n", "utf-8")
    assert main(["demo", str(tmp_path)]) == EXIT_USAGE
    assert (tmp_path / "newsmirror.toml").read_text("utf-8") == "[archive]\nlist_size = 5\n"


def test_init_and_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "mirror"
    assert main(["init", str(home)]) == EXIT_OK
    assert (home / "newsmirror.toml").exists()
    checkout = tmp_path / "checkout"
    shutil.copytree(DATA / "duty-machine-news", checkout)
    assert main(["--home", str(home), "import", "archive", str(checkout)]) == EXIT_OK
    assert "106 new" in capsys.readouterr().out
    assert main(["--home", str(home), "import", "archive", str(tmp_path)]) == EXIT_USAGE


def test_demo_runs_offline_end_to_end(tmp_path: Path) -> None:
    dest = tmp_path / "demo"
    run = subprocess.run(
        [sys.executable, "-m", "newsmirror.cli", "demo", str(dest)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "the archive holds 106 articles" in run.stdout
    files = list((dest / "articles").glob("*/*.md"))
    assert len(files) == 106
    assert len({p.parent.name for p in files}) == 9
    # Every real article, served as a feed item, is published byte for byte as it was.
    corpus = (DATA / "duty-machine-news" / "articles").glob("*/*.md")
    assert sorted(p.read_bytes() for p in files) == sorted(p.read_bytes() for p in corpus)
    assert (dest / "README.md").exists() and len(list((dest / "lists").glob("*.md"))) == 9
    again = subprocess.run(
        [sys.executable, "-m", "newsmirror.cli", "demo", str(dest)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0 and "0 files written" in again.stdout


def test_a_feed_s_failure_is_kept_as_a_word_and_shown_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The store keeps a failed feed's kind of failure (not an error class's name, which
    a rename would orphan); `sources` shows it in words, an older archive's class name too."""
    from newsmirror.cli.sources import failure_words
    from newsmirror.errors import Failure, RedirectLoopError, UnreachableError

    assert UnreachableError("x").failure == Failure.UNREACHABLE == "unreachable"
    assert failure_words(RedirectLoopError("x").failure.value) == "redirect loop"
    assert failure_words("RedirectLoopError") == "redirect loop"  # kept by an older one
    assert failure_words("410") == "410"
    home = tmp_path / "home"
    home.mkdir()
    (home / "newsmirror.toml").write_text(
        '[sources.dead]\nname = "Dead"\nfeeds = ["http://127.0.0.1:9/feed.xml"]\n'
        "[fetch]\ntimeout = 2.0\nretries = 0\n",
        "utf-8",
    )
    assert main(["--home", str(home), "fetch", "--source", "dead"]) == 1
    with Archive.open(home) as archive:
        [state] = [f for f in archive.feed_states() if f.source == "dead"]
    assert state.last_status == "unreachable"
    capsys.readouterr()
    assert main(["--home", str(home), "sources"]) == 0
    assert "unreachable" in capsys.readouterr().out
