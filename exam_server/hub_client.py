"""A station node talking to the hub over the (slow, intermittent) WAN: list and download packages, resuming
where a cut left off, fetch a release code at the start, upload a results bundle in chunks that resume too.
Every request is signed with the node's key (transfer/node_requests.py). The transport is a plain function, so
that tests can route it to a hub app in the same process."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime
from typing import Callable, Optional

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .errors import UserError
from .transfer import node_requests

Transport = Callable[[str, str, dict, bytes], tuple[int, dict, bytes]]
CHUNK = 1 << 20
TIMEOUT_S = 30


def urllib_transport(method: str, url: str, headers: dict, body: bytes) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=body or None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
    except (urllib.error.URLError, OSError) as error:
        raise UserError("transfer.hub_unreachable", 503, detail=str(error)) from None


class HubClient:
    def __init__(self, base_url: str, key: Ed25519PrivateKey, clock: Callable[[], datetime],
                 transport: Transport = urllib_transport):
        self.base_url, self.key, self.clock, self.transport = base_url.rstrip("/"), key, clock, transport

    def _call(self, method: str, path: str, body: bytes = b"", headers: Optional[dict] = None,
              ok: tuple[int, ...] = (200,)) -> tuple[dict, bytes]:
        signed = {**(headers or {}), **node_requests.sign(self.key, method, path, body, self.clock())}
        status, response_headers, content = self.transport(method, self.base_url + path, signed, body)
        if status not in ok:
            try:
                error = json.loads(content).get("error", {})
            except ValueError:
                error = {}
            raise UserError(error.get("key") or "transfer.hub_refused", 502 if status >= 500 else 409,
                            detail=error.get("message", str(status)))
        return response_headers, content

    def packages(self) -> list[dict]:
        return json.loads(self._call("GET", "/api/node/packages")[1])["packages"]

    def download(self, package: dict, partial: bytes = b"",
                 on_chunk: Callable[[bytes], None] = lambda _: None) -> bytes:
        """The package's bytes, asking only for what ``partial`` lacks; ``on_chunk`` keeps each piece (on disk)
        so that a cut link resumes instead of starting again."""
        data = bytearray(partial)
        while len(data) < package["size"]:
            end = min(len(data) + CHUNK, package["size"]) - 1
            _, piece = self._call("GET", f"/api/node/packages/{package['id']}",
                                  headers={"Range": f"bytes={len(data)}-{end}"}, ok=(200, 206))
            if not piece:
                raise UserError("transfer.hub_refused", 502, detail="empty range")
            data += piece
            on_chunk(piece)
        return bytes(data)

    def release_code(self, package_id: int) -> str:
        return json.loads(self._call("POST", f"/api/node/packages/{package_id}/release")[1])["code"]

    def upload(self, sha256: str, bundle: bytes) -> dict:
        """Send a bundle in chunks from wherever the hub's copy ends; the hub imports it when complete."""
        status = json.loads(self._call("GET", f"/api/node/bundles/{sha256}")[1])
        offset = status["received"]
        while not status.get("imported"):
            piece = bundle[offset:offset + CHUNK]
            status = json.loads(self._call("PUT", f"/api/node/bundles/{sha256}?offset={offset}&total={len(bundle)}",
                                           piece)[1])
            offset = status["received"]
        return status
