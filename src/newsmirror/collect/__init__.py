"""One source: its feeds in order until one answers, entries to candidates (the pages
fetched when the source's policy asks and used when they give more, content cleaned,
tokens made), in a worker process or in this one."""
