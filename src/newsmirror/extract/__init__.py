"""An article page to its main content: a source's CSS rule or the extractor, when to
fetch pages and whether to use them, and the quality scores behind that choice."""
