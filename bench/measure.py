"""Measure a command as a whole process tree: wall time, CPU time and peak memory summed
over every process it starts (workers included, even those it leaves to end on their own).

The measuring process makes itself the "child subreaper" of what it starts (Linux's
PR_SET_CHILD_SUBREAPER): a worker process whose parent ends is given to it, not to init,
so that it is waited for and its CPU time counted. Memory is sampled from /proc every
10 ms: the proportional set sizes of every process below this one (a page a forked
worker shares with its parent counts once), summed; the peak of that sum.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_PR_SET_CHILD_SUBREAPER = 36
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Measured:
    """One command's figures."""

    seconds: float  # wall time
    cpu: float  # user + system seconds of every process of the tree
    peak_mb: float  # peak of the tree's memory (proportional set sizes summed), MiB
    stdout: str  # what it printed


def become_subreaper() -> None:
    """Orphaned descendants are given to this process (Linux); elsewhere nothing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _children() -> dict[int, list[int]]:
    """Every process's children, by parent pid (from /proc)."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _tree_memory(root: int) -> int:
    """Bytes of memory of every process below ``root``: their proportional set sizes
    (a page a forked worker shares with its parent counts once, split between them),
    or their resident sizes where the kernel does not give those."""
    tree, total = _children(), 0
    stack = list(tree.get(root, []))
    while stack:
        pid = stack.pop()
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += _pss(pid)
        stack += tree.get(pid, [])
    return total


def _pss(pid: int) -> int:
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    for line in rollup.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    raise ValueError(f"no Pss for {pid}")


def run(command: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run ``command`` to its end and the end of everything it started; its figures."""
    become_subreaper()
    me = os.getpid()
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_memory(me))
            done.wait(0.01)

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    sampler.start()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    stdout, _ = process.communicate()
    _reap_orphans()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode:
        raise RuntimeError(f"{command[:3]}... exited with {process.returncode}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(seconds, cpu, peak[0] / 2**20, stdout)


def _reap_orphans() -> None:
    """Wait for the descendants given to this process (workers their parent left)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, 0)
        except ChildProcessError:
            return
        if pid == 0:
            return
