# SPDX-License-Identifier: AGPL-3.0-or-later
"""Reading an image message for an officer, and forwarding what it says.

The image must be a message the officer may see (Synapse's own visibility rules), a
local image (m.image, or an m.file whose mimetype is an image), and not
burn-after-read: its text must not outlive it. Forwarding sends the text as the
officer's own m.text into chats he is joined to, through Synapse's normal event path
(room rules, the keyword filter and the audit archive apply as to anything he types)."""

from collections.abc import Mapping
from typing import Any

from synapse.module_api import ModuleApi

from modules.burn import public as burn
from modules.common.errors import error
from modules.common.inputs import InputError, bounded_str
from modules.common.synapse.errors import Codes
from modules.common.synapse.media import read_local_media, visible_local_media
from modules.ocr.cards import driving_licence, id_card, id_card_back, id_card_side
from modules.ocr.config import OcrConfig
from modules.ocr.engine import NOT_AN_IMAGE, Line, OcrEngine, plain_text

BURN_REFUSED = "CN_JWWX_OCR_BURN_AFTER_READ"
NO_TEXT = "CN_JWWX_OCR_NO_TEXT"
KINDS = ("general", "idcard", "driverlicense")
MAX_FORWARD_CHARS = 20000


def recognised(kind: str, lines: list[Line]) -> dict[str, Any]:
    """The answer for one image: text, lines, and the card's fields for card kinds."""
    text = plain_text(lines)
    out: dict[str, Any] = {
        "kind": kind,
        "text": text,
        "lines": [line.as_json() for line in lines],
    }
    texts = [line.text for line in lines]
    if kind == "idcard" and id_card_side(texts) == "back":
        out["fields"] = {"side": "back", **id_card_back(texts)}
    elif kind == "idcard":
        out["fields"] = {"side": "front", **id_card(texts)}
    elif kind == "driverlicense":
        out["fields"] = driving_licence(texts)
    return out


def check_kind(value: Any) -> str:
    if value is None:
        return "general"
    if value not in KINDS:
        raise InputError(f"kind 只能是 {' / '.join(KINDS)}")
    return str(value)


def _image_uri(content: Any) -> str | None:
    # Synapse's event content is an immutable mapping, not a dict.
    if not isinstance(content, Mapping):
        return None
    msgtype = content.get("msgtype")
    info = content.get("info")
    mimetype = str(info.get("mimetype", "")) if isinstance(info, Mapping) else ""
    if msgtype == "m.image" or (msgtype == "m.file" and mimetype.startswith("image/")):
        url = content.get("url")
        return url if isinstance(url, str) else None
    return None


class OcrService:
    def __init__(self, api: ModuleApi, config: OcrConfig, engine: OcrEngine) -> None:
        self._api = api
        self._config = config
        self.engine = engine

    async def read_message(
        self, user_id: str, room_id: str, event_id: str, kind: str
    ) -> dict[str, Any]:
        _event, media_id = await visible_local_media(
            self._api, user_id, room_id, event_id, _image_uri
        )
        if media_id is None:
            raise error(400, NOT_AN_IMAGE, "这条消息不是本服务器上的图片")
        if await burn.burns(self._api, event_id):
            raise error(403, BURN_REFUSED, "阅后即焚的图片不能识别文字")
        data = await read_local_media(self._api, media_id)
        return recognised(kind, await self.engine.recognise(data))

    async def forward_targets(self, user_id: str, targets: Any) -> list[str]:
        """The chats to forward to, each checked (the officer is joined) before any
        image is read, so a bad list costs nothing and sends nothing."""
        if not isinstance(targets, list) or not targets:
            raise InputError("forward_to 应为聊天（房间）ID 的列表")
        if len(targets) > self._config.forward_limit:
            raise InputError(f"一次最多转发到 {self._config.forward_limit} 个聊天")
        rooms = list(dict.fromkeys(bounded_str(t, "forward_to", 255) for t in targets))
        for room_id in rooms:
            state = await self._api.get_room_state(
                room_id, [("m.room.member", user_id)]
            )
            member = state.get(("m.room.member", user_id))
            if member is None or member.content.get("membership") != "join":
                raise error(403, Codes.FORBIDDEN, f"您不在聊天 {room_id} 中，无法转发")
        return rooms

    async def forward(
        self, user_id: str, rooms: list[str], text: str
    ) -> list[dict[str, str]]:
        """Send `text` as the officer's own m.text into each room."""
        if not text.strip():
            raise error(400, NO_TEXT, "没有识别到文字，无法转发")
        sent = []
        for room_id in rooms:
            event = await self._api.create_and_send_event_into_room(
                {
                    "type": "m.room.message",
                    "room_id": room_id,
                    "sender": user_id,
                    "content": {
                        "msgtype": "m.text",
                        "body": text[:MAX_FORWARD_CHARS],
                    },
                }
            )
            sent.append({"room_id": room_id, "event_id": event.event_id})
        return sent
