"""Mirrored images: download what a source's new articles reference, check it, and hand
the accepted bytes to the archive for the media store.

Part of the collect stage (one source, no database, no disk). An image URL is tried once
per run; one that was mirrored or refused for good before (the store says so through
``tried``) is not fetched again. Failures are results, never exceptions: a refused image
(not an image, too large, tiny) is recorded as "refused" and not tried again; a network
failure or a server error as "failed", tried again when an article referencing it is; one
not asked (the time for images ran out, or its host was given up in this run) as
"deferred", asked again by the source's next run.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from newsmirror.errors import (
    BodyTooLargeError,
    DeferredError,
    FetchError,
    ForbiddenAddressError,
    HostDownError,
    HTTPStatusError,
    MediaError,
    RedirectError,
    without_url,
)
from newsmirror.fetch.client import Fetcher, Request
from newsmirror.media.images import ImageInfo, check_image, image_urls, media_path
from newsmirror.types import Candidate, MediaStatus


@dataclass(frozen=True)
class ImageLimits:
    """What an image must be to be kept."""

    max_bytes: int  # larger bodies are refused (counted while streaming)
    min_side: int  # images with a shorter side are skipped (pixels, spacers, icons)


@dataclass(frozen=True)
class ImageResult:
    """What came of one image URL."""

    url: str  # the image's absolute URL
    status: MediaStatus  # what became of it
    reason: str = ""  # why it was refused or failed
    body: bytes = b""  # the image, when mirrored
    info: ImageInfo | None = None  # its format and size, when mirrored

    @property
    def sha256(self) -> str:
        """The hex sha256 of the body (its name in the media store)."""
        return hashlib.sha256(self.body).hexdigest()

    @property
    def path(self) -> str:
        """Its path in the media store, "ab/<sha256>.<ext>" (mirrored images only)."""
        if self.info is None:
            raise ValueError(f"{self.url} was not mirrored")
        return media_path(self.sha256, self.info.ext)


def wanted_images(candidates: Iterable[Candidate], tried: Callable[[str], bool]) -> list[str]:
    """The image URLs the candidates' cleaned HTML references, each once, in order,
    without those tried for good before."""
    urls: dict[str, None] = {}
    for candidate in candidates:
        for url in image_urls(candidate.clean_html, candidate.link):
            urls.setdefault(url, None)
    return [url for url in urls if not tried(url)]


async def fetch_images(
    urls: list[str], fetcher: Fetcher, proxy: str | None, limits: ImageLimits
) -> list[ImageResult]:
    """Download and check these images concurrently (within the Fetcher's limits and a
    deadline for them all: those it leaves are "deferred")."""
    until = fetcher.pages_deadline("images")
    asks = (Request(url, proxy=proxy, max_bytes=limits.max_bytes, deadline=until) for url in urls)
    return list(await asyncio.gather(*(_image(ask, fetcher, limits) for ask in asks)))


async def _image(request: Request, fetcher: Fetcher, limits: ImageLimits) -> ImageResult:
    url = request.url
    try:
        result = await fetcher.fetch(request)
        content_type = result.headers.get("content-type", "")
        info = check_image(
            result.body,
            content_type,
            max_bytes=limits.max_bytes,
            min_side=limits.min_side,
            url=url,
        )
    except MediaError as exc:
        return ImageResult(url, MediaStatus.REFUSED, exc.reason or str(exc))
    except BodyTooLargeError as exc:
        return ImageResult(url, MediaStatus.REFUSED, without_url(str(exc), url))
    except HTTPStatusError as exc:
        lasting = 400 <= exc.status < 500 and exc.status not in (408, 429)
        return ImageResult(
            url, MediaStatus.REFUSED if lasting else MediaStatus.FAILED, without_url(str(exc), url)
        )
    except (RedirectError, ForbiddenAddressError) as exc:
        return ImageResult(url, MediaStatus.REFUSED, without_url(str(exc), url))
    except (DeferredError, HostDownError) as exc:  # not asked: the next run asks
        return ImageResult(url, MediaStatus.DEFERRED, without_url(str(exc), url))
    except FetchError as exc:
        return ImageResult(url, MediaStatus.FAILED, without_url(str(exc), url))
    return ImageResult(url, MediaStatus.MIRRORED, body=result.body, info=info)
