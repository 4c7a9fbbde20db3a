"""The CJK font PDFs are drawn with: EXAM_PDF_FONT, or Noto Sans CJK from the machine (fonts-noto-cjk); never
fetched. None when the machine has none: callers then refuse the PDF with a clear message."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Optional

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)
SC_FACE = 2     # "Noto Sans CJK SC" in the collection (JP, KR, SC, TC, HK) when its names cannot be read


@lru_cache(maxsize=1)
def cjk_font() -> Optional[tuple[str, int]]:
    """(font file, face index of Simplified Chinese in it), or None."""
    configured = os.environ.get("EXAM_PDF_FONT", "")
    for candidate in ((configured,) if configured else ()) + FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate, _face_index(Path(candidate))
    return None


def _face_index(path: Path) -> int:
    """Simplified Chinese in a collection, whatever order its faces are in."""
    if path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    from fontTools.ttLib import TTCollection

    with TTCollection(str(path), lazy=True) as collection:
        for index, font in enumerate(collection.fonts):
            if "SC" in font["name"].getDebugName(1).split():
                return index
    return SC_FACE if "Noto" in path.name else 0
