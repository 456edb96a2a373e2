# SPDX-License-Identifier: AGPL-3.0-or-later
"""Read an uploaded CSV or XLSX file into rows of {field: cell text}.

Only the shape of the file is checked here (format, size, header row); the meaning of the
cells is checked by modules.directory.importer.
"""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from modules.directory.records import ImportRejectedError, RowError

MAX_ROWS = 200_000
MAX_BYTES = 50 * 1024 * 1024

Row = tuple[int, dict[str, str]]


def _reject(
    message: str, row: int = 0, column: str | None = None
) -> ImportRejectedError:
    return ImportRejectedError([RowError(row, column, message)])


def read_rows(
    filename: str,
    data: bytes,
    columns: dict[str, tuple[str, ...]],
    sheet: str | None = None,
) -> list[Row]:
    """(spreadsheet row number, {field: text}) for every non-empty data row.

    Row 1 is the header, matched case-insensitively against the aliases in `columns`.
    Every recognised column appears in every row's dict ("" when the cell is empty).
    """
    if len(data) > MAX_BYTES:
        raise _reject(f"文件超过 {MAX_BYTES // (1024 * 1024)} MB，请拆分后分批导入")
    if not data.strip():
        raise _reject("文件是空的")
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension == "csv":
        return _collect(_csv_lines(data), columns)
    if extension == "xlsx":
        return _read_xlsx(data, columns, sheet)
    raise _reject("只支持 .csv 或 .xlsx 文件（.xls 请在 Excel 中另存为 .xlsx）")


def _csv_lines(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Chinese Windows saves CSV as GBK, which GB18030 includes.
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise _reject(
                "无法识别 CSV 文件的编码，请保存为 UTF-8 或 GBK 编码"
            ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        yield from reader
    except csv.Error as error:
        raise _reject(f"CSV 格式错误：{error}", reader.line_num) from None


def _read_xlsx(
    data: bytes, columns: dict[str, tuple[str, ...]], sheet: str | None
) -> list[Row]:
    # openpyxl is slow to import; only xlsx uploads need it.
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True
        )
    except Exception:  # a corrupt zip or XML fails in many ways; all mean the same
        raise _reject("无法读取 Excel 文件，文件可能已损坏或不是 .xlsx 格式") from None
    try:
        names = workbook.sheetnames
        if sheet is not None and sheet in names:
            worksheet = workbook[sheet]
        elif sheet is None or len(names) == 1:
            worksheet = workbook.worksheets[0]
        else:
            raise _reject(
                f"找不到名为“{sheet}”的工作表（文件中的工作表：{'、'.join(names)}）"
            )
        # Some generators write a wrong dimension; read what is really there.
        worksheet.reset_dimensions()
        try:
            lines = (
                [_cell_text(value) for value in values]
                for values in worksheet.iter_rows(values_only=True)
            )
            return _collect(lines, columns)
        except ImportRejectedError:
            raise
        except Exception:
            raise _reject("无法读取 Excel 文件，文件可能已损坏") from None
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # Excel stores every number as a float: ids and phone numbers must not get ".0".
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _alias_map(columns: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {
        alias.strip().lower(): field
        for field, aliases in columns.items()
        for alias in aliases
    }


def _header(
    cells: Sequence[str], columns: dict[str, tuple[str, ...]]
) -> dict[int, str]:
    """Position → field, rejecting unknown and repeated columns (all reported at once)."""
    aliases = _alias_map(columns)
    errors: list[RowError] = []
    positions: dict[int, str] = {}
    seen: dict[str, str] = {}
    for position, cell in enumerate(cells):
        header = cell.strip()
        if not header:
            continue
        field = aliases.get(header.lower())
        if field is None:
            known = "、".join(names[0] for names in columns.values())
            errors.append(
                RowError(1, header, f"无法识别的列名“{header}”，可用的列名：{known}")
            )
        elif field in seen:
            errors.append(RowError(1, header, f"列“{header}”与列“{seen[field]}”重复"))
        else:
            seen[field] = header
            positions[position] = field
    if errors:
        raise ImportRejectedError(errors)
    if not positions:
        raise _reject("第 1 行应为列名（表头），但它是空的", 1)
    return positions


def _collect(
    lines: Iterable[Sequence[str]], columns: dict[str, tuple[str, ...]]
) -> list[Row]:
    rows: list[Row] = []
    positions: dict[int, str] | None = None
    unnamed: list[RowError] = []
    for number, cells in enumerate(lines, start=1):
        if positions is None:
            positions = _header(cells, columns)
            continue
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise _reject(f"数据超过 {MAX_ROWS} 行，请拆分后分批导入")
        values = dict.fromkeys(positions.values(), "")
        for position, cell in enumerate(cells):
            field = positions.get(position)
            if field is not None:
                values[field] = cell
            elif cell.strip():
                # Data under a column without a name would otherwise be lost silently.
                unnamed.append(
                    RowError(number, None, f"第 {position + 1} 列有数据但没有列名")
                )
        rows.append((number, values))
    if positions is None:
        raise _reject("文件是空的")
    if unnamed:
        raise ImportRejectedError(unnamed)
    return rows
