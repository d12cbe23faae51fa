"""The daily digest: one page of a day's articles per source, with links to the archived
copies, as markdown (``digests/YYYY-MM-DD.md``) and HTML (``digests/YYYY-MM-DD.html``)
under the output folder. The day is the site's (``site_timezone``); an article belongs
to the day it was published. Written atomically, and only when its bytes change."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import jinja2

from newsmirror import times
from newsmirror.clean.article import shown_title
from newsmirror.config.settings import Config
from newsmirror.errors import NewsmirrorError, PublishError
from newsmirror.limits import printable, without_controls
from newsmirror.publish.files import confined, sweep_temporaries, swept_note, write_atomic
from newsmirror.publish.report import PublishReport
from newsmirror.store.base import Store
from newsmirror.store.siteviews import Listed
from newsmirror.urls import web_href

_HTML = jinja2.Environment(autoescape=True, finalize=printable).from_string(
    """<!doctype html>
<html lang="zh-Hans">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ day }} 每日摘要 Daily digest · {{ site_title }}</title>
<style>
body{font-family:system-ui,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;
max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.6;color:#1a1a1a;background:#fff}
@media (prefers-color-scheme:dark){body{color:#e8e8e8;background:#151515}a{color:#8cb4ff}}
h2{margin-top:2rem;border-bottom:1px solid #8884}time,.muted{color:#767676;font-size:.9em}
li{margin:.35rem 0}
</style>
</head>
<body>
<main>
<h1>{{ day }} 每日摘要 <span class="muted">Daily digest</span></h1>
<p class="muted">{{ total }} 篇 articles · {{ site_title }}</p>
{% for group in groups %}
<section>
<h2>{{ group.name }} <span class="muted">({{ group.entries|length }})</span></h2>
<ul>
{% for item in group.entries %}<li><time>{{ item.time }}</time>
<a href="{{ item.archived }}">{{ item.shown }}</a>
{% if item.link %}<a class="muted" href="{{ item.link }}" rel="noopener">原文 original</a>
{% endif %}</li>
{% endfor %}</ul>
</section>
{% endfor %}
</main>
</body>
</html>
"""
)
_MD_SPECIAL = re.compile(r"([\\\[\]*_`<>])")


def day_bounds(day: date, timezone: str) -> tuple[int, int]:
    """[start, end) of a day in ``timezone``, as epoch milliseconds."""
    start = datetime.combine(day, time(0), ZoneInfo(timezone))
    end = datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(timezone))
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def _groups(config: Config, articles: list[Listed]) -> list[dict[str, object]]:
    zone = ZoneInfo(config.site_timezone)
    names = {s.slug: s.name for s in config.sources}
    order = {s.slug: i for i, s in enumerate(config.sources)}
    by_source: dict[str, list[dict[str, str]]] = {}
    for a in articles:
        moment = times.at_ms(a.published_ms, zone)
        link = web_href(a.link)
        by_source.setdefault(a.source, []).append(
            {
                "time": f"{moment.hour:02d}:{moment.minute:02d}",
                "title": " ".join(without_controls(a.title).split()) or "(无标题 untitled)",
                "shown": shown_title(a.title) or "(无标题 untitled)",
                "archived": "../" + quote(a.path),
                "link": link,
            }
        )
    slugs = sorted(by_source, key=lambda slug: (order.get(slug, len(order)), slug))
    return [{"name": names.get(s, s), "slug": s, "entries": by_source[s]} for s in slugs]


def render_markdown(day: str, groups: list[dict[str, object]], total: int) -> str:
    """The markdown digest of one day."""
    lines = [f"# {day} 每日摘要 Daily digest", "", f"{total} 篇 articles", ""]
    for group in groups:
        items: list[dict[str, str]] = group["entries"]  # type: ignore[assignment]
        lines += [f"## {group['name']} ({len(items)})", ""]
        for item in items:
            title = _MD_SPECIAL.sub(r"\\\1", item["title"])
            line = f"- {item['time']} [{title}]({item['archived']})"
            if item["link"]:
                line += f" · [原文 original](<{item['link'].replace('>', '%3E')}>)"
            lines.append(line)
        lines.append("")
    return "\n".join(lines)


def write_digest(config: Config, store: Store, day: date, report: PublishReport) -> None:
    """Write one day's digest (markdown and HTML); a day without articles has none."""
    report.notes += swept_note(sweep_temporaries([config.output_path / "digests"]))
    start, end = day_bounds(day, config.site_timezone)
    articles = store.site_day(start, end)
    if not articles:
        report.notes.append(f"{day.isoformat()}: no articles published that day; no digest")
        return
    groups = _groups(config, articles)
    name = day.isoformat()
    pages = {
        f"digests/{name}.md": render_markdown(name, groups, len(articles)),
        f"digests/{name}.html": _HTML.render(
            day=name, groups=groups, total=len(articles), site_title=config.site_title
        ),
    }
    for relative, text in pages.items():
        data = text.encode("utf-8")
        try:
            target = confined(config.output_path, relative)
            if target.exists() and target.read_bytes() == data:
                report.unchanged += 1
                continue
            write_atomic(target, data)
        except (NewsmirrorError, OSError) as exc:
            error = exc if isinstance(exc, PublishError) else PublishError(str(exc))
            report.errors.append(f"{relative}: {error}")
            continue
        report.written += 1


def write_digests(config: Config, store: Store, now: datetime) -> PublishReport:
    """The digests of today and yesterday (in the site's timezone): what ``run`` keeps
    up to date after each cycle."""
    report = PublishReport()
    today = now.astimezone(ZoneInfo(config.site_timezone)).date()
    for day in (today - timedelta(days=1), today):
        write_digest(config, store, day, report)
    report.notes.clear()  # a quiet day is not worth a line every cycle
    return report
