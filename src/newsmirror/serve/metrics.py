"""``/healthz`` (the store answers; how long ago a feed was last fetched) and ``/metrics``
(Prometheus text: articles per source, feeds failing, the last fetch's age, requests
and their latencies by kind of page)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from newsmirror.errors import BadRequestError, NewsmirrorError
from newsmirror.serve import params
from newsmirror.serve.http import json_body, json_error
from newsmirror.serve.state import Shared
from newsmirror.store.base import FeedState

#: What a request asked for, from its path: the label of its latencies.
ROUTES = [
    (re.compile(r"/(index\.html)?"), "front"),
    (re.compile(r"/a/[^/]+/[^/]+\.html"), "article"),
    (re.compile(r"/s/[^/]+/(index\.html)?"), "source"),
    (re.compile(r"/s/[^/]+/\d+\.html"), "source page"),
    (re.compile(r"/d/(index\.html)?"), "days"),
    (re.compile(r"/d/[^/]+\.html"), "day"),
    (re.compile(r"/search\.html"), "search"),
    (re.compile(r"/about\.html"), "about"),
    (re.compile(r"/feeds/[^/]+\.xml"), "feed"),
    (re.compile(r"/(static|media)/.+"), "file"),
    (re.compile(r"/api/articles"), "api articles"),
    (re.compile(r"/api/articles/[^/]+/[^/]+"), "api article"),
    (re.compile(r"/api/.*"), "api"),
    (re.compile(r"/healthz"), "healthz"),
    (re.compile(r"/metrics"), "metrics"),
]
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def route_of(path: str) -> str:
    """The kind of page a path asks for ("other" for none)."""
    for pattern, name in ROUTES:
        if pattern.fullmatch(path):
            return name
    return "other"


def last_fetch(feeds: list[FeedState]) -> datetime | None:
    """When a feed was last asked (None: never)."""
    checked = [f.last_checked for f in feeds if f.last_checked is not None]
    return max(checked) if checked else None


class Metrics:
    """The reader's own figures, in a registry of its own, and the archive's, read when
    scraped."""

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "newsmirror_http_request_duration_seconds", "Time to answer a request, by kind",
            ["route"], registry=self.registry, buckets=BUCKETS,
        )  # fmt: skip
        self.responses = Counter(
            "newsmirror_http_responses", "Responses, by kind of request and status",
            ["route", "status"], registry=self.registry,
        )  # fmt: skip
        self.registry.register(_Archive(shared))

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        route = route_of(path)
        self.latency.labels(route).observe(seconds)
        self.responses.labels(route, str(status)).inc()

    def endpoint(self, request: Request) -> Response:
        data = generate_latest(self.registry)
        headers = {"Cache-Control": "no-store"}
        return Response(data, headers=headers, media_type="text/plain; version=0.0.4")


class _Archive(Collector):
    """The archive's figures, read from the store when scraped."""

    def __init__(self, shared: Shared) -> None:
        self.shared = shared

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # (registering reads nothing from the store)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        store = self.shared.live().store
        articles = GaugeMetricFamily("newsmirror_articles", "Articles archived", labels=["source"])
        for slug, count in sorted(store.site_source_counts().items()):
            articles.add_metric([slug], count)
        yield articles
        feeds = store.feed_states()
        failing = GaugeMetricFamily(
            "newsmirror_feed_failures",
            "Consecutive failures of each feed",
            labels=["source", "url"],
        )
        for f in feeds:
            failing.add_metric([f.source, f.url], f.failures)
        yield failing
        last = last_fetch(feeds)
        age = GaugeMetricFamily(
            "newsmirror_last_fetch_age_seconds", "Seconds since a feed was last asked"
        )
        age.add_metric([], time.time() - last.timestamp() if last else float("nan"))
        yield age


def healthz(request: Request) -> Response:
    """200 with the store's figures when it answers (503 when it does not, or when the
    last fetch is older than ``max_age`` seconds)."""
    shared: Shared = request.app.state.shared
    try:
        most = params.number(params.one(request.query_params, "max_age"), "max_age", 0, 0, 10**8)
    except BadRequestError as exc:
        return json_error(400, str(exc))
    try:
        store = shared.live().store
        counts = store.site_source_counts()
        last = last_fetch(store.feed_states())
    except NewsmirrorError as exc:
        return json_error(503, f"the store does not answer: {exc}")
    age = time.time() - last.timestamp() if last else None
    stale = bool(most) and (age is None or age > most)
    made = json_body({
        "status": "stale" if stale else "ok", "articles": sum(counts.values()),
        "last_fetch": last.isoformat() if last else None,
        "last_fetch_age_seconds": round(age, 1) if age is not None else None,
    }, 503 if stale else 200)  # fmt: skip
    return Response(made.body, made.status, {"Cache-Control": "no-store"}, made.media_type)
