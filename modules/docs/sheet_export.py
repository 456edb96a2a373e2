# SPDX-License-Identifier: AGPL-3.0-or-later
"""A spreadsheet document (sheets.py) to an Excel (.xlsx, by XlsxWriter) or .csv file.

.xlsx: every sheet, formulas as formulas with the value last computed beside them
(Excel recomputes on opening), numbers, text, booleans, number formats. A sheet name
Excel refuses ([]:*?/\\, more than 31 characters, twice the same) is changed to one
it takes. .csv: one sheet (the first, or the one named), values only, UTF-8 with a BOM
(so that Excel on a Chinese Windows reads it as UTF-8).
"""

import csv
import io
import re
from typing import Any

from modules.docs.sheet_import import MAX_TEXT
from modules.docs.sheets import Sheet

_CELL = re.compile(r"^([A-Z]{1,3})([1-9][0-9]{0,6})$")
_BAD_NAME = re.compile(r"[\[\]:*?/\\]")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


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
    formats: dict[str, Any] = {}

    def fmt(code: Any) -> Any:
        if not isinstance(code, str) or not code:
            return None
        if code not in formats:
            formats[code] = book.add_format({"num_format": code})
        return formats[code]

    for sheet, name in zip(sheets, _sheet_names(sheets), strict=True):
        ws = book.add_worksheet(name)
        for cell_name, cell in sheet.cells.items():
            at = _position(cell_name)
            if at is None:
                continue
            row, col = at
            value, style = cell.get("v"), fmt(cell.get("z"))
            formula = cell.get("f")
            if isinstance(formula, str) and len(formula) > 1:
                cached = value if isinstance(value, (int, float, str, bool)) else 0
                ws.write_formula(row, col, formula, style, cached)
            elif isinstance(value, bool):
                ws.write_boolean(row, col, value, style)
            elif isinstance(value, (int, float)):
                ws.write_number(row, col, value, style)
            elif isinstance(value, str):
                ws.write_string(row, col, value[:MAX_TEXT], style)
    if not sheets:
        book.add_worksheet("Sheet1")
    book.close()
    return out.getvalue()


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
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
        grid[at] = _csv_text(cell.get("v"))
        rows, cols = max(rows, at[0] + 1), max(cols, at[1] + 1)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for r in range(rows):
        writer.writerow([grid.get((r, c), "") for c in range(cols)])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")
