"""The CJK font of every PDF and chart, embedded (as a subset) so a PDF reads the same on any machine.

WenQuanYi Zen Hei (Debian ``fonts-wqy-zenhei``, GPL-2 with a font-embedding exception, installed by
scripts/bootstrap.sh and the Dockerfile) has TrueType outlines, which reportlab can embed; Noto CJK
is CFF-based, which reportlab cannot. ``CJK_FONT_PATH`` names another TrueType .ttf/.ttc. Without
any, PDFs fall back to Adobe's non-embedded CID font STSong-Light (viewers substitute a system font).
"""

from __future__ import annotations

import logging
import os
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
)
EMBEDDED = "WenQuanYiZenHei"
FALLBACK = "STSong-Light"


def cjk_font_path() -> Path | None:
    for candidate in (os.environ.get("CJK_FONT_PATH", ""), *CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@cache
def cjk_font() -> str:
    """The reportlab name of the CJK font, registered on first use."""
    from reportlab.pdfbase import pdfmetrics

    path = cjk_font_path()
    if path is not None:
        from reportlab.pdfbase.ttfonts import TTFont

        pdfmetrics.registerFont(TTFont(EMBEDDED, str(path), subfontIndex=0))
        return EMBEDDED
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    log.warning("no TrueType CJK font found (apt-get install fonts-wqy-zenhei); PDFs use %s unembedded", FALLBACK)
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK))
    return FALLBACK


@cache
def matplotlib_cjk() -> None:
    """Make matplotlib draw Chinese with the same font (no tofu boxes in the charts)."""
    import matplotlib
    from matplotlib import font_manager

    path = cjk_font_path()
    families = ["DejaVu Sans"]
    if path is not None:
        font_manager.fontManager.addfont(str(path))
        families.insert(0, font_manager.FontProperties(fname=str(path)).get_name())
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = [*families, "Noto Sans CJK SC", *matplotlib.rcParams["font.sans-serif"]]
    matplotlib.rcParams["axes.unicode_minus"] = False
