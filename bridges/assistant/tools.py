# SPDX-License-Identifier: AGPL-3.0-or-later
"""The tools the model may call, each run for the officer who asked and never showing
him more than he could see himself:

- summarise_chat: the chat's latest messages, only from where the asker's view of the
  chat begins (his current join; history before it is left out even where the chat's
  history visibility would show it: the cautious choice), never a burn-after-read,
  redacted or edited-away text, never the bot's own answers;
- lookup_colleague: the directory's member search with the asker's visibility (the
  directory's `delegated_readers` lets the bot ask on his behalf);
- read_image_text: the text of an image in the chat (the latest one, or one named),
  through the open API's OCR as the configured app; burn-after-read images are refused;
- draft_notice: the bureau's notice layout, for the model to fill in.
"""

import json
from dataclasses import dataclass
from typing import Any

from twisted.web.http_headers import Headers

import treq

from bridges.assistant.config import AssistantConfig
from bridges.common.matrix import BotClient, MatrixError

BURN_FIELD = "cn.jwwx.burn_after_read"
TEXT_TYPES = ("m.text", "m.notice", "m.emote")
FILE_LABELS = {
    "m.image": "图片",
    "m.file": "文件",
    "m.audio": "语音",
    "m.video": "视频",
}
NOTICE_LAYOUT = (
    "公文通知的版式：标题（关于……的通知）；主送单位；正文（缘由、事项、要求，分条列出，"
    "写明时间、地点、责任单位和联系人）；落款单位；成文日期（××××年×月×日）。"
    "用语简洁、规范，不写未经核实的内容。"
)


@dataclass(frozen=True)
class Asker:
    user_id: str
    room_id: str


def definitions(config: AssistantConfig) -> list[dict[str, Any]]:
    """The tools offered to the model (OpenAI `tools`)."""

    def tool(name: str, description: str, properties: dict[str, Any]) -> Any:
        return {
            "type": "function",
            "function": {
                "name": name,
                "description": description,
                "parameters": {"type": "object", "properties": properties},
            },
        }

    found = [
        tool(
            "summarise_chat",
            "读取本聊天最近的消息（提问人能看到的部分），用于总结。",
            {
                "count": {
                    "type": "integer",
                    "description": f"条数，最多 {config.summary_max_messages}",
                }
            },
        ),
        tool(
            "lookup_colleague",
            "按姓名、拼音或手机号在通讯录中查找同事（按提问人的可见范围）。",
            {"name": {"type": "string"}},
        ),
        tool(
            "draft_notice",
            "取得公文通知的标准版式，用于起草通知。",
            {"topic": {"type": "string"}},
        ),
    ]
    if config.ocr is not None:
        found.append(
            tool(
                "read_image_text",
                "识别本聊天中一张图片上的文字（默认最近一张）。",
                {"event_id": {"type": "string"}},
            )
        )
    return found


class Tools:
    def __init__(self, config: AssistantConfig, bot: BotClient) -> None:
        self._config = config
        self._bot = bot
        self._ocr_token: str | None = None

    async def run(self, asker: Asker, name: str, arguments: str) -> str:
        """The tool's result as text for the model; a refusal is a result too."""
        try:
            args = json.loads(arguments or "{}")
            if not isinstance(args, dict):
                raise ValueError
        except ValueError:
            return "参数格式不正确"
        if name == "summarise_chat":
            return await self.summarise_chat(asker, args.get("count"))
        if name == "lookup_colleague":
            return await self.lookup_colleague(asker, str(args.get("name") or ""))
        if name == "draft_notice":
            return NOTICE_LAYOUT
        if name == "read_image_text" and self._config.ocr is not None:
            return await self.read_image_text(asker, args.get("event_id"))
        return f"没有工具 {name}"

    async def visible_messages(self, asker: Asker, wanted: int) -> list[dict[str, Any]]:
        """The chat's latest message events the asker can see, newest first."""
        since = await self._bot.member_event_id(asker.room_id, asker.user_id)
        if since is None:
            return []
        found = []
        for event in await self._bot.recent(asker.room_id, wanted * 3 + 20):
            if event.get("event_id") == since:
                break
            if event.get("type") == "m.room.message":
                found.append(event)
        return found

    async def summarise_chat(self, asker: Asker, count: Any) -> str:
        limit = self._config.summary_max_messages
        wanted = count if isinstance(count, int) and 0 < count <= limit else limit
        lines = []
        for event in await self.visible_messages(asker, wanted):
            if event.get("sender") == self._bot.user_id:
                continue
            text = _text_of(event)
            if text is not None:
                lines.append(f"{event.get('sender')}: {text}")
            if len(lines) >= wanted:
                break
        if not lines:
            return "没有可读取的消息"
        return "\n".join(reversed(lines))

    async def lookup_colleague(self, asker: Asker, name: str) -> str:
        name = name.strip()
        if not name or len(name) > 64:
            return "请给出要查找的姓名"
        try:
            found = await self._bot.search_directory(asker.user_id, name)
        except MatrixError as e:
            return f"通讯录查询失败：{e.error}"
        people = []
        for member in found.get("results", [])[:5]:
            shown = {
                k: member[k]
                for k in ("name", "position", "mobile", "email", "userid")
                if member.get(k)
            }
            departments = [d.get("name") for d in member.get("departments", [])]
            if departments:
                shown["departments"] = departments
            people.append(shown)
        if not people:
            return "通讯录中没有找到（或您无权查看）"
        return json.dumps(people, ensure_ascii=False)

    async def read_image_text(self, asker: Asker, event_id: Any) -> str:
        image = None
        for event in await self.visible_messages(
            asker, self._config.summary_max_messages
        ):
            content = event.get("content") or {}
            if content.get("msgtype") != "m.image":
                continue
            if event_id is None or event.get("event_id") == event_id:
                image = event
                break
        if image is None:
            return "本聊天中没有您能看到的图片"
        content = image.get("content") or {}
        if BURN_FIELD in content:
            return "阅后即焚的图片不能识别"
        url = content.get("url")
        if not isinstance(url, str) or not url.startswith("mxc://"):
            return "这张图片无法读取"
        data = await self._bot.download(url)
        answer = await self._ocr(
            data, str((content.get("info") or {}).get("mimetype") or "image/png")
        )
        if answer.get("errcode") != 0:
            return f"识别失败：{answer.get('errmsg')}"
        texts = [str(item.get("text", "")) for item in answer.get("items", [])]
        return "\n".join(texts) or "图片上没有识别到文字"

    async def _ocr(self, data: bytes, mimetype: str) -> dict[str, Any]:
        assert self._config.ocr is not None
        for fresh in (False, True):
            if self._ocr_token is None or fresh:
                token = await self._call(
                    "gettoken",
                    {
                        "corpid": self._config.ocr.corpid,
                        "corpsecret": self._config.ocr.corpsecret,
                    },
                )
                if token.get("errcode") != 0:
                    return token
                self._ocr_token = str(token["access_token"])
            answer = await self._call(
                "ocr/general", {"access_token": self._ocr_token}, data, mimetype
            )
            if answer.get("errcode") not in (40014, 42001):  # token invalid/expired
                return answer
        return answer

    async def _call(
        self,
        path: str,
        params: dict[str, str],
        body: bytes | None = None,
        content_type: str = "",
    ) -> dict[str, Any]:
        url = f"{self._config.homeserver_url}/cgi-bin/{path}"
        if body is None:
            response = await treq.get(url, params=params, timeout=30)
        else:
            response = await treq.post(
                url,
                body,
                params=params,
                headers=Headers({b"Content-Type": [content_type.encode("latin-1")]}),
                timeout=60,
            )
        answer = json.loads(await response.content())
        return answer if isinstance(answer, dict) else {"errcode": -1}


def _text_of(event: dict[str, Any]) -> str | None:
    """What a message says, for the model (None: nothing to pass on)."""
    content = event.get("content") or {}
    if BURN_FIELD in content or not content:
        return None
    relates = content.get("m.relates_to") or {}
    if relates.get("rel_type") == "m.replace":
        return None  # an edit: the message it edits is shown with its latest text
    edit = ((event.get("unsigned") or {}).get("m.relations") or {}).get("m.replace")
    if isinstance(edit, dict):
        content = (edit.get("content") or {}).get("m.new_content") or content
    msgtype = content.get("msgtype")
    body = content.get("body")
    if not isinstance(body, str):
        return None
    if msgtype in TEXT_TYPES:
        return body[:1000]
    label = FILE_LABELS.get(str(msgtype))
    return f"[{label}] {body[:200]}" if label else None
