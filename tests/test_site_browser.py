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
PAGES = ("index.html", "s/rfi/index.html", "a/bbc/1048574.html", "search.html")
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


def search(browser: Browser, url: str, inside: str) -> tuple[list[str], list[str]]:
    """Run a search page; (result links, problems)."""
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: None if r.url.startswith(inside) else problems.append(r.url))
    page.goto(url)
    page.wait_for_selector("#status[data-done]", state="attached")
    links = page.locator("#results li > a").evaluate_all("as => as.map(a => a.href)")
    page.close()
    return links, problems


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("英国", ["a/bbc/1048574.html"]),  # a two-character word of a title
        ("補充", ["a/bbc/1048574.html"]),  # traditional, for a word of the text
        ("韓國 標題12", ["a/rfi/1048562.html"]),  # traditional, two terms
        ("威慑 -标题", []),  # everything with the word is excluded
        ("bbc", ["a/bbc/1048574.html"]),  # a latin word, in any case
        ("bb", ["a/bbc/1048574.html"]),  # and the words it begins
        ("bc", []),  # not inside a word
    ],
)
def test_search_in_the_browser_from_file_urls(
    browser: Browser, site: Path, query: str, expected: list[str]
) -> None:
    url = (site / "search.html").as_uri() + "?q=" + query
    links, problems = search(browser, url, site.as_uri() + "/")
    assert problems == []
    assert [link.split("/site/")[1] for link in links] == expected


def test_search_in_the_browser_from_a_static_server(
    browser: Browser, served: str, site: Path
) -> None:
    (site / "mirror").symlink_to(site, target_is_directory=True)
    links, problems = search(browser, served + "search.html?q=韩国", served)
    assert problems == [] and len(links) == 50  # the newest 50 of the 70 that match
    assert all(link.startswith(served + "a/rfi/") for link in links)
