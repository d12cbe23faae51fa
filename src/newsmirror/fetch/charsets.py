"""The bytes of a feed → correctly decoded text, even when its declared charset lies.

Pure functions, no I/O, codecs only (no detection library). The decision, in order:

1. a byte order mark (UTF-8, UTF-16, UTF-32), or the UTF-16/32 byte pattern of ``<?xml``;
2. the HTTP charset (``Content-Type: ...; charset=``), then the XML declaration's
   ``encoding=`` — each used only when it survives two checks: the body decodes strictly
   with it, and it does not look like mojibake (a Western single-byte charset declared
   over bytes that are valid UTF-8 or plausible Chinese; a Chinese charset whose text is
   far less plausible than another Chinese charset's);
3. detection: valid UTF-8 → UTF-8; else GB18030 or Big5-HKSCS, whichever reads as more
   plausible Chinese (more common hanzi, fewer private-use, kana, box-drawing or
   replacement characters); else the declared charset (or windows-1252) with errors
   replaced (``"fallback:<codec>"``).

GB2312 and GBK declarations decode with GB18030 (a superset); Big5 with Big5-HKSCS (a
superset); ISO-8859-1 and US-ASCII with windows-1252 (as browsers do). The second item of
:func:`decode_xml`'s answer says where the decision came from: ``"bom"``, ``"http"``,
``"xml-declaration"``, ``"detected:<codec>"``, ``"fallback:<codec>"``.
"""

from __future__ import annotations

import codecs
import re
from functools import cache

_BOMS = (  # longest first: the UTF-32 LE mark begins with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_XML_PATTERNS = (  # "<?" (or "<?xm") in each encoding without a mark, XML 1.0 appendix F
    (b"\x00\x00\x00\x3c", "utf-32-be"),
    (b"\x3c\x00\x00\x00", "utf-32-le"),
    (b"\x00\x3c\x00\x3f", "utf-16-be"),
    (b"\x3c\x00\x3f\x00", "utf-16-le"),
)
_ALIASES = {
    **dict.fromkeys(
        ("gb2312", "gbk", "x-gbk", "cp936", "gb_2312-80", "csgb2312", "euc-cn", "chinese"),
        "gb18030",
    ),
    **dict.fromkeys(("big5", "big5-hkscs", "cn-big5", "x-x-big5", "csbig5", "cp950"), "big5hkscs"),
    **dict.fromkeys(
        ("iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "cp1252"),
        "windows-1252",
    ),
}
_WESTERN = frozenset({"windows-1252", "iso8859-15", "cp1250", "iso8859-2"})
_CHINESE = frozenset({"gb18030", "big5hkscs"})
_REFUSED = frozenset({"utf-7"})  # never honoured: a known way to smuggle markup
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^"';,\s]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_XML_DECL_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""")
_PLAUSIBLE = 0.5  # share of good minus bad characters from which Chinese text is believed
_SAMPLE = 20_000  # non-ASCII characters scored at most
_LATIN1_USED = frozenset({0xB0, 0xB7})  # ° and the · of transcribed names (乔治·佛洛伊德)


def charset_of(content_type: str) -> str:
    """The charset parameter of a Content-Type header as sent (quotes removed), or ""."""
    match = _HTTP_CHARSET.search(content_type or "")
    return match.group(1) if match else ""


def codec_for(label: str) -> str | None:
    """The Python codec to decode a declared charset label with, or None when unknown."""
    name = label.strip().strip("\"'").lower()
    if not name:
        return None
    if name in _ALIASES:
        return _ALIASES[name]
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _REFUSED:
        return None
    return _ALIASES.get(info.name, info.name)


def decode_xml(body: bytes, content_type: str = "") -> tuple[str, str]:
    """Decode a feed document; returns ``(text, how)`` (see the module docstring).

    Never raises: undecodable bytes end up as U+FFFD in the worst case.
    """
    for mark, codec in _BOMS:
        if body.startswith(mark):
            return body[len(mark) :].decode(codec, "replace"), "bom"
    for pattern, codec in _XML_PATTERNS:
        if body.startswith(pattern):
            return body.decode(codec, "replace"), f"detected:{codec}"
    declared = _declarations(body, content_type)
    for codec, source in declared:
        text = _try_declared(body, codec)
        if text is not None:
            return text, source
    return _detect(body, declared[0][0] if declared else None)


def to_utf8_xml(body: bytes, content_type: str = "") -> bytes:
    """The document re-encoded as UTF-8, its XML declaration saying ``encoding="UTF-8"``.

    lxml and feedparser then read it right whatever the original charset was; pass no
    HTTP charset to them afterwards.
    """
    text, _how = decode_xml(body, content_type)
    text = _XML_DECL_ENCODING.sub(r"\1\2UTF-8\2", text, count=1)
    return text.encode("utf-8", "replace")


def chinese_score(text: str) -> float:
    """How much ``text`` reads like Chinese, from -1 to 1: the share of its non-ASCII
    characters that are common hanzi or CJK punctuation, minus the share that a wrong
    decoding typically produces (private use, U+FFFD, kana, Hangul, box drawing, Greek,
    Cyrillic, Latin-1 symbols, C1 controls). 0 for text without non-ASCII characters."""
    common = _common_hanzi()
    good = bad = total = 0
    for char in text:
        if char < "\x80":
            continue
        total += 1
        if char in common or "\u3000" <= char <= "\u303f" or "\uff00" <= char <= "\uffef":
            good += 1
        elif _suspicious(char):
            bad += 1
        if total >= _SAMPLE:
            break
    return (good - bad) / total if total else 0.0


def _declarations(body: bytes, content_type: str) -> list[tuple[str, str]]:
    """Known codecs declared by HTTP, then by the XML declaration, with their source."""
    found = []
    http = codec_for(charset_of(content_type))
    if http:
        found.append((http, "http"))
    match = _XML_DECL.match(body[:1024])
    xml = codec_for(match.group(1).decode("ascii")) if match else None
    if xml:
        found.append((xml, "xml-declaration"))
    return found


def _try_declared(body: bytes, codec: str) -> str | None:
    """The body decoded with a declared codec, or None when the declaration is wrong."""
    if codec.startswith(("utf-16", "utf-32")):
        return None  # no mark and no UTF-16/32 pattern: the bytes are 8-bit, it lies
    if codec == "utf-8":
        return _strict(body, "utf-8")
    if not body.isascii() and _strict(body, "utf-8") is not None:
        return None  # valid UTF-8 under an 8-bit label: mojibake if we believed it
    text = _strict(body, codec)
    if text is None or body.isascii():
        return text
    if codec in _WESTERN:
        return None if _best_chinese(body)[1] >= _PLAUSIBLE else text
    if codec in _CHINESE:
        _best, best_score = _best_chinese(body)
        return text if chinese_score(text) >= best_score - 0.1 else None
    return text


def _detect(body: bytes, declared: str | None) -> tuple[str, str]:
    """Guess the codec of a body that no trustworthy declaration covers."""
    text = _strict(body, "utf-8")
    if text is not None:
        return text, "detected:utf-8"
    codec, score = _best_chinese(body)
    if score >= _PLAUSIBLE or (declared is None and score > 0):
        return body.decode(codec, "replace"), f"detected:{codec}"
    fallback = declared if declared and not declared.startswith("utf-") else "windows-1252"
    if declared == "utf-8":
        fallback = declared
    return body.decode(fallback, "replace"), f"fallback:{fallback}"


def _best_chinese(body: bytes) -> tuple[str, float]:
    """The Chinese codec under which the body reads best, with its score."""
    scored = []
    for codec in sorted(_CHINESE):
        text = _strict(body, codec)
        score = -1.0 if text is None else chinese_score(text)
        scored.append((score, codec))
    score, codec = max(scored)
    return codec, score


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _suspicious(char: str) -> bool:
    """A character that real Chinese news text rarely holds but wrong decodings do."""
    code = ord(char)
    return (
        (0x80 <= code <= 0xBF and code not in _LATIN1_USED)  # C1 controls, Latin-1 symbols
        or 0x0370 <= code <= 0x04FF  # Greek, Cyrillic
        or 0x2500 <= code <= 0x259F  # box drawing, blocks
        or 0x3040 <= code <= 0x30FF  # kana
        or 0x3100 <= code <= 0x312F  # bopomofo
        or 0xAC00 <= code <= 0xD7AF  # Hangul
        or 0xE000 <= code <= 0xF8FF  # private use
        or code == 0xFFFD
    )


@cache
def _common_hanzi() -> frozenset[str]:
    """GB2312 level 1 (3755 common simplified hanzi) and Big5 level 1 (5401 common
    traditional hanzi): between them, nearly every character of real news text."""
    gb2312 = [(lead, trail) for lead in range(0xB0, 0xD8) for trail in range(0xA1, 0xFF)]
    trails = [*range(0x40, 0x7F), *range(0xA1, 0xFF)]
    big5 = [(lead, trail) for lead in range(0xA4, 0xC7) for trail in trails]
    chars = {_strict(bytes(pair), "gb2312") for pair in gb2312}
    chars |= {_strict(bytes(pair), "big5") for pair in big5 if pair <= (0xC6, 0x7E)}
    return frozenset(char for char in chars if char)
