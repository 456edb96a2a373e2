# SPDX-License-Identifier: AGPL-3.0-or-later
"""A spreadsheet document (sheets.py) to an Excel (.xlsx, by XlsxWriter) or .csv file.

.xlsx: every sheet, formulas as formulas with the value last computed beside them
(Excel recomputes on opening), numbers, text, booleans, number formats, styles (bold,
italic, font colour, fill, alignment), merged ranges and charts (an Excel chart of the
same type over the same range, at the same place). A pivot table is exported as its
values (the cells the browser wrote), not as an Excel pivot table. A sheet name Excel refuses
([]:*?/\\, more than 31 characters, twice the same) is changed to one it takes.
.csv: one sheet (the first, or the one named), values only, a number in a date or
time format written as that date or time ("2021-01-31", "2021-01-31 08:30:00",
"08:30:00", which Excel reads back as dates), UTF-8 with a BOM (so that Excel on a
Chinese Windows reads it as UTF-8).
"""

import csv
import io
import re
from datetime import timedelta
from typing import Any

from modules.docs.sheet_import import EXCEL_EPOCH, MAX_TEXT
from modules.docs.sheets import Sheet, cell_range, merge_range, style

_CELL = re.compile(r"^([A-Z]{1,3})([1-9][0-9]{0,6})$")
_BAD_NAME = re.compile(r"[\[\]:*?/\\]")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
# The grid's pitch (clients/docs/src/style.css): a chart's x, y are pixels from A1's
# top-left corner; Excel anchors it at a cell and an offset.
COLUMN_PX = 105
ROW_PX = 25


def _position(name: str) -> tuple[int, int] | None:
    """0-based (row, col) of "B12", or None if it is not a cell's name."""
    match = _CELL.match(name)
    if not match:
        return None
    col = 0
    for ch in match.group(1):
        col = col * 26 + ord(ch) - 64
    row = int(match.group(2))
    if row > 1_048_576 or col > 16_384:
        return None
    return row - 1, col - 1


def _sheet_names(sheets: list[Sheet]) -> list[str]:
    names: list[str] = []
    for index, sheet in enumerate(sheets, start=1):
        name = _BAD_NAME.sub("_", sheet.name).strip("'")[:31] or f"Sheet{index}"
        base, n = name, 2
        while name.lower() in (o.lower() for o in names):
            name = f"{base[:27]}({n})"
            n += 1
        names.append(name)
    return names


def to_xlsx(sheets: list[Sheet]) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    formats: dict[tuple[Any, ...], Any] = {}

    def fmt(code: Any, looks: Any) -> Any:
        properties: dict[str, Any] = {}
        if isinstance(code, str) and code:
            properties["num_format"] = code
        s = style(looks)
        if s.get("b"):
            properties["bold"] = True
        if s.get("i"):
            properties["italic"] = True
        if "c" in s:
            properties["font_color"] = s["c"]
        if "bg" in s:
            properties["bg_color"] = s["bg"]
        if "a" in s:
            properties["align"] = s["a"]
        if not properties:
            return None
        key = tuple(sorted(properties.items()))
        if key not in formats:
            formats[key] = book.add_format(properties)
        return formats[key]

    for sheet, name in zip(sheets, _sheet_names(sheets), strict=True):
        ws = book.add_worksheet(name)
        _merge(ws, sheet, lambda cell: fmt(cell.get("z"), cell.get("s")))
        for cell_name, cell in sheet.cells.items():
            at = _position(cell_name)
            if at is None:
                continue
            row, col = at
            value, look = cell.get("v"), fmt(cell.get("z"), cell.get("s"))
            formula = cell.get("f")
            if isinstance(formula, str) and len(formula) > 1:
                cached = value if isinstance(value, (int, float, str, bool)) else 0
                ws.write_formula(row, col, formula, look, cached)
            elif isinstance(value, bool):
                ws.write_boolean(row, col, value, look)
            elif isinstance(value, (int, float)):
                ws.write_number(row, col, value, look)
            elif isinstance(value, str):
                ws.write_string(row, col, value[:MAX_TEXT], look)
            elif look is not None:
                ws.write_blank(row, col, None, look)
        for found in sheet.charts.values():
            _chart(book, ws, name, sheet, found)
    if not sheets:
        book.add_worksheet("Sheet1")
    book.close()
    return out.getvalue()


def chart_layout(sheet: Sheet, r0: int, c0: int, r1: int, c1: int) -> tuple[bool, bool]:
    """Whether a chart's range has a header row (series names: text in its first
    row) and a category column (text in its first column), as the browser reads it
    (clients/docs/src/sheet/chart.js)."""
    from modules.docs.sheet_import import _cell_name

    def text(r: int, c: int) -> bool:
        return isinstance(sheet.cells.get(_cell_name(r + 1, c + 1), {}).get("v"), str)

    first = c0 + 1 if c1 > c0 else c0
    header = r1 > r0 and any(text(r0, c) for c in range(first, c1 + 1))
    top = r0 + 1 if header else r0
    categories = c1 > c0 and any(text(r, c0) for r in range(top, r1 + 1))
    return header, categories


def _chart(book: Any, ws: Any, name: str, sheet: Sheet, found: dict[str, Any]) -> None:
    area = cell_range(found["range"])
    if area is None:
        return
    r0, c0, r1, c1 = area
    header, categories = chart_layout(sheet, r0, c0, r1, c1)
    top = r0 + 1 if header else r0
    first = c0 + 1 if categories else c0
    if top > r1 or first > c1:
        return
    chart = book.add_chart({"type": found["type"]})
    for col in range(first, c1 + 1):
        series: dict[str, Any] = {"values": [name, top, col, r1, col]}
        if categories:
            series["categories"] = [name, top, c0, r1, c0]
        if header:
            series["name"] = [name, r0, col]
        chart.add_series(series)
        if found["type"] == "pie":
            break
    if found.get("title"):
        chart.set_title({"name": found["title"]})
    else:
        chart.set_title({"none": True})
    chart.set_size({"width": found["w"], "height": found["h"]})
    x, y = found["x"], found["y"]
    ws.insert_chart(
        y // ROW_PX,
        x // COLUMN_PX,
        chart,
        {"x_offset": x % COLUMN_PX, "y_offset": y % ROW_PX},
    )


def _merge(ws: Any, sheet: Sheet, look: Any) -> None:
    """The sheet's merged ranges (one overlapping an earlier one is left out, as Excel
    cannot hold it); the cells themselves are written over the merge afterwards."""
    taken: list[tuple[int, int, int, int]] = []
    for text in sheet.merges:
        found = merge_range(text)
        if found is None:
            continue
        r0, c0, r1, c1 = found
        if r1 > 1_048_575 or c1 > 16_383:
            continue
        if any(r0 <= t[2] and r1 >= t[0] and c0 <= t[3] and c1 >= t[1] for t in taken):
            continue
        taken.append(found)
        first = text.split(":")[0]
        ws.merge_range(r0, c0, r1, c1, None, look(sheet.cells.get(first, {})))


# A number format's date and time parts: outside quoted text, [colours] and \escapes.
_FORMAT_NOISE = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')


def _date_kind(code: Any) -> str | None:
    """What a number format shows: "date", "datetime", "time", or None."""
    if not isinstance(code, str) or not code or code == "General":
        return None
    plain = _FORMAT_NOISE.sub("", code.split(";")[0]).lower()
    has_date = "y" in plain or "d" in plain
    has_time = "h" in plain or "s" in plain
    if has_date and has_time:
        return "datetime"
    if has_date:
        return "date"
    if has_time:
        return "time"
    return None


def _as_date(value: float, kind: str) -> str:
    moment = EXCEL_EPOCH + timedelta(days=value)
    # to the second, as Excel shows it (a serial's float error is below a millisecond)
    moment = (moment + timedelta(milliseconds=500)).replace(microsecond=0)
    if kind == "date":
        return moment.strftime("%Y-%m-%d")
    if kind == "time":
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _csv_text(value: Any, code: Any = None) -> str:
    if value is None:
        return ""
    kind = _date_kind(code)
    if (
        kind
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
        and 0 <= value < 2_958_466  # to 9999-12-31
    ):
        return _as_date(value, kind)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_csv(sheet: Sheet) -> bytes:
    grid: dict[tuple[int, int], str] = {}
    rows = cols = 0
    for cell_name, cell in sheet.cells.items():
        at = _position(cell_name)
        if at is None:
            continue
        grid[at] = _csv_text(cell.get("v"), cell.get("z"))
        rows, cols = max(rows, at[0] + 1), max(cols, at[1] + 1)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for r in range(rows):
        writer.writerow([grid.get((r, c), "") for c in range(cols)])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")
