"""Feed bytes to entries: RSS 0.9x/1.0/2.0, Atom and JSON Feed, by the lxml fast path
or feedparser. Gives a ParsedFeed of plain Entry values with canonical links."""
