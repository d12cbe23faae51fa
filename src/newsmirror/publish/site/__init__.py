"""The static site: HTML pages and Atom feeds made from the store, search in the
browser from static files, written incrementally."""
