"""What a publish run did: the one report every writer (markdown, site, digest) gives."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PublishReport:
    """What a publish run did."""

    written: int = 0  # files written (new or changed)
    unchanged: int = 0  # files whose bytes were already right
    errors: list[str] = field(default_factory=list)  # one line per file not written
    notes: list[str] = field(default_factory=list)  # what was left alone on purpose
