# SPDX-License-Identifier: AGPL-3.0-or-later
"""PowerPoint (.pptx) into a deck (slides.py), read with python-pptx, with a report of
what was kept and what was lost.

Kept (`kept`): slides; text boxes and the text of shapes and placeholders, paragraph
by paragraph (bulleted or not), each run's text, bold, italic, size (points) and
colour (an RGB colour; a theme colour is counted in `lost` as `theme_color`) and its
hyperlink; pictures (their bytes go to the media repository: the caller uploads
them); tables (each cell's text); a shape that is a hyperlink as a link; embedded
files (OLE objects) as file cards; speaker notes; a slide's solid background colour.
Positions and sizes are scaled onto the 960 × 540 canvas (a 4:3 deck keeps its
proportions, centred). Lost, counted by kind: `chart`, `smartart`, `media` (audio,
video), `group` (its shapes are kept, flattened), `shape_style` (a drawn shape's
geometry, fill and outline: its text is kept), `merged_cell`, `background_image`,
`font_name`, `theme_color`, `animation`, `transition`, `other` (anything else).
"""

import hashlib
import io
import zipfile
from collections import Counter
from typing import Any

from pptx import Presentation
from pptx.enum.dml import MSO_COLOR_TYPE, MSO_FILL
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER
from pptx.oxml.ns import qn
from pycrdt import Doc

from modules.docs.slides import HEIGHT, WIDTH, Slide, write

MAX_SLIDES = 500
MAX_ELEMENTS = 20_000
MAX_TEXT = 100_000  # characters of one text box
FILE_CARD = (240, 56)  # the least room a file card is given
BULLETED = (PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT)
OLE_EXTENSIONS = {
    "Word.Document": "docx",
    "Excel.Sheet": "xlsx",
    "PowerPoint.Show": "pptx",
    "Package": "bin",
    "AcroExch.Document": "pdf",
}


class ImportFailedError(Exception):
    """The file cannot be read; the message is for the officer."""


class Media:
    """A picture or embedded file found in the deck, to be uploaded."""

    def __init__(self, data: bytes, content_type: str, name: str) -> None:
        self.data = data
        self.content_type = content_type
        self.name = name


def to_update(slides: list[Slide]) -> bytes:
    doc: Doc[Any] = Doc()
    write(doc, slides)
    return doc.get_update()


def convert(data: bytes) -> tuple[list[Slide], list[Media], dict[str, Any]]:
    """CPU work, off the reactor thread: the slides, whose image and file elements
    name their Media by index ("src": 0, 1, …) until the caller has uploaded them,
    and the report {kept, lost}."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ImportFailedError("不是 .pptx 文件")
    try:
        deck = Presentation(io.BytesIO(data))
    except Exception as e:  # python-pptx raises many kinds for a broken package
        raise ImportFailedError("无法读取 .pptx 文件") from e
    reader = _Reader(deck)
    try:
        slides = [reader.slide(s) for s in deck.slides]
    except (KeyError, ValueError, AttributeError, TypeError) as e:
        raise ImportFailedError("无法读取 .pptx 文件的内容") from e
    if not slides:
        raise ImportFailedError("文件中没有幻灯片")
    reader.lost.update(_parts(data))
    report = {
        "kept": {k: n for k, n in sorted(reader.kept.items()) if n},
        "lost": {k: n for k, n in sorted(reader.lost.items()) if n},
    }
    return slides, reader.media, report


def _parts(data: bytes) -> Counter[str]:
    """What the package holds that python-pptx does not surface: audio and video."""
    found: Counter[str] = Counter()
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for name in package.namelist():
            if name.startswith("ppt/media/") and name.rsplit(".", 1)[-1].lower() in (
                "mp4",
                "mov",
                "wmv",
                "avi",
                "mp3",
                "wav",
                "m4a",
                "wma",
            ):
                found["media"] += 1
    return found


class _Reader:
    def __init__(self, deck: Any) -> None:
        width, height = int(deck.slide_width or 0), int(deck.slide_height or 0)
        if width <= 0 or height <= 0:
            raise ImportFailedError("幻灯片尺寸无效")
        self.scale = min(WIDTH / width, HEIGHT / height)
        self.dx = (WIDTH - width * self.scale) / 2
        self.dy = (HEIGHT - height * self.scale) / 2
        self.kept: Counter[str] = Counter()
        self.lost: Counter[str] = Counter()
        self.media: list[Media] = []
        self._seen: dict[bytes, int] = {}
        self.count = 0

    def slide(self, slide: Any) -> Slide:
        if self.kept["slide"] >= MAX_SLIDES:
            raise ImportFailedError(f"幻灯片过多（至多 {MAX_SLIDES} 张）")
        self.kept["slide"] += 1
        found = Slide(background=self._background(slide))
        for shape in slide.shapes:
            self._shape(shape, found.elements)
        if slide.has_notes_slide:
            frame = slide.notes_slide.notes_text_frame
            notes = frame.text.strip() if frame is not None else ""
            if notes:
                found.notes = notes[:MAX_TEXT]
                self.kept["notes"] += 1
        xml = slide.element  # the slide's XML root: timing and transition
        if xml.find(qn("p:timing")) is not None:
            self.lost["animation"] += 1
        if xml.find(qn("p:transition")) is not None:
            self.lost["transition"] += 1
        return found

    def _background(self, slide: Any) -> str:
        if not slide.follow_master_background:
            fill = slide.background.fill
            if (
                fill.type == MSO_FILL.SOLID
                and fill.fore_color.type == MSO_COLOR_TYPE.RGB
            ):
                return f"#{fill.fore_color.rgb}".lower()
            if fill.type is not None:
                self.lost["background_image"] += 1
        return "#ffffff"

    def _box(self, shape: Any) -> dict[str, Any]:
        def at(value: Any, offset: float) -> float:
            return round((int(value or 0)) * self.scale + offset, 2)

        return {
            "x": at(shape.left, self.dx),
            "y": at(shape.top, self.dy),
            "w": at(shape.width, 0),
            "h": at(shape.height, 0),
        }

    def _media(self, found: Media) -> int:
        """The index of the media to upload; a picture used on several slides (one
        part of the package, or the same bytes twice) is uploaded once."""
        digest = hashlib.sha256(found.data).digest()
        if digest not in self._seen:
            self._seen[digest] = len(self.media)
            self.media.append(found)
        return self._seen[digest]

    def _add(self, elements: list[dict[str, Any]], element: dict[str, Any]) -> None:
        self.count += 1
        if self.count > MAX_ELEMENTS:
            raise ImportFailedError(f"元素过多（至多 {MAX_ELEMENTS} 个）")
        element["z"] = len(elements) + 1
        elements.append(element)

    def _shape(self, shape: Any, elements: list[dict[str, Any]]) -> None:
        kind = shape.shape_type
        if kind == MSO_SHAPE_TYPE.GROUP:
            self.lost["group"] += 1
            for child in shape.shapes:
                self._shape(child, elements)
            return
        if getattr(shape, "has_chart", False):
            self.lost["chart"] += 1
            return
        if getattr(shape, "has_table", False):
            self._table(shape, elements)
            return
        if kind in (MSO_SHAPE_TYPE.MEDIA, MSO_SHAPE_TYPE.WEB_VIDEO):
            return  # counted in the package's parts
        if kind == MSO_SHAPE_TYPE.DIAGRAM or _is_smartart(shape):
            self.lost["smartart"] += 1
            return
        if kind == MSO_SHAPE_TYPE.EMBEDDED_OLE_OBJECT:
            self._file(shape, elements)
            return
        image = _image_of(shape)
        if image is not None:
            self._add(
                elements,
                {
                    "type": "image",
                    **self._box(shape),
                    "src": self._media(
                        Media(image.blob, image.content_type, image.filename or "图片")
                    ),
                    "name": image.filename or "图片",
                },
            )
            self.kept["image"] += 1
            return
        link = _shape_link(shape)
        if link and not _has_text(shape):
            self.lost["other"] += 1
            return
        if link:
            text = shape.text_frame.text.strip()[:MAX_TEXT]
            self._add(
                elements,
                {"type": "link", **self._box(shape), "url": link, "text": text},
            )
            self.kept["link"] += 1
            return
        if _has_text(shape):
            self._text(shape, elements)
            if kind in (MSO_SHAPE_TYPE.AUTO_SHAPE, MSO_SHAPE_TYPE.FREEFORM):
                self.lost["shape_style"] += 1
            return
        if kind == MSO_SHAPE_TYPE.PLACEHOLDER or getattr(
            shape, "is_placeholder", False
        ):
            return  # an empty placeholder: nothing shows
        self.lost["shape_style" if kind is not None else "other"] += 1

    def _text(self, shape: Any, elements: list[dict[str, Any]]) -> None:
        bulleted = False
        if getattr(shape, "is_placeholder", False):
            bulleted = shape.placeholder_format.type in BULLETED
        paragraphs = []
        total = 0
        body = shape.element.find(qn("p:txBody"))
        xml = body.findall(qn("a:p")) if body is not None else []
        for index, paragraph in enumerate(shape.text_frame.paragraphs):
            runs = []
            for run in paragraph.runs:
                text = run.text[: max(0, MAX_TEXT - total)]
                total += len(text)
                if text:
                    runs.append(self._run(run, text))
            bullet = _bullet(xml[index] if index < len(xml) else None, bulleted)
            paragraphs.append({"bullet": bullet, "runs": runs})
            self.kept["paragraph"] += 1
            self.kept["bullet"] += bullet
        self._add(
            elements, {"type": "text", **self._box(shape), "paragraphs": paragraphs}
        )
        self.kept["text_box"] += 1

    def _run(self, run: Any, text: str) -> dict[str, Any]:
        found: dict[str, Any] = {"text": text}
        font = run.font
        if font.bold:
            found["bold"] = True
            self.kept["bold"] += 1
        if font.italic:
            found["italic"] = True
            self.kept["italic"] += 1
        if font.size is not None:
            found["size"] = round(font.size.pt, 1)
            self.kept["size"] += 1
        color_type = font.color.type if font.fill.type == MSO_FILL.SOLID else None
        if color_type == MSO_COLOR_TYPE.RGB:
            found["color"] = f"#{font.color.rgb}".lower()
            self.kept["color"] += 1
        elif color_type is not None:
            self.lost["theme_color"] += 1
        if font.name:
            self.lost["font_name"] += 1
        address = run.hyperlink.address
        if address:
            found["link"] = address
            self.kept["link"] += 1
        return found

    def _table(self, shape: Any, elements: list[dict[str, Any]]) -> None:
        rows = []
        for row in shape.table.rows:
            cells = []
            for cell in row.cells:
                if cell.is_spanned:
                    self.lost["merged_cell"] += 1
                cells.append(cell.text[:MAX_TEXT] if not cell.is_spanned else "")
            rows.append(cells)
        self._add(elements, {"type": "table", **self._box(shape), "rows": rows})
        self.kept["table"] += 1

    def _file(self, shape: Any, elements: list[dict[str, Any]]) -> None:
        ole = shape.ole_format
        blob = ole.blob
        if not blob:
            self.lost["other"] += 1
            return
        prog_id = str(ole.prog_id or "")
        extension = OLE_EXTENSIONS.get(prog_id.rsplit(".", 1)[0]) or OLE_EXTENSIONS.get(
            prog_id, "bin"
        )
        name = f"附件{self.kept['file'] + 1}.{extension}"
        index = self._media(Media(blob, "application/octet-stream", name))
        box = self._box(shape)
        # PowerPoint shows an embedded file as a small icon; a card needs room for
        # its name.
        box["w"], box["h"] = max(box["w"], FILE_CARD[0]), max(box["h"], FILE_CARD[1])
        self._add(
            elements,
            {
                "type": "file",
                **box,
                "src": index,
                "name": name,
                "size": len(blob),
                "mime": "application/octet-stream",
            },
        )
        self.kept["file"] += 1


def _image_of(shape: Any) -> Any:
    if shape.shape_type not in (MSO_SHAPE_TYPE.PICTURE, MSO_SHAPE_TYPE.PLACEHOLDER):
        return None
    try:
        return shape.image
    except (AttributeError, ValueError, KeyError):
        return None


def _is_smartart(shape: Any) -> bool:
    data = shape.element.find(".//" + qn("a:graphicData"))
    return data is not None and "diagram" in str(data.get("uri", ""))


def _has_text(shape: Any) -> bool:
    return bool(getattr(shape, "has_text_frame", False)) and bool(
        shape.text_frame.text.strip()
    )


def _shape_link(shape: Any) -> str | None:
    try:
        address = shape.click_action.hyperlink.address
    except (AttributeError, KeyError, ValueError):
        return None
    return str(address) if address else None


def _bullet(paragraph: Any, default: bool) -> bool:
    """A paragraph (its XML, a:p) is bulleted by its own a:buChar/a:buAutoNum, or by
    its placeholder's (a body's) unless it says a:buNone."""
    properties = paragraph.find(qn("a:pPr")) if paragraph is not None else None
    if properties is not None:
        if properties.find(qn("a:buNone")) is not None:
            return False
        if (
            properties.find(qn("a:buChar")) is not None
            or properties.find(qn("a:buAutoNum")) is not None
        ):
            return True
    return default
