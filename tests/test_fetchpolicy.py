"""The pure parts of the fetch stage, without a network: header parsing, the retry
policy, redirect targets (fetchpolicy) and the bounded body decoder (fetchlimits)."""

from __future__ import annotations

import gzip
import random
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest

from newsmirror.errors import (
    BodyTooLargeError,
    DecompressionBombError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    NetworkError,
    RedirectError,
    RedirectLoopError,
)
from newsmirror.fetch.limits import BodyReader
from newsmirror.fetch.policy import (
    parse_max_age,
    parse_retry_after,
    redirect_target,
    retry_delay,
)

MIB = 1024 * 1024


def test_parse_retry_after_and_max_age() -> None:
    now = datetime(2023, 4, 9, 11, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Sun, 09 Apr 2023 11:15:00 GMT", now) == 900.0
    assert parse_retry_after("Sun, 09 Apr 2023 10:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after("") is None
    assert parse_max_age("public, max-age=300, s-maxage=600") == 300.0
    assert parse_max_age("no-cache") is None
    assert parse_max_age("no-cache, max-age=3600") is None  # ask again every time
    assert parse_max_age("max-age=600, No-Store") is None
    assert parse_max_age('private, no-cache="set-cookie", max-age=60') is None
    assert parse_max_age("max-age=60, no-transform") == 60.0


def test_retry_delay_policy() -> None:
    def top(low: float, high: float) -> float:
        return high  # the top of the jitter range

    def delay(exc: FetchError, retry: int, uniform: Any = top) -> float | None:
        return retry_delay(exc, retry, backoff=0.5, max_wait=10.0, uniform=uniform)

    assert delay(HTTPStatusError("429", status=429, retry_after=3.0), 0) == 3.0
    assert delay(HTTPStatusError("429", status=429, retry_after=60.0), 0) is None  # defer
    assert delay(HTTPStatusError("404", status=404), 0) is None
    assert delay(HTTPStatusError("502", status=502), 2) == 2.0
    assert delay(HTTPStatusError("502", status=502), 9) == 10.0  # capped at max_wait
    assert delay(NetworkError("reset"), 0) == 0.5
    assert delay(FetchTimeoutError("slow"), 0) == 0.5
    assert delay(BodyTooLargeError("big"), 0) is None
    assert delay(RedirectLoopError("loop"), 0) is None
    jitter = random.Random(1).uniform
    waits = [delay(NetworkError("x"), 1, jitter) for _ in range(50)]
    assert all(w is not None and 0 <= w <= 1.0 for w in waits) and len(set(waits)) > 1


def test_redirect_target() -> None:
    assert redirect_target("http://a.example/x/y", "../z#top") == "http://a.example/z"
    assert redirect_target("http://a.example/x", "//b.example/") == "http://b.example/"
    with pytest.raises(RedirectError):
        redirect_target("http://a.example/", "file:///etc/passwd")
    with pytest.raises(RedirectError):
        redirect_target("http://a.example/", "  ")


@pytest.mark.parametrize(
    "encoded",
    [
        lambda data: zlib.compress(data),
        lambda data: zlib.compress(data)[2:-4],  # raw deflate, as some servers send it
    ],
)
def test_body_reader_deflate_both_forms(encoded: Any) -> None:
    data = b"<rss>" + b"news " * 5000 + b"</rss>"
    wire = encoded(data)
    reader = BodyReader("deflate", MIB, MIB, "http://x/")
    out = b"".join(reader.feed(wire[i : i + 100]) for i in range(0, len(wire), 100))
    assert out + reader.finish() == data and reader.received == len(wire)


def test_body_reader_stacked_encodings_and_unsupported_ones() -> None:
    data = b"feed " * 1000
    reader = BodyReader("deflate, gzip", MIB, MIB, "http://x/")
    assert reader.feed(gzip.compress(zlib.compress(data))) + reader.finish() == data
    with pytest.raises(FetchError, match="unsupported Content-Encoding 'br'"):
        BodyReader("br", MIB, MIB, "http://x/")
    plain = BodyReader("identity", 10, 10, "http://x/")
    with pytest.raises(BodyTooLargeError):
        plain.feed(b"x" * 11)


def test_body_reader_refuses_a_bomb_in_one_chunk_with_bounded_output() -> None:
    bomb = gzip.compress(bytes(64 * MIB))
    reader = BodyReader("gzip", MIB, MIB, "http://x/")
    with pytest.raises(DecompressionBombError, match="expands past 1048576 bytes"):
        reader.feed(bomb)
    assert reader.decoded == 0  # nothing past the cap was ever handed out


def test_body_reader_multi_member_gzip_and_trailing_garbage() -> None:
    wire = gzip.compress(b"one ") + gzip.compress(b"two") + b"\0\0\0"
    reader = BodyReader("gzip", MIB, MIB, "http://x/")
    assert reader.feed(wire) + reader.finish() == b"one two"
