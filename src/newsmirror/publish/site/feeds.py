"""The static site's Atom feeds: every article, each source's, and the edits and
takedowns, each of the newest :data:`FEED_SIZE`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from newsmirror.config.settings import Config
from newsmirror.publish.atom import atom_feed
from newsmirror.publish.site.pieces import Names, entry, turn_entry
from newsmirror.store.base import Store
from newsmirror.store.siteviews import Listed

FEED_SIZE = 50  # entries per Atom feed


def site_feeds(
    config: Config, store: Store, names: Names, slugs: Iterable[str]
) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of each feed: ``feeds/all.xml``, ``feeds/<slug>.xml`` for each of
    ``slugs`` and ``feeds/changes.xml``."""
    base, title = config.base_url, config.site_title
    yield _feed(config, names, "feeds/all.xml", title, store.site_newest(FEED_SIZE, text=True))
    for slug in sorted(slugs):
        name = names.names.get(slug, slug)
        newest = store.site_newest(FEED_SIZE, slug, text=True)
        yield _feed(config, names, f"feeds/{slug}.xml", f"{title} · {name}", newest)
    edits = [entry(listed, names, base, version) for listed, version in store.site_edits(FEED_SIZE)]
    edits += [
        turn_entry(listed, kind, at, why, names, base)
        for listed, kind, at, why in store.site_turns(FEED_SIZE)
    ]
    edits = sorted(edits, key=lambda e: (e.updated, e.id), reverse=True)[:FEED_SIZE]
    changes = f"{title} · 修改与删除 edits and takedowns"
    yield "feeds/changes.xml", atom_feed(changes, "feeds/changes.xml", base, edits)


def _feed(
    config: Config, names: Names, path: str, title: str, articles: Iterable[Listed]
) -> tuple[str, bytes]:
    entries = [entry(a, names, config.base_url) for a in articles]
    return path, atom_feed(title, path, config.base_url, entries)
