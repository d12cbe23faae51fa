"""Import an existing markdown archive of the duty-machine family into the store.

Every article file is read: ``articles/<folder>/<file>.md``, where the folder names the
source (its slug, or a legacy folder named after the site: ``法广``, ``BBC``...), and
``articles/<file>.md`` (China Digital Times' own archive had no folders: such a file
belongs to the source whose feeds are on its link's host, or to the one named with
``--source``). The file name gives the id (``<id>.md`` or ``<id>_<title>.md``). Each file
is kept at its path with its id, time and layout (:mod:`newsmirror.publish.markdown`), so
a republished file is byte-identical and mirrors' links keep working; the countdown of
new ids continues below the smallest imported id. Two files of one id are two articles.

The archive's lists (``lists/<name>.md``) and ``README.md`` are kept too, with their
dialect (:mod:`newsmirror.publish.lists`), to be continued as they were written.
Symbolic links are never followed: an archive's files are its own.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from newsmirror import decide, times
from newsmirror.clean.article import clean_html, js_strip
from newsmirror.config.boilerplate import boilerplate_patterns
from newsmirror.errors import ArchiveFormatError
from newsmirror.parse.feeds import canonical_url
from newsmirror.publish.markdown.files import (
    ArchivedArticle,
    archive_id_of,
    is_own_layout,
    parse_article,
)
from newsmirror.publish.markdown.lists import (
    README_TITLE,
    parse_cdt_readme,
    parse_list,
)
from newsmirror.store.archivefiles import ArchiveFile
from newsmirror.store.base import ImportedFile
from newsmirror.store.indexing import document
from newsmirror.types import Source, StoreStatus


@dataclass
class ImportReport:
    """What an import did."""

    new: int = 0  # files imported for the first time
    changed: int = 0  # files whose content differs from the stored version (new version)
    unchanged: int = 0  # files already stored as they are
    errors: list[str] = field(default_factory=list)  # one line per file not imported
    kept_lists: int = 0  # lists kept (new or changed), to be continued in their dialect
    kept_readme: bool = False  # the README was kept (new or changed)
    notes: list[str] = field(default_factory=list)  # what was left alone, and why

    def count(self, status: StoreStatus) -> None:
        """Count a file by what storing it did."""
        if status is StoreStatus.NEW:
            self.new += 1
        elif status is StoreStatus.CHANGED:
            self.changed += 1
        else:
            self.unchanged += 1


def folder_map(sources: tuple[Source, ...]) -> dict[str, Source]:
    """Folder name → source: slugs, display names, and their case-folded forms."""
    mapping: dict[str, Source] = {}
    for source in sources:
        for key in (source.slug, source.name):
            mapping[key] = source
            mapping.setdefault(key.casefold(), source)
    return mapping


def host_map(sources: tuple[Source, ...]) -> dict[str, Source]:
    """Host (without ``www.``) → the source whose feeds are there, for files without a
    folder; a host two sources share names neither."""
    mapping: dict[str, Source] = {}
    shared: set[str] = set()
    for source in sources:
        for url in source.feeds:
            host = _host(url)
            if host in mapping and mapping[host] is not source:
                shared.add(host)
            mapping[host] = source
    return {h: s for h, s in mapping.items() if h and h not in shared}


def article_files(root: Path, skipped: list[str] | None = None) -> list[Path]:
    """Every ``articles/*/*.md`` and ``articles/*.md`` file of a checkout, oldest first
    in each folder; symbolic links (files or folders) are not followed, and named in
    ``skipped``."""
    base = root / "articles"
    if base.is_symlink() or not base.is_dir():
        if base.is_symlink() and skipped is not None:
            skipped.append("articles: a symbolic link, not followed")
        return []
    found: list[Path] = []
    for entry in _scan(base):
        if entry.is_symlink():
            if skipped is not None:
                skipped.append(f"articles/{entry.name}: a symbolic link, not followed")
        elif entry.is_dir(follow_symlinks=False):
            for inner in _scan(Path(entry.path)):
                if not inner.name.endswith(".md"):
                    continue
                if inner.is_symlink():
                    if skipped is not None:
                        skipped.append(
                            f"articles/{entry.name}/{inner.name}: a symbolic link, not followed"
                        )
                elif inner.is_file(follow_symlinks=False):
                    found.append(Path(inner.path))
        elif entry.name.endswith(".md") and entry.is_file(follow_symlinks=False):
            found.append(Path(entry.path))
    return sorted(found, key=_oldest_first)


def _oldest_first(path: Path) -> tuple[str, int, str]:
    """Folder by folder, the files of each in the order the script made them: ids count
    down (and CDT's post ids grow as their file ids shrink), so the largest id is the
    oldest. Articles are then stored as they were archived (the site's source pages list
    them so), and the search index receives them in the order of their dates, which it
    takes in one pass where a date earlier than the one before makes it write a segment
    of its own."""
    archive_id = archive_id_of(path.name)
    return (path.parent.as_posix(), -(archive_id if archive_id is not None else -1), path.name)


def _scan(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError:
        return []


def read_file(path: Path, root: Path, source: Source, now: datetime) -> ImportedFile:
    """Read one article file into an ImportedFile; ArchiveFormatError when malformed, or
    when its time is outside the dates accepted at ``now`` (:func:`times.refused`)."""
    archive_id = archive_id_of(path.name)
    if archive_id is None:
        raise ArchiveFormatError("file name is not <id>.md or <id>_<title>.md")
    return imported_file(
        path.read_bytes(), path.relative_to(root).as_posix(), archive_id, source, now
    )


def imported_file(
    data: bytes, relative: str, archive_id: int, source: Source, now: datetime
) -> ImportedFile:
    """An article file's bytes as the store keeps them (``now``: the moment times are
    judged at, and the date of a file whose 日期 line holds none)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ArchiveFormatError(f"line {line}: not UTF-8 ({exc.reason})") from exc
    article = parse_article(text)
    if article.published_ms is not None:
        why = times.refused_ms(article.published_ms, now)
        if why:
            raise ArchiveFormatError(f"line 1's time {why} (times are taken {times.WINDOW})")
    title = js_strip(article.title)
    now_ms = int(now.timestamp() * 1000)
    url = canonical_url(article.link)
    clean = clean_html(article.html, article.link, boilerplate_patterns(source))
    published = article.date_ms
    return ImportedFile(
        source=source.slug,
        path=relative,
        archive_id=archive_id,
        identity=decide.identity_of("", url, title, published or now_ms),
        url=url,
        title_key=decide.title_key(title, published or now_ms),
        title=article.title,
        link=article.link,
        published_ms=published if published is not None else now_ms,
        raw_html=article.html,
        clean_html=clean,
        content_hash=decide.content_hash(title, clean),
        file_form=_form_of(article),
        date_missing=published is None,
    )


def _form_of(article: ArchivedArticle) -> str:
    """ "" for a file in newsmirror's own layout, else its form to be kept."""
    return "" if is_own_layout(article) else article.form.encode()


def read_archive(
    root: Path,
    sources: tuple[Source, ...],
    errors: list[str],
    now: datetime,
    flat_source: Source | None = None,
    workers: int = 0,
    tokens: bool = False,
) -> Iterator[tuple[Path, ImportedFile | None]]:
    """Yield each article file with its parsed form (None, with an error line, if bad),
    in file order. With ``workers``, that many forked processes read, clean and (with
    ``tokens``) tokenize the files a few chunks ahead, so that this process only stores."""
    paths = article_files(root, errors)
    reading = _Reading(root, sources, now, flat_source, tokens)
    if workers < 1 or sys.platform != "linux" or len(paths) < _CHUNK:
        done: Iterable[list[_Read]] = (reading.read_chunk([p]) for p in paths)
    else:
        done = _in_workers(reading, paths, workers)
    for chunk in done:
        for relative, item, error in chunk:
            if error:
                errors.append(f"{relative}: {error}")
            yield root / relative, item


_Read = tuple[str, "ImportedFile | None", str]  # relative path, the file read, its error
_CHUNK = 64  # files a worker reads at a time


@dataclass(frozen=True)
class _Reading:
    """How to read an archive's files (sent to the worker processes once)."""

    root: Path  # the checkout
    sources: tuple[Source, ...]  # the configured sources
    now: datetime  # the moment times are judged at
    flat_source: Source | None  # the source of files outside a folder (--source)
    tokens: bool  # also make the search index's tokens

    def read_chunk(self, paths: list[Path]) -> list[_Read]:
        folders, hosts = folder_map(self.sources), host_map(self.sources)
        done: list[_Read] = []
        for path in paths:
            relative = path.relative_to(self.root).as_posix()
            try:
                source = _source_of(path, self.root, folders, hosts, self.flat_source)
                item = read_file(path, self.root, source, self.now)
            except (ArchiveFormatError, OSError) as exc:
                done.append((relative, None, str(exc)))
                continue
            if self.tokens:
                made = document(item.title, item.clean_html)
                item = replace(item, index_tokens=(made.body, made.title, made.chars))
            done.append((relative, item, ""))
        return done


def _in_workers(reading: _Reading, paths: list[Path], workers: int) -> Iterator[list[_Read]]:
    """The chunks read by forked worker processes (which die with this one), in order,
    at most a few chunks ahead of the caller."""
    from collections import deque
    from concurrent.futures import Future

    from newsmirror.workers import worker_pool

    chunks = [paths[i : i + _CHUNK] for i in range(0, len(paths), _CHUNK)]
    with worker_pool(workers, "fork") as pool:
        ahead: deque[Future[list[_Read]]] = deque()
        for chunk in chunks:
            ahead.append(pool.submit(reading.read_chunk, chunk))
            if len(ahead) > 2 * workers:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()


def _source_of(
    path: Path,
    root: Path,
    folders: dict[str, Source],
    hosts: dict[str, Source],
    flat_source: Source | None,
) -> Source:
    """The source an article file belongs to; ArchiveFormatError when none is known."""
    if path.parent != root / "articles":
        folder = path.parent.name
        source = folders.get(folder) or folders.get(folder.casefold())
        if source is None:
            raise ArchiveFormatError(
                f"folder {folder!r} matches no source (add a [sources.<slug>] table named after it)"
            )
        return source
    if flat_source is not None:
        return flat_source
    link = parse_article(path.read_text("utf-8", errors="replace")).link
    source = hosts.get(_host(link))
    if source is None:
        raise ArchiveFormatError(
            f"not in a source's folder, and its link's host ({_host(link) or 'none'}) is no "
            "source's feed host: import with --source SLUG"
        )
    return source


def _host(url: str) -> str:
    try:
        return (urlsplit(url.strip()).hostname or "").removeprefix("www.")
    except ValueError:
        return ""


def kept_files(
    root: Path, sources: tuple[Source, ...], articles: dict[str, str], notes: list[str]
) -> Iterator[ArchiveFile]:
    """The archive's lists and README, with their dialect. ``articles`` maps the imported
    article paths to their source (a CDT README lists its source's files)."""
    folders = folder_map(sources)
    lists = root / "lists"
    if lists.is_dir() and not lists.is_symlink():
        for entry in sorted(_scan(lists), key=lambda e: e.name):
            if not entry.name.endswith(".md") or not entry.is_file(follow_symlinks=False):
                continue
            name = entry.name.removesuffix(".md")
            source = folders.get(name) or folders.get(name.casefold())
            text = _text(Path(entry.path))
            if text is None:
                notes.append(f"lists/{entry.name}: not UTF-8: not kept")
                continue
            if source is None:
                notes.append(f"lists/{entry.name}: names no source: kept as it is")
                yield ArchiveFile(f"lists/{entry.name}", "list", "", "kept", text)
                continue
            listed = parse_list(text)
            style = listed.style if listed is not None else "kept"
            if listed is None:
                notes.append(f"lists/{entry.name}: in no dialect newsmirror writes: kept as it is")
            yield ArchiveFile(f"lists/{entry.name}", "list", source.slug, style, text)
    readme = root / "README.md"
    if readme.is_file() and not readme.is_symlink():
        text = _text(readme)
        if text is not None and not is_own_readme(text):
            yield _readme(text, articles)


def _readme(text: str, articles: dict[str, str]) -> ArchiveFile:
    """README.md as kept: a CDT README (its feed's items) is continued; any other is the
    archive's own (the script never wrote it) and stays as it is."""
    listed = parse_cdt_readme(text)
    if listed is not None:
        from urllib.parse import unquote

        slugs = {articles.get(unquote(link)) for link in listed.links} - {None}
        if len(slugs) == 1:
            return ArchiveFile("README.md", "readme", str(slugs.pop()), "cdt-readme", text)
    return ArchiveFile("README.md", "readme", "", "kept", text)


def is_own_readme(text: str) -> bool:
    """Whether a README.md is the one newsmirror writes (not kept: it is rewritten)."""
    return text.startswith(f"{README_TITLE}\n------\n\n") and text.endswith(
        "由 newsmirror 生成。\n"
    )


def _text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
