# SPDX-License-Identifier: AGPL-3.0-or-later
"""A deck (slides.py) to a PowerPoint file (.pptx), written with python-pptx.

A widescreen deck (13.333 × 7.5 in; the canvas's unit is a point, 12,700 EMU), one
blank slide per slide with its background colour and notes. Text boxes keep their
paragraphs (bulleted ones with a "•" bullet), runs with bold, italic, size, colour and
hyperlink; pictures their bytes (given by the caller, read from the media repository;
one that cannot be read becomes a text box naming it); tables their cells' text;
links a text box that is the hyperlink (and whose text is); an attached file an
embedded (OLE) object, of Word, Excel, PowerPoint or Acrobat by its extension, else a
package, shown as an icon that opens it."""

import io
import re
from typing import Any

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import PROG_ID
from pptx.oxml.ns import qn
from pptx.util import Emu, Pt

from modules.docs.slides import HEIGHT, WIDTH, Slide

PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
EMU_PER_UNIT = 12_700
_COLOR = re.compile(r"^#([0-9a-fA-F]{6})$")
# XML 1.0 refuses control characters other than tab and line breaks.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
BLANK_LAYOUT = 6
# An attached file is embedded as an OLE object of the program that opens it.
PROG_IDS: dict[str, PROG_ID | str] = {
    "docx": PROG_ID.DOCX,
    "xlsx": PROG_ID.XLSX,
    "pptx": PROG_ID.PPTX,
    "pdf": "AcroExch.Document",
}


def _emu(value: Any, limit: float) -> Emu:
    number = value if isinstance(value, (int, float)) else 0
    return Emu(int(max(-limit, min(limit * 2, number)) * EMU_PER_UNIT))


def _size(value: Any) -> Emu:
    number = value if isinstance(value, (int, float)) else 0
    return Emu(int(max(1, min(WIDTH * 4, number)) * EMU_PER_UNIT))


def _text(value: Any) -> str:
    return _CONTROL.sub("", value) if isinstance(value, str) else ""


def _rgb(value: Any) -> RGBColor | None:
    match = _COLOR.match(value) if isinstance(value, str) else None
    return RGBColor.from_string(match.group(1).upper()) if match else None


def to_pptx(slides: list[Slide], media: dict[str, bytes]) -> bytes:
    """The deck as a .pptx; `media` maps an mxc:// URI to the bytes it names."""
    deck = Presentation()
    deck.slide_width = Emu(WIDTH * EMU_PER_UNIT)
    deck.slide_height = Emu(HEIGHT * EMU_PER_UNIT)
    layout = deck.slide_layouts[BLANK_LAYOUT]
    for found in slides or [Slide()]:
        slide = deck.slides.add_slide(layout)
        color = _rgb(found.background)
        if color is not None and found.background.lower() != "#ffffff":
            fill = slide.background.fill
            fill.solid()
            fill.fore_color.rgb = color
        for element in found.elements:
            _element(slide, element, media)
        if found.notes:
            slide.notes_slide.notes_text_frame.text = _text(found.notes)
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def _element(slide: Any, element: dict[str, Any], media: dict[str, bytes]) -> None:
    box = (
        _emu(element.get("x"), WIDTH),
        _emu(element.get("y"), HEIGHT),
        _size(element.get("w")),
        _size(element.get("h")),
    )
    kind = element["type"]
    if kind == "image":
        data = media.get(str(element.get("src")))
        if data is not None:
            try:
                slide.shapes.add_picture(io.BytesIO(data), *box)
                return
            except Exception:  # noqa: BLE001 — a file Pillow/python-pptx cannot place
                pass
        _plain_box(slide, box, f"[图片] {_text(element.get('name'))}")
    elif kind == "table":
        rows = element.get("rows")
        rows = (
            [r for r in rows if isinstance(r, list)] if isinstance(rows, list) else []
        )
        columns = max((len(r) for r in rows), default=0)
        if not rows or not columns:
            return
        table = slide.shapes.add_table(len(rows), columns, *box).table
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                table.cell(r, c).text = _text(value if isinstance(value, str) else "")
    elif kind == "link":
        text = _text(element.get("text")) or _text(element.get("url"))
        shape = slide.shapes.add_textbox(*box)
        frame = shape.text_frame
        frame.word_wrap = True
        run = frame.paragraphs[0].add_run()
        run.text = text
        url = _text(element.get("url"))
        if url:
            run.hyperlink.address = url
            shape.click_action.hyperlink.address = url
    elif kind == "file":
        data = media.get(str(element.get("src")))
        name = _text(element.get("name"))
        if data is not None:
            extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
            slide.shapes.add_ole_object(
                io.BytesIO(data), PROG_IDS.get(extension, "Package"), *box
            )
            return
        _plain_box(slide, box, f"[附件] {name}")
    else:
        _text_box(slide, box, element.get("paragraphs"))


def _plain_box(slide: Any, box: tuple[Emu, Emu, Emu, Emu], text: str) -> None:
    frame = slide.shapes.add_textbox(*box).text_frame
    frame.word_wrap = True
    frame.text = text


def _text_box(slide: Any, box: tuple[Emu, Emu, Emu, Emu], paragraphs: Any) -> None:
    shape = slide.shapes.add_textbox(*box)
    frame = shape.text_frame
    frame.word_wrap = True
    paragraphs = (
        [p for p in paragraphs if isinstance(p, dict)]
        if isinstance(paragraphs, list)
        else []
    )
    for index, found in enumerate(paragraphs):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        runs = found.get("runs")
        for piece in runs if isinstance(runs, list) else []:
            if not isinstance(piece, dict):
                continue
            run = paragraph.add_run()
            run.text = _text(piece.get("text"))
            font = run.font
            if piece.get("bold"):
                font.bold = True
            if piece.get("italic"):
                font.italic = True
            size = piece.get("size")
            if isinstance(size, (int, float)) and 1 <= size <= 400:
                font.size = Pt(size)
            color = _rgb(piece.get("color"))
            if color is not None:
                font.color.rgb = color
            link = _text(piece.get("link"))
            if link:
                run.hyperlink.address = link
    body = shape.element.find(qn("p:txBody"))
    xml = body.findall(qn("a:p")) if body is not None else []
    for found, element in zip(paragraphs, xml, strict=False):
        if found.get("bullet"):
            properties = element.get_or_add_pPr()
            properties.set("marL", "285750")
            properties.set("indent", "-285750")
            bullet = properties.makeelement(qn("a:buChar"), {"char": "•"})
            properties.append(bullet)
