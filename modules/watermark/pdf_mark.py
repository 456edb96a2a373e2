# SPDX-License-Identifier: AGPL-3.0-or-later
"""Watermarking PDFs: on every page the viewer's text tiled diagonally and
semi-transparent, plus one horizontal line at the foot of the page (which also makes
the mark findable by text search and extraction).

reportlab draws one overlay per page size with the CJK font embedded (subset, with a
ToUnicode map); pypdf stamps it over each page's content. Both are imported when the
first PDF is marked, not at start (tens of MB a process may never need).
"""

import io
import math
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pypdf import PageObject

ANGLE = 30
FOOTER_MARGIN = 12.0


class PdfUnreadableError(ValueError):
    pass


@lru_cache(maxsize=4)
def _font_name(font_path: str) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = f"JwwxCJK{abs(hash(font_path)) % 10_000}"
    pdfmetrics.registerFont(TTFont(name, font_path, subfontIndex=0))
    return name


def overlay_page(
    width: float, height: float, text: str, opacity: float, font_path: str
) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfgen import canvas

    font = _font_name(font_path)
    size = max(10.0, min(28.0, min(width, height) / 24))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(width, height))
    pdf.setFillColorRGB(0.25, 0.25, 0.25)
    pdf.setFillAlpha(opacity)
    pdf.setFont(font, size)
    text_width = pdfmetrics.stringWidth(text, font, size)
    step_x = text_width + size * 3
    step_y = size * 4
    reach = math.hypot(width, height)
    pdf.saveState()
    pdf.translate(width / 2, height / 2)
    pdf.rotate(ANGLE)
    y = -reach
    row = 0
    while y < reach:
        x = -reach + (row % 2) * step_x / 2
        while x < reach:
            pdf.drawString(x, y, text)
            x += step_x
        y += step_y
        row += 1
    pdf.restoreState()
    pdf.setFillAlpha(min(1.0, opacity * 2))
    pdf.setFont(font, max(7.0, size / 2))
    pdf.drawString(FOOTER_MARGIN, FOOTER_MARGIN / 2, text)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def watermark_pdf(data: bytes, text: str, opacity: float, font_path: str) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise PdfUnreadableError("the PDF is password-protected")
        writer = PdfWriter(clone_from=reader)
        overlays: dict[tuple[float, float], PageObject] = {}
        for page in writer.pages:
            box = page.mediabox
            key = (float(box.width), float(box.height))
            if key not in overlays:
                stamp = overlay_page(*key, text, opacity, font_path)
                overlays[key] = PdfReader(io.BytesIO(stamp)).pages[0]
            page.merge_translated_page(
                overlays[key], float(box.left), float(box.bottom), over=True
            )
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    except PdfUnreadableError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as e:
        raise PdfUnreadableError(str(e)) from e
