"""Safe Exam Browser: when an exam has a Config Key, every candidate request of its sittings must prove it.

SEB sends `X-SafeExamBrowser-ConfigKeyHash` = hex SHA-256(absolute request URL without fragment ‖ Config Key)
on each request. Browsers that cannot send that header (SEB's modern WebViews) expose the same hash of the *page*
URL to JavaScript (`SafeExamBrowser.security.configKey`); our client then sends it with the page URL in
`X-Exam-Seb-Config-Key-Hash` and `X-Exam-Seb-Page-Url` (and in the Socket.IO `auth` as `seb`), and the page URL
must be on this server. A request without a valid proof is refused; nothing the candidate typed is lost (the
outbox keeps it until SEB is used).
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Optional
from urllib.parse import urlsplit

from .errors import UserError

SEB_HEADER = "X-SafeExamBrowser-ConfigKeyHash"
JS_HASH_HEADER = "X-Exam-Seb-Config-Key-Hash"
JS_URL_HEADER = "X-Exam-Seb-Page-Url"


def key_hash(url: str, config_key: str) -> str:
    return hashlib.sha256((url.split("#", 1)[0] + config_key).encode()).hexdigest()


def proven(config_key: Optional[str], request_url: str, host_url: str, headers, auth: Optional[dict] = None) -> bool:
    """True when no key is configured, or the request carries a valid SEB proof for it."""
    if not config_key:
        return True
    if _matches(headers.get(SEB_HEADER), request_url, config_key):
        return True
    page = (auth or {}).get("url") if auth else headers.get(JS_URL_HEADER)
    claimed = (auth or {}).get("hash") if auth else headers.get(JS_HASH_HEADER)
    return bool(page) and _same_origin(page, host_url) and _matches(claimed, page, config_key)


def require(config_key: Optional[str], request) -> None:
    if not proven(config_key, request.url, request.host_url, request.headers):
        raise UserError("seb.required", 403)


def valid_config_key(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def _matches(claimed, url: str, config_key: str) -> bool:
    return isinstance(claimed, str) and hmac.compare_digest(claimed.lower(), key_hash(url, config_key))


def _same_origin(url: str, host_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(host_url)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)
