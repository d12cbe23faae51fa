"""newsmirror: a durable, searchable, republishable archive of news feeds.

The pipeline: sources → fetch → parse → extract → clean → store → publish. The
:class:`~newsmirror.jobs.archive.Archive` opens an archive and makes its jobs, which
call the stages; ``newsmirror`` (:mod:`newsmirror.cli`) is a thin command line over it.
"""

__version__ = "0.1.0"
