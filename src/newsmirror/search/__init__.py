"""Search, the pure part: folding (traditional and simplified, width, case), the
index's tokens, the query language and snippets. The index itself lives in store/."""
