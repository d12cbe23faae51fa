"""Tests for the pure core of mirrored images: image URLs, checks, paths and rewriting."""

from __future__ import annotations

import contextlib
import hashlib
import io
import struct
import warnings
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, features

from newsmirror.errors import MediaError, NewsmirrorError
from newsmirror.media.images import (
    EXTENSIONS,
    MEDIA_DIR,
    ImageInfo,
    check_image,
    image_urls,
    media_path,
    relative_link,
    rewrite_images,
)

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MB = 1 << 20
BASE = "https://www.example.org/news/2023/article.html"
URL = "https://img.example.org/a.jpg"


def photo(size: tuple[int, int] = (200, 120)) -> Image.Image:
    """A photo-like RGB image: noise over gradients, so encoders have work to do."""
    noise = Image.effect_noise(size, 40).convert("L")
    gradient = Image.linear_gradient("L").resize(size)
    return Image.merge("RGB", (noise, gradient, gradient.transpose(Image.Transpose.ROTATE_180)))


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    """``image`` saved in ``fmt``."""
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG declaring ``width``×``height`` pixels (no real pixel data)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b""))


JPEG = encode(photo(), "JPEG", quality=85)
FORMATS = [
    ("JPEG", "image/jpeg", "jpg"),
    ("PNG", "image/png", "png"),
    ("GIF", "image/gif", "gif"),
    ("WEBP", "image/webp", "webp"),
    pytest.param(
        "AVIF",
        "image/avif",
        "avif",
        marks=pytest.mark.skipif(not features.check("avif"), reason="Pillow without AVIF"),
    ),
]


# --- check_image ----------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "mime", "ext"), FORMATS)
def test_check_image_accepts_each_kept_format(fmt: str, mime: str, ext: str) -> None:
    body = encode(photo(), fmt)
    info = check_image(body, mime, max_bytes=5 * MB, url=URL)
    assert info == ImageInfo(mime=mime, ext=ext, width=200, height=120, size=len(body))
    assert info.ext in EXTENSIONS


def test_extension_and_mime_come_from_the_bytes_not_the_url_or_header() -> None:
    png = encode(photo(), "PNG")
    info = check_image(png, "image/jpeg; charset=binary", max_bytes=MB, url="https://x.org/a.jpg")
    assert (info.mime, info.ext) == ("image/png", "png")


def test_content_type_may_be_missing_and_is_case_insensitive() -> None:
    assert check_image(JPEG, "", max_bytes=MB).ext == "jpg"
    assert check_image(JPEG, " IMAGE/JPEG ", max_bytes=MB).ext == "jpg"


def test_mpo_camera_jpeg_is_a_jpeg() -> None:
    image = photo()
    body = encode(image, "MPO", save_all=True, append_images=[image])
    assert Image.open(io.BytesIO(body)).format == "MPO"
    info = check_image(body, "image/jpeg", max_bytes=MB)
    assert (info.mime, info.ext, info.width) == ("image/jpeg", "jpg", 200)


def refusal(body: bytes, content_type: str = "image/jpeg", **kw: int) -> MediaError:
    """The MediaError ``check_image`` raises for ``body`` served at URL."""
    limits = {"max_bytes": 5 * MB} | kw
    with pytest.raises(MediaError) as caught:
        check_image(body, content_type, url=URL, **limits)
    error = caught.value
    assert isinstance(error, NewsmirrorError)
    assert str(error) == f"{URL}: {error.reason}"
    assert error.url == URL and "\n" not in str(error)
    return error


def test_refuses_an_empty_body() -> None:
    assert refusal(b"").reason == "empty body"


def test_refuses_a_body_over_the_cap() -> None:
    body = JPEG + bytes(20 * MB - len(JPEG))
    assert len(body) == 20971520
    assert refusal(body).reason == "too large: 20971520 bytes, more than the 5 MB cap"
    assert "more than the 1000 bytes cap" in refusal(JPEG, max_bytes=1000).reason
    assert check_image(JPEG, "image/jpeg", max_bytes=len(JPEG)).size == len(JPEG)


def test_refuses_what_is_not_served_as_an_image() -> None:
    reason = refusal(JPEG, "text/html; charset=utf-8").reason
    assert reason == "not an image: served as text/html"


def test_refuses_an_html_page_posing_as_a_jpeg() -> None:
    page = b"\xef\xbb\xbf\n<!DOCTYPE html><html><head><title>403</title></head></html>"
    assert refusal(page).reason == "not an image: HTML"


@pytest.mark.parametrize(
    "svg",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"></svg>',
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>'
        b"alert(1)</script></svg>",
    ],
)
def test_refuses_svg(svg: bytes) -> None:
    reason = refusal(svg, "image/svg+xml").reason
    assert reason == "unsupported image format: SVG (it can carry scripts)"


@pytest.mark.parametrize(("fmt", "name"), [("BMP", "BMP"), ("TIFF", "TIFF"), ("ICO", "ICO")])
def test_refuses_other_image_formats(fmt: str, name: str) -> None:
    assert refusal(encode(photo((64, 64)), fmt)).reason == f"unsupported image format: {name}"


@pytest.mark.parametrize("cut", [3, 20, 200])
def test_refuses_a_truncated_jpeg(cut: int) -> None:
    assert refusal(JPEG[:cut]).reason.startswith("broken JPEG image: ")


def test_refuses_a_corrupt_jpeg_header() -> None:
    corrupt = JPEG[:2] + b"\xff\xc0\x00\x02" + bytes(64)  # a frame header that is too short
    assert refusal(corrupt).reason.startswith("broken JPEG image: ")
    assert "0x" not in refusal(JPEG[:3]).reason  # no object address in the message


def test_refuses_random_bytes() -> None:
    assert refusal(bytes(range(256))).reason == "not an image: unrecognised bytes"


@pytest.mark.parametrize("side", [100_000, 10_000])  # past twice the limit; past it
def test_refuses_decompression_bombs_without_warning(side: int) -> None:
    bomb = png_header(side, side)
    assert len(bomb) < 100
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning may escape
        reason = refusal(bomb, "image/png").reason
    assert reason == f"too many pixels: {side * side}, more than 89478485 (a decompression bomb?)"


def test_follows_pillows_pixel_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert refusal(JPEG).reason.startswith("too many pixels: 24000, more than 1000")


def test_refuses_tiny_images() -> None:
    pixel = encode(Image.new("P", (1, 1)), "GIF")
    assert refusal(pixel, "image/gif").reason == "tiny: 1×1 (less than 32 px on a side)"
    icon = encode(Image.new("RGBA", (16, 16)), "PNG")
    assert refusal(icon, "image/png").reason == "tiny: 16×16 (less than 32 px on a side)"
    assert check_image(icon, "image/png", max_bytes=MB, min_side=16).width == 16
    banner = encode(photo((400, 20)), "PNG")
    assert refusal(banner, "image/png").reason.startswith("tiny: 400×20")


def test_message_without_url_and_with_a_hostile_url() -> None:
    with pytest.raises(MediaError, match=r"^empty body$"):
        check_image(b"", "", max_bytes=MB)
    with pytest.raises(MediaError) as caught:
        check_image(b"", "", max_bytes=MB, url="https://x.org/a\n.jpg")
    assert str(caught.value) == "https://x.org/a?.jpg: empty body"
    assert caught.value.url == "https://x.org/a\n.jpg"


def test_max_bytes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        check_image(JPEG, "image/jpeg", max_bytes=0)


@PROPERTY
@given(body=st.binary(max_size=600), content_type=st.sampled_from(["", "image/png", "x/y"]))
def test_check_image_only_raises_media_error_on_any_bytes(body: bytes, content_type: str) -> None:
    with contextlib.suppress(MediaError):
        check_image(body, content_type, max_bytes=MB, min_side=1)


SAMPLES = [encode(photo((40, 40)), fmt) for fmt in ("JPEG", "PNG", "GIF", "WEBP")]


@PROPERTY
@given(
    sample=st.sampled_from(SAMPLES),
    cut=st.integers(0, 2000),
    flips=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=4),
)
def test_damaged_images_give_an_image_or_a_media_error(
    sample: bytes, cut: int, flips: list[tuple[int, int]]
) -> None:
    body = bytearray(sample[:cut])
    for index, value in flips:
        if index < len(body):
            body[index] = value
    try:
        info = check_image(bytes(body), "", max_bytes=MB, min_side=1)
    except MediaError:
        return
    assert info.ext in EXTENSIONS and info.width > 0 and info.height > 0


# --- media_path and relative_link -----------------------------------------------------------

DIGEST = hashlib.sha256(JPEG).hexdigest()


def test_media_path_fans_out_on_the_first_two_hex_digits() -> None:
    assert media_path(DIGEST, "jpg") == f"{DIGEST[:2]}/{DIGEST}.jpg"
    assert media_path("ab" + "0" * 62, "webp") == "ab/ab" + "0" * 62 + ".webp"


@pytest.mark.parametrize(
    ("digest", "ext"),
    [
        (DIGEST.upper(), "jpg"),
        (DIGEST[:-1], "jpg"),
        (DIGEST + "0", "jpg"),
        ("g" * 64, "jpg"),
        ("../" + DIGEST[3:], "jpg"),
        (DIGEST, ".jpg"),
        (DIGEST, "JPG"),
        (DIGEST, "svg"),
        (DIGEST, "jpg/../x"),
        (DIGEST, ""),
    ],
)
def test_media_path_validates(digest: str, ext: str) -> None:
    with pytest.raises(ValueError):
        media_path(digest, ext)


@pytest.mark.parametrize(
    ("from_path", "expected"),
    [
        ("articles/rfi/1048574.md", "../../media/ab/abc.jpg"),
        ("index.html", "media/ab/abc.jpg"),
        ("./site/day/2023-04-09.html", "../../media/ab/abc.jpg"),
        ("a//b.html", "../media/ab/abc.jpg"),
    ],
)
def test_relative_link(from_path: str, expected: str) -> None:
    assert MEDIA_DIR == "media"
    assert relative_link(from_path, "ab/abc.jpg") == expected


def test_relative_link_with_media_path() -> None:
    link = relative_link("articles/rfi/1048574.md", media_path(DIGEST, "jpg"))
    assert link == f"../../media/{DIGEST[:2]}/{DIGEST}.jpg"


@pytest.mark.parametrize(
    ("from_path", "media_rel"),
    [
        ("/articles/a.md", "ab/x.jpg"),
        ("../a.md", "ab/x.jpg"),
        ("articles/../a.md", "ab/x.jpg"),
        ("", "ab/x.jpg"),
        ("articles/", "ab/x.jpg"),
        ("a.md", "/ab/x.jpg"),
        ("a.md", "../ab/x.jpg"),
        ("a.md", ""),
    ],
)
def test_relative_link_validates(from_path: str, media_rel: str) -> None:
    with pytest.raises(ValueError):
        relative_link(from_path, media_rel)


# --- image_urls -----------------------------------------------------------------------------


def test_image_urls_in_order_without_duplicates() -> None:
    html = (
        '<p>a</p><img src="/img/1.jpg"><img src="2.png?x=1&amp;y=2">'
        '<img src="https://cdn.example.org/3.webp"><img src="/img/1.jpg">'
        '<img src="//cdn.example.org/4.gif">'
    )
    assert image_urls(html, BASE) == [
        "https://www.example.org/img/1.jpg",
        "https://www.example.org/news/2023/2.png?x=1&y=2",
        "https://cdn.example.org/3.webp",
        "https://cdn.example.org/4.gif",
    ]


def test_image_urls_takes_srcset_only_without_src() -> None:
    html = (
        '<img src="a.jpg" srcset="a-2x.jpg 2x"><img srcset=" b-300.jpg 300w, b-600.jpg 600w">'
        '<img src="  " srcset="c.jpg"><img srcset="https://x.org/img,w_300/d.jpg 300w">'
    )
    assert image_urls(html, "https://x.org/") == [
        "https://x.org/a.jpg",
        "https://x.org/b-300.jpg",
        "https://x.org/c.jpg",
        "https://x.org/img,w_300/d.jpg",
    ]


def test_image_urls_only_http() -> None:
    html = (
        '<img src="data:image/png;base64,iVBORw0KGgo="><img src="javascript:alert(1)">'
        '<img src="ftp://x.org/a.jpg"><img src="file:///etc/passwd"><img src="">'
        "<img><img src=relative.jpg><img src=http://x.org/ok.jpg>"
    )
    assert image_urls(html) == ["http://x.org/ok.jpg"]  # nothing to resolve against


@pytest.mark.parametrize(
    ("attrs", "kept"),
    [
        ('width="1" height="1"', False),
        ('width="0"', False),
        ('height="2px"', False),
        ("width=' 1.5 '", False),
        ('width="640" height="1"', False),
        ('width="3" height="3"', True),
        ('width="1%"', True),
        ('width="auto"', True),
        ('width="640" height="360"', True),
    ],
)
def test_image_urls_skips_tracking_pixels(attrs: str, kept: bool) -> None:
    assert image_urls(f'<img src="https://x.org/p.gif" {attrs}>') == (
        ["https://x.org/p.gif"] if kept else []
    )


def test_image_urls_reads_raw_html_as_browsers_do() -> None:
    html = (
        "<!-- <img src=/comment.jpg> --><script>x='<img src=/script.jpg>'</script>"
        '<a title="<img src=/attr.jpg>">t</a><IMG SRC=/upper.jpg><noscript>'
        "<img src='/noscript.jpg'></noscript><img src=/a.jpg?x=1&copy=2&amp;y=&lt;>"
    )
    assert image_urls(html, "https://x.org/") == [
        "https://x.org/upper.jpg",
        "https://x.org/noscript.jpg",
        "https://x.org/a.jpg?x=1&copy=2&y=%3C",
    ]


TOKENIZER_CASES = [
    ("<!--><img src=/a.jpg><!---><img src=/b.jpg>", ["/a.jpg", "/b.jpg"]),
    ("<!-- x --!><img src=/a.jpg><!-- <img src=/b.jpg>", ["/a.jpg"]),
    ("<!DOCTYPE html><?php echo '<img src=/b.jpg>' ?><img src=/a.jpg>", ["/a.jpg"]),
    ("</img src=/b.jpg><img/src=/a.jpg/><//img src=/c.jpg>", ["/a.jpg/"]),
    ("<style>p{}</STYLE ><img src=/a.jpg><textarea></textarea x><img src=/b.jpg>", None),
    ("<script><img src=/b.jpg></scripty></script\t><img src=/a.jpg>", ["/a.jpg"]),
    ("<title><img src=/b.jpg>", []),
    ("<img src=/a.jpg><plaintext></plaintext><img src=/b.jpg>", ["/a.jpg"]),
    ("<img src='/a&#0;.jpg'><img src=\"/b\x00.jpg\"><img SRC=/c&amp;d&lt;.jpg>", None),
    ("<svg><img src=/a.jpg></svg><math><img src=/b.jpg></math><table><img src=/c.jpg>", None),
    ('<img src="/a.jpg" src=/b.jpg><img src src=/c.jpg srcset=/d.jpg>', ["/a.jpg", "/d.jpg"]),
    ('<img alt="x" src="/a.jpg', []),
]


@pytest.mark.parametrize(("html", "expected"), TOKENIZER_CASES)
def test_rewrite_images_and_image_urls_see_the_same_images(
    html: str, expected: list[str] | None
) -> None:
    seen: list[str] = []

    def record(url: str) -> None:
        seen.append(url)

    assert rewrite_images(html, record, "https://x.org/") == html
    found = image_urls(html, "https://x.org/")
    assert list(dict.fromkeys(seen)) == found
    if expected is not None:
        assert found == ["https://x.org" + path for path in expected]


def test_image_urls_reads_deep_and_long_documents() -> None:
    deep = "<span>" * 1000 + "<img src=/deep.jpg>"
    long = "<p>" + "x" * (11 * MB) + '<img alt="' + "y" * (11 * MB) + '" src=/long.jpg>'
    assert image_urls(deep + long, "https://x.org/") == [
        "https://x.org/deep.jpg",
        "https://x.org/long.jpg",
    ]


@pytest.mark.parametrize(
    "html",
    [
        *["", "plain text", "<", "<img", "<img src=", '<img src="a.jpg', "\x00<img src=\x00>"],
        *["\ud800", '<?xml version="1.0" encoding="latin-1"?><img src=x.jpg>', "<html></html>"],
    ],
)
def test_image_urls_on_bad_html(html: str) -> None:
    assert isinstance(image_urls(html, BASE), list)


@PROPERTY
@given(html=st.text(), base=st.sampled_from(["", BASE, "not a url", "http://[::1"]))
def test_image_urls_never_raises(html: str, base: str) -> None:
    for url in image_urls("<img src=" + html, base) + image_urls(html, base):
        assert url.startswith(("http:", "https:"))


# --- rewrite_images -------------------------------------------------------------------------


def mirror(url: str) -> str | None:
    """Map the images under https://x.org/keep/ to a relative media link."""
    if not url.startswith("https://x.org/keep/"):
        return None
    return "../../media/ab/" + url.removeprefix("https://x.org/keep/")


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<img src="/keep/a.jpg">', '<img src="../../media/ab/a.jpg">'),
        ("<IMG SRC='/keep/a.jpg' ALT=x>", '<IMG SRC="../../media/ab/a.jpg" ALT=x>'),
        (
            "<img\n\tsrc = /keep/a.jpg\nalt='y'/>",
            "<img\n\tsrc = \"../../media/ab/a.jpg\"\nalt='y'/>",
        ),
        ("<img alt=x src=/keep/a.jpg>", '<img alt=x src="../../media/ab/a.jpg">'),
        ('<img src="/keep/a.jpg" srcset="/keep/a2.jpg 2x">', '<img src="../../media/ab/a.jpg">'),
        ("<img alt=x srcset=/keep/b.jpg/>", '<img alt=x src="../../media/ab/b.jpg/">'),
        ('<img src=/keep/a.jpg srcset="b 2x"/>', '<img src="../../media/ab/a.jpg" />'),
        ("<img src=/keep/a.jpg alt=x srcset='b 2x'/>", '<img src="../../media/ab/a.jpg" alt=x />'),
        ('<img srcset="b 2x" src=/keep/a.jpg>', '<img src="../../media/ab/a.jpg">'),
        ('<img src=/keep/a.jpg srcset="b 2x"alt=x>', '<img src="../../media/ab/a.jpg" alt=x>'),
        (
            '<img srcset="/keep/s.jpg 1x, /keep/t.jpg 2x" alt>',
            '<img src="../../media/ab/s.jpg" alt>',
        ),
        ("<img src='' srcset=/keep/s.jpg>", '<img src="../../media/ab/s.jpg">'),
        ("<img src srcset=/keep/s.jpg>", '<img src="../../media/ab/s.jpg">'),
        ("<img srcset=/keep/s.jpg SrcSet=/keep/t.jpg>", '<img src="../../media/ab/s.jpg">'),
        (
            '<img src="/keep/a.jpg" src="/keep/b.jpg">',
            '<img src="../../media/ab/a.jpg" src="/keep/b.jpg">',
        ),
        ('<img src="/keep/&#x61;.jpg">', '<img src="../../media/ab/a.jpg">'),
    ],
)
def test_rewrite_images_odd_markup(html: str, expected: str) -> None:
    assert rewrite_images(html, mirror, "https://x.org/news/1.html") == expected


def test_rewrite_images_changes_no_other_byte() -> None:
    html = (
        "<!DOCTYPE html>\r\n<P CLASS=lead>Caf&eacute; &amp; <b>news</b></P>\n"
        "<!-- <img src=/keep/comment.jpg> --><script>var s = '<img src=/keep/s.jpg>';</script>"
        '<a title="<img src=/keep/attr.jpg>" href=/x>link</a>\n'
        '<Img Alt="a &quot;b&quot;" SRC = "/keep/one.jpg?w=1&amp;h=2" data-x=\'1\'>'
        "<img src=/other/two.jpg srcset='/other/two-2x.jpg 2x'>"
        '<img src="https://x.org/keep/three.png" width=640 height=360 srcset="/keep/3-2x.png 2x">'
        "<picture><source srcset=/keep/p.webp><img src=/keep/p.jpg></picture>"
        "<textarea><img src=/keep/ta.jpg></textarea><title><img src=/keep/t.jpg></title>"
        "<p>1 < 2 & 3 > 2</p><img src=/keep/last.gif"
    )
    out = rewrite_images(html, mirror, "https://x.org/news/1.html")
    expected = (
        html.replace('"/keep/one.jpg?w=1&amp;h=2"', '"../../media/ab/one.jpg?w=1&amp;h=2"')
        .replace('"https://x.org/keep/three.png"', '"../../media/ab/three.png"')
        .replace(' srcset="/keep/3-2x.png 2x"', "")
        .replace("<img src=/keep/p.jpg>", '<img src="../../media/ab/p.jpg">')
    )
    assert out == expected


def test_rewrite_images_escapes_the_new_value_and_decodes_the_old() -> None:
    seen: list[str] = []

    def record(url: str) -> str:
        seen.append(url)
        return 'media/a"b&c<d>.jpg'

    html = "<img src='/a.jpg?x=1&amp;y=2&copy=3&not;'>"
    out = rewrite_images(html, record, "https://x.org/")
    assert seen == ["https://x.org/a.jpg?x=1&y=2&copy=3%C2%AC"]
    assert out == '<img src="media/a&quot;b&amp;c&lt;d&gt;.jpg">'


def test_rewrite_images_skips_what_image_urls_skips() -> None:
    seen: list[str] = []
    html = '<img src="data:image/gif;base64,R0lGOD"><img src="javascript:x"><img src=""><img>'
    assert rewrite_images(html, lambda u: seen.append(u) or "x", BASE) == html
    assert seen == []


def test_rewrite_images_offers_every_url_image_urls_lists() -> None:
    html = (
        '<div><img src="/a.jpg"><IMG srcset="b.jpg 2x"><noscript><img src=c.jpg></noscript>'
        '<img src="/a.jpg"></div><img width=1 src="pixel.gif">'
    )
    seen: list[str] = []

    def record(url: str) -> None:
        seen.append(url)

    assert rewrite_images(html, record, BASE) == html
    assert set(image_urls(html, BASE)) <= set(seen)
    assert "https://www.example.org/news/2023/pixel.gif" in seen  # replace decides


HTMLISH = st.lists(
    st.sampled_from(
        [
            *["<img", "<IMG", "<img ", " src=", " SRC=", " srcset=", "=", '"', "'", ">", "/>"],
            *["a.jpg", "&amp;", "&", " 2x,", "<!--", "-->", "<script>", "</script>", "<p>", "\n"],
            *["https://x.org/keep/", "data:", "<title>", "</title", " ", "\x00", "é", "<!", "/"],
            "<?",
        ]
    ),
    max_size=40,
).map("".join)


@PROPERTY
@given(html=st.one_of(st.text(), HTMLISH), base=st.sampled_from(["", BASE]))
def test_rewrite_images_with_no_replacement_is_the_identity(html: str, base: str) -> None:
    assert rewrite_images(html, lambda url: None, base) is html


MIRRORED = "https://mirror.example/m.jpg"


def img_tag() -> st.SearchStrategy[str]:
    """``<img>`` tags with every quoting, case and spacing, src and/or srcset."""
    value = st.sampled_from(["a.jpg", "/b/c.png?x=1&amp;y=2", "https://x.org/keep/d.gif"])
    quoted = st.tuples(st.sampled_from(['"', "'", ""]), value).map(lambda p: p[0] + p[1] + p[0])
    space = st.sampled_from([" ", "\n", "\t", "  "])
    name = st.sampled_from(["src", "SRC", "srcset", "SrcSet", "alt", "width"])
    attr = st.tuples(space, name, st.sampled_from(["=", " = "]), quoted).map("".join)
    return st.tuples(st.sampled_from(["<img", "<IMG"]), st.lists(attr, max_size=4)).map(
        lambda p: p[0] + "".join(p[1]) + " >"
    )


DOCUMENTS = st.lists(
    st.one_of(img_tag(), st.sampled_from(["<p>text</p>", "<!-- <img src=x.jpg> -->", " & "])),
    max_size=6,
).map("".join)


@PROPERTY
@given(html=DOCUMENTS)
def test_rewrite_images_agrees_with_image_urls(html: str) -> None:
    seen: list[str] = []

    def everything(url: str) -> str:
        seen.append(url)
        return MIRRORED

    out = rewrite_images(html, everything, BASE)
    found = image_urls(html, BASE)
    assert list(dict.fromkeys(seen)) == found  # the same images, in the same order
    assert image_urls(out, BASE) == ([MIRRORED] if found else [])
    assert "srcset" not in out.lower()  # every image here has a URL, so all are mirrored
