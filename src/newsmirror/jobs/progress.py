"""How a job tells its caller how far it got (progress bars)."""

from __future__ import annotations

from collections.abc import Callable

#: Called with a number of units of work done, for progress bars.
Advance = Callable[[int], None]


def no_progress(_: int) -> None:
    """The Advance of a job nobody watches."""
    return None
