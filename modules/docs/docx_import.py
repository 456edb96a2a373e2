# SPDX-License-Identifier: AGPL-3.0-or-later
"""Word (.docx) to a rich document, read with python-docx.

The result is the XML tree Tiptap/ProseMirror's Yjs binding (y-prosemirror) edits in
the "default" Y.XmlFragment: `heading` (level 1-6, from the Heading/Title styles),
`paragraph`, `bulletList` / `orderedList` of `listItem` (the List Bullet / List Number
styles), `table` > `tableRow` > `tableCell` > `paragraph`; text carries the marks
`bold`, `italic`, `underline`, `strike` and `link` {href} as y-prosemirror stores
marks (the mark's name → its attributes). What is not carried over is counted in the
import's report (`lost`): images and other drawings, merged table cells (each part
becomes a cell), headers and footers, fonts, sizes and colours, and styles the editor
has no node for (kept as paragraphs)."""

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


class ImportFailedError(ValueError):
    """Not a .docx file python-docx can read."""


def read(data: bytes) -> Any:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ImportFailedError("不是 .docx 文件")
    try:
        return docx.Document(io.BytesIO(data))
    except Exception as e:  # python-docx raises many kinds for a broken package
        raise ImportFailedError(f"无法读取 .docx 文件：{e}") from e


def convert(data: bytes) -> tuple[bytes, dict[str, Any]]:
    """CPU work, off the reactor thread: the .docx as one Yjs update of a rich
    document, and the report."""
    ydoc: Doc[Any] = Doc()
    report = fill(ydoc.get("default", type=XmlFragment), read(data))
    return ydoc.get_update(), report


def fill(fragment: Any, document: Any) -> dict[str, Any]:
    """Append the document's content to `fragment` (already in a Doc); the report."""
    kept: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    current_list: tuple[str, Any] | None = None
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            current_list = None
            _table(fragment, block, kept, lost)
            continue
        list_kind = LISTS.get(_style(block))
        if list_kind is None:
            current_list = None
            _paragraph(fragment, block, kept, lost)
            continue
        if current_list is None or current_list[0] != list_kind:
            current_list = (list_kind, fragment.children.append(XmlElement(list_kind)))
            kept[list_kind] += 1
        item = current_list[1].children.append(XmlElement("listItem"))
        _paragraph(item, block, kept, lost, force="paragraph")
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
    text = node.children.append(XmlText())
    for piece in paragraph.iter_inner_content():
        if isinstance(piece, Hyperlink):
            link = {"link": {"href": piece.url}} if piece.url else {}
            for run in piece.runs:
                _run(text, run, link, lost)
        else:
            _run(text, piece, {}, lost)


def _level(level: int) -> Any:
    # Tiptap's heading reads a number (Yjs attributes hold any JSON value; pycrdt's
    # annotation says str).
    return {"level": level}


def _run(text: Any, run: Run, extra: dict[str, Any], lost: Counter[str]) -> None:
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
                text.insert(len(text), item, marks or None)
        elif type(item).__name__ == "Drawing":
            lost["image"] += 1


def _table(parent: Any, table: Table, kept: Counter[str], lost: Counter[str]) -> None:
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
                _paragraph(cell_node, paragraph, kept, lost, force="paragraph")
