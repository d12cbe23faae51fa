"""Mirrored images: which images an article uses, which bytes to keep, where they go.

The pure core of image mirroring (no network, no database): the fetcher downloads what
:func:`image_urls` lists, :func:`check_image` decides whether the bytes are kept, the
store writes them at :func:`media_path`, and publishers point pages at them with
:func:`rewrite_images` and :func:`relative_link`.

The media store is content-addressed: an image is kept once, under the SHA-256 of its
bytes, however many articles (or URLs) use it, and a file never changes once written.
Its layout, under the output's ``media/`` folder, is a two-level fan-out on the first two
hex digits of the digest, so that no folder holds more than a few thousand files::

    media/ab/abcdef0123…(64 hex digits).jpg

The extension comes from the format identified in the bytes, never from the URL.

:func:`check_image` refuses (with :class:`~newsmirror.errors.MediaError`, one line
naming the URL and the reason) an empty body, a body over the size cap, a Content-Type
that is not ``image/*`` (a missing one, or application/octet-stream, leaves it to the
bytes), bytes that are not a JPEG, PNG, GIF, WebP or AVIF image as Pillow identifies
them (an error page served as ``image/jpeg``; SVG, which can carry scripts; BMP, TIFF,
ICO...), a declared size past Pillow's decompression-bomb limit, and tiny images
(tracking pixels, spacers, icons). Only the header is read: no pixel is decoded.

:func:`rewrite_images` edits raw HTML at the string level (as received from a feed, not
only cleaned HTML): it changes the ``src`` of mirrored images, drops their ``srcset``
and leaves every other byte as it was. Its tokenizer follows the HTML standard's rules
for tags, attributes, comments and raw text (``<script>``, ``<style>``...), as lxml's
HTML5 tokenizer (used by :func:`image_urls`) does, so both see the same images.
"""

from __future__ import annotations

import html as htmllib
import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from newsmirror.clean.tags import Attr, start_tags, unescape_attr
from newsmirror.errors import MediaError
from newsmirror.urls import whatwg_href_or_empty

if TYPE_CHECKING:  # lxml and Pillow are imported when images are looked at
    import lxml.html

__all__ = ["EXTENSIONS", "MEDIA_DIR", "ImageInfo", "check_image", "image_urls", "media_path"]
__all__ += ["relative_link", "rewrite_images"]

#: The folder of the output (archive or site) that holds the media store.
MEDIA_DIR = "media"

#: Pillow formats kept → (MIME type, extension). MPO is a JPEG with extra frames
#: (what many cameras write); Pillow names it so when it finds the extension.
_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "MPO": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
    "AVIF": ("image/avif", "avif"),
}
#: The only Pillow plugins asked to read a body: fewer parsers facing hostile bytes.
_OPENERS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF")
#: Extensions a media file may have.
EXTENSIONS = frozenset(ext for _, ext in _FORMATS.values())

_HTML_SPACE = "\t\n\f\r "


# --- which images an article uses ---------------------------------------------------------


def image_urls(html: str, base_url: str = "") -> list[str]:
    """The absolute http(s) URLs of the images ``html`` shows, in order, each once.

    An ``<img>`` gives its ``src``, or the first URL of its ``srcset`` when it has no
    ``src``; relative URLs are resolved against ``base_url``. Images declared 2 pixels
    wide or high or less (tracking pixels) are skipped, and so are ``data:``,
    ``javascript:`` and other non-http(s) URLs. Never raises on bad HTML.
    """
    if "<" not in html:
        return []
    urls: dict[str, None] = {}
    for element in _img_elements(html):
        attrs = element.attrib
        if _is_tiny(attrs.get("width")) or _is_tiny(attrs.get("height")):
            continue
        url = _image_url(attrs.get("src"), attrs.get("srcset"), base_url)
        if url:
            urls.setdefault(url)
    return list(urls)


def _img_elements(html: str) -> list[lxml.html.HtmlElement]:
    """The ``<img>`` elements lxml finds in ``html`` (none when it cannot parse it)."""
    # Without huge_tree libxml2 stops reading after 10 MB of text or 256 open elements
    # (2045 with it). It lifts no guard that matters here: HTML has no entities to expand.
    import lxml.etree
    import lxml.html

    parser = lxml.html.HTMLParser(encoding="utf-8", huge_tree=True)
    try:  # bytes with a fixed encoding: no <meta charset> or XML declaration can object
        root = lxml.etree.fromstring(html.encode("utf-8", "replace"), parser)
    except (lxml.etree.LxmlError, ValueError):
        return []
    return [] if root is None else list(root.iter("img"))


_DIMENSION_RE = re.compile(r"[\t\n\f\r ]*([0-9]+(?:\.[0-9]+)?)(%?)")


def _is_tiny(value: str | None) -> bool:
    """True for a width or height of 2 pixels or less ("1", "0", "2px"; not "1%")."""
    match = _DIMENSION_RE.match(value or "")
    return match is not None and not match.group(2) and float(match.group(1)) <= 2


def _image_url(src: str | None, srcset: str | None, base_url: str) -> str:
    """The absolute http(s) URL of an image given its decoded src and srcset, or ""."""
    value = (src or "").strip(_HTML_SPACE) or _first_candidate(srcset or "")
    if not value:
        return ""
    url = whatwg_href_or_empty(value, base_url)
    return url if url.startswith(("http:", "https:")) else ""


def _first_candidate(srcset: str) -> str:
    """The URL of the first candidate of a ``srcset`` (URLs may hold commas)."""
    rest = srcset.lstrip(_HTML_SPACE + ",")
    end = next((i for i, char in enumerate(rest) if char in _HTML_SPACE), len(rest))
    return rest[:end].rstrip(",")


# --- which bytes are kept -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What :func:`check_image` found in an image it accepts."""

    mime: str  # MIME type of the identified format ("image/jpeg"), not the one served
    ext: str  # file extension of that format, without a dot ("jpg"), one of EXTENSIONS
    width: int  # width in pixels, from the header
    height: int  # height in pixels, from the header
    size: int  # length of the body in bytes


def check_image(
    body: bytes, content_type: str, *, max_bytes: int, min_side: int = 32, url: str = ""
) -> ImageInfo:
    """Identify an image from its bytes, or refuse it with :class:`MediaError`.

    ``content_type`` is the response's Content-Type ("" when it had none); ``url`` only
    names the image in error messages. See the module docstring for what is refused.
    Raises ``ValueError`` when ``max_bytes`` is not positive.
    """
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be positive, not {max_bytes}")
    if not body:
        raise _refused(url, "empty body")
    if len(body) > max_bytes:
        raise _refused(url, f"too large: {len(body)} bytes, more than the {_cap(max_bytes)} cap")
    media_type = content_type.split(";", 1)[0].strip(_HTML_SPACE).lower()
    if (
        media_type
        and media_type != "application/octet-stream"
        and not media_type.startswith("image/")
    ):  # octet-stream says nothing (some CDNs serve images so): the bytes decide
        raise _refused(url, f"not an image: served as {_one_line(media_type, 80)}")
    from PIL import Image

    found, width, height = _identify(body, url)
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and width * height > limit:  # Pillow's own check, in case
        raise _refused(url, f"too many pixels: {width}×{height}, more than {limit}{_BOMB}")
    if width < min_side or height < min_side:
        raise _refused(url, f"tiny: {width}×{height} (less than {min_side} px on a side)")
    mime, ext = _FORMATS[found]
    return ImageInfo(mime=mime, ext=ext, width=width, height=height, size=len(body))


def _identify(body: bytes, url: str) -> tuple[str, int, int]:
    """Format and size from the header of ``body``; every Pillow error becomes MediaError.

    A declared size past ``Image.MAX_IMAGE_PIXELS`` (Pillow warns) or twice that (Pillow
    raises) is refused as a decompression bomb.
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body), formats=_OPENERS) as image:
                found, (width, height) = image.format, image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        count = pixels.group(1) if pixels else "too many"
        limit = Image.MAX_IMAGE_PIXELS
        raise _refused(url, f"too many pixels: {count}, more than {limit}{_BOMB}") from exc
    except Exception as exc:  # Pillow raises many kinds on hostile bytes: translate all
        raise _refused(url, _unreadable(body, exc)) from exc
    if found not in _FORMATS:  # defensive: only the openers above can answer
        raise _refused(url, f"unsupported image format: {found}")
    return found, width, height


_BOMB = " (a decompression bomb?)"

#: Leading bytes → what a body that Pillow could not read is.
_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL ", "JPEG XL"),
    (b"%PDF", "PDF"),
    (b"\x1f\x8b", "gzip data"),
)
_KEPT = {"JPEG", "PNG", "GIF", "WebP", "AVIF"}


def _sniff(body: bytes) -> str:
    """A name for what ``body`` looks like ("HTML", "SVG", "BMP"...), or ""."""
    for magic, name in _MAGIC:
        if body.startswith(magic):
            return name
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "WebP"
    if body[4:8] == b"ftyp":
        brand = body[8:12]
        return "AVIF" if brand in (b"avif", b"avis") else f"ISO media ({_one_line(brand)})"
    head = body[:1024].lstrip(b"\xef\xbb\xbf\t\n\f\r ").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "HTML"
    if b"<svg" in head:
        return "SVG"
    if head.startswith(b"<?xml"):
        return "XML"
    if head.startswith(b"<"):
        return "HTML"
    return "JSON" if head.startswith((b"{", b"[")) else ""


def _unreadable(body: bytes, exc: Exception) -> str:
    """The reason given for bytes Pillow could not read as a kept format."""
    from PIL import UnidentifiedImageError

    kind = _sniff(body)
    if kind in _KEPT:
        detail = str(exc) if not isinstance(exc, UnidentifiedImageError) else ""
        return f"broken {kind} image: {_one_line(detail, 120) or 'cannot read its header'}"
    if kind == "SVG":
        return "unsupported image format: SVG (it can carry scripts)"
    if kind in ("BMP", "TIFF", "ICO", "JPEG XL") or kind.startswith("ISO media"):
        return f"unsupported image format: {kind}"
    return f"not an image: {kind}" if kind else "not an image: unrecognised bytes"


def _cap(max_bytes: int) -> str:
    """A size cap as people write it: "5 MB", "512 KB" or "1000 bytes"."""
    for unit, size in (("MB", 1 << 20), ("KB", 1 << 10)):
        if max_bytes % size == 0:
            return f"{max_bytes // size} {unit}"
    return f"{max_bytes} bytes"


def _one_line(value: str | bytes, limit: int = 200) -> str:
    """``value`` on one printable line, cut at ``limit`` characters."""
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = "".join(char if char.isprintable() else "?" for char in text[: limit + 1])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _refused(url: str, reason: str) -> MediaError:
    """The error refusing the image at ``url`` for ``reason``."""
    message = f"{_one_line(url)}: {reason}" if url else reason
    return MediaError(message, url=url, reason=reason)


# --- where they go --------------------------------------------------------------------------

_DIGEST_RE = re.compile(r"[0-9a-f]{64}")


def media_path(sha256_hex: str, ext: str) -> str:
    """The path of a media file inside :data:`MEDIA_DIR`: ``"ab/abcdef….jpg"``.

    ``sha256_hex`` is the digest of the bytes (64 lowercase hex digits) and ``ext`` one
    of :data:`EXTENSIONS`; anything else raises ``ValueError``.
    """
    if not _DIGEST_RE.fullmatch(sha256_hex):
        raise ValueError(f"not a lowercase hex SHA-256 digest: {sha256_hex!r}")
    if ext not in EXTENSIONS:
        raise ValueError(f"not a media extension: {ext!r} (one of {sorted(EXTENSIONS)})")
    return f"{sha256_hex[:2]}/{sha256_hex}.{ext}"


def relative_link(from_path: str, media_rel: str) -> str:
    """The relative link from a published file to a media file (posix paths).

    ``from_path`` is the file's path inside the output ("articles/rfi/1048574.md"),
    ``media_rel`` the media file's path inside :data:`MEDIA_DIR`, as :func:`media_path`
    gives it; ``relative_link("articles/rfi/1048574.md", "ab/abc….jpg")`` is
    ``"../../media/ab/abc….jpg"``. Raises ``ValueError`` for an absolute path, a path
    with ``..``, or an empty one.
    """
    if from_path.endswith("/"):
        raise ValueError(f"from_path must name a file, not a folder: {from_path!r}")
    folders = _parts(from_path, "from_path")[:-1]
    return "/".join([".."] * len(folders) + [MEDIA_DIR, *_parts(media_rel, "media_rel")])


def _parts(path: str, what: str) -> list[str]:
    """The names of a relative posix path, without empty and "." ones."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if path.startswith("/") or ".." in parts or not parts:
        raise ValueError(f"{what} must be a relative path inside the output: {path!r}")
    return parts


# --- pointing pages at them -----------------------------------------------------------------


def rewrite_images(html: str, replace: Callable[[str], str | None], base_url: str = "") -> str:
    """``html`` with the images ``replace`` maps to a new URL pointing there.

    ``replace`` gets the absolute URL of every ``<img>`` (as :func:`image_urls` finds
    it, tiny ones included) and returns the new ``src`` (e.g. a relative link), or
    ``None`` to leave the image alone. A replaced image gets its ``src`` value rewritten
    (HTML-escaped, in double quotes) and loses its ``srcset``, so browsers use the
    mirrored copy; an image with only a ``srcset`` has it turned into a ``src``. Every
    other byte is left as it was.
    """
    edits: list[tuple[int, int, str]] = []
    for name, attrs in start_tags(html):
        if name == "img":
            edits += _img_edits(html, attrs, replace, base_url)
    if not edits:
        return html
    pieces, pos = [], 0
    for start, end, text in sorted(edits):
        pieces += [html[pos:start], text]
        pos = end
    pieces.append(html[pos:])
    return "".join(pieces)


def _img_edits(
    html: str, attrs: list[Attr], replace: Callable[[str], str | None], base_url: str
) -> list[tuple[int, int, str]]:
    """The edits (start, end, new text) that point one ``<img>`` at its mirrored copy."""
    src = next((attr for attr in attrs if attr.name == "src"), None)
    srcsets = [attr for attr in attrs if attr.name == "srcset"]
    raw_src = unescape_attr(src.value) if src else None
    url = _image_url(raw_src, unescape_attr(srcsets[0].value) if srcsets else None, base_url)
    new = replace(url) if url else None
    if new is None:
        return []
    quoted = '"' + htmllib.escape(new, quote=True) + '"'
    if src is None:  # the first srcset becomes the src: the others go
        first, srcsets = srcsets[0], srcsets[1:]
        edits = [(first.start, first.end, "src=" + quoted)]
    elif src.value_start < 0:  # a bare "src": give it a value
        edits = [(src.start, src.end, "src=" + quoted)]
    else:
        edits = [(src.value_start, src.end, quoted)]
    return edits + [_removal(html, attr) for attr in srcsets]


def _removal(html: str, attr: Attr) -> tuple[int, int, str]:
    """The edit removing ``attr``, with the white space before it when that is safe.

    That space goes when the attribute is followed by white space or ``>`` (nothing can
    run into what precedes it); before a ``/`` it stays, as ``alt=x/>`` would make the
    slash part of an unquoted value.
    """
    start = attr.start
    if html[attr.end : attr.end + 1] in (">", *_HTML_SPACE):
        while start > 0 and html[start - 1] in _HTML_SPACE:
            start -= 1
    return start, attr.end, ""
