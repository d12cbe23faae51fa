"""Worker processes that end with the process that started them.

A pool's worker holds the pipes of its pool (both ends, so it never sees them close) and
the standard output and error of the command that started it: a command killed with
SIGKILL left its workers waiting for ever, and a cron or CI job reading the command's
output waited with them. A worker of :func:`worker_pool` lets go of the standard streams
as it starts, is killed by the kernel when its parent dies (Linux's PR_SET_PDEATHSIG),
and everywhere watches a pipe only its parent holds open: when it closes, the worker
exits.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

_PR_SET_PDEATHSIG = 1  # prctl option: the signal a process gets when its parent dies
#: The write ends of the pipes this process's workers watch (a forked worker closes its
#: copies: only the parent may hold them).
_HELD: list[Any] = []


@contextlib.contextmanager
def worker_pool(workers: int, method: str, wait: bool = True) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``workers`` processes started by ``method`` ("fork" or "spawn") that
    end with this process (see the module's docstring); shut down when the block ends
    (``wait``: for the work given to it, else its pending work is cancelled)."""
    import multiprocessing  # loaded only when a worker is used
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context(method)
    reader, writer = context.Pipe(duplex=False)
    _HELD.append(writer)
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=start, initargs=(os.getpid(), reader)
    )
    try:
        yield pool
    finally:
        pool.shutdown(wait=wait, cancel_futures=not wait)
        _HELD.remove(writer)
        writer.close()  # the workers left exit now
        reader.close()


def start(parent: int, lifeline: Any) -> None:
    """A worker's first step: it ends with ``parent`` (or at once when that is gone),
    holds none of its streams, and leaves signals to it (Ctrl-C is the parent's to
    handle, and a forked event loop's wakeup pipe not the worker's to write to)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.set_wakeup_fd(-1)
    for held in _HELD:  # a forked worker's copies of its parent's ends
        held.close()
    _HELD.clear()
    _let_go_of_streams()
    if sys.platform == "linux":
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent was gone before the call
        os._exit(1)
    threading.Thread(target=_watch, args=(lifeline,), daemon=True).start()


def _let_go_of_streams() -> None:
    """Standard input, output and error on the null device: the caller's pipes are
    closed when the parent is gone, whatever a worker still does."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _watch(lifeline: Any) -> None:
    """Exit once nobody holds the other end of ``lifeline`` open: the parent is gone."""
    with contextlib.suppress(EOFError, OSError):
        while True:
            lifeline.recv_bytes()
    os._exit(1)
