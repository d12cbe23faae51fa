"""The load test (bounded in time): ``newsmirror serve`` in a process of its own, 200
concurrent connections from this one for 10 s mixing article pages, source pages,
searches and API lists over an archive, while a writer process stores new articles as
``run`` does: no error, no "database is locked". At 3,000 articles here to keep the
suite's time; ``python bench/serve.py --load`` runs it at 100,000 articles for 30 s."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from serve import build, load


def test_200_connections_while_a_writer_stores_see_no_error_and_no_lock(tmp_path: Path) -> None:
    home = tmp_path / "home"
    build(home, 3000)
    tallies, written, stderr = load(home, clients=200, seconds=10)
    assert written > 0  # the writer stored articles all along
    assert sum(len(t.latencies) for t in tallies.values()) > 200
    for name, tally in tallies.items():
        assert tally.errors == [] and tally.locked == 0, (name, tally.errors[:5])
    assert "database is locked" not in stderr and "Traceback" not in stderr
