"""The limits of the fetch stage that hold while a request runs: how many requests are in
flight (per host and in all), how large a body may grow on the wire and once
decompressed, by when a group of requests must end (:class:`Deadline`), and which hosts
are given up for the run (:class:`GiveUp`).

:class:`HostLimiter` order: a request takes its host's slot first, then a global slot, and
gives both back when its body is read (or it fails). Waiting for a busy host therefore
never holds a global slot, so one slow host cannot starve the others; and a holder of a
global slot never waits for anything else, so there is no deadlock. A request holds one
host slot at a time: each redirect hop takes the slots of its own host.

:class:`BodyReader` decompresses gzip and deflate itself, in bounded steps (zlib's
``max_length``), so a decompression bomb is refused after at most ``max_decoded_bytes`` of
output, never expanded whole in memory.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from newsmirror.errors import (
    BodyTooLargeError,
    DecompressionBombError,
    DeferredError,
    FetchError,
    FetchTimeoutError,
    ForbiddenAddressError,
    HostDownError,
    UnreachableError,
    without_url,
)

#: Attempts in a row to an origin that got no answer (no connection: refused, an unknown
#: name, none in the connect time; or no answer in time once connected: a read or total
#: timeout) after which its other requests of the run are not made.
DOWN_AFTER = 3
#: Errors of requests that were not made: they say nothing of whether a host answers.
_NOT_ASKED = (HostDownError, ForbiddenAddressError, DeferredError)

_UNSUPPORTED = frozenset({"br", "zstd", "compress", "x-compress"})  # we never ask for them


@dataclass(frozen=True)
class Deadline:
    """A moment by which a group of requests must have ended, and what it bounds."""

    at: float  # time.monotonic() by then
    what: str  # what runs out then, for messages ("the run's time for pages (300 s)")


class GiveUp:
    """The origins (keys: proxy setting and scheme://host:port) that gave no answer
    :data:`DOWN_AFTER` times in a row: the requests that follow fail at once rather than
    each wait as long (pages, images or revisits of a blocked or stalling host)."""

    def __init__(self) -> None:
        self._down: dict[tuple[str | None, str], str] = {}  # given up: why
        self._unanswered: dict[tuple[str | None, str], int] = {}  # no answer, times in a row

    def why(self, key: tuple[str | None, str]) -> str | None:
        """Why the origin was given up (its last error), or None when it was not."""
        return self._down.get(key)

    def answered(self, key: tuple[str | None, str]) -> None:
        """The origin answered (anything): it is not down."""
        self._unanswered.pop(key, None)

    def note(self, key: tuple[str | None, str], exc: FetchError) -> None:
        """Count an attempt that failed: one without an answer (no connection, or none in
        time) counts; any answer (an error status...) starts the count again."""
        if isinstance(exc, _NOT_ASKED):
            return
        if not isinstance(exc, UnreachableError | FetchTimeoutError):
            self.answered(key)
            return
        self._unanswered[key] = failed = self._unanswered.get(key, 0) + 1
        if failed >= DOWN_AFTER:
            self._down.setdefault(key, without_url(str(exc), exc.url))


class HostLimiter:
    """At most ``per_host`` requests in flight per hostname, ``concurrency`` in all."""

    def __init__(self, concurrency: int, per_host: int) -> None:
        self._global = asyncio.Semaphore(concurrency)
        self._per_host = per_host
        self._hosts: dict[str, asyncio.Semaphore] = {}

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one slot of ``host`` and one global slot (taken in that order)."""
        semaphore = self._hosts.get(host)
        if semaphore is None:
            semaphore = self._hosts[host] = asyncio.Semaphore(self._per_host)
        async with semaphore, self._global:
            yield


class _Overflow(Exception):
    """Decompressed output passed the room it was given."""


class _Inflater:
    """One gzip or deflate layer, decompressing in steps of bounded output."""

    def __init__(self, coding: str) -> None:
        self._gzip = coding in ("gzip", "x-gzip")
        self._raw_tried = False  # deflate: zlib-wrapped first, raw deflate if that fails
        self._done = False  # trailing garbage after the last member is ignored
        self._z = self._new()
        self.produced = 0

    def _new(self, raw: bool = False) -> zlib._Decompress:
        if raw:
            return zlib.decompressobj(-zlib.MAX_WBITS)  # deflate data without a header
        if self._gzip:
            return zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip header and trailer
        return zlib.decompressobj(zlib.MAX_WBITS)  # zlib header (what "deflate" means)

    def feed(self, data: bytes, room: int) -> bytes:
        """Decompress ``data``; raise _Overflow once more than ``room`` bytes came out in all."""
        out: list[bytes] = []
        while data and not self._done:
            chunk = self._step(data, room - self.produced + 1)
            self.produced += len(chunk)
            out.append(chunk)
            if self.produced > room:
                raise _Overflow
            if not self._z.eof:
                data = self._z.unconsumed_tail
            elif self._gzip and self._z.unused_data.startswith(b"\x1f\x8b"):
                data, self._z = self._z.unused_data, self._new()  # the next gzip member
            else:
                self._done = True
        return b"".join(out)

    def flush(self, room: int) -> bytes:
        """What the decompressor still holds (a body cut short gives what arrived)."""
        tail = b"" if self._done else self._z.flush(room - self.produced + 1)
        self.produced += len(tail)
        if self.produced > room:
            raise _Overflow
        return tail

    def _step(self, data: bytes, max_length: int) -> bytes:
        try:
            return self._z.decompress(data, max_length)
        except zlib.error:
            if self._gzip or self._raw_tried or self.produced:
                raise
            self._raw_tried = True  # "deflate" sent as raw deflate, as some servers do
            self._z = self._new(raw=True)
            return self._z.decompress(data, max_length)


class BodyReader:
    """Counts one response body as it streams in and decodes its Content-Encoding.

    ``feed`` each raw chunk, then ``finish``; both return decoded bytes. Raises
    BodyTooLargeError past ``max_bytes`` received, DecompressionBombError past
    ``max_decoded`` decoded, FetchError for a corrupt or unsupported encoding.
    """

    def __init__(self, content_encoding: str, max_bytes: int, max_decoded: int, url: str) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        for coding in codings:
            if coding in _UNSUPPORTED:
                raise FetchError(f"unsupported Content-Encoding {coding!r}: {url}", url=url)
        # unknown codings ("utf-8"...) are labels servers send by mistake: read as identity
        known = [c for c in codings if c in ("gzip", "x-gzip", "deflate")]
        self._layers = [_Inflater(coding) for coding in reversed(known)]
        self._max_bytes = max_bytes
        self._max_decoded = max_decoded
        self._url = url
        self.received = 0  # bytes on the wire
        self.decoded = 0  # bytes after decompression

    def feed(self, raw: bytes) -> bytes:
        """Count and decode one chunk as received."""
        self.received += len(raw)
        if self.received > self._max_bytes:
            raise BodyTooLargeError(
                f"body passed {self._max_bytes} bytes; cut off: {self._url}", url=self._url
            )
        return self._decode(raw, final=False)

    def finish(self) -> bytes:
        """Decoded bytes still held once the body has ended."""
        return self._decode(b"", final=True)

    def _decode(self, data: bytes, final: bool) -> bytes:
        try:
            for layer in self._layers:
                data = layer.feed(data, self._max_decoded)
                if final:
                    data += layer.flush(self._max_decoded)
        except _Overflow:
            raise self._bomb() from None
        except zlib.error as exc:
            message = f"corrupt compressed body ({exc}): {self._url}"
            raise FetchError(message, url=self._url) from exc
        self.decoded += len(data)
        if self.decoded > self._max_decoded:
            raise self._bomb()
        return data

    def _bomb(self) -> BodyTooLargeError:
        if not self._layers:
            message = f"body passed {self._max_decoded} bytes; cut off: {self._url}"
            return BodyTooLargeError(message, url=self._url)
        message = (
            f"body expands past {self._max_decoded} bytes when decompressed"
            f" ({self.received} bytes received); refused: {self._url}"
        )
        return DecompressionBombError(message, url=self._url)
