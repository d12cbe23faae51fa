"""What the hourly CI workflow installs: the newsmirror this one was installed from.

pip records where an installed distribution came from (PEP 610: ``direct_url.json`` in
its metadata): a version control URL and the commit it was at, an archive URL and its
hash, a local folder. Only what a CI runner can install again, pinned, is a default: a
repository it can reach, at that commit, or an archive at that hash. A name on a package
index is none: pip does not record which index it came from, and anyone may publish
under a name this project does not hold, so such a workflow would run their code with
write access to the repository.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

from newsmirror.errors import ConfigError

_EXAMPLE = "--package 'newsmirror @ git+https://github.com/OWNER/newsmirror@COMMIT'"


@dataclass(frozen=True)
class Package:
    """What the workflow pip-installs, and why."""

    spec: str  # a pip requirement (PEP 508), pinned
    why: str  # where it comes from, for the line init says


def installed_from() -> dict[str, Any] | None:
    """This newsmirror's ``direct_url.json`` (None when pip recorded none: it came from a
    package index, by name, or was not installed by pip)."""
    try:
        text = metadata.distribution("newsmirror").read_text("direct_url.json")
        found = json.loads(text) if text else None
    except (metadata.PackageNotFoundError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def default_package(direct_url: dict[str, Any] | None) -> Package:
    """The pinned requirement of what ``direct_url`` (:func:`installed_from`) records;
    ConfigError saying what to pass with ``--package`` when it records nothing a CI
    runner can install again, pinned."""
    if direct_url is None:
        raise _refused("was installed from a package index by name (pip does not record which)")
    url = str(direct_url.get("url", ""))
    if urlsplit(url).scheme.lower() in ("", "file"):
        raise _refused(f"was installed from a folder or file of this machine ({url or '?'})")
    subdirectory = str(direct_url.get("subdirectory") or "")
    fragment = f"#subdirectory={subdirectory}" if subdirectory else ""
    vcs, archive = direct_url.get("vcs_info"), direct_url.get("archive_info")
    if isinstance(vcs, dict) and vcs.get("commit_id") and vcs.get("vcs"):
        commit = str(vcs["commit_id"])
        spec = f"newsmirror @ {vcs['vcs']}+{url}@{commit}{fragment}"
        return Package(spec, f"the repository this newsmirror was installed from, at {commit}")
    if isinstance(archive, dict):
        pinned = _hash(archive)
        if not pinned:
            raise _refused(f"was installed from an archive whose hash pip did not record ({url})")
        spec = f"newsmirror @ {url}#{pinned}{fragment.replace('#', '&')}"
        return Package(spec, f"the archive this newsmirror was installed from, at its {pinned}")
    raise _refused(f"was installed from {url} without a commit or a hash to pin it to")


def _hash(archive: dict[str, Any]) -> str:
    """An archive's recorded hash as ``algorithm=value`` (sha256 when there are several),
    "" when none was recorded."""
    hashes = archive.get("hashes")
    named = sorted((str(a), str(v)) for a, v in hashes.items()) if isinstance(hashes, dict) else []
    legacy = archive.get("hash")
    if not named and isinstance(legacy, str) and "=" in legacy:
        algorithm, value = legacy.split("=", 1)
        named = [(algorithm, value)]
    if not named:
        return ""
    algorithm, value = next(((a, v) for a, v in named if a == "sha256"), named[0])
    return f"{algorithm}={value}"


def _refused(how: str) -> ConfigError:
    return ConfigError(
        f"init --ci github needs --package SPEC: this newsmirror {how}, which the workflow "
        "cannot install again as it is; say what it pip-installs, pinned to a commit or a "
        f"hash, e.g. {_EXAMPLE}"
    )
