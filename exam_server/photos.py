"""Candidates' registration photos: JPEG or PNG only (checked by their magic bytes, never by a name), and the
demo's placeholder portraits, drawn here so that the demo needs no image files."""
from __future__ import annotations

import struct
import zlib
from typing import Optional

PHOTO_TYPES = ("image/jpeg", "image/png")
MAX_PHOTO_BYTES = 512 * 1024


def sniff_type(data: bytes) -> Optional[str]:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def placeholder_png(seed: int, width: int = 90, height: int = 120) -> bytes:
    """A grey head-and-shoulders silhouette on a light background tinted by `seed` (an ID-photo layout)."""
    background = (200 + seed * 37 % 50, 215 + seed * 53 % 40, 235)
    rows = []
    for y in range(height):
        row = bytearray([0])                                   # PNG filter: none
        for x in range(width):
            head = (x - width / 2) ** 2 / 18 ** 2 + (y - 48) ** 2 / 23 ** 2 <= 1
            shoulders = y > 78 and (x - width / 2) ** 2 / 42 ** 2 + (y - 122) ** 2 / 40 ** 2 <= 1
            row += bytes((90, 90, 96) if head or shoulders else background)
        rows.append(bytes(row))
    return _png(width, height, b"".join(rows))


def _png(width: int, height: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)   # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
