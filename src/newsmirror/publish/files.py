"""Atomic, confined file writes shared by every publisher."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import IO

from newsmirror.errors import PublishError


def digest(data: bytes) -> str:
    """The digest recorded for published bytes."""
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=4096)
def _inside(root: Path, directory: Path) -> bool:
    """Whether ``directory`` (symbolic links followed) is ``root`` or below it."""
    real = directory.resolve()
    return real == root or root in real.parents


def confined(root: Path, relative: str) -> Path:
    """``root / relative``, refusing any path that would leave ``root``.

    The path must be relative, without ``..``, and its folder must not lead outside
    through a symbolic link (checked once per folder).
    """
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or "\x00" in relative:
        raise PublishError(f"refusing to write outside the archive: {relative!r}")
    target = root / pure
    parent = target.parent
    if parent not in _SAFE:
        if not _inside(_real(root), _existing(parent, root)):
            raise PublishError(f"refusing to write through a link out of the archive: {relative!r}")
        if parent.is_dir():
            _SAFE.add(parent)  # an existing folder found inside: no need to look again
    if target.is_symlink():
        raise PublishError(f"refusing to write through a link: {relative!r}")
    return target


_SAFE: set[Path] = set()  # folders already found to lie inside their archive


@lru_cache(maxsize=64)
def _real(root: Path) -> Path:
    """The archive root with links resolved (once per root)."""
    return root.resolve()


def _existing(directory: Path, root: Path) -> Path:
    """The nearest folder of ``directory`` (itself or a parent) that exists."""
    while directory != root and not directory.is_dir():
        directory = directory.parent
    return directory


_COUNTER = itertools.count()
_MADE: set[Path] = set()  # folders known to exist


def write_atomic(path: Path, data: bytes, sync: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    A crash at any moment leaves either the old file or the new one, never half of one.
    With ``sync`` the data reaches the disk before the rename; a caller writing many files
    passes ``sync=False`` and calls :func:`flush_to_disk` once before it records them.
    """
    tmp = path.with_name(f".newsmirror-{os.getpid()}-{next(_COUNTER)}.tmp")
    if not sync:
        note_unsynced(path)
    try:
        if path.parent not in _MADE:
            path.parent.mkdir(parents=True, exist_ok=True)
            sweep_temporaries([path.parent])  # once a process: see the function
            _MADE.add(path.parent)
        try:
            _write(tmp, data, sync)
        except FileNotFoundError:  # the folder was removed meanwhile: make it again
            path.parent.mkdir(parents=True, exist_ok=True)
            _write(tmp, data, sync)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):  # e.g. the folder is a file: nothing to remove
            tmp.unlink(missing_ok=True)
        raise PublishError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _write(path: Path, data: bytes, sync: bool) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())


#: Files written without a sync since the last flush_to_disk (None: too many to list).
_UNSYNCED: list[Path] | None = []
#: Beyond this many files, one sync of every file system is cheaper than one each.
SYNC_EACH_MAX = 2000


def note_unsynced(path: Path) -> None:
    """Add a file written elsewhere (a worker process) to those the next flush syncs."""
    global _UNSYNCED
    if _UNSYNCED is not None:
        _UNSYNCED.append(path)
        if len(_UNSYNCED) > SYNC_EACH_MAX:
            _UNSYNCED = None


def flush_to_disk() -> None:
    """Bring the files written without a sync to the disk: each one (and its folder)
    when they are few, so that a small publish waits for its own files only; one sync of
    every file system when they are many (a full build)."""
    global _UNSYNCED
    pending, _UNSYNCED = _UNSYNCED, []
    if pending is None:
        os.sync()
        return
    for path in dict.fromkeys([*pending, *(p.parent for p in pending)]):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:  # gone meanwhile (replaced, removed): nothing of it to keep
            continue
        try:
            os.fsync(fd)
        except OSError:  # a file system that cannot sync a folder
            pass
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_stream(path: Path) -> Iterator[IO[bytes]]:
    """A file to write ``path`` through, in pieces: a temporary file that replaces
    ``path`` (after reaching the disk) only when the block ends without an error."""
    tmp = path.with_name(f".newsmirror-{os.getpid()}-{next(_COUNTER)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sweep_temporaries([path.parent])
        with open(tmp, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise PublishError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


_TEMPORARY = re.compile(r"^\.newsmirror-(\d+)-\d+\.tmp$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return pid != 0


#: Folders this process has swept: each is swept once, before the process first writes
#: there (the temporary files of other processes that are still running are theirs).
_SWEPT: set[Path] = set()
_SWEPT_BELOW: set[Path] = set()  # folders swept with every folder below them


def sweep_temporaries(folders: list[Path], recursive: bool = False) -> int:
    """Remove the temporary files of writes that never finished (a killed process) in
    ``folders`` (and below them with ``recursive``); those of processes still running are
    left alone. A folder this process swept already is not read again. The number
    removed.

    Every command that writes files sweeps the folders it may write as it starts, and
    :func:`write_atomic` any other before its first write there."""
    removed = 0
    for folder in folders:
        if folder in (_SWEPT_BELOW if recursive else _SWEPT):
            continue
        if recursive:
            _SWEPT_BELOW.add(folder)
        walker = os.walk(folder) if recursive else [(str(folder), [], _names(folder))]
        for where, _dirs, names in walker:
            if Path(where) in _SWEPT:
                continue
            _SWEPT.add(Path(where))
            for name in names:
                found = _TEMPORARY.match(name)
                if found and not _alive(int(found.group(1))):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(where, name))
                        removed += 1
    return removed


def swept_note(removed: int) -> list[str]:
    """The line a command says when it removed such files (none when it removed none)."""
    if not removed:
        return []
    return [f"removed {removed} temporary files of a write that never finished (a killed process)"]


def _names(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []
