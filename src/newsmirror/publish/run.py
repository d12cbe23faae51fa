"""The markdown archive written from the store: article files, lists, README.md, and
(when asked) the mirrored images they link. Only what changed is written, atomically;
the store records what each file holds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from newsmirror import decide
from newsmirror.config import Config
from newsmirror.errors import NewsmirrorError, PublishError
from newsmirror.media import relative_link, rewrite_images
from newsmirror.publish.files import (
    confined,
    digest,
    flush_to_disk,
    sweep_temporaries,
    swept_note,
    write_atomic,
)
from newsmirror.publish.markdown import render_article, render_list, render_readme
from newsmirror.store import PublishRow
from newsmirror.store.sqlite import SQLiteStore


@dataclass
class PublishReport:
    """What a publish run did."""

    written: int = 0  # files written (new or changed)
    unchanged: int = 0  # files whose bytes were already right
    errors: list[str] = field(default_factory=list)  # one line per file not written
    notes: list[str] = field(default_factory=list)  # what was left alone on purpose


class MarkdownPublisher:
    """One publish run of an archive's markdown files."""

    def __init__(self, config: Config, store: SQLiteStore) -> None:
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
                self.store.forget_missing(mode, lambda path: (root / path).exists())
            for row in self.store.publish_rows(mode, force):
                self._publish_article(root, row, mode, report)
                advance(1)
            names = []
            for source in self.config.sources:
                newest = self.store.newest(source.slug, self.config.list_size)
                if not newest:
                    continue
                names.append(source.name)
                lines = [
                    (decide.list_date(ms, source.list_timezone), title, path)
                    for path, title, ms in newest
                ]
                self._publish_file(
                    root, f"lists/{source.name}.md", render_list(source.name, lines), report
                )
            if names:
                self._publish_readme(root, render_readme(names), report)
            if report.written:
                flush_to_disk()  # files reach the disk before the store records them
        return report

    def _publish_article(
        self, root: Path, row: PublishRow, mode: str, report: PublishReport
    ) -> None:
        html = row.raw_html if mode.startswith("original") else row.clean_html
        try:
            if self._mirrored_images:
                html = self._link_mirrored(root, row, html)
            data = render_article(row.published_ms, row.title, row.link, html).encode("utf-8")
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
        except NewsmirrorError as exc:
            report.errors.append(f"{row.path}: {exc}")

    def _written_before(self, row: PublishRow, on_disk: bytes) -> bool:
        """Whether the file holds an earlier version of this article as newsmirror writes
        it (a run killed after the file was written and before the store recorded it)."""
        for v in self.store.versions_of(row.article_id):
            for html in (v.raw_html, v.clean_html):
                if render_article(v.published_ms, v.title, v.link, html).encode() == on_disk:
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

    def _publish_readme(self, root: Path, text: str, report: PublishReport) -> None:
        """README.md, unless the archive has one of its own (a mirror's credits stay)."""
        readme = root / "README.md"
        if readme.exists() and self.store.published_digest("README.md") is None:
            if readme.read_bytes() == text.encode("utf-8"):  # ours (a run killed before
                self._publish_file(root, "README.md", text, report)  # it was recorded)
                return
            report.notes.append(
                "README.md was not written by newsmirror: left as it is (remove it to "
                "let newsmirror write one linking every list)"
            )
            return
        self._publish_file(root, "README.md", text, report)

    def _publish_file(self, root: Path, relative: str, text: str, report: PublishReport) -> None:
        data = text.encode("utf-8")
        target = confined(root, relative)
        if self.store.published_digest(relative) == digest(data) and target.exists():
            report.unchanged += 1
            return
        try:
            write_atomic(target, data, sync=False)
        except PublishError as exc:
            report.errors.append(f"{relative}: {exc}")
            return
        self.store.mark_published(relative, digest(data), None, "")
        report.written += 1


def _folders(root: Path) -> list[Path]:
    """The folders the markdown archive writes: its root, ``lists`` and each folder of
    ``articles``."""
    articles = root / "articles"
    sources = [p for p in articles.iterdir() if p.is_dir()] if articles.is_dir() else []
    return [root, root / "lists", *sources]
