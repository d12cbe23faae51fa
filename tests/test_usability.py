"""What a new user trips over: each case found by trying the tool as a newcomer."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import DATA, LoopbackServer, make_source, one_item_feed
from newsmirror.cli.main import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, main
from newsmirror.config.settings import load_config
from newsmirror.errors import ConfigError
from newsmirror.jobs.archive import Archive


def test_a_deleted_article_file_is_written_again(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    archive = make_archive((make_source("a", [one_item_feed(server)]),))
    archive.fetch()
    archive.publish_markdown()
    path = archive.config.output_path / "articles/a/1048574.md"
    before = path.read_bytes()
    path.unlink()
    report = archive.publish_markdown()
    assert report.written == 1 and path.read_bytes() == before


def test_a_mirror_readme_is_left_alone(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    archive = make_archive((make_source("a", [one_item_feed(server)]),))
    readme = archive.config.output_path / "README.md"
    readme.parent.mkdir(parents=True, exist_ok=True)
    readme.write_text("my mirror\n鸣谢\n", "utf-8")
    archive.fetch()
    report = archive.publish_markdown()
    assert readme.read_text("utf-8") == "my mirror\n鸣谢\n"
    assert report.notes and "README.md" in report.notes[0]


def test_list_names_with_spaces_are_linked_as_valid_markdown(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    archive = make_archive((make_source("a", [one_item_feed(server)], name="Al Jazeera"),))
    archive.fetch()
    archive.publish_markdown()
    readme = (archive.config.output_path / "README.md").read_text("utf-8")
    assert "[Al Jazeera](lists/Al%20Jazeera.md)" in readme
    assert (archive.config.output_path / "lists/Al Jazeera.md").exists()


def test_show_takes_a_path_as_the_user_types_it(
    tmp_path: Path, make_archive: Callable[..., Archive]
) -> None:
    checkout = tmp_path / "checkout"
    shutil.copytree(DATA / "duty-machine-news", checkout)
    archive = make_archive(home=checkout)
    archive.import_archive(checkout)
    for ref in (
        "articles/rfi/1000000.md",
        "./articles/rfi/1000000.md",
        str(checkout / "articles/rfi/1000000.md"),
    ):
        found = archive.show(ref)
        assert found is not None and found.archive_id == 1000000, ref


@pytest.mark.parametrize(
    "text, words",
    [
        (
            '[sources.a]\nname = "Same"\nfeeds = ["http://a/"]\n'
            '[sources.b]\nname = "Same"\nfeeds = ["http://b/"]',
            "same name",
        ),
        ('[sources.cdt]\nfulltext_selector = "div[[["', "fulltext_selector"),
        ("[fetch]\ntimeout = 0", "fetch.timeout"),
        ("[fetch]\nconcurrency = 0", "fetch.concurrency"),
    ],
)
def test_more_config_mistakes_are_caught_at_load(tmp_path: Path, text: str, words: str) -> None:
    (tmp_path / "newsmirror.toml").write_text(text, "utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert words in str(info.value)


def test_a_mistyped_home_is_not_made_into_an_empty_archive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nohome"
    for command in (["stats"], ["publish", "markdown"], ["show", "rfi/1"], ["sources"]):
        assert main(["--home", str(missing), *command]) == EXIT_USAGE
    assert not missing.exists()
    assert "no archive at" in capsys.readouterr().err


def test_file_system_errors_are_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path / "h")]) == EXIT_OK
    out = tmp_path / "no" / "such" / "dir" / "x.opml"
    code = main(["--home", str(tmp_path / "h"), "sources", "export", "--opml", "-o", str(out)])
    assert code == EXIT_FAILURE
    assert "Traceback" not in capsys.readouterr().err


def test_publishing_where_a_folder_is_a_file_is_an_error_line(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    archive = make_archive((make_source("a", [one_item_feed(server)]),))
    archive.fetch()
    blocker = archive.config.output_path / "articles"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where a folder belongs", "utf-8")
    report = archive.publish_markdown()
    assert report.errors and "cannot write" in report.errors[0]
