"""newsmirror: a durable, searchable, republishable archive of news feeds.

The pipeline: sources → fetch → parse → extract → clean → store → publish. The
:class:`~newsmirror.archive.Archive` facade wires the stages; ``newsmirror`` (cli.py) is
a thin command line over it.
"""

__version__ = "0.1.0"
