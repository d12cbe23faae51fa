"""The GitHub Actions workflow `newsmirror init --ci github` writes, run here step by step:
every `run:` step with bash exactly as written, in a fresh clone of a local bare
repository (the remote), against loopback feeds. The `uses:` steps are played by the
test: checkout is a `git clone` of the bare repository, the cache is a folder, Python is
this interpreter's environment. The step that pip-installs newsmirror is the one step
not run (it needs a package index; newsmirror is installed already).

Run twice: the first run commits and pushes the new articles with a summary message;
the second, with nothing new, makes no commit. A third run without the cache rebuilds the
store from the committed archive and makes no commit either."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import DATA, LoopbackServer, rss
from newsmirror.cli.main import EXIT_OK, main

yaml = pytest.importorskip("yaml", reason="PyYAML reads the workflow (a test extra)")

PAGE = (DATA / "pages" / "newspaper4k" / "html" / "chinese_article_002.html").read_bytes()


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", "-c", "core.quotepath=off", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.fixture
def remote(tmp_path: Path, server: LoopbackServer) -> Path:
    """A bare repository holding a newsmirror archive (config and workflow) for a source
    served on loopback."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    items = []
    for n in range(5):
        link = server.set(f"/n/{n}.html", PAGE, **{"Content-Type": "text/html; charset=utf-8"})
        when = datetime.now(UTC) - timedelta(hours=n)
        items.append(
            {
                "title": f"新闻 {n}",
                "link": link,
                "guid": f"urn:ci:{n}",
                "pubDate": format_datetime(when, usegmt=True),
                "content": f"<p>第{n}条。</p><p>{'正文内容。' * 60}</p>",
            }
        )
    feed = server.set("/feed.xml", rss(items))
    bare = tmp_path / "remote.git"
    git("init", "--bare", "--quiet", "--initial-branch=main", str(bare), cwd=tmp_path)
    work = tmp_path / "setup"
    git("clone", "--quiet", str(bare), str(work), cwd=tmp_path)
    pinned = "newsmirror @ git+https://example.org/newsmirror@0123456789abcdef"
    assert main(["init", str(work), "--ci", "github", "--package", pinned]) == EXIT_OK
    config = (work / "newsmirror.toml").read_text("utf-8")
    defaults = ("reuters", "nyt", "voa", "ft", "bbc", "rfi", "dw", "rfa", "cdt")
    config += "".join(f"\n[sources.{slug}]\nenabled = false\n" for slug in defaults)
    config += f'\n[sources.wire]\nname = "通讯社"\nfeeds = ["{feed}"]\nfull_text = "feed"\n'
    (work / "newsmirror.toml").write_text(config, "utf-8")
    _identity(work)
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "newsmirror archive", cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    return bare


def _identity(repo: Path) -> None:
    git("config", "user.name", "test", cwd=repo)
    git("config", "user.email", "test@example.invalid", cwd=repo)


def run_workflow(bare: Path, place: Path, cache: Path) -> list[str]:
    """One run of the workflow's job: the names of the steps run."""
    workspace = place / "workspace"
    temp = place / "runner-temp"
    temp.mkdir(parents=True)
    workflow = yaml.safe_load(
        (bare.parent / "setup" / ".github" / "workflows" / "newsmirror.yml").read_text("utf-8")
    )
    job = workflow["jobs"]["archive"]
    env = dict(os.environ)
    env.pop("NEWSMIRROR_HOME", None)
    env.update(
        {
            "GITHUB_WORKSPACE": str(workspace),
            "RUNNER_TEMP": str(temp),
            "PATH": os.path.dirname(os.path.abspath(sys.executable)) + os.pathsep + env["PATH"],
        }
    )
    env.update({k: str(v).replace("${{ github.workspace }}", str(workspace))
                for k, v in job["env"].items()})  # fmt: skip
    ran = []
    for step in job["steps"]:
        uses = step.get("uses", "")
        if uses.startswith("actions/checkout"):
            git("clone", "--quiet", str(bare), str(workspace), cwd=place)
            _identity(workspace)
        elif uses.startswith("actions/setup-python"):
            pass  # this interpreter's environment, with newsmirror installed
        elif uses.startswith("actions/cache/restore"):
            for name in step["with"]["path"].split():
                if (cache / name).exists():
                    shutil.copy2(cache / name, workspace / name)
        elif uses.startswith("actions/cache/save"):
            cache.mkdir(exist_ok=True)
            for name in step["with"]["path"].split():
                if (workspace / name).exists():
                    shutil.copy2(workspace / name, cache / name)
        elif "pip install" in step.get("run", ""):
            continue  # needs a package index: newsmirror is installed already
        else:
            assert "run" in step, step
            done = subprocess.run(
                ["bash", "-e", "-c", step["run"]],
                cwd=workspace,
                env=env,
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, (step["name"], done.stdout, done.stderr)
        ran.append(step["name"])
    return ran


def commits(bare: Path) -> list[str]:
    return git("log", "--format=%s", "main", cwd=bare).splitlines()


def test_the_workflow_commits_news_once_and_then_nothing(remote: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    ran = run_workflow(remote, tmp_path / "run1", cache)
    assert "Commit and push the archive" in ran
    log = commits(remote)
    assert len(log) == 2, log
    assert log[0].startswith("news ") and "5 new (wire 5)" in log[0]
    files = git("ls-tree", "-r", "--name-only", "main", cwd=remote).splitlines()
    assert sum(f.startswith("articles/wire/") for f in files) == 5
    assert "lists/通讯社.md" in files and "README.md" in files
    assert not any(f.startswith("newsmirror.db") for f in files)  # the store is cached

    run_workflow(remote, tmp_path / "run2", cache)
    assert commits(remote) == log  # nothing new: no commit

    shutil.rmtree(cache)  # the cache was evicted: the store is rebuilt from the archive
    run_workflow(remote, tmp_path / "run3", cache)
    assert commits(remote) == log


def test_init_writes_the_workflow_and_the_unit_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    spec = 'newsmirror @ git+https://example.org/x ; python_version >= "3.11"'
    assert main(["init", str(home), "--ci", "github", "--package", spec]) == 0
    workflow = home / ".github" / "workflows" / "newsmirror.yml"
    parsed: dict[str, Any] = yaml.safe_load(workflow.read_text("utf-8"))
    assert parsed["jobs"]["archive"]["env"]["NEWSMIRROR_PACKAGE"] == spec  # quotes survive
    assert parsed[True]["schedule"][0]["cron"].endswith("* * * *")  # YAML reads "on" as True
    workflow.write_text("# mine\n", "utf-8")
    assert main(["init", str(home), "--ci", "github"]) == 0
    assert workflow.read_text("utf-8") == "# mine\n"  # never overwritten
    assert main(["init", str(home), "--systemd"]) == 0
    unit = (home / "newsmirror.service").read_text("utf-8")
    assert f"WorkingDirectory={home.resolve()}" in unit
    assert "ExecStart=" in unit and unit.split("ExecStart=")[1].split("\n")[0].endswith(" run")
    assert "__" not in unit
    serving = (home / "newsmirror-serve.service").read_text("utf-8")
    assert f"WorkingDirectory={home.resolve()}" in serving and "__" not in serving
    command = serving.split("ExecStart=")[1].split("\n")[0]
    assert command.endswith(" serve --host 127.0.0.1 --port 8080")
    (home / "newsmirror-serve.service").write_text("# mine\n", "utf-8")
    assert main(["init", str(home), "--systemd"]) == 0
    assert (home / "newsmirror-serve.service").read_text("utf-8") == "# mine\n"
    fresh = tmp_path / "fresh"
    assert main(["init", str(fresh), "--package", "x"]) == 2  # --package without --ci
    assert not fresh.exists()  # refused before anything was written


# -- what the workflow installs: what this newsmirror was installed from, pinned --------------

COMMIT = "7e5ac8a3f0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"
SHA256 = "2dc6b5a470a1bde8a2a8e4c3b4a7e1c1f5e7b0a6d9c8f3e2a1b0c9d8e7f6a5b4"


@pytest.mark.parametrize(
    ("record", "spec"),
    [
        (
            {"url": "https://github.com/someone/newsmirror.git",
             "vcs_info": {"vcs": "git", "requested_revision": "main", "commit_id": COMMIT}},
            f"newsmirror @ git+https://github.com/someone/newsmirror.git@{COMMIT}",
        ),
        (
            {"url": "https://example.org/mono", "subdirectory": "py",
             "vcs_info": {"vcs": "hg", "commit_id": COMMIT}},
            f"newsmirror @ hg+https://example.org/mono@{COMMIT}#subdirectory=py",
        ),
        (
            {"url": "https://example.org/newsmirror-0.1.0.tar.gz",
             "archive_info": {"hashes": {"md5": "x", "sha256": SHA256}}},
            f"newsmirror @ https://example.org/newsmirror-0.1.0.tar.gz#sha256={SHA256}",
        ),
        (
            {"url": "https://example.org/n.whl", "archive_info": {"hash": f"sha256={SHA256}"}},
            f"newsmirror @ https://example.org/n.whl#sha256={SHA256}",
        ),
    ],
)  # fmt: skip
def test_the_default_package_is_what_was_installed_pinned(record: Any, spec: str) -> None:
    from newsmirror.cli.installspec import default_package

    assert default_package(record).spec == spec


@pytest.mark.parametrize(
    ("record", "said"),
    [
        (None, "installed from a package index by name"),
        ({"url": "file:///home/me/newsmirror", "dir_info": {"editable": True}}, "folder or file"),
        ({"url": "file:///tmp/newsmirror.tar.gz", "archive_info": {}}, "folder or file"),
        ({"url": "https://example.org/n.tar.gz", "archive_info": {}}, "hash pip did not record"),
        ({"url": "https://example.org/x.git", "vcs_info": {"vcs": "git"}}, "without a commit"),
    ],
)
def test_no_default_package_without_a_pinned_record(record: Any, said: str) -> None:
    from newsmirror.cli.installspec import default_package
    from newsmirror.errors import ConfigError

    with pytest.raises(ConfigError, match="init --ci github needs --package SPEC") as caught:
        default_package(record)
    assert said in str(caught.value) and "--package 'newsmirror @ git+https://" in str(caught.value)


def test_init_ci_installs_what_newsmirror_came_from_or_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsmirror.cli import service as clirun

    editable = {"url": f"file://{tmp_path}/src", "dir_info": {"editable": True}}
    monkeypatch.setattr(clirun, "installed_from", lambda: editable)
    home = tmp_path / "home"
    assert main(["init", str(home), "--ci", "github"]) == 2
    assert "init --ci github needs --package SPEC" in capsys.readouterr().err
    assert not home.exists()  # refused before anything was written
    git_record = {"url": "https://github.com/someone/newsmirror.git",
                  "vcs_info": {"vcs": "git", "commit_id": COMMIT}}  # fmt: skip
    monkeypatch.setattr(clirun, "installed_from", lambda: git_record)
    assert main(["init", str(home), "--ci", "github"]) == 0
    said = capsys.readouterr().out
    spec = f"newsmirror @ git+https://github.com/someone/newsmirror.git@{COMMIT}"
    assert f"it installs {spec}: the repository this newsmirror was installed from" in said
    workflow = yaml.safe_load((home / ".github/workflows/newsmirror.yml").read_text("utf-8"))
    assert workflow["jobs"]["archive"]["env"]["NEWSMIRROR_PACKAGE"] == spec
