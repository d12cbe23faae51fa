"""The store's parts on a read-only connection of their own, for worker processes (each
backend opens the connection): what collecting asks before it cleans anything, and what
making a site page reads."""

from __future__ import annotations

from datetime import datetime

from newsmirror.store.evidence import MediaRecord
from newsmirror.store.parts.db import Db
from newsmirror.store.parts.evidence import Evidence
from newsmirror.store.parts.memory import Memory
from newsmirror.store.parts.reading import Reading
from newsmirror.store.parts.site import Site
from newsmirror.types import Version


class ReadOnlyMemory(Memory):
    """What collecting asks the store (:class:`Memory`), for a worker process that sorts
    out a feed's items away from the store's connection."""

    def close(self) -> None:
        """Close the connection (or give it back)."""
        self.db.close()


class PageViews:
    """What making a site page reads (versions, mirrored images, takedowns), for a worker
    process that makes pages."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self._reading, self._evidence, self._site = Reading(db), Evidence(db), Site(db)

    def versions_of(self, article_id: int) -> tuple[Version, ...]:
        """Every version of an article, oldest first."""
        return self._reading.versions_of(article_id)

    def media_for(self, url: str) -> MediaRecord | None:
        """The mirrored copy of an image URL, if there is one."""
        return self._evidence.media_for(url)

    def site_gone(self, article_id: int) -> tuple[datetime | None, str] | None:
        """(when, why) an article was found gone, or None when it is not."""
        return self._site.site_gone(article_id)

    def close(self) -> None:
        """Close the connection (or give it back)."""
        self.db.close()
