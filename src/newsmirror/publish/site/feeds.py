"""The static site's Atom feeds: every article, each source's, and the edits and
takedowns, each of the newest :data:`FEED_SIZE`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from newsmirror.config.settings import Config
from newsmirror.publish.atom import atom_feed
from newsmirror.publish.site.pieces import Names, entry, turn_entry
from newsmirror.store.base import Store

FEED_SIZE = 50  # entries per Atom feed


def site_feeds(
    config: Config, store: Store, names: Names, slugs: Iterable[str]
) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of each feed: ``feeds/all.xml``, ``feeds/<slug>.xml`` for each of
    ``slugs`` and ``feeds/changes.xml``."""
    yield "feeds/all.xml", articles_feed(config, store, names)
    for slug in sorted(slugs):
        yield f"feeds/{slug}.xml", articles_feed(config, store, names, slug)
    yield "feeds/changes.xml", changes_feed(config, store, names)


def articles_feed(config: Config, store: Store, names: Names, slug: str = "") -> bytes:
    """The feed of the newest articles: of one source (``feeds/<slug>.xml``) or of all
    (``feeds/all.xml``)."""
    title = config.site_title
    if slug:
        title = f"{title} · {names.names.get(slug, slug)}"
    path = f"feeds/{slug or 'all'}.xml"
    entries = [entry(a, names, config.base_url) for a in store.site_newest(FEED_SIZE, slug, True)]
    return atom_feed(title, path, config.base_url, entries)


def changes_feed(config: Config, store: Store, names: Names) -> bytes:
    """``feeds/changes.xml``: the newest edits and takedowns (and returns)."""
    base = config.base_url
    edits = [entry(listed, names, base, version) for listed, version in store.site_edits(FEED_SIZE)]
    edits += [
        turn_entry(listed, kind, at, why, names, base)
        for listed, kind, at, why in store.site_turns(FEED_SIZE)
    ]
    edits = sorted(edits, key=lambda e: (e.updated, e.id), reverse=True)[:FEED_SIZE]
    changes = f"{config.site_title} · 修改与删除 edits and takedowns"
    return atom_feed(changes, "feeds/changes.xml", base, edits)
