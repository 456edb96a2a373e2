# SPDX-License-Identifier: AGPL-3.0-or-later
"""Spreadsheet files through the document API: import of .xlsx, .xls and .csv into a
new "sheet" document (with the report of what was kept and lost) and export of a
sheet document, now or at any revision, to .xlsx or .csv (docs/documents.md
"Spreadsheets"). A legacy .xls is converted to .xlsx by headless LibreOffice first
(office.py, as a .doc is to .docx). Audited as the .docx import and the JSON export
are."""

from typing import Any

from modules.audit.public import record_document
from modules.common.errors import error
from modules.common.heavy_imports import import_frozen
from modules.common.http import RawBody
from modules.common.synapse.errors import Codes
from modules.docs import office, sheet_export, sheet_import, sheets
from modules.docs.service import DocsService, _title

FORMATS = ("xlsx", "csv")  # export
IMPORT_FORMATS = ("xlsx", "xls", "csv")
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


async def import_file(
    service: DocsService, user_id: str, fmt: str, data: bytes, title: str | None
) -> dict[str, Any]:
    """A new sheet document owned by `user_id` from an .xlsx, .xls or .csv file."""
    await service.runtime.ready()
    if len(data) > service.config.max_import_bytes:
        raise error(413, Codes.TOO_LARGE, "文件过大")
    name = _title(title or "导入的表格")
    if fmt == "xls":
        # An .xls is an OLE2 compound file: anything else is refused here, before
        # LibreOffice (which would read almost any bytes as some text).
        if not data.startswith(OLE2):
            raise error(400, Codes.INVALID_PARAM, "不是可读取的 .xls 文件")
        data = await office.for_import(
            service.api, service.config, data, "xls", "xlsx", "calc"
        )
    if fmt in ("xlsx", "xls"):  # loaded on the first import, not at start
        import_frozen("openpyxl")
    try:
        if fmt in ("xlsx", "xls"):
            update, report = await service.api.defer_to_thread(
                sheet_import.convert_xlsx, data
            )
        else:
            update, report = await service.api.defer_to_thread(
                sheet_import.convert_csv, data, name
            )
    except sheet_import.ImportFailedError as e:
        raise error(400, Codes.INVALID_PARAM, str(e)) from e
    return await service.create_imported(user_id, name, "sheet", update, fmt, report)


async def export_file(
    service: DocsService,
    user_id: str,
    doc_id: str,
    fmt: str,
    revision: int | None,
    sheet_name: str | None,
) -> RawBody:
    """The sheet document (at `revision`, default now) as an .xlsx file of every
    sheet, or a .csv file of one (`sheet_name`, default the first)."""
    doc, old, upto = await service.content_at(user_id, doc_id, revision, "sheet", fmt)
    found = sheets.read(old)
    if fmt == "xlsx":
        import_frozen("xlsxwriter")
        data = await service.api.defer_to_thread(sheet_export.to_xlsx, found)
        content_type = sheet_export.XLSX_TYPE
    else:
        chosen = [s for s in found if sheet_name is None or s.name == sheet_name]
        if not chosen:
            raise error(400, Codes.INVALID_PARAM, f"没有名为 {sheet_name} 的工作表")
        data = await service.api.defer_to_thread(sheet_export.to_csv, chosen[0])
        content_type = sheet_export.CSV_TYPE
    await record_document(
        service.api, user_id, "export", doc_id, revision=upto, format=fmt
    )
    return RawBody(content_type, data, filename=f"{doc.title}.{fmt}")
