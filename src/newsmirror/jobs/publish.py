"""The publish jobs: the markdown archive, the static site and the daily digests, each
written from the store, only what changed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from newsmirror.jobs.progress import Advance, no_progress
from newsmirror.publish.markdown.writer import MarkdownPublisher
from newsmirror.times import Clock

if TYPE_CHECKING:
    from newsmirror.config.settings import Config
    from newsmirror.publish.report import PublishReport
    from newsmirror.store.base import Store


class PublishJob:
    """``publish`` and the digests: given the store it reads (and records the files
    written in), the archive's configuration, and the clock that says which days the
    digests are of."""

    def __init__(self, store: Store, config: Config, clock: Clock) -> None:
        self.store = store
        self.config = config
        self.clock = clock

    def markdown(
        self,
        content: str | None = None,
        force: bool = False,
        advance: Advance = no_progress,
        images: str | None = None,
    ) -> PublishReport:
        """Write article files, lists and README.md; only what changed is written.

        ``content`` and ``images`` override the markdown_content and markdown_images
        settings; with "mirrored" images, article files link the media store's copies.
        """
        return MarkdownPublisher(self.config, self.store).run(content, force, advance, images)

    def site(
        self,
        out: str | os.PathLike[str] | None = None,
        force: bool = False,
        advance: Advance = no_progress,
    ) -> PublishReport:
        """Write the static site (HTML pages and Atom feeds) into ``out`` (default: the
        site_dir setting); only what changed is written."""
        from newsmirror.publish.site.writer import SitePublisher

        target = Path(out).expanduser() if out is not None else None
        return SitePublisher(self.config, self.store).run(target, force, advance)

    def digests(self) -> PublishReport:
        """The digests of today and yesterday (in the site's timezone), as ``run`` keeps
        them after each cycle."""
        from newsmirror.publish.digest import write_digests

        return write_digests(self.config, self.store, self.clock())
