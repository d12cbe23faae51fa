"""The one exception tree of newsmirror.

Every error raised on purpose by newsmirror derives from :class:`NewsmirrorError`;
errors of other libraries (httpx, sqlite3, feedparser, lxml) are translated at the
boundary of the stage that calls them and chained with ``from exc``::

    NewsmirrorError
    ├── ConfigError                     a setting or a source is wrong
    │   └── InvalidSourceError          (also ValueError) one source table is wrong
    ├── FetchError                      a request failed (network, status, limits)
    │   ├── FetchTimeoutError           connect/read/total timeout
    │   │   └── ConnectTimeoutError     no connection within the connect time
    │   ├── HostDownError               not asked: the host was unreachable or stalled earlier
    │   ├── ForbiddenAddressError       not asked: a non-public address, not allowed
    │   ├── DeferredError               not asked (or cut off): the run's time for it ran out
    │   ├── HTTPStatusError             a status we cannot use (4xx, 5xx)
    │   ├── BodyTooLargeError           the body passed the size cap
    │   │   └── DecompressionBombError  the decompressed body passed its own cap
    │   ├── NetworkError                connection refused/reset, DNS, TLS, proxy failures
    │   │   └── UnreachableError        no connection: refused, unknown name, no route
    │   └── RedirectError               too many redirects, or a Location we cannot follow
    │       └── RedirectLoopError       a URL came back within one redirect chain
    ├── ParseError                      a feed could not be read (also ValueError)
    ├── ExtractError                    an article page had no content we could take
    ├── StorageError                    the store failed or is inconsistent
    │   └── MigrationError              the schema could not be brought up to date
    ├── ArchiveFormatError              (also ValueError) a markdown archive file is malformed
    ├── MediaError                      an image was refused (not an image, too large, tiny...)
    ├── SearchQueryError                (also ValueError) a search query cannot be run
    ├── BadRequestError                 (also ValueError) a request's parameter cannot be read
    ├── PublishError                    a file could not be written
    └── LockedError                     another `newsmirror run` holds the archive
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class Failure(StrEnum):
    """What kind of failure an error is, in a stable word: what the store keeps as a
    feed's last status (an HTTP status is kept as its number instead), whatever the
    error's class is called."""

    FAILED = "failed"
    CONFIG = "configuration"
    REQUEST = "request-failed"
    TIMEOUT = "timed-out"
    CONNECT_TIMEOUT = "no-connection-in-time"
    HOST_DOWN = "host-given-up"
    ADDRESS_REFUSED = "address-refused"
    DEFERRED = "deferred"
    HTTP_STATUS = "http-status"
    TOO_LARGE = "too-large"
    TOO_LARGE_UNPACKED = "too-large-unpacked"
    NETWORK = "network-error"
    UNREACHABLE = "unreachable"
    BAD_REDIRECT = "bad-redirect"
    REDIRECT_LOOP = "redirect-loop"
    NOT_A_FEED = "not-a-feed"
    NO_CONTENT = "no-content"
    STORAGE = "storage"
    ARCHIVE_FORMAT = "archive-format"
    MEDIA = "media"
    QUERY = "query"
    PUBLISH = "publish"
    LOCKED = "locked"


def without_url(message: str, url: str) -> str:
    """An error message without the URL it names (the line already starts with it)."""
    return message.replace(f"{url}: ", "").replace(f": {url}", "").strip(": ") or message


class NewsmirrorError(Exception):
    """Root of every error newsmirror raises on purpose."""

    failure: ClassVar[Failure] = Failure.FAILED


class ConfigError(NewsmirrorError):
    """A configuration file, a setting or a source definition is wrong."""

    failure: ClassVar[Failure] = Failure.CONFIG


class InvalidSourceError(ConfigError, ValueError):
    """One source definition is wrong (a missing name, no feeds, a bad URL...)."""


class FetchError(NewsmirrorError):
    """A request could not be completed; ``url`` names what was asked for."""

    failure: ClassVar[Failure] = Failure.REQUEST

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class FetchTimeoutError(FetchError):
    """The server was too slow (connect, read or total time limit)."""

    failure: ClassVar[Failure] = Failure.TIMEOUT


class ConnectTimeoutError(FetchTimeoutError):
    """No connection was opened within the connect time limit."""

    failure: ClassVar[Failure] = Failure.CONNECT_TIMEOUT


class HostDownError(FetchError):
    """Not asked: the host could not be reached, or did not answer in time, too often
    earlier in the same run."""

    failure: ClassVar[Failure] = Failure.HOST_DOWN


class ForbiddenAddressError(FetchError):
    """Not asked: the request would connect to a non-public address (loopback, private,
    link-local...) where the connection policy does not allow it (see
    :mod:`newsmirror.fetch.netpolicy`)."""

    failure: ClassVar[Failure] = Failure.ADDRESS_REFUSED


class DeferredError(FetchError):
    """Not asked, or cut off: the time a run gives article pages, images or revisits ran
    out (``what`` names it); the next run asks again."""

    failure: ClassVar[Failure] = Failure.DEFERRED

    def __init__(self, message: str, *, url: str = "", what: str = "") -> None:
        super().__init__(message, url=url)
        self.what = what


class HTTPStatusError(FetchError):
    """The server answered with a status we cannot use."""

    failure: ClassVar[Failure] = Failure.HTTP_STATUS

    def __init__(
        self, message: str, *, url: str = "", status: int = 0, retry_after: float | None = None
    ) -> None:
        super().__init__(message, url=url)
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait (429/503), or None


class BodyTooLargeError(FetchError):
    """The response body (or its decompressed form) passed the size cap."""

    failure: ClassVar[Failure] = Failure.TOO_LARGE


class ParseError(NewsmirrorError, ValueError):
    """A feed document could not be parsed into entries."""

    failure: ClassVar[Failure] = Failure.NOT_A_FEED


class ExtractError(NewsmirrorError):
    """The main content of an article page could not be found."""

    failure: ClassVar[Failure] = Failure.NO_CONTENT


class StorageError(NewsmirrorError):
    """The store failed, or found itself inconsistent."""

    failure: ClassVar[Failure] = Failure.STORAGE


class MigrationError(StorageError):
    """The database schema could not be migrated to the current version."""


class ArchiveFormatError(NewsmirrorError, ValueError):
    """A file of a markdown archive does not have the duty-machine layout."""

    failure: ClassVar[Failure] = Failure.ARCHIVE_FORMAT


class MediaError(NewsmirrorError):
    """An image to mirror was refused; ``url`` names it, ``reason`` says why."""

    failure: ClassVar[Failure] = Failure.MEDIA

    def __init__(self, message: str, *, url: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.url = url
        self.reason = reason


class SearchQueryError(NewsmirrorError, ValueError):
    """A search query is empty, too long, or asks for nothing to find."""

    failure: ClassVar[Failure] = Failure.QUERY


class BadRequestError(NewsmirrorError, ValueError):
    """A request to the live reader names a parameter it cannot read (a day that is no
    date, a limit out of range, a cursor it did not give, an unknown source): answered
    with 400 and this message."""

    failure: ClassVar[Failure] = Failure.QUERY


class PublishError(NewsmirrorError):
    """An output file could not be written."""

    failure: ClassVar[Failure] = Failure.PUBLISH


class DecompressionBombError(BodyTooLargeError):
    """The body grew past the decoded-size cap while being decompressed (gzip/deflate)."""

    failure: ClassVar[Failure] = Failure.TOO_LARGE_UNPACKED


class NetworkError(FetchError):
    """The connection failed: refused, reset, DNS, TLS, a proxy, or a broken HTTP exchange."""

    failure: ClassVar[Failure] = Failure.NETWORK


class UnreachableError(NetworkError):
    """No connection could be opened: refused, an unknown name, an unreachable network."""

    failure: ClassVar[Failure] = Failure.UNREACHABLE


class RedirectError(FetchError):
    """Too many redirects, or a redirect without a usable Location."""

    failure: ClassVar[Failure] = Failure.BAD_REDIRECT


class RedirectLoopError(RedirectError):
    """A redirect chain came back to a URL it had already visited."""

    failure: ClassVar[Failure] = Failure.REDIRECT_LOOP


class LockedError(NewsmirrorError):
    """Another ``newsmirror run`` holds this archive's lock."""

    failure: ClassVar[Failure] = Failure.LOCKED
