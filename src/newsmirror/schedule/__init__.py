"""The scheduler behind ``newsmirror run``: when sources and revisits are due, the
cycles, the lock that keeps one run per archive, and signals."""
