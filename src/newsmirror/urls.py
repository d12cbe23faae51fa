"""URLs as Node.js and the WHATWG URL standard see them (via ``ada-url``, the parser Node
uses), and canonical URLs: absolute, without fragment or tracking parameters."""

from __future__ import annotations

from urllib.parse import unquote_plus

import ada_url

from newsmirror.errors import ParseError

#: Query parameters that only track clicks; :func:`canonical_url` removes them.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "twclid", "igshid", "spm"}
    | {"mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok"}
    | {"at_medium", "at_campaign", "maca"}  # AT Internet on BBC links; DW's campaign code
)
#: Name prefixes that only track: Google Analytics, comScore (BBC ``ns_mchannel``...).
TRACKING_PREFIXES = ("utm_", "ns_")
#: ``name=value`` pairs (case-insensitive) that only track: NYT's ``from=RSS``.
TRACKING_PAIRS = frozenset({"from=rss"})
#: What the WHATWG parser strips around a URL (C0 controls and space).
URL_BLANKS = "".join(map(chr, range(0x21)))


def canonical_url(url: str, base: str = "") -> str:
    """Absolute http(s) URL without fragment and tracking parameters, WHATWG-serialised.

    Relative URLs are resolved against ``base`` as ``new URL(url, base)`` does; other
    parameters keep their order and bytes. "" for an empty, invalid or non-http(s) URL.
    Idempotent: ``canonical_url(canonical_url(u)) == canonical_url(u)``.
    """
    parsed = whatwg_url(url, base)
    if parsed is None or parsed.protocol not in ("http:", "https:"):
        return ""
    parsed.hash = ""
    pieces = parsed.search[1:].split("&")
    kept = [p for p in pieces if not is_tracking(p)]
    if kept != pieces or kept == [""]:  # "?" leads, as the setter drops one leading "?"
        parsed.search = "?" + "&".join(kept) if any(kept) else ""
    return str(parsed.href)


def whatwg_href(url: str) -> str:
    """What Node.js ``new URL(url).href`` gives; ParseError where Node would throw."""
    try:
        return str(ada_url.URL(url).href)
    except ValueError as exc:
        raise ParseError(f"invalid URL: {url!r}") from exc


def whatwg_url(url: str, base: str) -> ada_url.URL | None:
    """Parse ``url`` (against ``base`` when relative) the WHATWG way; None when invalid."""
    url = url.strip(URL_BLANKS)
    if not url:
        return None
    for args in ((url, base), (url,)) if base else ((url,),):  # a bad base: try url alone
        try:
            return ada_url.URL(*args)
        except ValueError:
            continue
    return None


def is_tracking(param: str) -> bool:
    """True when one ``name=value`` piece of a query string is a tracking parameter."""
    raw_name, _, raw_value = param.partition("=")
    name = unquote_plus(raw_name).lower()
    pair = f"{name}={unquote_plus(raw_value).lower()}"
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES) or pair in TRACKING_PAIRS


def absolute(link: str, base: str) -> str:
    """``link`` as given when absolute, else resolved against ``base``; "" when unusable."""
    link = link.strip(URL_BLANKS)
    if not link or ada_url.check_url(link):
        return link
    parsed = whatwg_url(link, base)
    return str(parsed.href) if parsed is not None else ""
