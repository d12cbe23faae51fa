"""Where collecting does its CPU work: in this process, or in a worker process.

Parsing a feed, extracting article pages, cleaning the items and making their search
tokens is most of a fetch's CPU; the rest is talking to the network and storing. On a
machine with a core to spare, a run of many sources forks one worker for the first part
(:func:`cpu_for`), and :mod:`newsmirror.collect` hands its work over through a
:class:`Cpu`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from newsmirror.store.feedmemory import FeedMemoryStore

T = TypeVar("T")
#: A run of this many sources or more collects with a worker process (when a core is
#: spare): its start pays for itself.
WORKER_FROM = 8


class Cpu:
    """Where collecting does its CPU work: here, or in a worker process (``pool``).

    ``tokenize``: items also get their search tokens made there, ahead of the store
    (only with a worker: here it would be the same work at another moment). ``memory``:
    the store's database, which the worker reads (see :meth:`run_remembering`). A worker
    that dies (killed, out of memory) leaves the rest of the run to this process.
    """

    def __init__(
        self, pool: Executor | None = None, tokenize: bool = False, memory: str = ""
    ) -> None:
        self.pool = pool
        self.tokenize = tokenize and pool is not None
        self.memory = memory

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, in the worker when there is one."""
        return await self._call(fn, args, lambda: fn(*args))

    async def run_remembering(self, fn: Callable[..., T], seen: object, *args: Any) -> T:
        """``fn(seen, *args)``; in the worker, ``seen`` (this process's store) is replaced
        by a read-only view (:func:`~newsmirror.store.open_feed_memory`) of the same
        database, opened there once."""
        if seen is None:
            return await self.run(fn, seen, *args)
        if not self.memory:  # no database named for the worker: this process's store
            return fn(seen, *args)
        return await self._call(_remembering, (self.memory, fn, *args), lambda: fn(seen, *args))

    async def _call(self, fn: Callable[..., T], args: tuple[Any, ...], here: Callable[[], T]) -> T:
        """``fn(*args)`` in the worker; ``here()`` when there is none, or it died."""
        if self.pool is None:
            return here()
        from concurrent.futures.process import BrokenProcessPool

        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)
        except BrokenProcessPool:
            self.pool, self.tokenize = None, False  # the rest of the run stays here
            return here()


@contextlib.contextmanager
def cpu_for(
    sources: int, tokenize: bool, workers: int | None = None, memory: str = ""
) -> Iterator[Cpu]:
    """The :class:`Cpu` for collecting ``sources`` sources: ``workers`` processes (by
    default one when the run has :data:`WORKER_FROM` sources or more and the machine has
    two cores or more), stopped when the block ends. ``memory``: the store's database,
    which workers read to sort a feed's items out.

    Workers are forked, before the first request (no thread runs yet): they start at
    once with every module this process has loaded, where a fresh interpreter would
    spend half a second importing them. Where fork is not the platform's way (macOS,
    Windows), collecting stays in this process.
    """
    if workers is None:
        workers = 1 if sources >= WORKER_FROM and (os.cpu_count() or 1) >= 2 else 0
    if workers < 1 or sys.platform != "linux":
        yield Cpu()
        return
    from newsmirror.workers import worker_pool

    # Not waited for at the end: a worker may still be warming up (a run of 304s needs
    # nothing of it); it ends then, and with the main process whenever that ends.
    with worker_pool(workers, "fork", wait=False) as pool:
        pool.submit(_warm_up)
        yield Cpu(pool, tokenize, memory)


def _remembering(path: str, fn: Callable[..., T], *args: Any) -> T:
    """``fn(memory, *args)`` with this process's read-only view of the database ``path``."""
    return fn(_memory(os.getpid(), path), *args)


@functools.cache
def _memory(pid: int, path: str) -> FeedMemoryStore:
    """The FeedMemory of ``path`` in the process ``pid``: a forked worker never uses a
    connection its parent opened."""
    from newsmirror.store import open_feed_memory

    return open_feed_memory(path)


def _warm_up() -> None:
    """Load what the work needs before the first feed answers."""
    from newsmirror.clean.article import clean_html
    from newsmirror.search import query as search

    search.index_tokens("预热 warm")
    clean_html("<p>x</p>", "http://localhost/", ())
