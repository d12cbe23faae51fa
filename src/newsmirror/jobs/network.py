"""How the jobs reach the web: the Fetcher's settings from an archive's configuration,
the :class:`Network` a job is given (settings and transport: it makes the job's
Fetchers), and the event loop a job's coroutines run in.

Nothing of the fetch stage loads when this module does: a command that fetches nothing
does not pay for it."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import httpx

    from newsmirror.config.settings import Config
    from newsmirror.fetch.client import Fetcher
    from newsmirror.fetch.settings import AttemptLog, FetchSettings

T = TypeVar("T")


def fetch_settings(config: Config) -> FetchSettings:
    """The Fetcher's settings from an archive's configuration."""
    from newsmirror.fetch.settings import FetchSettings

    return FetchSettings(
        timeout=config.timeout,
        read_timeout=min(config.timeout, FetchSettings.read_timeout),
        connect_timeout=min(config.timeout, FetchSettings.connect_timeout),
        max_bytes=int(config.max_body_mb * 1024 * 1024),
        user_agent=config.user_agent,
        proxy=config.proxy,
        concurrency=config.concurrency,
        per_host=config.per_host,
        retries=config.retries,
        allow_private_addresses=config.allow_private_addresses,
        time_for_pages=config.time_for_pages,
    )


@dataclass(frozen=True)
class Network:
    """What a job fetches with: the Fetcher's settings, and the transport that replaces
    the network (tests; None: the network itself)."""

    settings: FetchSettings
    transport: httpx.AsyncBaseTransport | None = None

    def fetcher(
        self,
        start: datetime,
        on_attempt: Callable[[AttemptLog], None] | None = None,
        pages_until: float | None = None,
    ) -> Fetcher:
        """A Fetcher for one run that began at ``start`` (its clock reads ``start`` plus
        the time since); use it as ``async with`` inside the run's event loop."""
        from newsmirror.fetch.client import Fetcher, run_clock

        return Fetcher(
            self.settings,
            self.transport,
            on_attempt=on_attempt,
            clock=run_clock(start),
            pages_until=pages_until,
        )


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine in a new event loop: uvloop's when it is installed (a faster loop
    for hundreds of feeds), else asyncio's."""
    import asyncio  # loaded when a job needs the network: other commands start faster

    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)
