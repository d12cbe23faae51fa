"""The offline demo: sample feeds of real archived articles, served on loopback.

``newsmirror demo DIR`` starts a small HTTP server on 127.0.0.1 serving the feeds in
``demo/feeds/`` (built from real duty-machine/news articles), points the nine default
sources at it, fetches them into a fresh archive in DIR, publishes the markdown archive,
and says where the result is and what to try next.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console

from newsmirror.config.settings import CONFIG_NAME, build_config
from newsmirror.jobs.archive import Archive
from newsmirror.types import Source

#: The first line of a demo archive's newsmirror.toml: only such a folder is reused.
DEMO_MARK = "# newsmirror demo archive: the default sources, fed from loopback."


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


def feeds_dir() -> Path:
    """The folder of the sample feeds inside the installed package."""
    return Path(str(resources.files("newsmirror.demo").joinpath("feeds")))


@contextmanager
def serve_directory(directory: Path, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``directory`` over HTTP on a free loopback port; yields the base URL."""
    handler = partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer((host, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def demo_sources(base_url: str, sources: tuple[Source, ...]) -> tuple[Source, ...]:
    """The default sources pointed at the loopback server (CDT's text is in its feed)."""
    return tuple(
        replace(
            s,
            feeds=(f"{base_url}/{s.slug}.xml",),
            fulltext_selector="",
            full_text="feed",
            direct=True,
        )
        for s in sources
    )


def run_demo(dest: Path, out: Console, err: Console) -> int:
    """Fetch the sample feeds into a fresh archive at ``dest`` and publish it."""
    dest = dest.expanduser().resolve()
    config_file = dest / CONFIG_NAME
    is_demo = config_file.exists() and config_file.read_text("utf-8").startswith(DEMO_MARK)
    if dest.exists() and any(dest.iterdir()) and not is_demo:
        err.print(
            f"{dest} is not empty and not an earlier demo; the demo only writes into "
            "an empty folder (or its own): choose another one"
        )
        return 2
    dest.mkdir(parents=True, exist_ok=True)
    config_file.write_text(DEMO_MARK + "\n", "utf-8")
    ignore = dest / ".gitignore"
    if not ignore.exists():
        ignore.write_text("newsmirror.db\nnewsmirror.db-*\n", "utf-8")
    with serve_directory(feeds_dir()) as base:
        config = build_config(dest, {})
        config = replace(config, sources=demo_sources(base, config.sources))
        with Archive(config) as archive:
            reports = archive.fetch()
            published = archive.publish_markdown()
            total = sum(s.articles for s in archive.stats())
    for r in reports:
        state = "failed: " + "; ".join(r.errors) if r.failed else f"{r.new} new"
        out.print(f"  {r.source:8} {state}", markup=False)
    out.print(f"the archive holds {total} articles; {published.written} files written into {dest}")
    out.print(
        f"try:  ls {dest}/articles  ·  cat {dest}/README.md  ·  "
        f"newsmirror --home {dest} stats  ·  newsmirror --home {dest} show rfi/1048574"
    )
    failed = [r for r in reports if r.failed] or published.errors
    return 1 if failed else 0
