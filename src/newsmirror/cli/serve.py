"""``newsmirror serve``: the live reader of the archive under uvicorn."""

from __future__ import annotations

import argparse
import os
import re

from newsmirror.cli.io import EXIT_OK, EXIT_USAGE, err, out
from newsmirror.config.settings import load_config

_ROOT = re.compile(r"(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*")


def root_path(given: str) -> str | None:
    """The sub-path the reader is served under, as uvicorn takes it ("/news"; "" for
    none), or None when it is no path."""
    path = "/" + given.strip().strip("/") if given.strip("/ ") else ""
    return path if _ROOT.fullmatch(path) else None


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the archive: its pages, search, the JSON API, feeds, health and metrics."""
    import uvicorn

    root = root_path(args.root_path or "")
    if root is None:
        err.print(f"--root-path: not a URL path: {args.root_path!r}", markup=False)
        return EXIT_USAGE
    if not 1 <= args.workers <= 64:
        err.print("--workers: from 1 to 64", markup=False)
        return EXIT_USAGE
    config = load_config(args.home)
    options = {
        "host": args.host, "port": args.port, "root_path": root, "log_level": "warning",
        "access_log": False, "proxy_headers": True, "server_header": False,
    }  # fmt: skip
    shown = f"http://{args.host}:{args.port}{root}/"
    if args.workers == 1:
        from newsmirror.serve.app import create_app

        app = create_app(config)  # the store opened (and migrated) before serving
        out.print(f"serving {config.home} at {shown} (Ctrl-C stops)", markup=False)
        uvicorn.run(app, **options)
        return EXIT_OK
    os.environ["NEWSMIRROR_HOME"] = str(config.home)  # each worker process loads it
    out.print(f"serving {config.home} at {shown}, {args.workers} processes", markup=False)
    uvicorn.run(
        "newsmirror.serve.app:from_environment", factory=True, workers=args.workers, **options
    )
    return EXIT_OK
