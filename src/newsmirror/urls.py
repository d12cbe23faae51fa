"""URLs as Node.js and the WHATWG URL standard see them (via ``ada-url``, the parser Node
uses), and canonical URLs: absolute, without fragment or tracking parameters."""

from __future__ import annotations

import re
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
    href = whatwg_href_or_empty(url, base)
    if not href.startswith(("http:", "https:")):
        return ""
    href = href.split("#", 1)[0]  # the fragment is all after the first "#" of an href
    path, mark, query = href.partition("?")
    if not mark:
        return href
    pieces = query.split("&")
    kept = [p for p in pieces if not is_tracking(p)]
    if kept != pieces or kept == [""]:
        return path + ("?" + "&".join(kept) if any(kept) else "")
    return href


def whatwg_href_or_empty(url: str, base: str = "") -> str:
    """The WHATWG serialisation of ``url`` (against ``base`` when relative), "" if invalid.

    One call into ada (``normalize_url``/``join_url``): much cheaper than a URL object
    whose every attribute is a call of its own.
    """
    url = url.strip(URL_BLANKS)
    if not url:
        return ""
    if base:
        try:
            return str(ada_url.join_url(base, url))
        except ValueError:
            pass  # an unusable base must not spoil an absolute URL
    try:
        return str(ada_url.normalize_url(url))
    except ValueError:
        return ""


def web_href(url: str) -> str:
    """The one rule for every link newsmirror writes into a file or page (the markdown
    archive, the site, the feeds, the digests, search results): the WHATWG href of an
    absolute http(s) URL, as a browser would follow it; "" for anything else
    (``javascript:`` in any case or with tabs in it, ``data:``, ``file:``, a relative or
    invalid URL), whatever the store holds."""
    href = whatwg_href_or_empty(url)
    return href if href.startswith(("http:", "https:")) else ""


def whatwg_href(url: str) -> str:
    """What Node.js ``new URL(url).href`` gives; ParseError where Node would throw."""
    try:
        return str(ada_url.URL(url).href)
    except ValueError as exc:
        raise ParseError(f"invalid URL: {url!r}") from exc


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
    return whatwg_href_or_empty(link, base)


_PASSWORD = re.compile(r"(//[^/@:\s]*):[^/@\s]*@")


def without_password(url: str) -> str:
    """``url`` with the password of its user info hidden (``http://me:***@proxy:8080``),
    for messages: a proxy's credentials must not reach logs or the store."""
    return _PASSWORD.sub(r"\1:***@", url)


_PROXY_URL = re.compile(r"(?:https?|socks5h?)://[^\s/]", re.IGNORECASE)


def is_proxy_url(url: str) -> bool:
    """Whether ``url`` is a usable proxy URL: http://, https://, socks5:// or socks5h://
    (any case) and a host. The one check of a proxy URL: the settings make it when they
    are read, the fetch stage on every proxy it is given."""
    return bool(_PROXY_URL.match(url))
