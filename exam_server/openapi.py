"""The OpenAPI 3.1 document, generated from the routes themselves.

A JSON view declares its summary, request body and responses with :func:`documented`; `build` walks the URL
map, so a route cannot exist without appearing in the document (a test checks every /api route has one).
"""
from __future__ import annotations

import re
from typing import Any, Callable, Optional

from flask import Flask

ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"],
                             "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}},
}


def documented(summary: str, *, request: Optional[dict] = None, responses: Optional[dict[int, dict]] = None,
               tags: tuple[str, ...] = ()) -> Callable:
    def decorate(view: Callable) -> Callable:
        view.openapi = {"summary": summary, "request": request, "responses": responses or {}, "tags": list(tags)}
        return view
    return decorate


def _path(rule: str) -> tuple[str, list[dict]]:
    params = []

    def repl(match: re.Match) -> str:
        converter, name = match.group(1), match.group(2)
        params.append({"name": name, "in": "path", "required": True,
                       "schema": {"type": "integer" if converter == "int" else "string"}})
        return "{" + name + "}"

    return re.sub(r"<(?:(\w+):)?(\w+)>", repl, rule), params


def _operation(meta: dict, params: list[dict], access: str) -> dict[str, Any]:
    secured = access != "public"
    op: dict[str, Any] = {"summary": meta["summary"], "tags": meta["tags"], "parameters": params, "responses": {}}
    if meta["request"] is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": meta["request"]}}}
    for status, schema in meta["responses"].items():
        op["responses"][str(status)] = {"description": "", "content": {"application/json": {"schema": schema}}}
    for status in (400, 401, 403, 404, 429) if secured else (400, 429):
        op["responses"].setdefault(str(status), {"description": "error",
                                                 "content": {"application/json": {"schema": ERROR_SCHEMA}}})
    if secured:     # a station node signs its requests instead (docs/nodes.md)
        op["security"] = [{"node": []}] if access == "node-signed" else [{"session": [], "csrf": []}]
    return op


def build(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        meta = getattr(view, "openapi", None)
        if meta is None:
            continue
        path, params = _path(rule.rule)
        access = getattr(view, "access", "public")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(meta, params, access)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Exam platform API", "version": "0.1.0"},
        "paths": paths,
        "components": {"securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": "exam_session"},
            "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
            "node": {"type": "apiKey", "in": "header", "name": "X-Node-Signature",
                     "description": "Ed25519 over method, path, X-Node-Time and the body's SHA-256, by the node "
                                    "named in X-Node-Key"},
        }},
    }
