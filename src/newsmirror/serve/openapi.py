"""The API's description (OpenAPI 3.1), served at ``/api/openapi.json``."""

from __future__ import annotations

from typing import Any


def _param(
    name: str, description: str, kind: str = "string", where: str = "query"
) -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "description": description,
            "schema": {"type": kind}}  # fmt: skip


_ERRORS = {
    "400": {"description": 'A parameter that cannot be read: {"error": "...", "status": 400}'},
    "304": {"description": "Not modified (If-None-Match / If-Modified-Since)"},
}
_DAY = "YYYY-MM-DD (UTC), included"
_SINCE, _UNTIL = (
    _param("since", f"published on or after this day, {_DAY}"),
    _param("until", f"published on or before this day, {_DAY}"),
)
_CURSOR = _param("cursor", "the `next` of the page before")

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "newsmirror",
        "version": "1",
        "description": "A read-only archive of news articles with every version, edits and "
        "takedowns. Every response carries an ETag and Last-Modified; paths are relative to "
        "the server's root.",
    },
    "paths": {
        "/api/articles": {
            "get": {
                "summary": "Articles, newest first (by publication time), a page at a time; "
                "with q, those matching a search (newest first, or by relevance), with the "
                "total and a highlighted snippet each",
                "parameters": [
                    _param("source", "a source's slug"), _SINCE, _UNTIL,
                    _param("q", "search terms: words (all must match), \"a phrase\", -excluded"),
                    _param("sort", "with q: newest (default) or relevance"),
                    _param("limit", "articles a page, 1 to 100 (default 20)", "integer"),
                    _CURSOR,
                ],
                "responses": {"200": {"description": '{"articles": [...], "next": cursor or null'
                                      ' (with q: "total" too)}'}, **_ERRORS},
            }
        },
        "/api/articles/{source}/{page}": {
            "get": {
                "summary": "One article: every version (when stored, how, its sanitised HTML, "
                "what it changed), its status (live, edited, gone) and every revisit",
                "parameters": [_param("source", "slug", where="path"),
                               _param("page", "its page's name (the file id)", where="path")],
                "responses": {"200": {"description": "the article"},
                              "404": {"description": "no such article"}, **_ERRORS},
            }
        },
        "/api/changes": {
            "get": {
                "summary": "Edits and takedowns (and returns) found, newest first",
                "parameters": [
                    _param("since", f"found on or after this day, {_DAY}"),
                    _param("until", f"found on or before this day, {_DAY}"),
                    _param("limit", "changes a page, 1 to 500 (default 50)", "integer"),
                    _CURSOR,
                ],
                "responses": {"200": {"description": '{"changes": [...], "next": ...}'}, **_ERRORS},
            }
        },
        "/api/sources": {
            "get": {
                "summary": "Every source: its articles and each feed's health",
                "responses": {"200": {"description": '{"sources": [...]}'}},
            }
        },
    },
}  # fmt: skip
