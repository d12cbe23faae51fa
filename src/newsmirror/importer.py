"""Import an existing duty-machine/news checkout into the store.

Every ``articles/<folder>/<file>.md`` is read; the folder names its source (the slug, or
a legacy folder named after the site: ``法广``, ``BBC``...), the file name its id
(``<id>.md`` or ``<id>_<title>.md``). Each file is kept at its path with its id and time,
so a republished file is byte-identical and mirrors' links keep working; the countdown of
new ids continues below the smallest imported id.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from newsmirror import decide, times
from newsmirror.clean import clean_html
from newsmirror.config import boilerplate_patterns
from newsmirror.errors import ArchiveFormatError
from newsmirror.parse import canonical_url
from newsmirror.publish.markdown import archive_id_of, parse_article
from newsmirror.store.base import ImportedFile
from newsmirror.types import Source


@dataclass
class ImportReport:
    """What an import did."""

    new: int = 0  # files imported for the first time
    changed: int = 0  # files whose content differs from the stored version (new version)
    unchanged: int = 0  # files already stored as they are
    errors: list[str] = field(default_factory=list)  # one line per file not imported


def folder_map(sources: tuple[Source, ...]) -> dict[str, Source]:
    """Folder name → source: slugs, display names, and their case-folded forms."""
    mapping: dict[str, Source] = {}
    for source in sources:
        for key in (source.slug, source.name):
            mapping[key] = source
            mapping.setdefault(key.casefold(), source)
    return mapping


def article_files(root: Path) -> list[Path]:
    """Every ``articles/*/*.md`` file under an archive checkout, sorted."""
    base = root / "articles"
    if not base.is_dir():
        return []
    return sorted(p for p in base.glob("*/*.md") if p.is_file() and not p.is_symlink())


def read_file(path: Path, root: Path, source: Source, now: datetime) -> ImportedFile:
    """Read one article file into an ImportedFile; ArchiveFormatError when malformed, or
    when its time is outside the dates accepted at ``now`` (:func:`times.refused`)."""
    archive_id = archive_id_of(path.name)
    if archive_id is None:
        raise ArchiveFormatError("file name is not <id>.md or <id>_<title>.md")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArchiveFormatError(f"not UTF-8 ({exc.reason})") from exc
    article = parse_article(text)
    why = times.refused_ms(article.published_ms, now)
    if why:
        raise ArchiveFormatError(f"line 1's time {why} (times are taken {times.WINDOW})")
    url = canonical_url(article.link)
    clean = clean_html(article.html, article.link, boilerplate_patterns(source))
    return ImportedFile(
        source=source.slug,
        path=path.relative_to(root).as_posix(),
        archive_id=archive_id,
        identity=decide.identity_of("", url, article.title, article.published_ms),
        url=url,
        title_key=decide.title_key(article.title, article.published_ms),
        title=article.title,
        link=article.link,
        published_ms=article.published_ms,
        raw_html=article.html,
        clean_html=clean,
        content_hash=decide.content_hash(article.title, clean),
    )


def read_archive(
    root: Path, sources: tuple[Source, ...], errors: list[str], now: datetime
) -> Iterator[tuple[Path, ImportedFile | None]]:
    """Yield each article file with its parsed form (None, with an error line, if bad);
    ``now``: the moment times are judged at."""
    folders = folder_map(sources)
    for path in article_files(root):
        relative = path.relative_to(root).as_posix()
        source = folders.get(path.parent.name) or folders.get(path.parent.name.casefold())
        if source is None:
            errors.append(
                f"{relative}: folder {path.parent.name!r} matches no source "
                "(add a [sources.<slug>] table named after it)"
            )
            yield path, None
            continue
        try:
            yield path, read_file(path, root, source, now)
        except (ArchiveFormatError, OSError) as exc:
            errors.append(f"{relative}: {exc}")
            yield path, None
