"""Candidates on their way from collecting to the single writer, as they are built.

A source's items go to the store a part at a time, through a :class:`Stream`: a queue
bounded by the items waiting in it (the ``fetch.pending_items`` setting). A source whose
part finds the queue full waits before it builds more (back-pressure): the items parsed
and built ahead of the store stay within that bound, whatever the size of a feed or of a
run. And only :data:`FEEDS_AT_ONCE` feeds are parsed and built at a time (the others wait
with their answer), so that the entries read from feeds do not pile up either.

Each source ends with its batch (feed results, logs, notes, what was not streamed),
which the writer stores after every part of that source: a feed's validators are kept
only once its items are.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from newsmirror.collect.items import Batch

#: Feeds parsed and built at once: one in the worker, one waiting for it.
FEEDS_AT_ONCE = 2


@dataclass(frozen=True)
class Part:
    """What the writer is given: candidates of a source (``last``: the source's batch,
    after all its parts)."""

    batch: Batch  # the source and the candidates (with the rest of the batch when last)
    last: bool = False  # the source's collecting ended

    @property
    def size(self) -> int:
        """Items it counts for in the queue."""
        return len(self.batch.candidates)


class Stream:
    """The queue between collecting and the writer (see the module's docstring)."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.waiting = 0  # items in the queue
        self.ended = False  # closed, and every part taken
        self._queue: asyncio.Queue[Part | None] = asyncio.Queue()
        self._room = asyncio.Event()
        self.feeds = asyncio.Semaphore(FEEDS_AT_ONCE)  # held while a feed is parsed and built

    async def put(self, part: Part) -> None:
        """Queue a part once there is room for it (at once when the queue is empty: a
        part larger than the limit still goes)."""
        while self.waiting and self.waiting + part.size > self.limit:
            self._room.clear()
            await self._room.wait()
        self.waiting += part.size
        self._queue.put_nowait(part)

    def close(self) -> None:
        """No part comes any more: the writer ends once it has stored what waits."""
        self._queue.put_nowait(None)

    async def get(self, timeout: float | None = None) -> Part | None:
        """The next part; None once the stream is closed and empty, or when ``timeout``
        seconds pass first."""
        if self.ended:
            return None
        try:
            part = self._queue.get_nowait()
        except asyncio.QueueEmpty:
            if timeout is not None and timeout <= 0:
                return None
            try:
                part = await asyncio.wait_for(self._queue.get(), timeout)
            except TimeoutError:
                return None
        self.ended = part is None
        return part

    def stored(self, part: Part) -> None:
        """A part is stored: its room is free again."""
        self.waiting -= part.size
        self._room.set()
