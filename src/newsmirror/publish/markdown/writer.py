"""The markdown archive written from the store: article files, lists, README.md, and
(when asked) the mirrored images they link. Only what changed is written, atomically;
the store records what each file holds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from newsmirror import decide
from newsmirror.clean.article import js_strip
from newsmirror.clean.tags import without_script_urls
from newsmirror.config.settings import Config
from newsmirror.errors import NewsmirrorError, PublishError
from newsmirror.media.images import relative_link, rewrite_images
from newsmirror.publish.files import (
    confined,
    digest,
    flush_to_disk,
    sweep_temporaries,
    swept_note,
    write_atomic,
)
from newsmirror.publish.markdown.files import (
    ArchivedArticle,
    FileForm,
    render_article,
    render_kept,
)
from newsmirror.publish.markdown.lists import (
    ListItem,
    ListStyle,
    continue_list,
    entry,
    list_link,
    list_size,
    parse_cdt_readme,
    parse_list,
    readme_link,
    render_list,
    render_readme,
)
from newsmirror.publish.report import PublishReport
from newsmirror.store import PublishRow
from newsmirror.store.archivefiles import ArchiveFile, ListRow
from newsmirror.store.base import Store
from newsmirror.types import Source


class MarkdownPublisher:
    """One publish run of an archive's markdown files."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self._mirrored_images = False

    def run(
        self,
        content: str | None = None,
        force: bool = False,
        advance: Callable[[int], None] = lambda n: None,
        images: str | None = None,
    ) -> PublishReport:
        """Write article files, lists and README.md; only what changed is written.

        ``content`` and ``images`` override the markdown_content and markdown_images
        settings; with "mirrored" images, article files link the media store's copies.
        """
        content = content or self.config.markdown_content
        self._mirrored_images = (images or self.config.markdown_images) == "mirrored"
        mode = f"{content}+mirrored-images" if self._mirrored_images else content
        root = self.config.output_path
        report = PublishReport()
        report.notes += swept_note(sweep_temporaries(_folders(root)))
        with self.store.transaction():
            if not force:
                self.store.forget_missing(mode, lambda path: _exists(root / path))
            for row in self.store.publish_rows(mode, force):
                self._publish_article(root, row, mode, report)
                advance(1)
            names = self._publish_lists(root, report)
            self._publish_readme(root, names, report)
            if report.written:
                flush_to_disk()  # files reach the disk before the store records them
        return report

    def _publish_article(
        self, root: Path, row: PublishRow, mode: str, report: PublishReport
    ) -> None:
        html = row.raw_html if mode.startswith("original") else row.clean_html
        if not row.file_form:  # (an imported file keeps its bytes: they were there)
            html = without_script_urls(html)  # as received, but no URL that runs script
        try:
            if self._mirrored_images:
                html = self._link_mirrored(root, row, html)
            data = render_file(row.published_ms, row.title, row.link, html, row.file_form)
            target = confined(root, row.path)
            on_disk = target.read_bytes() if target.exists() else None
            if on_disk == data:
                report.unchanged += 1
            elif (
                on_disk is not None
                and self.store.published_digest(row.path) is None
                and not self._written_before(row, on_disk)
            ):
                raise PublishError(
                    "a file not written by newsmirror is there; "
                    "import the archive first (newsmirror import archive)"
                )
            else:
                write_atomic(target, data, sync=False)
                report.written += 1
            self.store.mark_published(row.path, digest(data), row.version_id, mode)
        except (NewsmirrorError, OSError) as exc:  # one file never stops the rest
            report.errors.append(f"{row.path}: {_reason(exc)}")

    def _written_before(self, row: PublishRow, on_disk: bytes) -> bool:
        """Whether the file holds an earlier version of this article as newsmirror writes
        it (a run killed after the file was written and before the store recorded it)."""
        forms = {row.file_form, ""}
        for v in self.store.versions_of(row.article_id):
            for html in (v.raw_html, without_script_urls(v.raw_html), v.clean_html):
                for form in forms:
                    if render_file(v.published_ms, v.title, v.link, html, form) == on_disk:
                        return True
        return False

    def _link_mirrored(self, root: Path, row: PublishRow, html: str) -> str:
        """The article's HTML with its mirrored images linked relatively; the media files
        are published beside the articles when the output is not the home."""

        def local(url: str) -> str | None:
            record = self.store.media_for(url)
            if record is None:
                return None
            published = f"media/{record.path}"
            if confined(root, published) != confined(self.config.media_path, record.path):
                target = confined(root, published)
                if not target.exists():
                    source = confined(self.config.media_path, record.path)
                    try:
                        write_atomic(target, source.read_bytes(), sync=False)
                    except OSError as exc:
                        raise PublishError(f"cannot read {source}: {exc.strerror}") from exc
            return relative_link(row.path, record.path)

        return rewrite_images(html, local, row.link)

    def _publish_lists(self, root: Path, report: PublishReport) -> list[str]:
        """Every source's ``lists/<name>.md`` in its dialect; the names of the lists.

        A list imported with the archive is continued (new articles in front, its other
        bytes kept); a source whose imported README lists its articles (China Digital
        Times' own archive) has that README for a list, and no list file."""
        readme = self.store.archive_file("README.md")
        listed_by_readme = readme.source if readme and readme.style == "cdt-readme" else ""
        names = []
        for source in self.config.sources:
            relative = f"lists/{source.name}.md"
            imported = self.store.archive_file(relative)
            if imported is None and source.slug == listed_by_readme:
                continue
            text = self._list_text(source, imported, report)
            if text is None:
                continue
            names.append(source.name)
            self._publish_file(root, relative, text, report)
        slugs = {s.slug for s in self.config.sources}
        for kept in self.store.archive_files():  # lists of sources not configured here
            if kept.kind == "list" and kept.source not in slugs and not _exists(root / kept.path):
                self._publish_file(root, kept.path, kept.text, report)
        return names

    def _list_text(
        self, source: Source, imported: ArchiveFile | None, report: PublishReport
    ) -> str | None:
        """The list's text, None when the source has no articles (and no imported list)."""
        wanted = self.config.list_style
        if imported is not None and imported.style == "kept":
            report.notes.append(f"{imported.path}: in no dialect newsmirror writes: kept as it is")
            return imported.text
        style: ListStyle = "current"
        if wanted != "auto":
            style = wanted  # type: ignore[assignment]
        elif imported is not None:
            style = imported.style  # type: ignore[assignment]
        size = list_size(style, self.config.list_size)
        parsed = parse_list(imported.text) if imported is not None else None
        if imported is not None and parsed is not None and parsed.style == style:
            rows = self.store.list_rows(source.slug, size, imported.imported_at)
            fresh = [self._entry(style, source, r) for r in rows]
            return continue_list(parsed, fresh, size)
        rows = self.store.list_rows(source.slug, size)
        if not rows:
            return None
        items = [self._item(source, r) for r in rows]
        return render_list(source.name, items, style)

    def _entry(self, style: ListStyle, source: Source, row: ListRow) -> tuple[str, str]:
        """A fresh list entry: its text and its link."""
        item = self._item(source, row)
        link = readme_link(row.path) if style == "cdt-readme" else list_link(row.path)
        return entry(style, item), link

    def _item(self, source: Source, row: ListRow) -> ListItem:
        """What a list entry shows of an article: its file's title and date."""
        form = FileForm.decode(row.file_form) if row.file_form else None
        title = row.title if form is not None else js_strip(row.title)
        dated = form is None or form.epoch
        date = decide.list_date(row.published_ms, source.list_timezone) if dated else ""
        return ListItem(row.path, title, date)

    def _publish_readme(self, root: Path, names: list[str], report: PublishReport) -> None:
        """README.md: an imported archive's own stays as it is (the script never wrote
        it; a CDT README listing its feed's items is continued); else newsmirror's, a link
        to every list, unless a README of the archive's own is there."""
        imported = self.store.archive_file("README.md")
        if imported is not None and imported.style == "cdt-readme":
            source = next((s for s in self.config.sources if s.slug == imported.source), None)
            parsed = parse_cdt_readme(imported.text)
            if source is not None and parsed is not None:
                size = len(parsed.entries)
                rows = self.store.list_rows(source.slug, size, imported.imported_at)
                fresh = [self._entry("cdt-readme", source, r) for r in rows]
                self._publish_file(root, "README.md", continue_list(parsed, fresh, size), report)
                return
        if imported is not None:
            readme = root / "README.md"
            if not readme.exists():
                self._publish_file(root, "README.md", imported.text, report)
            return
        if names:
            self._publish_own_readme(root, render_readme(names), report)

    def _publish_own_readme(self, root: Path, text: str, report: PublishReport) -> None:
        """newsmirror's README.md, unless the archive has one of its own (a mirror's
        credits stay)."""
        readme = root / "README.md"
        if _exists(readme) and self.store.published_digest("README.md") is None:
            try:
                ours = readme.read_bytes() == text.encode("utf-8")  # a run killed before
            except OSError as exc:  # it was recorded
                report.errors.append(f"README.md: {_reason(exc)}")
                return
            if ours:
                self._publish_file(root, "README.md", text, report)
                return
            report.notes.append(
                "README.md was not written by newsmirror: left as it is (remove it to "
                "let newsmirror write one linking every list)"
            )
            return
        self._publish_file(root, "README.md", text, report)

    def _publish_file(self, root: Path, relative: str, text: str, report: PublishReport) -> None:
        """A list or the README, when its bytes changed; a file that cannot be written is
        an error line, and the others are written all the same."""
        data = text.encode("utf-8")
        try:
            target = confined(root, relative)
            if self.store.published_digest(relative) == digest(data) and target.exists():
                report.unchanged += 1
                return
            if target.is_file() and target.read_bytes() == data:  # right already (imported)
                self.store.mark_published(relative, digest(data), None, "")
                report.unchanged += 1
                return
            write_atomic(target, data, sync=False)
        except (NewsmirrorError, OSError) as exc:
            report.errors.append(f"{relative}: {_reason(exc)}")
            return
        self.store.mark_published(relative, digest(data), None, "")
        report.written += 1


def render_file(published_ms: int, title: str, link: str, html: str, file_form: str = "") -> bytes:
    """An article file's bytes: newsmirror's own layout, or an imported file's (its
    ``file_form``) with every field as it was written."""
    if not file_form:
        return render_article(published_ms, title, link, html).encode("utf-8")
    form = FileForm.decode(file_form)
    kept = ArchivedArticle(published_ms if form.epoch else None, title, link, html, form)
    return render_kept(kept).encode("utf-8")


def _exists(path: Path) -> bool:
    """Whether a file is there; False when it cannot be looked at (a name too long)."""
    try:
        return path.exists()
    except OSError:
        return False


def _reason(exc: Exception) -> str:
    """Why a file could not be written, in one line."""
    if isinstance(exc, OSError):
        return f"cannot write it: {exc.strerror or exc}"
    return str(exc)


def _folders(root: Path) -> list[Path]:
    """The folders the markdown archive writes: its root, ``lists``, ``articles`` (an
    archive without folders has its files there) and each folder of it."""
    articles = root / "articles"
    sources = [p for p in articles.iterdir() if p.is_dir()] if articles.is_dir() else []
    return [root, root / "lists", articles, *sources]
