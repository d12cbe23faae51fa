"""The boilerplate a source may name as ``builtin:<name>`` (the clean stage removes it),
and a source's boilerplate as regular expressions."""

from __future__ import annotations

from newsmirror.types import Source

#: The provider footer of the feedx.net full-text feeds, ``<br><hr><div>获取更多RSS：<br>
#: <a href="https://feedx.net" ...>https://feedx.net</a> <br><a href="https://feedx.top"
#: ...>https://feedx.top</a><br></div>`` (any feedx mirror domain, any number of links,
#: ``<div>`` or ``<p>``, with or without the ``<br><hr>`` before it).
FEEDX_FOOTER = (
    r"(?i)<(?:br\s*/?>\s*<)*(?:hr\s*/?>\s*<)?(div|p)\b[^>]*>\s*获取更多RSS\s*[：:]?\s*"
    r"(?:(?:<br\s*/?>|<a\b[^>]*>[^<]*</a>)\s*)*</\1\s*>"
)

#: Named boilerplate patterns a source may use as ``builtin:<name>``.
BUILTIN = {"feedx-footer": FEEDX_FOOTER}
PREFIX = "builtin:"


def builtin_boilerplate() -> dict[str, str]:
    """Named boilerplate patterns a source may use as ``builtin:<name>``."""
    return dict(BUILTIN)


def boilerplate_patterns(source: Source) -> tuple[str, ...]:
    """The source's boilerplate as regular expressions (builtin names resolved)."""
    return tuple(
        BUILTIN[p[len(PREFIX) :]] if p.startswith(PREFIX) else p for p in source.boilerplate
    )
