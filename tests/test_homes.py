"""A home that does not exist is never made by accident: every command but init, demo and
import refuses a home that is not an archive (no folder, or a folder holding neither
newsmirror.toml nor the database), whether it comes from --home, $NEWSMIRROR_HOME or the
current directory, with one line and exit code 2, and leaves nothing behind."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from newsmirror.cli.main import EXIT_OK, EXIT_USAGE, build_parser, main

PAGE = (
    "<html><body><article>"
    + "<p>一段足够长的正文，用来试一试提取。</p>" * 20
    + "</article></body></html>"
)
OPML = (
    '<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>'
    '<outline text="X" type="rss" xmlUrl="http://127.0.0.1:9/x.xml"/></body></opml>'
)

#: Commands that need an archive, as a user would type them (FILE: a file made by the test).
NEEDS_ARCHIVE = [
    ["run", "--once"],
    ["digest", "--date", "2024-01-01"],
    ["fetch"],
    ["fetch", "--source", "rfi", "--publish"],
    ["publish", "markdown"],
    ["publish", "site"],
    ["export", "jsonl"],
    ["export", "warc", "--out", "OUT"],
    ["sources"],
    ["show", "rfi/1048574"],
    ["stats"],
    ["search", "韩国"],
    ["reindex"],
    ["watch"],
    ["report"],
    ["serve", "--port", "1"],
]
#: Commands that read settings only or add to newsmirror.toml: the folder must exist.
NEEDS_FOLDER = [
    ["extract", "PAGE"],
    ["sources", "export", "--opml"],
    ["sources", "import", "OPML"],
]
#: Commands that may make their home.
MAKE_HOMES = {"init", "demo", "import"}


def _commands() -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_every_command_is_checked_here() -> None:
    checked = {c[0] for c in NEEDS_ARCHIVE + NEEDS_FOLDER} | MAKE_HOMES
    assert checked == _commands()


def _typed(command: list[str], tmp_path: Path) -> list[str]:
    files = tmp_path / "files"
    files.mkdir(exist_ok=True)
    (files / "page.html").write_text(PAGE, "utf-8")
    (files / "feeds.opml").write_text(OPML, "utf-8")
    given = {"PAGE": files / "page.html", "OPML": files / "feeds.opml", "OUT": files / "warc"}
    return [str(given.get(word, word)) for word in command]


def _refused(
    argv: list[str],
    home: Path,
    capsys: pytest.CaptureFixture[str],
    how: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Run the command with ``home`` given ``how``; it must be refused as no archive."""
    with monkeypatch.context() as patch:
        patch.delenv("NEWSMIRROR_HOME", raising=False)
        if how == "--home":
            argv = ["--home", str(home), *argv]
        elif how == "env":
            patch.setenv("NEWSMIRROR_HOME", str(home))
        else:
            patch.chdir(home)
        capsys.readouterr()
        assert main(argv) == EXIT_USAGE, (how, argv)
    captured = capsys.readouterr()
    resolved = home.resolve()
    assert captured.err == (
        f"configuration error: no archive at {resolved} (newsmirror init {resolved} makes one)\n"
    ), (how, argv)
    assert captured.out == ""


@pytest.mark.parametrize("command", NEEDS_ARCHIVE, ids=" ".join)
def test_a_command_refuses_a_home_that_holds_no_archive(
    command: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = _typed(command, tmp_path)
    missing = tmp_path / "no" / "such" / "home"
    for how in ("--home", "env"):
        _refused(argv, missing, capsys, how, monkeypatch)
        assert not (tmp_path / "no").exists()
    empty = tmp_path / "empty"  # a folder, but no archive: nothing is made in it either
    empty.mkdir()
    for how in ("--home", "env", "cwd"):
        _refused(argv, empty, capsys, how, monkeypatch)
        assert list(empty.iterdir()) == []
    assert not (tmp_path / "files" / "warc").exists()


@pytest.mark.parametrize("command", NEEDS_FOLDER, ids=" ".join)
def test_a_command_that_reads_settings_only_needs_the_folder(
    command: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = _typed(command, tmp_path)
    missing = tmp_path / "no" / "such" / "home"
    for how in ("--home", "env"):
        _refused(argv, missing, capsys, how, monkeypatch)
        assert not (tmp_path / "no").exists()
    folder = tmp_path / "folder"  # the default settings are read: no database is made
    folder.mkdir()
    assert main(["--home", str(folder), *argv]) == EXIT_OK
    assert not (folder / "newsmirror.db").exists()


def test_an_archive_is_a_folder_with_its_configuration_or_its_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    assert main(["--home", str(home), "stats"]) == EXIT_USAGE
    assert not (home / "newsmirror.db").exists()
    assert main(["init", str(home)]) == EXIT_OK  # newsmirror.toml
    assert main(["--home", str(home), "stats"]) == EXIT_OK
    assert (home / "newsmirror.db").exists()
    (home / "newsmirror.toml").unlink()  # the database alone (a CI cache restored)
    assert main(["--home", str(home), "stats"]) == EXIT_OK
    moved = tmp_path / "moved"  # a configuration naming its database elsewhere
    moved.mkdir()
    (moved / "newsmirror.toml").write_text('[archive]\ndatabase = "data/store.db"\n', "utf-8")
    (moved / "data").mkdir()
    assert main(["--home", str(moved), "stats"]) == EXIT_OK
    assert (moved / "data" / "store.db").exists()
    assert "0 articles" in capsys.readouterr().out
