"""One source: its feeds in order until one answers, entries to candidates (pages
extracted, content cleaned, tokens made), in a worker process or in this one."""
