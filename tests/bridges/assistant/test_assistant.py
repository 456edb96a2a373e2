# SPDX-License-Identifier: AGPL-3.0-or-later
"""The AI assistant end to end: `python -m bridges.assistant run` as its own process,
registered with a real homeserver as an application service, talking to a stand-in
model that speaks the OpenAI streaming protocol (SSE, tool calls).

- A chat of two: the bot joins when invited; an answer arrives as one message edited
  while the model streams; the next question carries the last one as context; the
  keyword filter refuses an answer (replaced by a notice); the engine down gives a
  clear message; too many questions a minute are refused.
- A group: only a mention is a question; the summary tool gets only what the asker can
  see (nothing from before he joined, no burn-after-read text); the colleague lookup
  uses the asker's directory visibility; only the listed application service may read
  the directory on someone's behalf.
- An image: its text read through the open API's OCR as the granted app.

SQLite only: the bridge keeps nothing in a database; what it reads goes through the
modules' endpoints that have their own tests on both engines."""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

import yaml
from PIL import Image, ImageDraw, ImageFont

from benchmarks.ocr_cards import font_path, png
from bridges.assistant.bot import BLOCKED, ENGINE_DOWN, THINKING, TOO_FAST
from bridges.assistant.config import load_config
from bridges.assistant.registration import write
from tests.bridges.assistant.standin import KEY, Model
from tests.harness.case import SQLiteCase
from tests.harness.client import MatrixClient
from tests.harness.server import TestServer, free_port
from tests.modules.openapi.helpers import (
    CORPID,
    create_app,
    enrol_officer,
    root_department,
    sleep,
)

ROOT = Path(__file__).resolve().parents[3]
BANNED = "禁用词甲"
BOT = "jwwx_assistant"
SLOW = 120.0


def _q(value: str) -> str:
    return quote(value, safe="")


class AssistantTest(SQLiteCase):
    keywords = (BANNED,)
    module_config: ClassVar[dict[str, dict[str, Any]]] = {
        "modules.directory.DirectoryModule": {"delegated_readers": [BOT]},
    }
    model: ClassVar[Model]
    bridge: ClassVar[subprocess.Popen[bytes] | None] = None
    folder: ClassVar[Path]

    @classmethod
    def prepare_class(cls) -> None:
        cls.model = Model(free_port())
        cls.model.start()
        cls.folder = Path(tempfile.mkdtemp())

    @classmethod
    def configure_server(cls, server: TestServer) -> None:
        (cls.folder / "model.key").write_text(KEY)
        config = {
            "server_name": server.server_name,
            "homeserver_url": server.base_url,
            "bridge_url": f"http://127.0.0.1:{free_port()}",
            "as_token_file": "as_token",
            "hs_token_file": "hs_token",
            "questions_per_minute": 5,
            "edit_interval_seconds": 0.3,
            "engine": {
                "base_url": f"http://127.0.0.1:{cls.model.port}/v1",
                "model": "police-llm",
                "api_key_file": "model.key",
                "answer_timeout_seconds": 60,
            },
        }
        (cls.folder / "assistant.yaml").write_text(
            yaml.safe_dump(config, allow_unicode=True), encoding="utf-8"
        )
        registration = cls.folder / "registration.yaml"
        write(load_config(cls.folder / "assistant.yaml"), registration)
        (server.data_dir / "conf.d" / "assistant.yaml").write_text(
            yaml.safe_dump({"app_service_config_files": [str(registration)]})
        )

    @classmethod
    def finish_class(cls) -> None:
        if cls.bridge is not None:
            cls.bridge.terminate()
            cls.bridge.wait(30)
            cls.bridge = None
        cls.model.stop()

    def _start_bridge(self, ocr_secret: str | None = None) -> None:
        """(Re)start the bridge, with OCR access when a secret is given."""
        cls = type(self)
        if cls.bridge is not None:
            cls.bridge.terminate()
            cls.bridge.wait(30)
        path = cls.folder / "assistant.yaml"
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        if ocr_secret is not None:
            (cls.folder / "ocr.secret").write_text(ocr_secret)
            config["ocr"] = {"corpid": CORPID, "corpsecret_file": "ocr.secret"}
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        cls.bridge = subprocess.Popen(
            [sys.executable, "-m", "bridges.assistant", "run", "--config", str(path)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        # Up once its health answers (the launcher's probe; no token needed).
        deadline = time.monotonic() + SLOW
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(  # noqa: S310 - our loopback bridge
                    config["bridge_url"] + "/health", timeout=2
                ) as answer:
                    if json.loads(answer.read()) == {"status": "ok"}:
                        return
            except OSError:
                time.sleep(0.2)
        self.fail("the bridge did not start")

    def setUp(self) -> None:
        super().setUp()
        assert self.server is not None  # started here (prepare/configure hooks run)
        if type(self).bridge is None:
            self._start_bridge()

    @property
    def bot_id(self) -> str:
        return f"@{BOT}:{self.server.server_name}"

    async def _invite_bot(self, client: MatrixClient, room: str) -> None:
        await client.ok(
            "POST",
            f"/_matrix/client/v3/rooms/{_q(room)}/invite",
            {"user_id": self.bot_id},
        )
        deadline = time.monotonic() + SLOW
        while time.monotonic() < deadline:
            state = await client.ok(
                "GET", f"/_matrix/client/v3/rooms/{_q(room)}/joined_members"
            )
            if self.bot_id in state["joined"]:
                return
            await sleep(0.3)
        self.fail("the bot did not join")

    async def _answer(
        self, client: MatrixClient, room: str, question_id: str
    ) -> tuple[str, int]:
        """The bot's final text replying to `question_id` and how many edits it took."""
        deadline = time.monotonic() + SLOW
        while time.monotonic() < deadline:
            events = await client.messages(room, 200)
            reply = next(
                (
                    e
                    for e in events
                    if e["sender"] == self.bot_id
                    and e["content"].get("m.relates_to", {}).get("m.in_reply_to", {})
                    == {"event_id": question_id}
                ),
                None,
            )
            if reply is not None:
                edits = [
                    e["content"]["m.new_content"]["body"]
                    for e in events
                    if e["content"].get("m.relates_to", {}).get("event_id")
                    == reply["event_id"]
                ]  # newest first
                text = edits[0] if edits else reply["content"]["body"]
                if text != THINKING and not text.endswith(" …"):
                    return text, len(edits)
            await sleep(0.3)
        self.fail(f"no answer to {question_id}")

    async def _ask(
        self, client: MatrixClient, room: str, text: str, **extra: Any
    ) -> tuple[str, int]:
        status, sent = await client.send_text(room, text, **extra)
        self.assertEqual(status, 200, sent)
        return await self._answer(client, room, sent["event_id"])

    async def test_a_chat_of_two(self) -> None:
        officer = self.user("aiwho")
        room = await officer.create_room(preset="trusted_private_chat")
        await self._invite_bot(officer, room)

        text, _edits = await self._ask(officer, room, "你好")
        self.assertEqual(text, "收到：你好（第1轮）")
        # Streamed slowly: the message grows by edits before its final text.
        text, edits = await self._ask(officer, room, "慢慢说")
        self.assertEqual(text, "收到：慢慢说（第2轮）")
        self.assertGreaterEqual(edits, 2)
        # The first question and answer went back to the model as context.
        context = self.model.requests[-1]["messages"]
        self.assertIn({"role": "user", "content": "你好"}, context)
        self.assertIn({"role": "assistant", "content": "收到：你好（第1轮）"}, context)
        # An answer the keyword filter refuses is replaced, never shown.
        self.model.secret_word = BANNED
        text, _edits = await self._ask(officer, room, "说出暗号")
        self.assertEqual(text, BLOCKED)
        bodies = [str(e["content"]) for e in await officer.messages(room, 200)]
        self.assertFalse(any(BANNED in b and "收到" in b for b in bodies))
        # The engine down: a clear message, not silence.
        self.model.down = True
        try:
            text, _edits = await self._ask(officer, room, "在吗")
        finally:
            self.model.down = False
        self.assertEqual(text, ENGINE_DOWN)
        # Five questions a minute (config), counted when asked: a burst of six in a
        # new chat, the sixth is refused at once.
        eager = self.user("aieager")
        burst = await eager.create_room(preset="trusted_private_chat")
        await self._invite_bot(eager, burst)
        sent = []
        for number in range(6):
            status, event = await eager.send_text(burst, f"问题{number}")
            self.assertEqual(status, 200, event)
            sent.append(event["event_id"])
        texts = [(await self._answer(eager, burst, e))[0] for e in sent]
        self.assertEqual(texts.count(TOO_FAST), 1, texts)

    async def test_b_group_tools_see_what_the_asker_sees(self) -> None:
        boss = self.user("aiboss", admin=True)
        unit = await root_department(boss, f"智能助手测试{os.urandom(3).hex()}")
        owner, late = self.user("aiowner"), self.user("ailate")
        await enrol_officer(boss, owner, unit)
        await enrol_officer(boss, late, unit)
        colleague = self.user("aizhang")
        zhang = await enrol_officer(boss, colleague, unit)
        await boss.ok(
            "PUT", f"/_jwwx/admin/v1/directory/members/{zhang}", {"name": "张卫东"}
        )
        room = await owner.create_room(preset="private_chat", name="专案组")
        await self._invite_bot(owner, room)
        await owner.send_text(room, "加入之前的旧线索")
        await owner.ok(
            "POST", f"/_matrix/client/v3/rooms/{_q(room)}/invite",
            {"user_id": late.user_id},
        )  # fmt: skip
        await late.join(room)
        await owner.send_text(room, "嫌疑车辆是白色轿车")
        await owner.send(
            room,
            {"msgtype": "m.text", "body": "焚毁内容",
             "cn.jwwx.burn_after_read": 60000},
        )  # fmt: skip
        asked = len(self.model.requests)
        # No mention in a group: not a question.
        await late.send_text(room, "大家辛苦了")
        text, _edits = await self._ask(
            late, room, "@警务助手 总结一下",
            **{"m.mentions": {"user_ids": [self.bot_id]}},
        )  # fmt: skip
        self.assertEqual(len(self.model.requests), asked + 2)  # the question, the tool
        summary = self.model.tool_results()[-1]
        self.assertIn("嫌疑车辆是白色轿车", summary)
        self.assertIn("大家辛苦了", summary)
        self.assertNotIn("旧线索", summary)
        self.assertNotIn("焚毁内容", summary)
        self.assertTrue(text.startswith("根据工具结果："), text)

        text, _edits = await self._ask(late, room, "@警务助手 查找 张卫东")
        self.assertIn("张卫东", self.model.tool_results()[-1])
        # Only the listed application service reads on someone's behalf.
        status, answer = await late.request(
            "GET",
            "/_jwwx/client/v1/directory/search/members?q=%E5%BC%A0&on_behalf_of="
            + _q(owner.user_id),
        )
        self.assertEqual((status, answer.get("errcode")), (403, "M_FORBIDDEN"))

    async def test_c_image_text_through_the_open_api(self) -> None:
        boss = self.user("aiocrboss", admin=True)
        app = await create_app(boss, name="智能助手识别")
        await boss.ok("PUT", f"/_jwwx/admin/v1/ocr/apps/{app['agentid']}", {})
        self._start_bridge(ocr_secret=app["secret"])
        officer = self.user("aiocr")
        room = await officer.create_room(preset="trusted_private_chat")
        await self._invite_bot(officer, room)
        font = font_path()
        assert font is not None  # make install puts the CJK font there
        canvas = Image.new("RGB", (720, 140), "white")
        ImageDraw.Draw(canvas).text(
            (20, 40), "协查通报 车牌京A12345", fill="black",
            font=ImageFont.truetype(font, 44),
        )  # fmt: skip
        image = png(canvas)
        status, uploaded = await officer.request(
            "POST", "/_matrix/media/v3/upload?filename=note.png", raw=image
        )
        self.assertEqual(status, 200, uploaded)
        await officer.send(
            room,
            {"msgtype": "m.file", "body": "note.png", "url": uploaded["content_uri"]},
        )
        await officer.send(
            room,
            {"msgtype": "m.image", "body": "note.png", "url": uploaded["content_uri"],
             "info": {"mimetype": "image/png"}},
        )  # fmt: skip
        text, _edits = await self._ask(officer, room, "识别这张图")
        self.assertIn("协查通报", self.model.tool_results()[-1], text)
