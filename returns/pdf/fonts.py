"""The CJK TrueType font embedded in our PDFs.

The project's font lives in ``orders/pdf/fonts/`` (committed by the warehouse work); until it is
there, the system's WenQuanYi Micro Hei serves. The lead unifies font registration at merge.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

FONT_NAME = "TongcangCJK"
SYSTEM_FALLBACK = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
_SUFFIXES = (".ttf", ".ttc")  # ReportLab embeds TrueType outlines only (not CFF .otf)


def cjk_font_path() -> Path:
    """The first TrueType font in orders/pdf/fonts/, else the system's WenQuanYi Micro Hei."""
    folder = Path(settings.BASE_DIR) / "orders" / "pdf" / "fonts"
    if folder.is_dir():
        for candidate in sorted(folder.iterdir()):
            if candidate.suffix.lower() in _SUFFIXES and candidate.is_file():
                return candidate
    if SYSTEM_FALLBACK.is_file():
        return SYSTEM_FALLBACK
    raise ImproperlyConfigured(
        f"No CJK TrueType font: put one in {folder} or install {SYSTEM_FALLBACK} "
        "(Debian: fonts-wqy-microhei)."
    )


def register_cjk_font() -> str:
    """Register the CJK font with ReportLab once; return its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        path = cjk_font_path()
        if path.suffix.lower() == ".ttc":
            font = TTFont(FONT_NAME, str(path), subfontIndex=0)
        else:
            font = TTFont(FONT_NAME, str(path))
        pdfmetrics.registerFont(font)
    return FONT_NAME
