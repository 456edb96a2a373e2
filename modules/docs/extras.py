# SPDX-License-Identifier: AGPL-3.0-or-later
"""What officers do with documents besides editing them: start one from a business
template (templates.py), export one as Word (docx_export.py), and share one into a
chat as a card.

Sharing into a chat (POST {doc_id}/share-to-room {room_id}): the caller (who may open
the document) sends, as himself, an m.room.message into a room he is in, whose
`cn.jwwx.wecom` textcard the web client draws as a card and whose `cn.jwwx.document`
names the document ({doc_id, title, kind}); other clients show the body with the link.
The link is the editor page (/_jwwx/docs/app/#doc=ID): each officer who opens it is
signed in with his own session and sees the document with his own role (no role: the
page says it does not exist) — the card grants nothing. Not a member of the room:
Synapse's own 403."""

import base64
import re
from typing import TYPE_CHECKING, Any

from modules.audit.public import record_document
from modules.common.errors import error
from modules.common.gm import sm4_open
from modules.common.http import RawBody
from modules.common.mxc import local_media_id
from modules.common.synapse.errors import Codes, SynapseError
from modules.common.synapse.media import read_media_into_memory
from modules.docs import docx_export, templates
from modules.docs.bot import card
from modules.docs.storage import flow as storage_flow
from modules.docs.task_service import editor_link

if TYPE_CHECKING:
    from modules.docs.service import DocsService

TEMPLATE_NOT_FOUND = "CN_JWWX_DOC_TEMPLATE_NOT_FOUND"
_ROOM_ID = re.compile(r"^![^:\s]{1,255}:[^\s]{1,255}$")
MAX_MEDIA_BYTES = 200 * 1024 * 1024  # the pictures one export reads back, at most
_KIND_NAMES = {"rich": "文档", "text": "文本", "slides": "演示"}


class DocExtras:
    def __init__(self, docs: "DocsService") -> None:
        self.docs = docs
        self.api = docs.api

    # Templates

    async def list_templates(self) -> dict[str, Any]:
        await self.docs.runtime.ready()
        added = await self.api.run_db_interaction(
            "jwwx_docs_templates", storage_flow.templates_txn
        )
        return {
            "templates": templates.shipped_listing()
            + [{**t, "shipped": False} for t in added]
        }

    async def from_template(self, user_id: str, body: dict[str, Any]) -> dict[str, Any]:
        await self.docs.runtime.ready()
        if set(body) - {"template", "title"}:
            raise error(400, Codes.INVALID_PARAM, "只可有 template、title")
        template_id = body.get("template")
        if not isinstance(template_id, str) or not template_id:
            raise error(400, Codes.INVALID_PARAM, "缺少 template（模板 ID）")
        if template_id in templates.SHIPPED:
            name = templates.SHIPPED[template_id][0]
            kind, state = "rich", templates.shipped_state(template_id)
        else:
            found = await self.api.run_db_interaction(
                "jwwx_docs_template", storage_flow.template_body_txn, template_id
            )
            if found is None:
                raise error(404, TEMPLATE_NOT_FOUND, "模板不存在")
            name, kind, key_id, sealed = found
            state = sm4_open(self.docs.config.keys[key_id], base64.b64decode(sealed))
        title = body.get("title", name)
        if not isinstance(title, str) or not 0 < len(title.strip()) <= 200:
            raise error(400, Codes.INVALID_PARAM, "title 须为 1..200 个字符")
        answer = await self.docs.create_with(user_id, title.strip(), kind, state)
        await record_document(
            self.api, user_id, "create", answer["doc_id"], template=template_id
        )
        answer["template"] = template_id
        return answer

    # Office export

    async def export_docx(self, user_id: str, doc_id: str) -> RawBody:
        doc, _ = await self.docs.require(doc_id, user_id, "reader")
        await self.docs.rooms.flush(doc_id)
        state, upto, _ = await self.docs.rooms.load(doc_id)
        media: dict[str, bytes] = {}
        total = 0
        for uri in docx_export.images_of(state, doc.kind):
            media_id = local_media_id(uri, self.api.server_name)
            found = (
                None
                if media_id is None
                else await read_media_into_memory(self.api, media_id)
            )
            if found is None or total + len(found) > MAX_MEDIA_BYTES:
                continue  # written as its name, counted lost
            total += len(found)
            media[uri] = found
        titles: dict[str, str] = {}
        for embedded in docx_export.embedded_docs_of(state, doc.kind):
            try:  # named only as this officer may see it (no role: not named)
                titles[embedded] = (
                    await self.docs.require(embedded, user_id, "reader")
                )[0].title
            except SynapseError:
                continue
        data, report = await self.api.defer_to_thread(
            docx_export.export,
            state,
            doc.kind,
            doc.title,
            media,
            self.api.public_baseurl,
            titles,
        )
        await record_document(
            self.api,
            user_id,
            "export",
            doc_id,
            revision=upto,
            format="docx",
            report=report,
        )
        return RawBody(docx_export.CONTENT_TYPE, data, filename=f"{doc.title}.docx")

    # Sharing into a chat

    async def share_to_room(
        self, user_id: str, doc_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        doc, _ = await self.docs.require(doc_id, user_id, "reader")
        if set(body) - {"room_id"}:
            raise error(400, Codes.INVALID_PARAM, "只可有 room_id")
        room_id = body.get("room_id")
        if not isinstance(room_id, str) or not _ROOM_ID.match(room_id):
            raise error(400, Codes.INVALID_PARAM, "room_id 须为房间 ID（!…:…）")
        kind = _KIND_NAMES.get(doc.kind, doc.kind)
        content = card(
            doc.title,
            f"警务{kind} · 点击打开（按你的权限）",
            editor_link(self.api, doc_id),
            "打开文档",
        )
        content["cn.jwwx.document"] = {
            "doc_id": doc_id,
            "title": doc.title,
            "kind": doc.kind,
        }
        event = await self.api.create_and_send_event_into_room(
            {
                "type": "m.room.message",
                "room_id": room_id,
                "sender": user_id,
                "content": content,
            }
        )
        await record_document(
            self.api,
            user_id,
            "share_to_room",
            doc_id,
            room_id=room_id,
            event_id=event.event_id,
        )
        return {"event_id": event.event_id, "room_id": room_id}
