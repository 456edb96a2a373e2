# SPDX-License-Identifier: AGPL-3.0-or-later
"""Excel (.xlsx) and .csv files into a spreadsheet document (sheets.py), with a report
of what was kept and what was lost.

.xlsx is read by openpyxl (reading only) twice: once for the formulas (kept as text,
"=…") and what the file holds beyond cells (counted as lost), once for the values
Excel cached (a formula's cell keeps its last computed value, so an export or a reader
without the engine sees it). Number formats are kept (`z`: dates show as dates), so
are merged ranges and the styles the grid has (`s`: bold, italic, font colour, solid
fill, horizontal alignment). Charts of a worksheet whose type the grid draws (column,
bar, line, pie) over ranges of that sheet become its charts (type, the range their
series cover, title, place and size); the others are lost. A pivot table keeps the
values Excel cached in its cells, and becomes a pivot of ours (rows by one field,
columns by at most one, one value field summed, counted, averaged, min or max) when
it is that simple; otherwise it is lost and its cells stay plain values. Lost:
images, other charts, comments, conditional formats, data validations, defined names,
borders, colours given by the theme rather than as RGB, column widths and row
heights.

.csv is text: UTF-8 (with or without its BOM) or, failing that, GB18030 (what Excel
writes on a Chinese Windows); numbers become numbers, "=…" a formula (as Excel reads
it), the rest text. One sheet.
"""

import csv
import io
import posixpath
import re
import zipfile
from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

from pycrdt import Doc

from modules.docs.sheets import (
    AGGREGATES,
    ALIGNMENTS,
    Sheet,
    cell_range,
    chart,
    merge_range,
    pivot,
    write,
)

MAX_CELLS = 200_000
MAX_TEXT = 32_767  # Excel's own limit of a cell's text
EXCEL_EPOCH = datetime(1899, 12, 30)


class ImportFailedError(Exception):
    """The file cannot be read; the message is for the officer."""


def to_update(sheets: list[Sheet]) -> bytes:
    doc: Doc[Any] = Doc()
    write(doc, sheets)
    return doc.get_update()


def _cell_name(row: int, col: int) -> str:
    letters = ""
    n = col
    while n > 0:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row}"


def _plain(value: Any) -> Any:
    """A cell's value as JSON: numbers, text, booleans; dates as Excel's serials."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime):
        return (value - EXCEL_EPOCH) / timedelta(days=1)
    if isinstance(value, date):
        return (datetime(value.year, value.month, value.day) - EXCEL_EPOCH).days
    if isinstance(value, time):
        return (value.hour * 3600 + value.minute * 60 + value.second) / 86400
    if isinstance(value, timedelta):
        return value / timedelta(days=1)
    return str(value)[:MAX_TEXT]


def _count(total: int) -> int:
    if total > MAX_CELLS:
        raise ImportFailedError(f"单元格过多（至多 {MAX_CELLS} 个）")
    return total


# .xlsx


def convert_xlsx(data: bytes) -> tuple[bytes, dict[str, Any]]:
    """The Yjs update of a new sheet document and the report {kept, lost}."""
    from openpyxl import load_workbook

    try:
        formulas = load_workbook(io.BytesIO(data), data_only=False)
        values = load_workbook(io.BytesIO(data), data_only=True, read_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as e:
        raise ImportFailedError("不是可读取的 .xlsx 文件") from e
    kept: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    sheets: list[Sheet] = []
    total = 0
    try:
        for ws in formulas.worksheets:
            cached = {
                (c.row, c.column): c.value
                for row in values[ws.title].iter_rows()
                for c in row
                if getattr(c, "value", None) is not None
            }
            sheet = Sheet(ws.title, sheet_id=f"s{len(sheets) + 1}")
            for row in ws.iter_rows():
                for c in row:
                    cell = _xlsx_cell(c, cached.get((c.row, c.column)), kept, lost)
                    if cell:
                        sheet.cells[_cell_name(c.row, c.column)] = cell
            total = _count(total + len(sheet.cells))
            sheet.merges = [
                str(m)
                for m in ws.merged_cells.ranges
                if merge_range(str(m)) is not None
            ]
            kept["merged_cell"] += len(sheet.merges)
            _count_losses(ws, lost)
            sheets.append(sheet)
            kept["sheet"] += 1
        _charts_and_pivots(data, sheets, kept, lost)
        # Images and charts of every sheet, counted in the file's own parts (the
        # charts not kept above are lost: other types, chart sheets, unreadable).
        drawn = _drawings(data)
        lost["image"] += drawn["image"]
        lost["chart"] += max(0, drawn["chart"] - kept["chart"])
        lost["defined_name"] += len(formulas.defined_names)
    finally:
        values.close()
    if not sheets:
        raise ImportFailedError("文件中没有工作表")
    kept["cell"] = total
    return to_update(sheets), _report(kept, lost)


def _xlsx_cell(
    c: Any, cached: Any, kept: Counter[str], lost: Counter[str]
) -> dict[str, Any] | None:
    value = c.value
    if value is None:
        return None
    cell: dict[str, Any] = {}
    text = getattr(value, "text", None)  # an array formula
    if isinstance(text, str) or (isinstance(value, str) and c.data_type == "f"):
        formula = text if isinstance(text, str) else value
        cell["f"] = formula if formula.startswith("=") else "=" + formula
        kept["formula"] += 1
        cached_value = _plain(cached)
        if cached_value is not None:
            cell["v"] = cached_value
    else:
        cell["v"] = _plain(value)
    if c.number_format and c.number_format != "General":
        cell["z"] = c.number_format
        kept["number_format"] += 1
    if c.has_style:
        style, dropped = _style(c)
        if style:
            cell["s"] = style
            kept["style"] += 1
        if dropped:
            lost["style"] += 1
    if c.comment is not None:
        lost["comment"] += 1
    return cell


def _rgb(color: Any) -> str | None:
    """An openpyxl colour given as ARGB as "#rrggbb"; None for a theme or indexed
    one."""
    rgb = getattr(color, "rgb", None) if getattr(color, "type", None) == "rgb" else None
    if isinstance(rgb, str) and len(rgb) == 8:
        return "#" + rgb[2:].lower()
    return None


def _style(c: Any) -> tuple[dict[str, Any], bool]:
    """What the grid keeps of a cell's style, and whether some of it is lost (borders,
    a pattern fill, a theme colour)."""
    style: dict[str, Any] = {}
    dropped = False
    if c.font.b:
        style["b"] = True
    if c.font.i:
        style["i"] = True
    if c.font.color is not None and getattr(c.font.color, "type", None) == "rgb":
        colour = _rgb(c.font.color)
        if colour and colour != "#000000":
            style["c"] = colour
    elif c.font.color is not None and getattr(c.font.color, "type", None) == "theme":
        dropped = c.font.color.theme not in (1,)  # theme 1: the default text colour
    if c.fill.fill_type == "solid":
        colour = _rgb(c.fill.fgColor)
        if colour:
            style["bg"] = colour
        else:
            dropped = True
    elif c.fill.fill_type:
        dropped = True
    horizontal = c.alignment.horizontal
    if horizontal in ALIGNMENTS:
        style["a"] = horizontal
    elif horizontal == "centerContinuous":
        style["a"] = "center"
    if any(
        getattr(c.border, side).style for side in ("left", "right", "top", "bottom")
    ):
        dropped = True
    return style, dropped


def _drawings(data: bytes) -> Counter[str]:
    found: Counter[str] = Counter()
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for name in package.namelist():
            if name.startswith("xl/media/"):
                found["image"] += 1
            elif name.startswith("xl/charts/chart") and name.endswith(".xml"):
                found["chart"] += 1
    return found


# A reference in a chart's series or a pivot's source: 'Sheet 1'!$A$1:$B$4
_REF = re.compile(
    r"^(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Z]{1,3})\$?([0-9]+)"
    r"(?::\$?([A-Z]{1,3})\$?([0-9]+))?$"
)
EMU_PER_PX = 9525
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
    "x": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
}
_RID = f"{{{_NS['r']}}}id"
_CHART_TAGS = {"lineChart": "line", "pieChart": "pie", "barChart": "column"}


def _ref(formula: Any) -> tuple[str, tuple[int, int, int, int]] | None:
    match = _REF.match(formula.strip()) if isinstance(formula, str) else None
    if not match:
        return None
    sheet = match.group(1).replace("''", "'") if match.group(1) else match.group(2)
    first = f"{match.group(3)}{match.group(4)}"
    last = f"{match.group(5)}{match.group(6)}" if match.group(5) else first
    area = cell_range(f"{first}:{last}")
    return (sheet, area) if area is not None else None


def _range_text(area: tuple[int, int, int, int]) -> str:
    r0, c0, r1, c1 = area
    return f"{_cell_name(r0 + 1, c0 + 1)}:{_cell_name(r1 + 1, c1 + 1)}"


class _Package:
    """The parts of an .xlsx read as XML (openpyxl keeps charts, their anchors and
    pivot tables only in private attributes, so they are read here, as the file
    has them)."""

    def __init__(self, data: bytes):
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.names = set(self.zip.namelist())

    def xml(self, name: str) -> Any:
        from xml.etree import ElementTree

        if name not in self.names:
            return None
        raw = self.zip.read(name)
        if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
            return None
        try:
            return ElementTree.fromstring(raw)  # noqa: S314 - DTDs refused above
        except ElementTree.ParseError:
            return None

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """A part's relationships: id → (type's last word, the target's name)."""
        folder, _, base = part.rpartition("/")
        root = self.xml(f"{folder}/_rels/{base}.rels")
        found: dict[str, tuple[str, str]] = {}
        for rel in [] if root is None else root.findall("p:Relationship", _NS):
            target = rel.get("Target", "")
            name = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(folder, target))
            )
            found[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], name)
        return found


def _charts_and_pivots(
    data: bytes, sheets: list[Sheet], kept: Counter[str], lost: Counter[str]
) -> None:
    """Each worksheet's column, bar, line and pie charts over its own ranges and its
    simple pivot tables, as the grid's (the charts not kept are counted lost by the
    caller, from the file's chart parts; the pivot tables not kept here)."""
    package = _Package(data)
    book = package.xml("xl/workbook.xml")
    if book is None:
        return
    by_name = {sheet.name: sheet for sheet in sheets}
    book_rels = package.rels("xl/workbook.xml")
    for entry in book.iterfind("m:sheets/m:sheet", _NS):
        sheet = by_name.get(entry.get("name", ""))
        kind, part = book_rels.get(entry.get(_RID, ""), ("", ""))
        if sheet is None or kind != "worksheet":
            continue
        for rel_kind, target in package.rels(part).values():
            if rel_kind == "drawing":
                _drawing_charts(package, target, sheet, kept)
            elif rel_kind == "pivotTable":
                _pivot(package, target, sheet, by_name, kept, lost)


def _marker(element: Any) -> tuple[int, int, int, int] | None:
    if element is None:
        return None
    values = [
        element.findtext(f"x:{tag}", "0", _NS)
        for tag in ("col", "colOff", "row", "rowOff")
    ]
    try:
        col, col_off, row, row_off = (int(v) for v in values)
    except ValueError:
        return None
    return col, col_off, row, row_off


def _place(anchor: Any) -> dict[str, int]:
    """x, y (in the grid's pixels: sheet_export.py's pitch, so that it is beside the
    same cell), w, h (in Excel's: columns of its default 64 pixels, rows of 20) of a
    drawing's anchor; XlsxWriter's default size when it has none."""
    from modules.docs.sheet_export import COLUMN_PX, ROW_PX

    start = _marker(anchor.find("x:from", _NS))
    if start is None:
        return {"x": 0, "y": 0, "w": 480, "h": 288}
    x = start[0] * COLUMN_PX + start[1] // EMU_PER_PX
    y = start[2] * ROW_PX + start[3] // EMU_PER_PX
    end = _marker(anchor.find("x:to", _NS))
    ext = anchor.find("x:ext", _NS)
    w, h = 480, 288
    if end is not None:
        w = (end[0] - start[0]) * 64 + (end[1] - start[1]) // EMU_PER_PX
        h = (end[2] - start[2]) * 20 + (end[3] - start[3]) // EMU_PER_PX
    elif (
        ext is not None and ext.get("cx", "").isdigit() and ext.get("cy", "").isdigit()
    ):
        w, h = int(ext.get("cx")) // EMU_PER_PX, int(ext.get("cy")) // EMU_PER_PX
    return {"x": x, "y": y, "w": max(w, 120), "h": max(h, 90)}


def _drawing_charts(
    package: _Package, drawing: str, sheet: Sheet, kept: Counter[str]
) -> None:
    root = package.xml(drawing)
    if root is None:
        return
    rels = package.rels(drawing)
    for anchor in list(root):
        link = anchor.find("x:graphicFrame/a:graphic/a:graphicData/c:chart", _NS)
        if link is None:
            continue
        _, part = rels.get(link.get(_RID, ""), ("", ""))
        found = _chart(package.xml(part), sheet.name)
        if found is not None and (mapped := chart({**found, **_place(anchor)})):
            sheet.charts[f"c{len(sheet.charts) + 1}"] = mapped
            kept["chart"] += 1


def _chart(space: Any, sheet_name: str) -> dict[str, Any] | None:
    """{type, range, title} of a chart part, if the grid draws it: one chart of a
    type it has, every series over ranges of the sheet."""
    plot = None if space is None else space.find("c:chart/c:plotArea", _NS)
    if plot is None:
        return None
    types = [e for e in plot if e.tag.endswith("Chart")]
    if len(types) != 1:
        return None
    tag = types[0].tag.rsplit("}", 1)[-1]
    kind = _CHART_TAGS.get(tag)
    if kind == "column" and types[0].find("c:barDir", _NS) is not None:
        kind = "bar" if types[0].find("c:barDir", _NS).get("val") == "bar" else kind
    refs = [_ref(f.text) for f in types[0].iterfind("c:ser//c:f", _NS)]
    if kind is None or not refs or any(r is None or r[0] != sheet_name for r in refs):
        return None
    areas = [r[1] for r in refs if r is not None]
    area = (
        min(a[0] for a in areas),
        min(a[1] for a in areas),
        max(a[2] for a in areas),
        max(a[3] for a in areas),
    )
    title = space.find("c:chart/c:title", _NS)
    text = (
        ""
        if title is None
        else "".join(t.text or "" for t in title.iter(f"{{{_NS['a']}}}t"))
    )
    return {"type": kind, "range": _range_text(area), "title": text.strip()[:255]}


def _pivot(
    package: _Package,
    part: str,
    sheet: Sheet,
    by_name: dict[str, Sheet],
    kept: Counter[str],
    lost: Counter[str],
) -> None:
    """A pivot table: its cached values are the sheet's cells already; a simple one
    (one row field, at most one column field, one value field) becomes a pivot of
    ours, any other is lost."""
    table = package.xml(part)
    mapped = None
    cache = next(
        (t for k, t in package.rels(part).values() if k == "pivotCacheDefinition"), ""
    )
    definition = package.xml(cache)
    source = (
        None
        if definition is None
        else definition.find("m:cacheSource/m:worksheetSource", _NS)
    )
    if table is not None and source is not None and source.get("sheet") in by_name:
        found = _ref(
            f"'{source.get('sheet', '').replace(chr(39), chr(39) * 2)}'!"
            f"{source.get('ref', '')}"
        )
        rows = [f.get("x") for f in table.iterfind("m:rowFields/m:field", _NS)]
        cols = [
            f.get("x")
            for f in table.iterfind("m:colFields/m:field", _NS)
            if f.get("x") != "-2"  # "Values", the data fields' own column
        ]
        data = table.findall("m:dataFields/m:dataField", _NS)
        location = table.find("m:location", _NS)
        at = location.get("ref", "") if location is not None else ""
        if (
            found is not None
            and len(rows) == 1
            and len(cols) <= 1
            and len(data) == 1
            and data[0].get("subtotal", "sum") in AGGREGATES
        ):
            fields = {
                "rows": _int(rows[0]),
                "cols": _int(cols[0]) if cols else None,
                "val": _int(data[0].get("fld")),
            }
            mapped = pivot(
                {
                    "sheet": by_name[found[0]].id,
                    "range": _range_text(found[1]),
                    **fields,
                    "agg": data[0].get("subtotal", "sum"),
                    "at": at.split(":")[0],
                    **({"area": at} if cell_range(at) is not None else {}),
                }
            )
    if mapped is None:
        lost["pivot_table"] += 1
    else:
        sheet.pivots[f"p{len(sheet.pivots) + 1}"] = mapped
        kept["pivot_table"] += 1


def _int(text: Any) -> int | None:
    return int(text) if isinstance(text, str) and text.isdigit() else None


def _count_losses(ws: Any, lost: Counter[str]) -> None:
    lost["conditional_format"] += len(ws.conditional_formatting)
    lost["data_validation"] += len(ws.data_validations.dataValidation)
    lost["column_width"] += sum(
        1 for d in ws.column_dimensions.values() if d.customWidth
    )
    lost["row_height"] += sum(1 for d in ws.row_dimensions.values() if d.customHeight)


def _report(kept: Counter[str], lost: Counter[str]) -> dict[str, Any]:
    return {
        "kept": {k: n for k, n in sorted(kept.items()) if n},
        "lost": {k: n for k, n in sorted(lost.items()) if n},
    }


# .csv


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as e:
        raise ImportFailedError("无法识别 .csv 的编码（UTF-8 或 GB18030）") from e


def _csv_value(text: str) -> dict[str, Any]:
    if text.startswith("=") and len(text) > 1:
        return {"f": text}
    stripped = text.strip()
    try:
        number = float(stripped)
    except ValueError:
        return {"v": text[:MAX_TEXT]}
    if stripped.lower() in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity"):
        return {"v": text}
    return {"v": int(number) if number.is_integer() and "." not in stripped else number}


def convert_csv(data: bytes, title: str) -> tuple[bytes, dict[str, Any]]:
    text = _decode(data)
    if "\0" in text:
        raise ImportFailedError("不是文本格式的 .csv 文件")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    sheet = Sheet(title[:31] or "Sheet1")
    kept: Counter[str] = Counter(sheet=1)
    try:
        for r, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
            for c, value in enumerate(row, start=1):
                if value == "":
                    continue
                cell = _csv_value(value)
                kept["formula"] += "f" in cell
                sheet.cells[_cell_name(r, c)] = cell
            _count(len(sheet.cells))
    except csv.Error as e:
        raise ImportFailedError(f"无法读取 .csv：{e}") from e
    kept["cell"] = len(sheet.cells)
    return to_update([sheet]), _report(kept, Counter())
