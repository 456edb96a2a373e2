# SPDX-License-Identifier: AGPL-3.0-or-later
"""A document as Word (.docx), written with python-docx (imported on first use:
modules/common/heavy_imports).

Rich documents (the editor's tree, docx_import.py's nodes): `heading` → Word's Heading
1-6, `paragraph`, `bulletList` / `orderedList` items → List Bullet / List Number
(nested lists as the deeper List Bullet 2/3 styles), `blockquote` → Quote,
`codeBlock` → a paragraph in a monospace font, `table` → a table, `taskBlock` → the
task's title, due date and steps as a checklist, `hardBreak` → a line break; the
marks bold, italic, underline, strike, code, and link (its text, then the address in
brackets); `image` (an mxc:// picture of the media repository, whose bytes the caller
reads: `images_of`) → the picture in its paragraph at its width and height (a picture
that cannot be read back or that Word cannot hold: its name as text, counted lost);
`taskList` (to-dos) → ☑/☐ lines; `contactCard` → "联系人：name（unit）"; `docEmbed`
→ "文档：title" and its link; `fileEmbed` → "附件：name（size）" (the report's
`as_text` counts the cards that became text); `chart` → its title and type, then its
data as a table (categories × series; counted in `as_text`). Plain-text documents: one paragraph per
line. Comments are not exported
(they are the document's discussion, not its text); the export's report counts what
had no Word form (`lost`, by node name)."""

import io
import json
import math
from collections import Counter
from typing import Any
from urllib.parse import quote

from pycrdt import Doc, Text, XmlElement, XmlFragment, XmlText

from modules.common.heavy_imports import import_frozen

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LIST_STYLES = {"bulletList": "List Bullet", "orderedList": "List Number"}
EMU_PER_PX = 9525
MAX_WIDTH_PX = 624  # 6.5 inches: the text width of python-docx's default page


def images_of(state: bytes, kind: str) -> list[str]:
    """The mxc:// URIs of a rich document's pictures, each once, in order."""
    found = _attributes_of(state, kind, "image", "src")
    return [src for src in found if src.startswith("mxc://")]


def embedded_docs_of(state: bytes, kind: str) -> list[str]:
    """The ids of the documents a rich document embeds as cards, each once."""
    return _attributes_of(state, kind, "docEmbed", "docId")


def _attributes_of(state: bytes, kind: str, tag: str, name: str) -> list[str]:
    if kind != "rich":
        return []
    ydoc: Doc[Any] = Doc()
    ydoc.apply_update(state)
    found: dict[str, None] = {}

    def walk(node: Any) -> None:
        for child in node.children:
            if isinstance(child, XmlElement):
                value = child.attributes.get(name) if child.tag == tag else None
                if isinstance(value, str) and value:
                    found[value] = None
                walk(child)

    walk(ydoc.get("default", type=XmlFragment))
    return list(found)


def export(
    state: bytes,
    kind: str,
    title: str,
    media: dict[str, bytes] | None = None,
    base_url: str = "",
    titles: dict[str, str] | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """CPU work, off the reactor thread: the .docx file and the report. `media`: the
    pictures' bytes by mxc:// URI; `base_url`: the homeserver's public address, for the
    links of embedded documents; `titles`: the embedded documents' titles the exporting
    officer may read (any other is named only as a document he cannot open)."""
    docx = import_frozen("docx")
    ydoc: Doc[Any] = Doc()
    ydoc.apply_update(state)
    document = docx.Document()
    document.core_properties.title = title
    lost: Counter[str] = Counter()
    writer = _Writer(document, lost, media or {}, base_url, titles or {})
    if kind == "text":
        for line in str(ydoc.get("content", type=Text)).split("\n"):
            document.add_paragraph(line)
    else:
        for child in ydoc.get("default", type=XmlFragment).children:
            writer.block(child, 0)
    out = io.BytesIO()
    document.save(out)
    report: dict[str, Any] = {"lost": dict(lost)}
    if writer.kept:
        report["kept"] = dict(writer.kept)
    if writer.as_text:
        report["as_text"] = dict(writer.as_text)
    return out.getvalue(), report


class _Writer:
    def __init__(
        self,
        document: Any,
        lost: Counter[str],
        media: dict[str, bytes],
        base_url: str,
        titles: dict[str, str],
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.titles = titles
        self.document = document
        self.lost = lost
        self.media = media
        self.kept: Counter[str] = Counter()
        self.as_text: Counter[str] = Counter()

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
        elif tag == "image":
            self.image(self.document.add_paragraph(), node)
        elif tag == "taskList":
            self.todos(node, depth)
        elif tag in CARDS:
            self.card(self.document.add_paragraph(), node)
        elif tag == "chart":
            self.chart(node)
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

    def image(self, paragraph: Any, node: Any) -> None:
        attrs = dict(node.attributes)
        name = str(attrs.get("name") or "图片")
        data = self.media.get(str(attrs.get("src")))
        if data is not None:
            width, height = _px(attrs.get("width")), _px(attrs.get("height"))
            if width and height and width > MAX_WIDTH_PX:  # kept inside the page
                width, height = MAX_WIDTH_PX, max(1, height * MAX_WIDTH_PX // width)
            try:
                paragraph.add_run().add_picture(
                    io.BytesIO(data),
                    width=width * EMU_PER_PX if width and height else None,
                    height=height * EMU_PER_PX if width and height else None,
                )
                self.kept["image"] += 1
                return
            except Exception:  # a format python-docx cannot place (WebP, SVG, …)
                pass
        paragraph.add_run(f"［图片：{name}］")
        self.lost["image"] += 1

    def todos(self, node: Any, depth: int) -> None:
        for item in node.children:
            if not isinstance(item, XmlElement) or item.tag != "taskItem":
                continue
            mark = "☑" if item.attributes.get("checked") in (True, "true") else "☐"
            first = True
            for child in item.children:
                if isinstance(child, XmlElement) and child.tag == "paragraph" and first:
                    paragraph = self.document.add_paragraph()
                    if depth:
                        paragraph.paragraph_format.left_indent = depth * 228600
                    paragraph.add_run(f"{mark} ")
                    self.inline(paragraph, child)
                    first = False
                elif isinstance(child, XmlElement) and child.tag == "taskList":
                    self.todos(child, depth + 1)
                else:
                    self.block(child, depth + 1)
            self.as_text["taskItem"] += 1

    def card(self, paragraph: Any, node: Any) -> None:
        tag = str(node.tag)
        paragraph.add_run(
            card_text(tag, dict(node.attributes), self.base_url, self.titles)
        )
        self.as_text[tag] += 1

    def chart(self, node: Any) -> None:
        attrs = dict(node.attributes)
        kind = CHART_TYPES.get(str(attrs.get("type")), CHART_TYPES["column"])
        name = str(attrs.get("title") or "")
        self.document.add_paragraph().add_run(f"图表：{name}（{kind}）").bold = True
        categories, series = chart_data(attrs.get("data"))
        table = self.document.add_table(rows=len(categories) + 1, cols=len(series) + 1)
        table.style = "Table Grid"
        table.cell(0, 0).text = "类别"
        for j, (label, _) in enumerate(series):
            table.cell(0, j + 1).text = label
        for i, category in enumerate(categories):
            table.cell(i + 1, 0).text = category
            for j, (_, values) in enumerate(series):
                value = values[i]
                table.cell(i + 1, j + 1).text = "" if value is None else _number(value)
        self.as_text["chart"] += 1

    def inline(self, paragraph: Any, node: Any) -> None:
        for child in node.children:
            if isinstance(child, XmlText):
                self.runs(paragraph, child)
            elif isinstance(child, XmlElement) and child.tag == "hardBreak":
                paragraph.add_run().add_break()
            elif isinstance(child, XmlElement) and child.tag == "image":
                self.image(paragraph, child)
            elif isinstance(child, XmlElement) and child.tag in CARDS:
                self.card(paragraph, child)
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


CARDS = ("contactCard", "docEmbed", "fileEmbed")
CHART_TYPES = {"column": "柱形图", "bar": "条形图", "line": "折线图", "pie": "饼图"}
MAX_CHART_SERIES = 6
MAX_CHART_CATEGORIES = 50


def chart_data(raw: Any) -> tuple[list[str], list[tuple[str, list[float | None]]]]:
    """A chart block's `data` attribute (JSON `{categories, series: [{name,
    values}]}`, as rich.js writes it) as categories and (name, values); anything
    malformed is left out, and no more than the editor allows is read."""
    try:
        data = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return [], []
    raw_categories = data.get("categories")
    categories = [
        str(c) for c in (raw_categories if isinstance(raw_categories, list) else [])
    ][:MAX_CHART_CATEGORIES]
    series: list[tuple[str, list[float | None]]] = []
    raw_series = data.get("series")
    for item in raw_series if isinstance(raw_series, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("values"), list):
            continue
        values = item["values"]
        series.append(
            (
                str(item.get("name") or f"系列{len(series) + 1}"),
                [
                    _finite(values[i]) if i < len(values) else None
                    for i in range(len(categories))
                ],
            )
        )
        if len(series) == MAX_CHART_SERIES:
            break
    return categories, series


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else format(value, ".15g")


NO_ACCESS_TITLE = "无权访问的文档"


def card_text(
    tag: str,
    attrs: dict[str, Any],
    base_url: str = "",
    titles: dict[str, str] | None = None,
) -> str:
    """A contact card, an embedded document or an embedded file as a line of text. An
    embedded document is named by `titles` (what the reader may see now), never by a
    title stored in the card."""
    if tag == "contactCard":
        name = str(attrs.get("name") or attrs.get("userId") or "")
        unit = str(attrs.get("unit") or "")
        user = str(attrs.get("userId") or "")
        return f"联系人：{name}" + (f"（{unit}）" if unit else "") + f" {user}".rstrip()
    if tag == "docEmbed":
        title = (titles or {}).get(str(attrs.get("docId") or ""), NO_ACCESS_TITLE)
        doc_id = quote(str(attrs.get("docId") or ""))
        return f"文档：{title}（{base_url}/_jwwx/docs/app/#doc={doc_id}）"
    name = str(attrs.get("name") or "文件")
    size = _px(attrs.get("size"))
    return f"附件：{name}" + (f"（{_size(size)}）" if size else "")


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def _px(value: Any) -> int:
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        return 0
    return number if number > 0 else 0


def _level(value: Any) -> int:
    try:
        level = int(value)
    except (TypeError, ValueError):
        return 1
    return min(max(level, 1), 6)
