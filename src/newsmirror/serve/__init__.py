"""The live reader (``newsmirror serve``): an ASGI application over the store that serves
the static site's pages from the same templates, search over the whole text, a JSON API,
Atom feeds, health and metrics; read-only, on connections of its own beside the writer."""
