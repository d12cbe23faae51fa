"""Atomic, confined file writes shared by every publisher."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from newsmirror.errors import PublishError


def digest(data: bytes) -> str:
    """The digest recorded for published bytes."""
    return hashlib.sha256(data).hexdigest()


def confined(root: Path, relative: str) -> Path:
    """``root / relative``, refusing any path that would leave ``root``."""
    target = (root / relative).resolve()
    if target != root and root not in target.parents:
        raise PublishError(f"refusing to write outside the archive: {relative!r}")
    return target


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    A crash at any moment leaves either the old file or the new one, never half of one.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise PublishError(f"cannot write {path}: {exc.strerror or exc}") from exc
