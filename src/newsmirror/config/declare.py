"""How a setting is declared: its place in the TOML, type, default, check and help, in
one :class:`Setting` (a ``[sources.<slug>]`` key in one :class:`SourceKey`); and the
checks several settings share. Everything else (the loader, ``init``'s commented
newsmirror.toml, the README's tables, the fetch stage's defaults) reads these.

A check takes the value (of the declared type) and the key's full name
(``fetch.timeout``, ``sources.rfi.feeds``) and says what is wrong with it, "" when
nothing is: pure, for the loader to raise with the file's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from newsmirror.urls import is_proxy_url, without_password

#: (value, full key name) → what is wrong, "" when nothing is.
Check = Callable[[Any, str], str]


def no_check(value: Any, name: str) -> str:
    """Any value of the declared type will do."""
    return ""


@dataclass(frozen=True)
class Setting:
    """One setting: where it lives in the TOML, its type, default, check and help."""

    table: str  # TOML table holding it
    key: str  # key in that table
    type: type  # expected Python type after TOML parsing (an int is taken for a float)
    default: Any  # value when not set
    help: str  # one line: init's commented newsmirror.toml
    doc: str  # what it does, in full: the README's settings table (markdown)
    check: Check = no_check  # a value of the right type that is still wrong

    @property
    def name(self) -> str:
        """``table.key``, as messages and the docs name it."""
        return f"{self.table}.{self.key}"


@dataclass(frozen=True)
class SourceKey:
    """One key of a ``[sources.<slug>]`` table (each is a field of :class:`Source`)."""

    key: str  # key in the table, and the Source field it fills
    type: type  # expected Python type after TOML parsing
    default: Any  # value when the table does not set it (None: worked out, see `shown`)
    help: str  # one line: init's commented newsmirror.toml
    doc: str  # what it does, in full: the README's table of source keys (markdown)
    check: Check = no_check  # a value of the right type that is still wrong
    shown: str = ""  # the README's default, when it is no plain value (markdown)


def one_of(*choices: str) -> Check:
    """The value must be one of ``choices``."""

    def check(value: Any, name: str) -> str:
        return "" if value in choices else f"{name} must be one of {choices}"

    return check


def positive(value: float, name: str) -> str:
    return "" if value > 0 else f"{name} must be positive"


def not_negative(value: float, name: str) -> str:
    return "" if value >= 0 else f"{name} must not be negative"


def at_least_one(value: int, name: str) -> str:
    return "" if value >= 1 else f"{name} must be at least 1"


def timezone(value: str, name: str) -> str:
    """An IANA timezone name that this system knows."""
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(value)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return f"{name}: unknown timezone {value!r}"
    return ""


def proxy(value: str, name: str) -> str:
    """ "" (none) or an http://, https://, socks5:// (socks5h://) URL naming a host: the one
    check of a proxy URL, that the fetch stage makes too (:func:`urls.is_proxy_url`)."""
    if not value or is_proxy_url(value):
        return ""
    return f"proxy {without_password(value)!r} must be an http://, https:// or socks5:// URL"


def shown(value: Any) -> str:
    """A value as TOML writes it."""
    if isinstance(value, list | tuple):
        return "[" + ", ".join(shown(item) for item in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
