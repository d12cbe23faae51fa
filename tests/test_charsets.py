"""Feed bytes → text: BOM, HTTP charset, XML declaration, detection, and lying labels.

Real files first (tests/data/hostile, feedparser's encoding and chardet documents), then
documents built here for the lies mirrors meet: Latin-1 declared over UTF-8 Chinese, UTF-8
declared over GBK, GB2312 over Big5.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from newsmirror.fetch.charsets import charset_of, chinese_score, codec_for, decode_xml, to_utf8_xml

DATA = Path(__file__).parent / "data"
SIMPLIFIED = "韩国总统室：韩美就加强延伸威慑做最后协调。乔治·佛洛伊德"
TRADITIONAL = "自由亞洲電台：中文內容，沒有聲明編碼。台灣、香港的新聞。"


def feed(title: str, encoding: str | None = None) -> str:
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>' if encoding else ""
    return f"{declaration}<rss><channel><title>{title}</title></channel></rss>"


def title_of(text: str) -> str:
    match = re.search(r"<title>(.*?)</title>", text, re.S)
    assert match
    return match.group(1)


# --- real files ---------------------------------------------------------------------------


def test_undeclared_gbk_file() -> None:
    text, how = decode_xml((DATA / "hostile" / "gbk-undeclared.xml").read_bytes())
    assert how == "detected:gb18030" and title_of(text) == "德国之声"
    assert "中文内容，没有声明编码。" in text


def test_undeclared_big5_file() -> None:
    text, how = decode_xml((DATA / "hostile" / "big5-undeclared.xml").read_bytes())
    assert how.startswith("detected:big5") and "中文內容，沒有聲明編碼。台灣、香港的新聞。" in text


def test_feedparser_chardet_documents() -> None:
    chardet = DATA / "feedparser" / "illformed" / "chardet"
    text, how = decode_xml((chardet / "gb2312.xml").read_bytes())
    assert how == "detected:gb18030" and "不归移民漫画系列：专业工作" in text
    text, how = decode_xml((chardet / "big5.xml").read_bytes())
    assert how.startswith("detected:big5") and "成中文" in text


@pytest.mark.parametrize("name", ["utf-16le-bom.xml", "utf-16be-bom.xml", "utf-32le-bom.xml"])
def test_bom_files(name: str) -> None:
    text, how = decode_xml((DATA / "feedparser" / "encoding" / name).read_bytes())
    assert how == "bom" and text.lstrip().startswith("<?xml") and "\ufeff" not in text


@pytest.mark.parametrize("name", ["utf-16le.xml", "utf-16be-autodetect.xml", "utf-32be.xml"])
def test_utf16_and_32_without_bom_by_the_xml_pattern(name: str) -> None:
    text, how = decode_xml((DATA / "feedparser" / "encoding" / name).read_bytes())
    assert how.startswith("detected:utf-") and text.startswith("<?xml")


# --- declared and right -------------------------------------------------------------------


def test_bom_utf16_chinese_beats_every_label() -> None:
    body = "\ufeff".encode("utf-16-le") + feed(SIMPLIFIED, "gbk").encode("utf-16-le")
    text, how = decode_xml(body, "text/xml; charset=iso-8859-1")
    assert how == "bom" and title_of(text) == SIMPLIFIED


def test_http_charset_first_and_gb2312_read_as_gb18030() -> None:
    body = feed(SIMPLIFIED, "utf-8").encode("gb18030")
    text, how = decode_xml(body, "application/atom+xml;charset='gb2312'")
    assert how == "http" and title_of(text) == SIMPLIFIED
    assert codec_for("GB2312") == codec_for("gbk") == "gb18030"


def test_xml_declaration_when_http_is_silent() -> None:
    text, how = decode_xml(feed(TRADITIONAL, "big5").encode("big5"), "application/rss+xml")
    assert how == "xml-declaration" and title_of(text) == TRADITIONAL


def test_latin1_declared_and_true_stays_latin1() -> None:
    body = feed("Été à Paris — naïf, ça déçoit", "iso-8859-1").encode("cp1252")
    text, how = decode_xml(body)
    assert how == "xml-declaration" and title_of(text) == "Été à Paris — naïf, ça déçoit"


# --- declared and wrong ---------------------------------------------------------------------


def test_latin1_declared_over_utf8_chinese() -> None:
    body = feed(SIMPLIFIED, "iso-8859-1").encode("utf-8")
    text, how = decode_xml(body, "text/xml; charset=ISO-8859-1")
    assert how == "detected:utf-8" and title_of(text) == SIMPLIFIED


def test_utf8_declared_over_gbk() -> None:
    body = feed(SIMPLIFIED, "utf-8").encode("gbk")
    for content_type in ("", "application/rss+xml; charset=utf-8"):
        text, how = decode_xml(body, content_type)
        assert how == "detected:gb18030" and title_of(text) == SIMPLIFIED


def test_latin1_http_over_gbk_with_a_true_xml_declaration() -> None:
    text, how = decode_xml(feed(SIMPLIFIED, "gbk").encode("gbk"), "text/xml; charset=latin1")
    assert how == "xml-declaration" and title_of(text) == SIMPLIFIED


def test_gb2312_declared_over_big5_and_big5_over_gbk() -> None:
    text, how = decode_xml(feed(TRADITIONAL, "gb2312").encode("big5"))
    assert how.startswith("detected:big5") and title_of(text) == TRADITIONAL
    text, how = decode_xml(feed(SIMPLIFIED, "big5").encode("gbk"))
    assert how == "detected:gb18030" and title_of(text) == SIMPLIFIED


def test_gbk_declared_over_utf8() -> None:
    body = feed(SIMPLIFIED, "gbk").encode("utf-8")
    text, how = decode_xml(body, "application/rss+xml; charset=gbk")
    assert how == "detected:utf-8" and title_of(text) == SIMPLIFIED


def test_utf16_declared_over_8bit_bytes_is_ignored() -> None:
    text, how = decode_xml(feed(SIMPLIFIED, "utf-16").encode("utf-8"))
    assert how == "detected:utf-8" and title_of(text) == SIMPLIFIED


def test_undecodable_declared_utf8_falls_back_with_replacement() -> None:
    text, how = decode_xml((DATA / "hostile" / "invalid-bytes.xml").read_bytes())
    assert how == "fallback:utf-8" and "\ufffd" in text


def test_unknown_and_dangerous_labels_are_ignored() -> None:
    assert codec_for("x-no-such-charset") is None and codec_for("utf-7") is None
    assert codec_for("base64") is None and codec_for("") is None
    text, how = decode_xml(feed("+ADw-script+AD4-", "utf-7").encode("ascii"))
    assert how == "detected:utf-8" and "+ADw-script+AD4-" in text


def test_charset_of_header() -> None:
    assert charset_of('text/xml; charset="GBK"') == "GBK"
    assert charset_of("application/rss+xml;charset=utf-8;q=1") == "utf-8"
    assert charset_of("text/xml") == "" and charset_of("") == ""


def test_chinese_score_tells_right_from_wrong_decoding() -> None:
    assert chinese_score(SIMPLIFIED) > 0.8 and chinese_score(TRADITIONAL) > 0.8
    assert chinese_score(TRADITIONAL.encode("big5").decode("gb18030")) < 0.3
    assert chinese_score("plain ascii") == 0.0


# --- to_utf8_xml ------------------------------------------------------------------------------


def test_to_utf8_xml_rewrites_the_declaration_for_lxml() -> None:
    body = feed(SIMPLIFIED, "big5").encode("gbk")  # declared Big5, really GBK
    out = to_utf8_xml(body)
    assert out.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = etree.fromstring(out)
    assert root.findtext("channel/title") == SIMPLIFIED


def test_to_utf8_xml_drops_the_bom_and_keeps_undeclared_documents() -> None:
    body = "\ufeff".encode("utf-16-be") + feed(TRADITIONAL, "utf-16").encode("utf-16-be")
    root = etree.fromstring(to_utf8_xml(body))
    assert root.findtext("channel/title") == TRADITIONAL
    assert to_utf8_xml(feed(SIMPLIFIED).encode("gbk")) == feed(SIMPLIFIED).encode("utf-8")


@given(st.binary(max_size=400), st.sampled_from(["", "text/xml; charset=gbk", "text/xml"]))
def test_decode_never_raises(body: bytes, content_type: str) -> None:
    text, how = decode_xml(body, content_type)
    assert isinstance(text, str) and how


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_utf8_round_trip(title: str) -> None:
    body = feed(title, "UTF-8").encode("utf-8")
    assert to_utf8_xml(body) == body and decode_xml(body)[0] == body.decode("utf-8")
