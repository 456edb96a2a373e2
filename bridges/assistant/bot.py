# SPDX-License-Identifier: AGPL-3.0-or-later
"""The assistant's conversations.

An officer invites the bot to a chat (the bot joins), then asks: in a chat of two, every
message is a question; in a group, a message that mentions the bot. The bot answers in
one m.notice message that it edits (m.replace) while the model writes, at most every
`edit_interval_seconds`. Each chat keeps its last `memory_turns` questions and answers
as context. Questions and answers are ordinary room events, so the keyword filter judges
both (a refused answer is replaced by a short notice) and the audit archive keeps both.
Questions of one chat are answered one after another; burn-after-read messages are not
passed to the model (their text must not outlive them)."""

import logging
import re
import time
from collections import deque
from typing import Any

from twisted.internet import defer

from bridges.assistant.config import AssistantConfig
from bridges.assistant.engine import ChatEngine, EngineError
from bridges.assistant.tools import BURN_FIELD, Asker, Tools, definitions
from bridges.common.bot import InvitedBot
from bridges.common.matrix import BotClient, MatrixError

logger = logging.getLogger(__name__)
MAX_TOOL_ROUNDS = 4
THINKING = "正在思考…"
ENGINE_DOWN = "智能助手暂时无法回答（模型服务没有响应），请稍后再试。"
BLOCKED = "回答中含有不允许发送的内容，已被拦截。"
TOO_FAST = "提问太频繁了，请一分钟后再试。"
TOO_LONG = "问题太长了（最多 {limit} 个字），请精简后再问。"
NO_BURN = "阅后即焚的消息不会交给智能助手处理。"
SYSTEM_PROMPT = (
    "你是{name}，公安机关内部即时通信系统中的智能助手。用简体中文回答，简洁准确；"
    "不知道的不要编造。需要本聊天的内容、同事信息、图片文字或通知版式时调用工具。"
)


class RateLimiter:
    """At most `per_minute` questions per officer in any 60 s."""

    def __init__(self, per_minute: int) -> None:
        self._per_minute = per_minute
        self._asked: dict[str, deque[float]] = {}

    def allow(self, user_id: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        times = self._asked.setdefault(user_id, deque())
        while times and now - times[0] >= 60:
            times.popleft()
        if len(times) >= self._per_minute:
            return False
        times.append(now)
        return True


class _Editor:
    """Edits the answer message as the text grows, at most every `interval` seconds
    and one edit at a time; `finish` writes the final text."""

    def __init__(self, bot: BotClient, room_id: str, event_id: str, interval: float):
        self._bot = bot
        self._room_id = room_id
        self._event_id = event_id
        self._interval = interval
        self._shown = THINKING
        self._last = time.monotonic()
        self._pending: defer.Deferred[Any] | None = None

    def grow(self, text: str) -> None:
        if self._pending is not None or time.monotonic() - self._last < self._interval:
            return
        self._pending = defer.ensureDeferred(self._show(text))

    async def _show(self, text: str) -> None:
        try:
            await self._bot.edit(self._room_id, self._event_id, text + " …")
            self._shown = text
        except MatrixError as e:
            logger.info("progress edit refused: %s", e)
        finally:
            self._last = time.monotonic()
            self._pending = None

    async def finish(self, text: str) -> bool:
        """The final text; False when the server refused it (the keyword filter)."""
        if self._pending is not None:
            await self._pending
        try:
            await self._bot.edit(self._room_id, self._event_id, text)
            return True
        except MatrixError as e:
            logger.info("answer refused: %s", e)
            await self._bot.edit(self._room_id, self._event_id, BLOCKED)
            return False


class Assistant(InvitedBot):
    def __init__(self, config: AssistantConfig, bot: BotClient) -> None:
        super().__init__(config.server_name, bot)
        self._config = config
        self._engine = ChatEngine(config.engine)
        self._tools = Tools(config, bot)
        self._offered = definitions(config)
        self._limiter = RateLimiter(config.questions_per_minute)
        self._memory: dict[str, deque[dict[str, Any]]] = {}
        self._locks: dict[str, defer.DeferredLock] = {}
        self._mention = re.compile(
            r"@?" + re.escape(config.display_name) + r"[:：,，\s]*"
        )

    async def _on_message(self, event: dict[str, Any]) -> None:
        sender = str(event.get("sender", ""))
        content = event.get("content") or {}
        if sender == self._bot.user_id or not self._local(sender):
            return
        if content.get("msgtype") not in ("m.text", "m.image") or (
            (content.get("m.relates_to") or {}).get("rel_type") == "m.replace"
        ):
            return
        room_id = str(event["room_id"])
        if not await self._addressed(room_id, content):
            return
        # Counted when asked, not when answered (answers of a chat queue up).
        if not self._limiter.allow(sender):
            await self._reply(event, TOO_FAST)
            return
        lock = self._locks.setdefault(room_id, defer.DeferredLock())
        await lock.run(lambda: defer.ensureDeferred(self._answer(event)))

    async def _addressed(self, room_id: str, content: dict[str, Any]) -> bool:
        mentions = (content.get("m.mentions") or {}).get("user_ids") or []
        if self._bot.user_id in mentions:
            return True
        if "@" + self._config.display_name in str(content.get("body", "")):
            return True
        members = await self._bot.members(room_id)
        return len(members) <= 2

    # Answering.

    async def _reply(self, event: dict[str, Any], text: str) -> str:
        return await self._bot.send(
            str(event["room_id"]),
            {
                "msgtype": "m.notice",
                "body": text,
                "m.relates_to": {"m.in_reply_to": {"event_id": event["event_id"]}},
            },
        )

    async def _answer(self, event: dict[str, Any]) -> None:
        content = event.get("content") or {}
        sender = str(event["sender"])
        if BURN_FIELD in content:
            await self._reply(event, NO_BURN)
            return
        question = self._mention.sub("", str(content.get("body", ""))).strip()
        if content.get("msgtype") == "m.image":
            question = (
                f"（我发了一张图片，event_id={event['event_id']}）请识别图中文字。"
            )
        if len(question) > self._config.max_question_chars:
            await self._reply(
                event, TOO_LONG.format(limit=self._config.max_question_chars)
            )
            return
        if not question:
            return
        room_id = str(event["room_id"])
        answer_id = await self._reply(event, THINKING)
        editor = _Editor(
            self._bot, room_id, answer_id, self._config.edit_interval_seconds
        )
        memory = self._memory.setdefault(
            room_id, deque(maxlen=2 * self._config.memory_turns or None)
        )
        if self._config.memory_turns == 0:
            memory.clear()
        messages = [
            {
                "role": "system",
                "content": SYSTEM_PROMPT.format(name=self._config.display_name),
            },
            *memory,
            {"role": "user", "content": question},
        ]
        try:
            text = await self._converse(Asker(sender, room_id), messages, editor)
        except EngineError as e:
            logger.warning("engine: %s", e)
            await editor.finish(ENGINE_DOWN)
            return
        if await editor.finish(text) and self._config.memory_turns:
            memory.append({"role": "user", "content": question})
            memory.append({"role": "assistant", "content": text})

    async def _converse(
        self, asker: Asker, messages: list[dict[str, Any]], editor: _Editor
    ) -> str:
        for _round in range(MAX_TOOL_ROUNDS):
            done = await self._engine.complete(messages, self._offered, editor.grow)
            if not done.tool_calls:
                return done.text.strip() or "（没有回答）"
            messages.append(
                {
                    "role": "assistant",
                    "content": done.text or None,
                    "tool_calls": [c.as_message() for c in done.tool_calls],
                }
            )
            for call in done.tool_calls:
                result = await self._tools.run(asker, call.name, call.arguments)
                messages.append(
                    {"role": "tool", "tool_call_id": call.id, "content": result}
                )
        raise EngineError("the model kept calling tools")
