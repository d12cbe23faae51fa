"""Build the offline demo's sample feeds from the real archived articles in tests/data.

Each article file of tests/data/duty-machine-news becomes one RSS 2.0 item of its
source's feed (title, link, pubDate and the article HTML as the description, as the
full-text feeds the original script read), written to src/newsmirror/demo/feeds/.
CDT items get the ``?p=N`` guid their file id came from and a symbol category, since the
CDT rule keeps only those. Run from the repository root:
``python scripts/make_demo_feeds.py``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from newsmirror.config.settings import default_sources
from newsmirror.publish.markdown.files import archive_id_of, parse_article
from newsmirror.publish.markdown.importer import article_files, folder_map
from newsmirror.types import ID_CEILING

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "duty-machine-news"
OUT = ROOT / "src" / "newsmirror" / "demo" / "feeds"


def cdata(text: str) -> str:
    """Wrap text in CDATA sections (splitting any ']]>' inside)."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def item_xml(slug: str, name: str, path: Path) -> tuple[int, str]:
    article = parse_article(path.read_text("utf-8"))
    when = datetime.fromtimestamp(article.published_ms / 1000, UTC)
    guid = escape(article.link)
    extra = ""
    if slug == "cdt":
        number = ID_CEILING ^ (archive_id_of(path.name) or 0)
        guid = f"https://chinadigitaltimes.net/chinese/?p={number}"
        extra = "<category>【CDT】</category>"
    return article.published_ms, (
        f"<item><title>{escape(article.title)}</title><link>{escape(article.link)}</link>"
        f'<guid isPermaLink="false">{guid}</guid>'
        f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate>{extra}"
        f"<description>{cdata(article.html)}</description></item>"
    )


def main() -> None:
    sources = default_sources()
    folders = folder_map(sources)
    items: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for path in article_files(CORPUS):
        source = folders.get(path.parent.name) or folders[path.parent.name.casefold()]
        items[source.slug].append(item_xml(source.slug, source.name, path))
    OUT.mkdir(parents=True, exist_ok=True)
    for source in sources:
        entries = sorted(items[source.slug], reverse=True)
        body = "\n".join(xml for _, xml in entries)
        OUT.joinpath(f"{source.slug}.xml").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>{escape(source.name)}</title><link>https://example.org/{source.slug}</link>"
            f"<description>newsmirror demo feed</description>\n{body}\n</channel></rss>\n",
            "utf-8",
        )
        print(f"{source.slug}: {len(entries)} items")


if __name__ == "__main__":
    main()
