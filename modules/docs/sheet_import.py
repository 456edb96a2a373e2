# SPDX-License-Identifier: AGPL-3.0-or-later
"""Excel (.xlsx) and .csv files into a spreadsheet document (sheets.py), with a report
of what was kept and what was lost.

.xlsx is read by openpyxl (reading only) twice: once for the formulas (kept as text,
"=…") and what the file holds beyond cells (counted as lost), once for the values
Excel cached (a formula's cell keeps its last computed value, so an export or a reader
without the engine sees it). Number formats are kept (`z`: dates show as dates), so
are merged ranges and the styles the grid has (`s`: bold, italic, font colour, solid
fill, horizontal alignment). Lost: images, charts, comments, conditional formats,
data validations, defined names, borders, colours given by the theme rather than as
RGB, column widths and row heights.

.csv is text: UTF-8 (with or without its BOM) or, failing that, GB18030 (what Excel
writes on a Chinese Windows); numbers become numbers, "=…" a formula (as Excel reads
it), the rest text. One sheet.
"""

import csv
import io
import zipfile
from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

from pycrdt import Doc

from modules.docs.sheets import ALIGNMENTS, Sheet, merge_range, write

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
            sheet = Sheet(ws.title)
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
        # Images and charts of every sheet, counted in the file's own parts:
        # openpyxl lists them only in private attributes.
        lost.update(_drawings(data))
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
