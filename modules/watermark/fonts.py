# SPDX-License-Identifier: AGPL-3.0-or-later
"""Finding the CJK font watermarks are drawn with.

Debian's fonts-wqy-microhei (installed by `make install` when missing) first, then the
Noto CJK families other distributions ship. A font must draw Chinese: DejaVu and friends
would render the officer's name as boxes, so they are never a fallback.
"""

from pathlib import Path

DEFAULT_FONT_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
)

# A character every CJK font has and a Latin-only font lacks.
PROBE_CHARACTER = "警"


class FontError(ValueError):
    pass


def _draws_cjk(path: str) -> bool:
    from PIL import ImageFont

    try:
        font = ImageFont.truetype(path, 24, index=0)
    except OSError:
        return False
    # A font without the glyph maps it to .notdef, whose outline equals an unknown
    # private-use character's; a CJK font draws them differently.
    probe = font.getmask(PROBE_CHARACTER).getbbox()
    missing = font.getmask("\ue000").getbbox()
    return probe is not None and probe != missing


def find_cjk_font(configured: str | None) -> str:
    """The configured font (which must exist and draw Chinese) or the first default."""
    if configured is not None:
        if not Path(configured).is_file():
            raise FontError(f"font_path {configured} does not exist")
        if not _draws_cjk(configured):
            raise FontError(f"font_path {configured} has no Chinese glyphs")
        return configured
    for candidate in DEFAULT_FONT_PATHS:
        if Path(candidate).is_file() and _draws_cjk(candidate):
            return candidate
    raise FontError(
        "no CJK font found (looked for "
        + ", ".join(DEFAULT_FONT_PATHS)
        + "); run `make install` as root (installs Debian's fonts-wqy-microhei) or"
        " set font_path"
    )
