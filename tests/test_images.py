"""Mirrored images through the whole pipeline: downloaded from a loopback host into the
content-addressed media store, refused when they are not images, too large or tiny, and
linked relatively from published pages when asked (the markdown archive keeps original
URLs by default)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from conftest import LoopbackServer, make_source, rss
from newsmirror.cli.main import main
from newsmirror.jobs.archive import Archive

RFC822 = "Sun, 09 Apr 2023 11:15:02 GMT"


def picture(kind: str = "PNG", size: tuple[int, int] = (200, 120)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    for x in range(0, size[0], 7):
        image.putpixel((x, x % size[1]), (0, 90, 200))
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def serve_images(server: LoopbackServer) -> dict[str, str]:
    photo = picture()
    return {
        "photo": server.set("/img/photo.png", photo, **{"Content-Type": "image/png"}),
        "again": server.set("/img/same.png", photo, **{"Content-Type": "image/png"}),
        "jpeg": server.set("/img/p.jpg", picture("JPEG"), **{"Content-Type": "image/jpeg"}),
        "pixel": server.set(
            "/img/dot.gif", picture("GIF", (1, 1)), **{"Content-Type": "image/gif"}
        ),
        "huge": server.set(
            "/img/huge.jpg", bytes(20 * 1024 * 1024), **{"Content-Type": "image/jpeg"}
        ),
        "fake": server.set(
            "/img/fake.jpg",
            b"<html><body>not found</body></html>",
            **{"Content-Type": "image/jpeg"},
        ),
        "gone": server.url("/img/gone.png"),
    }


def article_feed(server: LoopbackServer, urls: dict[str, str]) -> str:
    images = "".join(f'<p><img src="{url}" alt="{name}"></p>' for name, url in urls.items())
    content = "<p>" + "正文很长。" * 80 + "</p>" + images
    item = {
        "title": "有图的文章",
        "link": "http://127.0.0.1:9/article.html",
        "guid": "urn:pictures",
        "pubDate": RFC822,
        "description": content,
    }
    return server.set("/feed.xml", rss([item]))


def mirrored_archive(
    server: LoopbackServer, make_archive: Callable[..., Archive], **settings: str
) -> tuple[Archive, dict[str, str]]:
    urls = serve_images(server)
    feed = article_feed(server, urls)
    archive = make_archive((make_source("pics", [feed], mirror_images=True),), **settings)
    return archive, urls


def test_images_are_mirrored_once_and_bad_ones_refused(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    archive, urls = mirrored_archive(server, make_archive)
    [report] = archive.fetch()
    assert report.new == 1 and not report.errors
    store = archive.store
    photo, again, jpeg = (store.media_for(urls[k]) for k in ("photo", "again", "jpeg"))
    assert photo is not None and again is not None and jpeg is not None
    assert photo == again  # the same bytes at two addresses: one file
    assert (photo.mime, photo.width, photo.height) == ("image/png", 200, 120)
    assert jpeg.mime == "image/jpeg" and jpeg.path.endswith(".jpg")
    body = (archive.config.media_path / photo.path).read_bytes()
    assert hashlib.sha256(body).hexdigest() == photo.sha256 and photo.path.startswith(
        photo.sha256[:2]
    )
    files = sorted(p for p in archive.config.media_path.rglob("*") if p.is_file())
    assert len(files) == 2  # photo (twice) and jpeg
    failures = {url: (status, reason) for url, status, reason, _ in store.media_failures()}
    assert failures[urls["pixel"]][0] == "refused" and "tiny: 1×1" in failures[urls["pixel"]][1]
    assert failures[urls["huge"]][0] == "refused" and "20971520" in failures[urls["huge"]][1]
    assert failures[urls["fake"]][0] == "refused" and "not an image" in failures[urls["fake"]][1]
    assert failures[urls["gone"]][0] == "refused" and "404" in failures[urls["gone"]][1]
    stats = archive.evidence_stats()
    assert (stats.media, stats.media_refused) == (2, 4)
    assert stats.media_bytes == sum(p.stat().st_size for p in files)


def test_images_tried_before_are_not_fetched_again(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    archive, _urls = mirrored_archive(server, make_archive)
    archive.fetch()
    asked = sum(1 for path, _ in server.requests if path.startswith("/img/"))
    server.routes["/feed.xml"].body = server.routes["/feed.xml"].body.replace(  # type: ignore[union-attr]
        "正文很长。".encode(), "正文改了。".encode()
    )
    [report] = archive.fetch(force=True)
    assert report.changed == 1
    again = sum(1 for path, _ in server.requests if path.startswith("/img/"))
    assert again == asked  # mirrored and refused images are settled


def test_published_pages_link_mirrored_copies_only_when_asked(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    archive, urls = mirrored_archive(server, make_archive)
    archive.fetch()
    archive.publish_markdown()
    [article] = (archive.config.output_path / "articles" / "pics").glob("*.md")
    original = article.read_text("utf-8")
    assert urls["photo"] in original and "media/" not in original  # byte-compatible default
    report = archive.publish_markdown(images="mirrored")
    assert report.written >= 1
    text = article.read_text("utf-8")
    photo = archive.store.media_for(urls["photo"])
    assert photo is not None
    link = f"../../media/{photo.path}"
    assert text.count(link) == 2 and urls["photo"] not in text  # both addresses of it
    assert urls["pixel"] in text and urls["huge"] in text  # not mirrored: left as they were
    assert (article.parent / link).resolve().read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = archive.publish_markdown(images="mirrored")
    assert again.written == 0  # nothing changed: nothing rewritten


def test_an_output_elsewhere_gets_the_media_files(
    server: LoopbackServer, make_archive: Callable[..., Archive], tmp_path: Path
) -> None:
    archive, urls = mirrored_archive(server, make_archive)
    archive.config = replace(archive.config, output="../site", markdown_images="mirrored")
    archive.fetch()
    archive.publish_markdown()
    site = archive.config.output_path
    assert site == (tmp_path / "site").resolve()
    [article] = (site / "articles" / "pics").glob("*.md")
    photo = archive.store.media_for(urls["photo"])
    assert photo is not None and f"../../media/{photo.path}" in article.read_text("utf-8")
    assert (site / "media" / photo.path).read_bytes() == (
        archive.config.media_path / photo.path
    ).read_bytes()


def test_no_image_is_fetched_unless_asked(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    urls = serve_images(server)
    feed = article_feed(server, urls)
    archive = make_archive((make_source("pics", [feed]),))
    archive.fetch()
    assert not any(path.startswith("/img/") for path, _ in server.requests)
    assert archive.evidence_stats().media == 0


def test_stats_says_which_images_were_not_mirrored_and_why(
    server: LoopbackServer,
    make_archive: Callable[..., Archive],
    capsys: pytest.CaptureFixture[str],
) -> None:
    archive, urls = mirrored_archive(server, make_archive)
    archive.fetch()
    home = archive.config.home
    archive.close()
    assert main(["--home", str(home), "stats"]) == 0
    shown = capsys.readouterr().out
    assert "mirrored images: 2" in shown and "4 image URLs refused or failed" in shown
    assert f"refused: {urls['fake']} (not an image" in shown
