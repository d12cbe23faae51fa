"""The argument parser of every command. It names each command's function by its module,
which is imported only when that command runs, and makes a command's own parser only
when that command is chosen: ``--version`` and ``--help`` load argparse and this
module, and make one parser."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from newsmirror import __version__

TYPE_CHECKING = False  # typing itself is not imported: it would cost a tenth of the start
if TYPE_CHECKING:
    from typing import Any

Command = Callable[[argparse.Namespace], int]


def command(target: str) -> Command:
    """``module:function`` of ``newsmirror.cli``, the module imported when it is called."""
    module, name = target.split(":")

    def run(args: argparse.Namespace) -> int:
        import importlib

        code: int = getattr(importlib.import_module(f"newsmirror.cli.{module}"), name)(args)
        return code

    run.__qualname__ = run.__name__ = name
    return run


class LazyParser:
    """A command's ArgumentParser, made on first use: until then its arguments are only
    noted (making the parsers of seventeen commands would cost more than argparse's
    import, for a ``--version`` that uses none of them)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._steps: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self._parser: argparse.ArgumentParser | None = None

    def add_argument(self, *args: Any, **kwargs: Any) -> None:
        self._note("add_argument", args, kwargs)

    def set_defaults(self, **kwargs: Any) -> None:
        self._note("set_defaults", (), kwargs)

    def _note(self, step: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if self._parser is None:
            self._steps.append((step, args, kwargs))
        else:
            getattr(self._parser, step)(*args, **kwargs)

    def real(self) -> argparse.ArgumentParser:
        """The ArgumentParser itself, made now if need be."""
        if self._parser is None:
            self._parser = argparse.ArgumentParser(**self._options)
            for step, args, kwargs in self._steps:
                getattr(self._parser, step)(*args, **kwargs)
        return self._parser

    def __getattr__(self, name: str) -> Any:  # parse_known_args, format_help...
        return getattr(self.real(), name)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="newsmirror",
        description="Keep a durable, republishable archive of news feeds "
        "(duty-machine/news compatible).",
    )
    parser.add_argument("--version", action="version", version=f"newsmirror {__version__}")
    parser.add_argument("--home", help="archive directory (default: $NEWSMIRROR_HOME or .)")
    # A LazyParser does what the subparsers action asks of an ArgumentParser.
    sub: argparse._SubParsersAction[argparse.ArgumentParser] = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="COMMAND",
        parser_class=LazyParser,  # type: ignore[arg-type]
    )
    add = _adder(sub)
    p = add("init", "commands:cmd_init", "write a commented newsmirror.toml")
    p.add_argument("dir", nargs="?", help="archive directory (default: --home or .)")
    p.add_argument("--ci", choices=["github"], help="also write a CI workflow (GitHub Actions)")
    p.add_argument(
        "--package",
        help="--ci: what the workflow pip-installs (default: what this newsmirror was "
        "installed from, pinned to its commit or hash)",
    )
    p.add_argument(
        "--systemd", action="store_true", help="also write systemd units for run and serve"
    )
    p = add("run", "service:cmd_run", "the scheduler: fetch when due, revisit, republish")
    p.add_argument("--once", action="store_true", help="one full cycle, then exit (cron, CI)")
    p.add_argument("--summary", metavar="FILE", help="--once: write the one-line summary here")
    p = add("digest", "service:cmd_digest", "write a day's digest of articles per source")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the day (default: today)")
    p = add(
        "fetch",
        "commands:cmd_fetch",
        "fetch every enabled source (or --source) and store it",
    )
    p.add_argument("--source", action="append", metavar="SLUG", help="only this source")
    p.add_argument("--publish", action="store_true", help="publish markdown afterwards")
    p.add_argument("--force", action="store_true", help="also fetch feeds not due yet")
    p = add("publish", "commands:cmd_publish", "publish the archive as files")
    p.add_argument("format", choices=["markdown", "site"], help="what to publish")
    p.add_argument("--out", help="site: the folder (default: the site_dir setting, ./site)")
    p.add_argument("--content", choices=["original", "clean"], help="line 5 of article files")
    p.add_argument(
        "--images", choices=["original", "mirrored"], help="image links: original or mirrored"
    )
    p.add_argument("--force", action="store_true", help="re-render every file")
    p = add(
        "import",
        "commands:cmd_import",
        "import a duty-machine/news checkout or a JSON Lines export",
    )
    p.add_argument(
        "format", choices=["archive", "jsonl"], help="archive: a checkout; jsonl: an export"
    )
    p.add_argument("path", help="the checkout (holding articles/), or the .jsonl file")
    p.add_argument(
        "--source",
        metavar="SLUG",
        help="archive: the source of article files outside a source's folder (articles/*.md)",
    )
    p = add(
        "export",
        "export:cmd_export",
        "export everything (JSON Lines) or captures (WARC)",
    )
    p.add_argument("format", choices=["jsonl", "warc"], help="jsonl: every record; warc")
    p.add_argument(
        "--out", help="jsonl: the file (default: standard output); warc: the folder (./warc)"
    )
    p = add(
        "sources",
        "sources:cmd_sources",
        "list sources and feed health; export/import OPML",
    )
    p.add_argument("action", nargs="?", default="list", choices=["list", "export", "import"])
    p.add_argument("path", nargs="?", help="import: the OPML file to read")
    p.add_argument("--opml", action="store_true", help="OPML format (the only one)")
    p.add_argument("-o", "--output", help="export: write here (default: standard output)")
    p = add("show", "views:cmd_show", "show an article and its versions")
    p.add_argument("ref", help="slug/id (rfi/1048574), a path, a URL or a guid")
    p.add_argument("--html", type=int, metavar="N", help="also print version N's HTML")
    add("stats", "views:cmd_stats", "counts per source, captures and mirrored images")
    p = add(
        "extract",
        "views:cmd_extract",
        "print what would be stored for one article page",
    )
    p.add_argument("target", help="the page: an http(s) URL, or a saved HTML file")
    p.add_argument("--source", metavar="SLUG", help="use this source's rule and proxy")
    p.add_argument("--url", help="a file's original URL (resolves its relative links)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.add_argument("--text", action="store_true", help="plain text instead of HTML")
    p = add("search", "views:cmd_search", "search the archive (Chinese and latin words)")
    p.add_argument("query", nargs="+", help='terms (all must match), "a phrase", -excluded')
    p.add_argument("--source", action="append", metavar="SLUG", help="only this source")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="published on or after this day")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="published on or before this day")
    p.add_argument("--newest", action="store_true", help="newest first (default: relevance)")
    p.add_argument("--limit", type=int, default=20, help="results to show (default 20)")
    p.add_argument("--offset", type=int, default=0, help="results to skip (next pages)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    add("reindex", "views:cmd_reindex", "rebuild the search index")
    p = add("watch", "watch:cmd_watch", "revisit archived articles: edits and takedowns")
    p.add_argument("--now", action="store_true", help="revisit every archived URL now")
    p = add("report", "watch:cmd_report", "edits and takedowns of a period, per source")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="from this day (default: 7 days ago)")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="to this day, included (default: now)")
    p.add_argument("--json", action="store_true", help="JSON naming each article's URL and status")
    p = add("serve", "serve:cmd_serve", "serve the archive: pages, search, JSON API, feeds")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    p.add_argument(
        "--root-path",
        default="",
        metavar="PATH",
        help="the sub-path a proxy serves it under (/news)",
    )
    p.add_argument("--workers", type=int, default=1, help="processes answering (default 1)")
    p = add("demo", "commands:cmd_demo", "run offline on sample feeds served on loopback")
    p.add_argument(
        "dir", nargs="?", default="newsmirror-demo", help="where (default: ./newsmirror-demo)"
    )
    return parser


def _adder(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> Callable[[str, str, str], argparse.ArgumentParser]:
    def add(name: str, target: str, help_: str) -> argparse.ArgumentParser:
        """A command, its function named ``module:function`` (see :func:`command`)."""
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=command(target))
        return p

    return add
