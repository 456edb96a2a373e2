# SPDX-License-Identifier: AGPL-3.0-or-later
"""A document as Word (.docx), written with python-docx (imported on first use:
modules/common/heavy_imports).

Rich documents (the editor's tree, docx_import.py's nodes): `heading` → Word's Heading
1-6, `paragraph`, `bulletList` / `orderedList` items → List Bullet / List Number
(nested lists as the deeper List Bullet 2/3 styles), `blockquote` → Quote,
`codeBlock` → a paragraph in a monospace font, `table` → a table, `taskBlock` → the
task's title, due date and steps as a checklist, `hardBreak` → a line break; the
marks bold, italic, underline, strike, code, and link (its text, then the address in
brackets). Plain-text documents: one paragraph per line. Comments are not exported
(they are the document's discussion, not its text); the export's report counts what
had no Word form (`lost`, by node name)."""

import io
import json
from collections import Counter
from typing import Any

from pycrdt import Doc, Text, XmlElement, XmlFragment, XmlText

from modules.common.heavy_imports import import_frozen

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LIST_STYLES = {"bulletList": "List Bullet", "orderedList": "List Number"}


def export(state: bytes, kind: str, title: str) -> tuple[bytes, dict[str, Any]]:
    """CPU work, off the reactor thread: the .docx file and the report."""
    docx = import_frozen("docx")
    ydoc: Doc[Any] = Doc()
    ydoc.apply_update(state)
    document = docx.Document()
    document.core_properties.title = title
    lost: Counter[str] = Counter()
    if kind == "text":
        for line in str(ydoc.get("content", type=Text)).split("\n"):
            document.add_paragraph(line)
    else:
        writer = _Writer(document, lost)
        for child in ydoc.get("default", type=XmlFragment).children:
            writer.block(child, 0)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue(), {"lost": dict(lost)}


class _Writer:
    def __init__(self, document: Any, lost: Counter[str]) -> None:
        self.document = document
        self.lost = lost

    def block(self, node: Any, depth: int) -> None:
        if isinstance(node, XmlText):
            self.runs(self.document.add_paragraph(), node)
            return
        if not isinstance(node, XmlElement):
            return
        tag = str(node.tag)
        if tag == "heading":
            level = _level(node.attributes.get("level"))
            self.inline(self.document.add_heading("", level=level), node)
        elif tag == "paragraph":
            self.inline(self.document.add_paragraph(), node)
        elif tag in LIST_STYLES:
            self.list(node, LIST_STYLES[tag], depth)
        elif tag == "blockquote":
            for child in node.children:
                if isinstance(child, XmlElement) and child.tag == "paragraph":
                    self.inline(self.document.add_paragraph(style="Quote"), child)
                else:
                    self.block(child, depth)
        elif tag == "codeBlock":
            paragraph = self.document.add_paragraph()
            for child in node.children:
                if isinstance(child, XmlText):
                    paragraph.add_run(str(child)).font.name = "Courier New"
        elif tag == "table":
            self.table(node)
        elif tag == "taskBlock":
            self.task(node)
        elif tag == "horizontalRule":
            self.document.add_paragraph("―" * 20)
        else:
            self.lost[tag] += 1
            for child in node.children:  # keep its text at least
                self.block(child, depth)

    def list(self, node: Any, style: str, depth: int) -> None:
        name = style if depth == 0 else f"{style} {min(depth + 1, 3)}"
        for item in node.children:
            if not isinstance(item, XmlElement) or item.tag != "listItem":
                continue
            for child in item.children:
                if isinstance(child, XmlElement) and child.tag == "paragraph":
                    self.inline(self.document.add_paragraph(style=name), child)
                elif isinstance(child, XmlElement) and child.tag in LIST_STYLES:
                    self.list(child, LIST_STYLES[child.tag], depth + 1)
                else:
                    self.block(child, depth + 1)

    def table(self, node: Any) -> None:
        rows = [r for r in node.children if isinstance(r, XmlElement)]
        cells = [[c for c in r.children if isinstance(c, XmlElement)] for r in rows]
        width = max((len(r) for r in cells), default=0)
        if not width:
            return
        table = self.document.add_table(rows=len(cells), cols=width)
        table.style = "Table Grid"
        for i, row in enumerate(cells):
            for j, cell in enumerate(row):
                target = table.cell(i, j)
                first = True
                for child in cell.children:
                    if not isinstance(child, XmlElement):
                        continue
                    paragraph = (
                        target.paragraphs[0] if first else target.add_paragraph()
                    )
                    first = False
                    self.inline(paragraph, child)

    def task(self, node: Any) -> None:
        attrs = dict(node.attributes)
        due = attrs.get("due")
        heading = f"任务：{attrs.get('title', '')}" + (f"（截止 {due}）" if due else "")
        self.document.add_paragraph().add_run(heading).bold = True
        try:
            steps = json.loads(attrs.get("steps") or "[]")
        except ValueError:
            steps = []
        for i, step in enumerate(steps if isinstance(steps, list) else []):
            if isinstance(step, dict):
                who = str(step.get("assignee", "")).lstrip("@").split(":")[0]
                self.document.add_paragraph(
                    f"☐ {i + 1}. {step.get('title', '')}（{who}）"
                )

    def inline(self, paragraph: Any, node: Any) -> None:
        for child in node.children:
            if isinstance(child, XmlText):
                self.runs(paragraph, child)
            elif isinstance(child, XmlElement) and child.tag == "hardBreak":
                paragraph.add_run().add_break()
            elif isinstance(child, XmlElement):
                self.lost[str(child.tag)] += 1
                self.inline(paragraph, child)

    def runs(self, paragraph: Any, text: Any) -> None:
        for chunk, attrs in text.diff():
            if not isinstance(chunk, str):
                continue
            marks = attrs or {}
            run = paragraph.add_run(chunk)
            run.bold = True if "bold" in marks else None
            run.italic = True if "italic" in marks else None
            run.underline = True if "underline" in marks else None
            if "strike" in marks:
                run.font.strike = True
            if "code" in marks:
                run.font.name = "Courier New"
            link = marks.get("link")
            if isinstance(link, dict) and link.get("href"):
                paragraph.add_run(f"（{link['href']}）")


def _level(value: Any) -> int:
    try:
        level = int(value)
    except (TypeError, ValueError):
        return 1
    return min(max(level, 1), 6)
