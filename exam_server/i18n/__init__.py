"""Message catalogues: zh-CN first, English available. One JSON file per locale (`zh_CN.json`, `en.json`) plus
one per area and locale (`bank.zh_CN.json`, …), merged; the same keys in each locale (a test checks), so the
browser client can load the very same catalogue."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

LOCALES = ("zh_CN", "en")
_DIR = Path(__file__).parent


@lru_cache(maxsize=None)
def catalogue(locale: str) -> dict[str, str]:
    merged = json.loads((_DIR / f"{locale}.json").read_text(encoding="utf-8"))
    for area in sorted(_DIR.glob(f"*.{locale}.json")):
        merged.update(json.loads(area.read_text(encoding="utf-8")))
    return merged


def translate(locale: str, key: str, **values) -> str:
    """The message for ``key`` in ``locale``; falls back to zh-CN, then to the key itself."""
    text = catalogue(locale if locale in LOCALES else "zh_CN").get(key) or catalogue("zh_CN").get(key, key)
    return text.format(**values) if values else text


def negotiate(*choices: str | None, default: str) -> str:
    """The first explicit choice that is supported (the user's saved locale, the language cookie), else the
    platform default. The browser's Accept-Language is ignored on purpose: an exam centre's machines run
    whatever system language they came with, and the province decides the exam language."""
    for choice in choices:
        if choice in LOCALES:
            return choice
    return default if default in LOCALES else "zh_CN"
