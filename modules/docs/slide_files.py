# SPDX-License-Identifier: AGPL-3.0-or-later
"""PowerPoint files through the document API: import of .pptx (and of a legacy .ppt,
converted to .pptx first by headless LibreOffice, office.py) into a new "slides"
document with the report of what was kept and lost, and export of a deck, now or at
any revision, to .pptx (docs/documents.md "Slides"). The deck's pictures and embedded
files go to the media repository as the importing officer's uploads; an export reads
them back. Audited as the other imports and exports are."""

from typing import Any

from modules.audit.public import record_document
from modules.common.errors import error
from modules.common.heavy_imports import import_frozen
from modules.common.http import RawBody
from modules.common.mxc import local_media_id
from modules.common.synapse.errors import Codes
from modules.common.synapse.media import read_media_into_memory, upload_media
from modules.docs import office, slides
from modules.docs.service import DocsService, _title

FORMATS = ("pptx", "ppt")
PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
MAX_MEDIA_BYTES = 200 * 1024 * 1024  # what one export reads back at most


async def import_file(
    service: DocsService, user_id: str, fmt: str, data: bytes, title: str | None
) -> dict[str, Any]:
    """A new deck owned by `user_id` from a .pptx (or .ppt) file."""
    await service.runtime.ready()
    if len(data) > service.config.max_import_bytes:
        raise error(413, Codes.TOO_LARGE, "文件过大")
    if fmt == "ppt":
        data = await office.for_import(
            service.api, service.config, data, "ppt", "pptx", "impress"
        )
    # python-pptx is loaded on the first import, not at start.
    slide_import: Any = import_frozen("modules.docs.slide_import")
    try:
        found, media, report = await service.api.defer_to_thread(
            slide_import.convert, data
        )
    except slide_import.ImportFailedError as e:
        raise error(400, Codes.INVALID_PARAM, str(e)) from e
    uris = [
        await upload_media(service.api, user_id, m.content_type, m.name, m.data)
        for m in media
    ]
    for slide in found:
        for element in slide.elements:
            if element["type"] in ("image", "file"):
                element["src"] = uris[element["src"]]
    update = slide_import.to_update(found)
    return await service.create_imported(
        user_id, _title(title or "导入的演示"), "slides", update, fmt, report
    )


async def export_file(
    service: DocsService, user_id: str, doc_id: str, revision: int | None
) -> RawBody:
    """The deck (at `revision`, default now) as a .pptx file."""
    doc, old, upto = await service.content_at(
        user_id, doc_id, revision, "slides", "pptx"
    )
    found = slides.read(old)
    media: dict[str, bytes] = {}
    total = 0
    for uri in slides.media_of(found):
        media_id = local_media_id(uri, service.api.server_name)
        if media_id is None or uri in media:
            continue
        found_bytes = await read_media_into_memory(service.api, media_id)
        if found_bytes is None or total + len(found_bytes) > MAX_MEDIA_BYTES:
            continue
        total += len(found_bytes)
        media[uri] = found_bytes
    slide_export: Any = import_frozen("modules.docs.slide_export")
    data = await service.api.defer_to_thread(slide_export.to_pptx, found, media)
    await record_document(
        service.api, user_id, "export", doc_id, revision=upto, format="pptx"
    )
    return RawBody(PPTX_TYPE, data, filename=f"{doc.title}.pptx")
