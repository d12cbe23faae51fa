"""Checks of settings and sources that need no configuration loaded: the values a
source table may hold, the watch schedule and the run settings. Every failure is a
ConfigError (InvalidSourceError for a source) naming the key and the file."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsmirror.errors import ConfigError, InvalidSourceError
from newsmirror.limits import name_problem
from newsmirror.types import Source

ITEM_FILTERS = ("", "symbol-category")
ID_SCHEMES = ("countdown", "post")
FULL_TEXT = ("feed", "page", "auto")
RUN_PUBLISH = ("markdown", "site", "digest")


def check_run(values: dict[str, Any], where: str) -> None:
    """The watch schedule and the run settings."""
    from newsmirror.watch.rules import parse_schedule

    if not all(isinstance(step, str) for step in values["schedule"]):
        raise ConfigError(f'{where}: watch.schedule must list durations such as "6h"')
    try:
        parse_schedule(values["schedule"])
    except ConfigError as exc:
        raise ConfigError(f"{where}: watch.schedule: {exc}") from exc
    for item in values["publish"]:
        if item not in RUN_PUBLISH:
            raise ConfigError(f"{where}: run.publish: {item!r} is not one of {RUN_PUBLISH}")
    if not 0 <= values["jitter"] < 1:
        raise ConfigError(f"{where}: run.jitter must be at least 0 and below 1")


def interval_seconds(text: str, key: str) -> float:
    """A source's fetch interval in seconds (at least a minute)."""
    from newsmirror.watch.rules import parse_duration

    try:
        seconds = parse_duration(text).total_seconds()
    except ConfigError as exc:
        raise InvalidSourceError(f"{key}: {exc}") from exc
    if seconds < 60:
        raise InvalidSourceError(f"{key}: at least a minute ({text!r})")
    return seconds


def check_source(source: Source, where: str) -> None:
    key = f"{where}: sources.{source.slug}"
    problem = name_problem(source.name)
    if problem:  # it names the source's list file: lists/<name>.md
        raise InvalidSourceError(f"{key}.name {problem}: it names the file lists/<name>.md")
    if not source.feeds:
        raise InvalidSourceError(f"{key}.feeds must list at least one feed URL")
    for url in source.feeds:
        if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
            raise InvalidSourceError(f"{key}.feeds: {url!r} is not an http(s) URL")
    try:
        ZoneInfo(source.list_timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidSourceError(
            f"{key}.list_timezone: unknown timezone {source.list_timezone!r}"
        ) from exc
    if source.fulltext_selector:
        _check_selector(source.fulltext_selector, key)
    if source.full_text not in FULL_TEXT:
        raise InvalidSourceError(f"{key}.full_text must be one of {FULL_TEXT}")
    if source.item_filter not in ITEM_FILTERS:
        raise InvalidSourceError(f"{key}.item_filter must be one of {ITEM_FILTERS}")
    if source.id_scheme not in ID_SCHEMES:
        raise InvalidSourceError(f"{key}.id_scheme must be one of {ID_SCHEMES}")
    for pattern in source.boilerplate:
        _check_pattern(pattern, key)


def builtin_boilerplate() -> dict[str, str]:
    """Named boilerplate patterns a source may use as ``builtin:<name>``."""
    from newsmirror.clean.article import FEEDX_FOOTER

    return {"feedx-footer": FEEDX_FOOTER}


def _check_selector(selector: str, key: str) -> None:
    from cssselect import SelectorError
    from lxml.cssselect import CSSSelector

    try:
        CSSSelector(selector)
    except SelectorError as exc:
        raise InvalidSourceError(f"{key}.fulltext_selector: bad CSS selector: {exc}") from exc


def _check_pattern(pattern: Any, key: str) -> None:
    if not isinstance(pattern, str):
        raise InvalidSourceError(f"{key}.boilerplate entries must be strings")
    if pattern.startswith("builtin:"):
        if pattern[8:] not in builtin_boilerplate():
            raise InvalidSourceError(
                f"{key}.boilerplate: unknown {pattern!r} (known: {sorted(builtin_boilerplate())})"
            )
        return
    try:
        re.compile(pattern)
    except re.error as exc:
        raise InvalidSourceError(f"{key}.boilerplate: bad regular expression: {exc}") from exc
