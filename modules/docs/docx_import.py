# SPDX-License-Identifier: AGPL-3.0-or-later
"""Word (.docx) to a rich document, read with python-docx.

The result is the XML tree Tiptap/ProseMirror's Yjs binding (y-prosemirror) edits in
the "default" Y.XmlFragment: `heading` (level 1-6, from the Heading/Title styles),
`paragraph`, `bulletList` / `orderedList` of `listItem` (the List Bullet / List Number
styles), `table` > `tableRow` > `tableCell` > `paragraph`; text carries the marks
`bold`, `italic`, `underline`, `strike` and `link` {href} as y-prosemirror stores
marks (the mark's name → its attributes); pictures (inline or floating) become inline
`image` nodes where they stood in their paragraph, {src, name, width, height} (the
size in CSS pixels, from the drawing's extent), whose bytes the caller uploads to the
media repository: `convert` leaves `src` as the picture's index in the list it
returns, and `link_media` puts the uploads' mxc:// URIs in. What is not carried over
is counted in the import's report (`lost`): other drawings (charts, shapes, SmartArt:
`drawing`), linked pictures (`image`), merged table cells (each part becomes a cell),
headers and footers, fonts, sizes and colours, and styles the editor has no node for
(kept as paragraphs)."""

import hashlib
import io
import re
import zipfile
from collections import Counter
from typing import Any

import docx
from docx.table import Table
from docx.text.hyperlink import Hyperlink
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

HEADING = re.compile(r"^(?:Heading|heading|标题)\s*([1-6])$")
LISTS = {"List Bullet": "bulletList", "List Number": "orderedList"}
EMU_PER_PX = 9525  # 914,400 EMU an inch, 96 CSS pixels an inch
MAX_PX = 4000  # an image's width or height as imported, at most


class Media:
    """A picture found in the document, to be uploaded."""

    def __init__(self, data: bytes, content_type: str, name: str) -> None:
        self.data = data
        self.content_type = content_type
        self.name = name


class ImportFailedError(ValueError):
    """Not a .docx file python-docx can read."""


def read(data: bytes) -> Any:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ImportFailedError("不是 .docx 文件")
    try:
        return docx.Document(io.BytesIO(data))
    except Exception as e:  # python-docx raises many kinds for a broken package
        raise ImportFailedError(f"无法读取 .docx 文件：{e}") from e


def convert(data: bytes) -> tuple[bytes, list[Media], dict[str, Any]]:
    """CPU work, off the reactor thread: the .docx as one Yjs update of a rich
    document, its pictures to upload (each image node's `src` is its index there) and
    the report."""
    ydoc: Doc[Any] = Doc()
    media: list[Media] = []
    report = fill(ydoc.get("default", type=XmlFragment), read(data), media)
    return ydoc.get_update(), media, report


def link_media(update: bytes, uris: list[str]) -> bytes:
    """`update` (convert's) with each image node's `src` index replaced by the mxc://
    URI its picture was uploaded as."""
    ydoc: Doc[Any] = Doc()
    ydoc.apply_update(update)

    def walk(node: Any) -> None:
        for child in node.children:
            if isinstance(child, XmlElement):
                if child.tag == "image":
                    index = child.attributes.get("src")
                    if isinstance(index, str) and index.isdigit():
                        child.attributes["src"] = uris[int(index)]
                walk(child)

    walk(ydoc.get("default", type=XmlFragment))
    return ydoc.get_update()


def fill(
    fragment: Any, document: Any, media: list[Media] | None = None
) -> dict[str, Any]:
    """Append the document's content to `fragment` (already in a Doc); the report.
    Pictures are appended to `media` (without it they are counted lost)."""
    kept: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    pictures = _Pictures(media)
    current_list: tuple[str, Any] | None = None
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            current_list = None
            _table(fragment, block, kept, lost, pictures)
            continue
        list_kind = LISTS.get(_style(block))
        if list_kind is None:
            current_list = None
            _paragraph(fragment, block, kept, lost, pictures)
            continue
        if current_list is None or current_list[0] != list_kind:
            current_list = (list_kind, fragment.children.append(XmlElement(list_kind)))
            kept[list_kind] += 1
        item = current_list[1].children.append(XmlElement("listItem"))
        _paragraph(item, block, kept, lost, pictures, force="paragraph")
    for section in document.sections:
        for part in (section.header, section.footer):
            if not part.is_linked_to_previous and any(p.text for p in part.paragraphs):
                lost["header_footer"] += 1
    return {"kept": dict(kept), "lost": dict(lost)}


def _style(paragraph: Paragraph) -> str:
    style = paragraph.style
    return str(style.name) if style is not None and style.name else ""


def _paragraph(
    parent: Any,
    paragraph: Paragraph,
    kept: Counter[str],
    lost: Counter[str],
    pictures: "_Pictures",
    force: str | None = None,
) -> None:
    style = _style(paragraph)
    heading = HEADING.match(style)
    if force is None and heading is not None:
        element = XmlElement("heading", _level(int(heading.group(1))))
    elif force is None and style == "Title":
        element = XmlElement("heading", _level(1))
    else:
        element = XmlElement(force or "paragraph")
    node = parent.children.append(element)
    kept[element.tag or "paragraph"] += 1
    sink = _Inline(node, pictures, kept, lost)
    for piece in paragraph.iter_inner_content():
        if isinstance(piece, Hyperlink):
            link = {"link": {"href": piece.url}} if piece.url else {}
            for run in piece.runs:
                _run(sink, run, link, lost)
        else:
            _run(sink, piece, {}, lost)


def _level(level: int) -> Any:
    # Tiptap's heading reads a number (Yjs attributes hold any JSON value; pycrdt's
    # annotation says str).
    return {"level": level}


class _Pictures:
    """The document's pictures to upload, each once (the same bytes twice: once)."""

    def __init__(self, media: list[Media] | None) -> None:
        self.media = media
        self._seen: dict[str, int] = {}

    def index(self, found: Media) -> int | None:
        if self.media is None:
            return None
        digest = hashlib.sha256(found.data).hexdigest()
        if digest not in self._seen:
            self._seen[digest] = len(self.media)
            self.media.append(found)
        return self._seen[digest]


class _Inline:
    """A paragraph's inline content: runs of text, and image nodes between them."""

    def __init__(
        self, node: Any, pictures: _Pictures, kept: Counter[str], lost: Counter[str]
    ) -> None:
        self.node = node
        self.pictures = pictures
        self.kept = kept
        self.lost = lost
        self.text = node.children.append(XmlText())

    def add_text(self, chunk: str, marks: dict[str, Any] | None) -> None:
        self.text.insert(len(self.text), chunk, marks)

    def add_drawing(self, drawing: Any) -> None:
        found = _picture(drawing)
        if found is None:
            self.lost["drawing" if not drawing.has_picture else "image"] += 1
            return
        media, width, height = found
        index = self.pictures.index(media)
        if index is None:
            self.lost["image"] += 1
            return
        attrs: dict[str, Any] = {"src": str(index), "name": media.name}
        if width and height:
            attrs.update(width=width, height=height)
        self.node.children.append(XmlElement("image", attrs))
        self.kept["image"] += 1
        self.text = self.node.children.append(XmlText())


def _picture(drawing: Any) -> tuple[Media, int, int] | None:
    """The drawing's embedded picture and its size in CSS pixels (0 when unknown);
    None for a chart, a shape, or a picture linked from outside the file."""
    element = drawing._element  # python-docx's CT_Drawing (its public Drawing has no
    # size, and .image parses the header: it refuses EMF/WMF)
    ids = element.xpath(".//pic:blipFill/a:blip/@r:embed")
    if not ids:
        return None
    try:
        part = drawing.part.related_parts[ids[0]]
        data = part.blob
    except (KeyError, AttributeError):
        return None
    name = str(part.partname).rsplit("/", 1)[-1]
    width = height = 0
    extents = element.xpath("./*/wp:extent")
    if extents:
        try:
            width = round(int(extents[0].get("cx")) / EMU_PER_PX)
            height = round(int(extents[0].get("cy")) / EMU_PER_PX)
        except (TypeError, ValueError):
            width = height = 0
    if not (0 < width <= MAX_PX and 0 < height <= MAX_PX):
        width = height = 0
    return Media(bytes(data), str(part.content_type), name), width, height


def _run(sink: _Inline, run: Run, extra: dict[str, Any], lost: Counter[str]) -> None:
    marks: dict[str, Any] = dict(extra)
    for name, on in (
        ("bold", run.bold),
        ("italic", run.italic),
        ("underline", run.underline),
        ("strike", run.font.strike),
    ):
        if on:
            marks[name] = {}
    if run.font.size is not None or run.font.name or run.font.color.rgb is not None:
        lost["font"] += 1
    for item in run.iter_inner_content():
        if isinstance(item, str):
            if item:
                sink.add_text(item, marks or None)
        elif type(item).__name__ == "Drawing":
            sink.add_drawing(item)


def _table(
    parent: Any,
    table: Table,
    kept: Counter[str],
    lost: Counter[str],
    pictures: _Pictures,
) -> None:
    node = parent.children.append(XmlElement("table"))
    kept["table"] += 1
    for row in table.rows:
        row_node = node.children.append(XmlElement("tableRow"))
        seen: set[int] = set()
        for cell in row.cells:
            # python-docx repeats the same cell object for each grid column a
            # horizontally merged cell spans.
            if id(cell) in seen:
                lost["merged_cell"] += 1
            seen.add(id(cell))
            cell_node = row_node.children.append(XmlElement("tableCell"))
            for paragraph in cell.paragraphs:
                _paragraph(
                    cell_node, paragraph, kept, lost, pictures, force="paragraph"
                )
