"""The static site in a real headless Chromium (Debian's, driven by Playwright): pages
render without console errors, nothing is requested outside the site's folder, from
file:// and from a loopback static server, and axe-core finds no serious violation.
Screenshots go to bench/output/ for review."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from test_site import archive  # noqa: F401  (the fixture: an archive of real-looking articles)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)
SHOTS = Path(__file__).resolve().parent.parent / "bench" / "output"
PAGES = ("index.html", "s/rfi/index.html", "a/bbc/1048574.html")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(archive, tmp_path: Path) -> Path:  # noqa: F811
    out = tmp_path / "site"
    assert archive.publish_site(out).errors == []
    return out


@pytest.fixture
def served(site: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/mirror/"
    server.shutdown()


def visit(browser: Browser, url: str, inside: str, shot: Path | None = None) -> list[str]:
    """Open a page; the problems seen: console errors, failed requests, requests leaving
    ``inside``."""
    page = browser.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    page.on(
        "request",
        lambda r: problems.append(f"outside: {r.url}") if not r.url.startswith(inside) else None,
    )
    page.goto(url)
    page.wait_for_load_state("load")
    assert page.locator("main").count() == 1 and page.locator("h1").count() == 1
    if shot is not None:
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=False)
    page.close()
    return problems


def test_pages_render_from_file_urls_with_nothing_from_elsewhere(
    browser: Browser, site: Path
) -> None:
    for name in PAGES:
        shot = SHOTS / f"site-{name.replace('/', '-')}.png" if name != PAGES[1] else None
        assert visit(browser, (site / name).as_uri(), site.as_uri() + "/", shot) == []


def test_pages_render_under_a_sub_path_of_a_static_server(
    browser: Browser, served: str, site: Path
) -> None:
    # The server serves the folder at the root; the pages are asked for under /mirror/
    # through a copy, as on a host that puts the site in a sub-folder.
    (site / "mirror").symlink_to(site, target_is_directory=True)
    for name in PAGES:
        assert visit(browser, served + name, served) == []


def test_pages_pass_an_accessibility_check(browser: Browser, site: Path) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    for name in PAGES:
        page = browser.new_page()
        page.goto((site / name).as_uri())
        results = axe.run(page)
        serious = [
            v for v in results.response["violations"] if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], (name, [(v["id"], v["help"]) for v in serious])
        page.close()
