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
    ├── PublishError                    a file could not be written
    └── LockedError                     another `newsmirror run` holds the archive
"""

from __future__ import annotations


def without_url(message: str, url: str) -> str:
    """An error message without the URL it names (the line already starts with it)."""
    return message.replace(f"{url}: ", "").replace(f": {url}", "").strip(": ") or message


class NewsmirrorError(Exception):
    """Root of every error newsmirror raises on purpose."""


class ConfigError(NewsmirrorError):
    """A configuration file, a setting or a source definition is wrong."""


class InvalidSourceError(ConfigError, ValueError):
    """One source definition is wrong (a missing name, no feeds, a bad URL...)."""


class FetchError(NewsmirrorError):
    """A request could not be completed; ``url`` names what was asked for."""

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class FetchTimeoutError(FetchError):
    """The server was too slow (connect, read or total time limit)."""


class ConnectTimeoutError(FetchTimeoutError):
    """No connection was opened within the connect time limit."""


class HostDownError(FetchError):
    """Not asked: the host could not be reached, or did not answer in time, too often
    earlier in the same run."""


class ForbiddenAddressError(FetchError):
    """Not asked: the request would connect to a non-public address (loopback, private,
    link-local...) where the connection policy does not allow it (see
    :mod:`newsmirror.netpolicy`)."""


class DeferredError(FetchError):
    """Not asked, or cut off: the time a run gives article pages, images or revisits ran
    out (``what`` names it); the next run asks again."""

    def __init__(self, message: str, *, url: str = "", what: str = "") -> None:
        super().__init__(message, url=url)
        self.what = what


class HTTPStatusError(FetchError):
    """The server answered with a status we cannot use."""

    def __init__(
        self, message: str, *, url: str = "", status: int = 0, retry_after: float | None = None
    ) -> None:
        super().__init__(message, url=url)
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait (429/503), or None


class BodyTooLargeError(FetchError):
    """The response body (or its decompressed form) passed the size cap."""


class ParseError(NewsmirrorError, ValueError):
    """A feed document could not be parsed into entries."""


class ExtractError(NewsmirrorError):
    """The main content of an article page could not be found."""


class StorageError(NewsmirrorError):
    """The store failed, or found itself inconsistent."""


class MigrationError(StorageError):
    """The database schema could not be migrated to the current version."""


class ArchiveFormatError(NewsmirrorError, ValueError):
    """A file of a markdown archive does not have the duty-machine layout."""


class MediaError(NewsmirrorError):
    """An image to mirror was refused; ``url`` names it, ``reason`` says why."""

    def __init__(self, message: str, *, url: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.url = url
        self.reason = reason


class SearchQueryError(NewsmirrorError, ValueError):
    """A search query is empty, too long, or asks for nothing to find."""


class PublishError(NewsmirrorError):
    """An output file could not be written."""


class DecompressionBombError(BodyTooLargeError):
    """The body grew past the decoded-size cap while being decompressed (gzip/deflate)."""


class NetworkError(FetchError):
    """The connection failed: refused, reset, DNS, TLS, a proxy, or a broken HTTP exchange."""


class UnreachableError(NetworkError):
    """No connection could be opened: refused, an unknown name, an unreachable network."""


class RedirectError(FetchError):
    """Too many redirects, or a redirect without a usable Location."""


class RedirectLoopError(RedirectError):
    """A redirect chain came back to a URL it had already visited."""


class LockedError(NewsmirrorError):
    """Another ``newsmirror run`` holds this archive's lock."""
