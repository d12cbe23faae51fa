"""newsmirror serve in a real headless Chromium (as the static site's browser tests):
every kind of page, a search, an article with a version diff, at 390 and 1280 pixels
wide, under a sub-path; no console error, no request to anything but the reader, no
serious axe violation. Screenshots go to bench/output/ for review."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from test_serve import build
from test_site_browser import CHROMIUM, FLAGS, SHOTS

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)
PAGES = {
    "front": "",
    "about": "about.html",
    "source": "s/rfi/index.html",
    "source-page": "s/rfi/2.html",
    "days": "d/index.html",
    "day": "d/2024-05-02.html",
    "article-diff": "a/bbc/1048574.html",
    "article-gone": "a/rfi/1048569.html",
    "search": "search.html?q=%E9%9F%A9%E5%9B%BD+%E7%AC%AC%E4%BA%8C%E6%AE%B5&sort=newest",
    "search-error": "search.html?q=x&since=someday",
    "not-found": "a/rfi/1.html",
}
WIDTHS = (390, 1280)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The reader under uvicorn on a loopback port, served under /news/."""
    import uvicorn

    from newsmirror.serve.app import create_app

    archive = build(tmp_path_factory.mktemp("browser") / "home")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        proxied(create_app(archive.config)), root_path="/news", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/news/"
    server.should_exit = True
    thread.join(10)
    archive.close()


def proxied(app: Any) -> Any:
    """``app`` as a reverse proxy that serves it under /news/ shows it: the proxy takes
    /news off the path it passes on (nginx's ``proxy_pass http://127.0.0.1:8080/``,
    Caddy's ``handle_path /news/*``), and uvicorn's --root-path puts it back as the root."""

    async def strip(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"].removeprefix("/news")
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await app(scope, receive, send)

    return strip


def visit(browser: Browser, url: str, inside: str, width: int, shot: Path) -> list[str]:
    """Open a page at ``width`` pixels; the problems seen (console errors, failed requests,
    requests leaving ``inside``, a page wider than the window); a screenshot."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    page.on("request", lambda r: None if r.url.startswith(inside) else problems.append(r.url))
    page.goto(url)
    page.wait_for_load_state("load")
    assert page.locator("main").count() == 1 and page.locator("h1").count() == 1
    if page.evaluate("document.documentElement.scrollWidth") > width:
        problems.append(f"wider than {width} px")
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=False)
    page.close()
    return problems


@pytest.mark.parametrize("width", WIDTHS)
def test_every_kind_of_page_renders_with_nothing_from_elsewhere(
    browser: Browser, reader: str, width: int
) -> None:
    for name, path in PAGES.items():
        shot = SHOTS / f"serve-{name}-{width}.png"
        # the error pages answer 400 and 404: their own status logs a console error
        problems = visit(browser, reader + path, reader, width, shot)
        if name in ("search-error", "not-found"):
            problems = [p for p in problems if "status of 40" not in p]
        assert problems == [], (name, problems)


def test_pages_pass_an_accessibility_check(browser: Browser, reader: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    for width in WIDTHS:
        for name, path in PAGES.items():
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(reader + path)
            results = axe.run(page)
            serious = [
                v for v in results.response["violations"] if v["impact"] in ("serious", "critical")
            ]
            assert serious == [], (name, width, [(v["id"], v["help"]) for v in serious])
            page.close()


def test_a_search_from_the_form_finds_and_marks_and_an_article_shows_its_diff(
    browser: Browser, reader: str
) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 900})
    page.goto(reader)
    page.fill("header form.search input[name=q]", "補充")  # traditional for 补充
    page.press("header form.search input[name=q]", "Enter")
    page.wait_for_load_state("load")
    assert page.locator("#results li").count() == 1
    assert page.locator("#results mark").first.inner_text() == "补充"
    page.click("#results li a")
    page.wait_for_load_state("load")
    assert page.url == reader + "a/bbc/1048574.html"
    assert "补充了一段" in page.locator(".diff").first.inner_text()
    page.screenshot(path=str(SHOTS / "serve-search-to-diff-390.png"), full_page=True)
    page.close()
