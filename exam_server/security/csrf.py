"""CSRF protection on every state-changing request, forms and JSON alike.

Two checks: the browser's own Sec-Fetch-Site/Origin headers must not say cross-site, and the request must
carry the token of its session (before login: a random token in a cookie, the double-submit pattern).
"""
from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from flask import Request

ANON_COOKIE = "exam_csrf"
HEADER = "X-CSRF-Token"
FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def new_token() -> str:
    return secrets.token_urlsafe(32)


def cross_site(request: Request) -> bool:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return urlsplit(origin).netloc != request.host
    return False


def submitted_token(request: Request) -> str:
    token = request.headers.get(HEADER, "")
    if not token and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        token = request.form.get(FIELD, "")
    return token


def token_matches(expected: str | None, given: str) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected, given)
