"""An article page to its main content: a source's CSS rule or the extractor, and the
quality scores behind that choice (when to fetch a page and whether to use it is
collecting's: :mod:`newsmirror.collect.pages`)."""
