"""Sources in the store: their names and feeds, and the archive ids each gives out
(never one twice)."""

from __future__ import annotations

from collections.abc import Sequence

from newsmirror import decide
from newsmirror.errors import StorageError
from newsmirror.store.parts.db import Db
from newsmirror.types import ID_CEILING, Source


class Sources:
    """The sources table: names, id schemes, the order of feeds, the countdown's floor."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self._known: set[str] = set()  # source slugs known to be in the table
        self._schemes: dict[str, str] = {}  # id scheme per source, as synced
        self._lowest: dict[str, int] = {}  # countdown floor per source, as last written
        db.on_rollback(self.forget)

    def forget(self) -> None:
        """Forget what was learnt of the table (a rollback undid it, or rows were written
        around this part)."""
        self._known.clear()
        self._schemes.clear()
        self._lowest.clear()

    def sync_sources(self, sources: Sequence[Source]) -> None:
        """Record sources and the order of their feeds; never removes anything."""
        self._schemes.clear()
        with self.db.transaction():
            for source in sources:
                self.db.run(
                    "INSERT INTO sources (slug, name, id_scheme) VALUES (?, ?, ?) "
                    "ON CONFLICT (slug) DO UPDATE SET name = excluded.name, "
                    "id_scheme = excluded.id_scheme",
                    (source.slug, source.name, source.id_scheme),
                )
                self.db.run(  # a feed no longer configured goes after the others, for good
                    "UPDATE feeds SET position = 1000 + position % 1000 WHERE source = ?",
                    (source.slug,),
                )
                for position, url in enumerate(source.feeds):
                    self.db.run(
                        "INSERT INTO feeds (source, url, position) VALUES (?, ?, ?) "
                        "ON CONFLICT (source, url) DO UPDATE SET position = excluded.position",
                        (source.slug, url, position),
                    )

    def ensure(self, slug: str) -> None:
        """Add a source not configured (named by its slug) the first time it is met."""
        if slug not in self._known:  # sources never go away, so once is enough
            self.db.run(
                "INSERT INTO sources (slug, name) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (slug, slug),
            )
            self._known.add(slug)

    def post_scheme(self, source: str) -> bool:
        """Whether the source's file ids are its posts' own (CDT), not a countdown."""
        if source not in self._schemes:
            row = self.db.one("SELECT id_scheme FROM sources WHERE slug = ?", (source,))
            self._schemes[source] = str(row["id_scheme"]) if row else "countdown"
        return self._schemes[source] == "post"

    def allocate(self, source: str, post_number: int | None) -> int:
        """The next archive id: the post's own (CDT) when free, else the countdown's.

        A countdown source's ``lowest_id`` is below every id it holds (imports lower it),
        so the next one down is free; a post-scheme source checks, since post ids land
        anywhere.
        """
        self.ensure(source)
        post_scheme = self.post_scheme(source)
        if post_number is not None:
            wanted = decide.post_archive_id(post_number)
            if wanted >= 0 and not self._id_used(source, wanted):
                return wanted
        lowest = self._lowest.get(source)
        if lowest is None:
            row = self.db.one("SELECT lowest_id FROM sources WHERE slug = ?", (source,))
            lowest = int(row["lowest_id"]) if row else ID_CEILING
        try:
            candidate = decide.next_countdown_id(lowest)
            while post_scheme and self._id_used(source, candidate):
                candidate = decide.next_countdown_id(candidate)
        except ValueError as exc:
            raise StorageError(f"{source}: no archive id left below {lowest}") from exc
        self.db.run("UPDATE sources SET lowest_id = ? WHERE slug = ?", (candidate, source))
        self._lowest[source] = candidate  # a rolled-back allocation only leaves a gap
        return candidate

    def keep_below(self, source: str, archive_id: int) -> None:
        """Keep a countdown source's next ids below ``archive_id`` (an imported file's)."""
        least = self.db.dialect.least("lowest_id", "?")
        self.db.run(
            f"UPDATE sources SET lowest_id = {least} WHERE slug = ? AND id_scheme = 'countdown'",
            (archive_id, source),
        )
        self._lowest.pop(source, None)

    def _id_used(self, source: str, archive_id: int) -> bool:
        found = self.db.one(
            "SELECT 1 FROM articles WHERE source = ? AND archive_id = ? LIMIT 1",
            (source, archive_id),
        )
        return found is not None
