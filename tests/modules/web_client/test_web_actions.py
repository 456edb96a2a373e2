# SPDX-License-Identifier: AGPL-3.0-or-later
"""The web client's message actions in two browser sessions against a real server
(docs/web_client.md): @ with the member picker (pinyin initials) and m.mentions (@所有人
for the owner), the
mentioned officer's [有人@我]; a reply quoting its message; an edit shown on both sides;
reactions; recall by the sender and by the group's owner (our recall rules), and none
offered to a member for others' messages; the draft kept per chat; the emoji panel.
And the group's life: 发起群聊 from the directory tree and the pinyin search, 转让群主,
删除并退出, 解散群聊. And the chat list: windowed rows, 置顶, unread counts on the row and
the rail, 消息免打扰 (a dot), 标为已读, 不显示该聊天 until a newer message; the open API's
spare room not shown (list, count, 转发, search) until an app claims it (应用, read-only). And a voice
message played and transcribed (转文字, the speech-to-text module against its stand-in
engine), one recorded from Chromium's stand-in microphone, a location sent; a video sent,
its poster shown and played. And 邮件 through the mail bridge (started by the launcher
beside the server, against its stand-in mail system): bind, read, reply, unbind. And 多选:
two messages forwarded as one record (合并转发) and one by one (逐条转发). And 设置:
desktop notifications under the quiet period and important contacts, the muted chats,
the font size, the password change and signing another device out.

SQLite only: the client speaks the client-server API and the groups client API, whose
behaviour on PostgreSQL is tested by the modules' own tests on both engines.
"""

import atexit
import base64
import contextlib
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

from homeserver.http import HttpError
from tests.bridges.mail import test_mail as mail_case
from tests.bridges.supervised import bridge_pid
from tests.harness.browser import (
    FAKE_MEDIA,
    another_page,
    browser_page,
    require_browser,
    screenshot,
)
from tests.harness.server import TestServer, free_port
from tests.modules.asr import standin
from tests.modules.asr.test_asr import voice
from tests.modules.web_client.helpers import WAIT_MS, WebCase

ENGINE_PORT = free_port()

# A 1.5-second 320×240 WebM recorded from a canvas in the page (base64).
RECORD_VIDEO = """async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 320; canvas.height = 240;
  const g = canvas.getContext("2d");
  const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: "video/webm" });
  const chunks = [];
  recorder.ondataavailable = (e) => chunks.push(e.data);
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start(100);
  const t0 = performance.now();
  await new Promise((resolve) => {
    const draw = () => {
      const t = performance.now() - t0;
      g.fillStyle = `hsl(${Math.floor(t / 5) % 360}, 80%, 50%)`;
      g.fillRect(0, 0, 320, 240);
      g.fillStyle = "#fff"; g.font = "40px sans-serif"; g.fillText(String(Math.floor(t)), 20, 120);
      if (t < 1500) requestAnimationFrame(draw); else resolve();
    };
    draw();
  });
  recorder.stop();
  await stopped;
  const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}"""

# More chats than a screen of the list holds (its rows are windowed).
CHATS = 70  # beyond the first window (40 rows) of the sliding sync
ROW = ".chat-row[data-room-id='%s']"
# The open API's room markers (docs/openapi.md, "Pushes to the whole range").
SPARE = "cn.jwwx.openapi.spare"
APP = "cn.jwwx.openapi.broadcast"


class WebMessageActionsTest(WebCase):
    # The speech engine's stand-in (tests/modules/asr) for 转文字.
    asr_engine: ClassVar[standin.Engine]
    module_config: ClassVar[dict[str, dict[str, Any]]] = {
        "modules.asr.AsrModule": {
            "engine": {
                "protocol": "openai",
                "url": f"http://127.0.0.1:{ENGINE_PORT}",
                "model": "police-asr-zh",
            }
        }
    }

    # The mail bridge (started by the launcher) and its stand-in mail system, for 邮件.
    mail_folder: ClassVar[Path]
    mail_ports: ClassVar[tuple[int, int]]
    mail_url: ClassVar[str]
    mail_standin: ClassVar[subprocess.Popen[bytes] | None] = None
    # The pool's bot's token (_pool_bot), once per server.
    pool_token: ClassVar[str | None] = None

    @classmethod
    def prepare_class(cls) -> None:
        cls.asr_engine = standin.Engine(ENGINE_PORT)
        cls.asr_engine.start()
        cls.mail_folder = Path(tempfile.mkdtemp())
        cls.mail_ports = (free_port(), free_port())
        cls.mail_standin = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.bridges.mail.standin",
                *map(str, cls.mail_ports),
                f"{mail_case.OFFICER}={mail_case.PASSWORD}",
                f"{mail_case.CHIEF}={mail_case.CHIEF_PASSWORD}",
            ],
            cwd=mail_case.ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Also when only some of the class's tests run (finish_class is not called).
        atexit.register(cls.mail_standin.terminate)

    @classmethod
    def configure_server(cls, server: TestServer) -> None:
        cls.mail_url = f"http://127.0.0.1:{free_port()}"
        imap, smtp = cls.mail_ports
        config = {
            "server_name": server.server_name,
            "homeserver_url": server.base_url,
            "bridge_url": cls.mail_url,
            "as_token_file": "as_token",
            "hs_token_file": "hs_token",
            "seal_key_file": "seal.key",
            "state_database": "mail_state.db",
            "imap": {"host": "127.0.0.1", "port": imap, "security": "none"},
            "smtp": {"host": "127.0.0.1", "port": smtp, "security": "none"},
        }
        path = cls.mail_folder / "mail.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        (server.data_dir / "conf.d" / "bridges.yaml").write_text(
            yaml.safe_dump({"jwwx_bridges": {"mail": {"config": str(path)}}})
        )

    @classmethod
    def finish_class(cls) -> None:
        cls.asr_engine.stop()
        if cls.mail_standin is not None:
            cls.mail_standin.terminate()
            cls.mail_standin.wait(30)
            cls.mail_standin = None

    def _messages(self, room_id: str, token: str) -> list[dict[str, Any]]:
        path = f"/_matrix/client/v3/rooms/{quote(room_id)}/messages?dir=b&limit=50"
        return list(self._api("GET", path, token)["chunk"])

    def test_mention_reply_edit_react_recall_and_drafts(self) -> None:
        require_browser()
        room_id, officers = self._group()
        server = self.server.server_name
        zhangwei = f"@{officers['张伟'][0]}:{server}"
        row = f".chat-row[data-room-id='{room_id}']"
        # 张伟's second chat (from 王芳), to leave the group with a draft.
        direct = self._api(
            "POST",
            "/_matrix/client/v3/createRoom",
            officers["王芳"][1],
            {"is_direct": True, "invite": [zhangwei], "preset": "trusted_private_chat"},
        )["room_id"]
        with browser_page() as lina:
            lina.set_default_timeout(WAIT_MS)
            self._sign_in(lina, officers["李娜"][0])
            zw = another_page(lina)
            zw.set_default_timeout(WAIT_MS)
            self._sign_in(zw, officers["张伟"][0])
            zw.wait_for_selector(f".chat-row[data-room-id='{direct}']")

            # @ + pinyin initials: the picker offers 张伟; Enter puts "@张伟 " in.
            lina.click(row)
            lina.wait_for_selector(".conversation-header h2:has-text('专案组')")
            box = "textarea[name=message]"
            lina.click(box)
            lina.keyboard.type("@zw")
            lina.wait_for_selector(f".mention-picker [data-user-id='{zhangwei}']")
            screenshot(lina, "web-15-mention-picker")
            lina.keyboard.press("Enter")
            self.assertEqual(lina.input_value(box), "@张伟 ")
            lina.keyboard.type("请确认嫌疑人位置")
            lina.keyboard.press("Enter")
            original = ".message.mine:not(.pending):has-text('请确认嫌疑人位置')"
            lina.wait_for_selector(original)
            sent = next(
                e
                for e in self._messages(room_id, officers["张伟"][1])
                if e["content"].get("body") == "@张伟 请确认嫌疑人位置"
            )
            self.assertEqual(sent["content"]["m.mentions"], {"user_ids": [zhangwei]})
            # @所有人, the owner's first choice: m.mentions.room.
            lina.keyboard.type("@syr")
            lina.wait_for_selector(".mention-picker [data-user-id='@room']")
            lina.keyboard.press("Enter")
            lina.keyboard.type("全体注意")
            lina.keyboard.press("Enter")
            lina.wait_for_selector(
                ".message.mine:not(.pending):has-text('@所有人 全体注意')"
            )
            everyone = next(
                e
                for e in self._messages(room_id, officers["张伟"][1])
                if e["content"].get("body") == "@所有人 全体注意"
            )
            self.assertEqual(everyone["content"]["m.mentions"], {"room": True})
            # 张伟's chat list: [有人@我] until he reads it.
            zw.wait_for_selector(f"{row} .mention-tag:has-text('[有人@我]')")

            # A draft left in the group, kept when he comes back.
            zw.click(row)
            zw.wait_for_selector(".conversation-header h2:has-text('专案组')")
            zw.wait_for_selector(f"{row} .mention-tag", state="detached")
            zw.fill(box, "还没写完的话")
            zw.click(f".chat-row[data-room-id='{direct}']")
            zw.wait_for_selector(f"{row} .draft-tag:has-text('[草稿]')")
            self.assertIn("还没写完的话", zw.inner_text(f"{row} .chat-preview"))
            zw.click(row)
            zw.wait_for_function(
                "() => document.querySelector('textarea[name=message]')?.value"
                " === '还没写完的话'"
            )
            zw.fill(box, "")

            # His reply quotes her message; the emoji panel adds to the text.
            zw.click(".message:has-text('请确认嫌疑人位置') .bubble", button="right")
            self.assertEqual(
                zw.locator(".context-menu [data-action=recall]").count(), 0
            )
            zw.click(".context-menu [data-action=reply]")
            zw.wait_for_selector(".compose-bar.replying:has-text('请确认嫌疑人位置')")
            zw.fill(box, "收到，正在核实")
            zw.click("button[aria-label=表情]")
            zw.click(".emoji-panel button:has-text('👍')")
            self.assertEqual(zw.input_value(box), "收到，正在核实👍")
            zw.press(box, "Enter")
            reply = ".message:has-text('收到，正在核实')"
            for page in (lina, zw):
                page.wait_for_selector(f"{reply} .quote:has-text('请确认嫌疑人位置')")
            answer = next(
                e
                for e in self._messages(room_id, officers["李娜"][1])
                if e["content"].get("body") == "收到，正在核实👍"
            )
            self.assertEqual(
                answer["content"]["m.relates_to"]["m.in_reply_to"]["event_id"],
                sent["event_id"],
            )

            # She edits her message: the new text with 已编辑 on both pages.
            lina.click(f"{original} .bubble", button="right")
            lina.click(".context-menu [data-action=edit]")
            lina.wait_for_selector(".compose-bar.editing")
            lina.fill(box, "@张伟 请确认嫌疑人最新位置")
            lina.press(box, "Enter")
            for page in (lina, zw):
                page.wait_for_selector(
                    ".message:has-text('请确认嫌疑人最新位置') .edited"
                )

            # Reactions: his 👍, then hers: 👍 2 on both pages.
            edited = ".message:has-text('请确认嫌疑人最新位置')"
            zw.click(f"{edited} .bubble", button="right")
            zw.click(".context-menu [data-action='react:👍']")
            lina.wait_for_selector(f"{edited} .reaction[data-key='👍']:has-text('1')")
            lina.click(f"{edited} .reaction[data-key='👍']")
            for page in (lina, zw):
                page.wait_for_selector(
                    f"{edited} .reaction[data-key='👍']:has-text('2')"
                )
            lina.wait_for_selector(f"{edited} .reaction.mine")
            screenshot(lina, "web-16-reply-edit-reactions")

            # Recall: she takes back her own, then (the owner) his reply.
            lina.click(f"{edited} .bubble", button="right")
            lina.click(".context-menu [data-action=recall]")
            lina.wait_for_selector(".recalled:has-text('你撤回了一条消息')")
            zw.wait_for_selector(".recalled:has-text('李娜撤回了一条消息')")
            lina.click(f"{reply} .bubble", button="right")
            lina.click(".context-menu [data-action=recall]")
            lina.wait_for_selector(".recalled:has-text('你撤回了张伟的一条消息')")
            zw.wait_for_selector(".recalled:has-text('李娜撤回了张伟的一条消息')")
            for page in (lina, zw):
                page.wait_for_selector(reply, state="detached")
                self.assertEqual(page.locator(edited).count(), 0)
            screenshot(zw, "web-17-recalled")
            recalled = [
                e
                for e in self._messages(room_id, officers["王芳"][1])
                if e["event_id"] in (sent["event_id"], answer["event_id"])
            ]
            self.assertEqual([e["content"] for e in recalled], [{}, {}])
            self.assertEqual(lina.errors, [])
            self.assertEqual(zw.errors, [])

    def test_create_transfer_leave_and_dissolve_a_group(self) -> None:
        require_browser()
        _room, officers = self._group()
        server = self.server.server_name
        lina_id, zhangwei, wangfang = (
            f"@{officers[n][0]}:{server}" for n in ("李娜", "张伟", "王芳")
        )
        with browser_page() as lina:
            lina.set_default_timeout(WAIT_MS)
            self._sign_in(lina, officers["李娜"][0])
            zw = another_page(lina)
            zw.set_default_timeout(WAIT_MS)
            self._sign_in(zw, officers["张伟"][0])

            # 发起群聊: 王芳 from the department tree, 张伟 by pinyin, a name.
            lina.click("button[aria-label=发起群聊]")
            dialog = lina.locator(".dialog.create-group")
            # helpers.WebCase._group's root: 分局 + the officers' suffix.
            root = "分局" + officers["王芳"][0].removeprefix("wangfang")
            dialog.locator(f".department > .tree-row:has-text('{root}')").click()
            dialog.locator(".department > .tree-row:has-text('治安支队')").click()
            dialog.locator(
                f".pick-row[data-userid='{officers['王芳'][0]}'] input"
            ).check()
            dialog.locator("input[name=pick-search]").fill("zhangwei")
            dialog.locator(
                f".pick-row[data-userid='{officers['张伟'][0]}'] input"
            ).check()
            lina.wait_for_selector(".pick-chosen h4:has-text('已选择 2 人')")
            dialog.locator("input[name=group-name]").fill("联合行动组")
            screenshot(lina, "web-18-create-group")
            dialog.locator("button:has-text('创建')").click()
            lina.wait_for_selector(".conversation-header h2:has-text('联合行动组')")
            room_id = lina.locator(".chat-row.selected").get_attribute("data-room-id")
            assert room_id is not None
            # 张伟's client joins by itself; 王芳 over HTTP.
            zw.wait_for_selector(f".chat-row[data-room-id='{room_id}']")
            self._api(
                "POST",
                f"/_matrix/client/v3/join/{quote(room_id)}",
                officers["王芳"][1],
                {},
            )
            lina.wait_for_selector(
                ".conversation-header h2:has-text('联合行动组（3）')"
            )
            info = f"/_jwwx/client/v1/groups/{quote(room_id)}"
            self.assertEqual(
                self._api("GET", info, officers["王芳"][1])["owner"], lina_id
            )

            # 转让群主 to 张伟, confirmed: she is an admin now.
            lina.click("button[aria-label=群聊信息]")
            member = f".group-member[data-user-id='{zhangwei}']"
            lina.click(f"{member} button.transfer")
            lina.click(".confirm button:has-text('确定')")
            lina.wait_for_selector(f"{member} .role.owner")
            lina.wait_for_selector(
                f".group-member[data-user-id='{lina_id}'] .role.admin"
            )
            self.assertEqual(
                self._api("GET", info, officers["王芳"][1])["owner"], zhangwei
            )
            self.assertEqual(lina.locator(".group-panel button.dissolve").count(), 0)

            # 删除并退出: the chat leaves her list.
            lina.click(".group-panel button.leave")
            lina.click(".confirm button:has-text('确定')")
            lina.wait_for_selector(
                f".chat-row[data-room-id='{room_id}']", state="detached"
            )
            lina.wait_for_selector(".right-pane .placeholder")
            joined = self._api(
                "GET",
                f"/_matrix/client/v3/rooms/{quote(room_id)}/joined_members",
                officers["王芳"][1],
            )["joined"]
            self.assertEqual(sorted(joined), sorted([zhangwei, wangfang]))

            # 解散群聊 by the new owner: gone from his list, nobody can send.
            zw.click(f".chat-row[data-room-id='{room_id}']")
            zw.click("button[aria-label=群聊信息]")
            self.assertEqual(zw.locator(".group-panel button.leave").count(), 0)
            zw.click(".group-panel button.dissolve")
            screenshot(zw, "web-19-dissolve-confirm")
            zw.click(".confirm button:has-text('确定')")
            zw.wait_for_selector(
                f".chat-row[data-room-id='{room_id}']", state="detached"
            )
            with self.assertRaises(HttpError) as refused:
                self._api(
                    "PUT",
                    f"/_matrix/client/v3/rooms/{quote(room_id)}/send/m.room.message/d1",
                    officers["王芳"][1],
                    {"msgtype": "m.text", "body": "还在吗"},
                )
            self.assertEqual(refused.exception.status, 403)
            self.assertEqual(lina.errors, [])
            self.assertEqual(zw.errors, [])

    def test_chat_list_pin_mute_hide_unread_and_window(self) -> None:
        """Under simplified sliding sync (the server offers it): the window of chats
        grows as the list is scrolled, the counts come from the unread endpoint."""
        self._chat_list(sync=None)

    def test_chat_list_over_sync_v2(self) -> None:
        """The same with the client on /sync v2 (a server without sliding sync)."""
        self._chat_list(sync="v2")

    def _chat_list(self, sync: str | None) -> None:
        require_browser()
        suffix = os.urandom(3).hex()
        lina_id, lina = self.server.register(f"lina{suffix}")
        zhangwei_id, zhangwei = self.server.register(f"zhangwei{suffix}")
        rooms_path = "/_matrix/client/v3/createRoom"

        def chat(n: int) -> str:
            room_id = str(
                self._api("POST", rooms_path, lina, {"name": f"会话{n:02d}"})["room_id"]
            )
            self._send(room_id, lina, f"第{n}个会话", f"c{n}")
            return room_id

        # More chats than a screen holds, made one after another (their order is
        # their activity: 会话39 newest).
        chats = [chat(n) for n in range(CHATS)]
        direct = self._api(
            "POST",
            rooms_path,
            zhangwei,
            {"is_direct": True, "invite": [lina_id], "preset": "trusted_private_chat"},
        )["room_id"]
        # The open API's spare room (modules/openapi/pool.py) as the pool's bot makes it,
        # joined last (the newest activity: in the first window): not a chat.
        pool = self._pool_bot()
        spare = self._api(
            "POST",
            rooms_path,
            pool,
            {
                "name": "应用通知（只读）",
                # As the pool: trusted_private_chat (modules.groups makes it no group).
                "preset": "trusted_private_chat",
                "initial_state": [
                    {"type": SPARE, "state_key": "", "content": {"agentid": 0}},
                    {
                        "type": "m.room.join_rules",
                        "state_key": "",
                        "content": {"join_rule": "public"},
                    },
                ],
                "power_level_content_override": {
                    "events_default": 100,
                    "state_default": 100,
                },
            },
        )["room_id"]
        self._api("POST", f"/_matrix/client/v3/join/{quote(spare)}", lina, {})
        with browser_page() as page:
            page.set_default_timeout(WAIT_MS)
            self._sign_in(page, f"lina{suffix}", sync)
            # The server counts the spare room; the list does not (no empty row).
            page.wait_for_selector(f".chat-list[data-count='{CHATS + 1}']")
            page.wait_for_selector(ROW % chats[-1])
            self.assertEqual(page.locator(ROW % spare).count(), 0)
            # Windowed: a screenful of rows (and a few more), not all of them.
            rendered = page.locator(".chat-row").count()
            self.assertLess(rendered, CHATS)
            self.assertEqual(page.locator(ROW % chats[0]).count(), 0)
            # 转发 offers every chat, not only the window's: the oldest one too.
            page.click(ROW % chats[-1])
            newest = f".message:has-text('第{CHATS - 1}个会话')"
            page.click(f"{newest} .bubble", button="right")
            page.click(".context-menu [data-action=forward]")
            page.wait_for_selector(".forward-list li")
            page.wait_for_selector(f".forward-list [data-room-id='{chats[0]}']")
            forward_spare = f".forward-list [data-room-id='{spare}']"
            self.assertEqual(page.locator(forward_spare).count(), 0)
            page.click(".dialog .link:has-text('取消')")
            page.eval_on_selector(
                ".list-pane.chats", "el => { el.scrollTop = el.scrollHeight; }"
            )
            page.wait_for_selector(ROW % chats[0])
            self.assertLess(page.locator(".chat-row").count(), CHATS)
            page.eval_on_selector(".list-pane.chats", "el => { el.scrollTop = 0; }")

            # 置顶: the fifth newest chat goes first, and stays there (the room tag).
            page.click(ROW % chats[-5], button="right")
            page.click(".context-menu [data-action=pin]")
            page.wait_for_function(
                "(id) => document.querySelector('.chat-row[data-pinned=true]')"
                "?.dataset.roomId === id",
                arg=chats[-5],
            )
            tags = self._api(
                "GET",
                f"/_matrix/client/v3/user/{quote(lina_id)}/rooms/{quote(chats[-5])}/tags",
                lina,
            )["tags"]
            self.assertIn("m.favourite", tags)

            # Unread: 张伟's two messages → 2 on the row and on the rail.
            page.wait_for_selector(ROW % direct)
            self._wait_joined(direct, lina_id, zhangwei)
            for n in (1, 2):
                self._send(direct, zhangwei, f"未读{n}", f"u{n}")
            page.wait_for_selector(f"{ROW % direct} .badge:has-text('2')")
            page.wait_for_selector("nav.rail .rail-badge:has-text('2')")
            page.wait_for_function("() => document.title === '(2) 警务微信'")
            # 消息免打扰: a dot instead of the count, nothing on the rail.
            page.click(ROW % direct, button="right")
            page.click(".context-menu [data-action=mute]")
            page.wait_for_selector(f"{ROW % direct}[data-muted=true] .muted-mark")
            page.wait_for_selector(f"{ROW % direct} .badge.dot")
            page.wait_for_selector("nav.rail .rail-badge", state="detached")
            page.wait_for_function("() => document.title === '警务微信'")
            rule = self._api(
                "GET",
                f"/_matrix/client/v3/pushrules/global/override/{quote(direct)}",
                lina,
            )
            self.assertEqual(rule["actions"], [])
            screenshot(page, "web-20-chat-list")
            # 标为已读: the dot goes.
            page.click(ROW % direct, button="right")
            page.click(".context-menu [data-action=read]")
            page.wait_for_selector(f"{ROW % direct} .badge", state="detached")

            # 不显示该聊天: off the list until a newer message arrives.
            page.click(ROW % chats[-2], button="right")
            page.click(".context-menu [data-action=hide]")
            page.wait_for_selector(ROW % chats[-2], state="detached")
            page.wait_for_selector(f".chat-list[data-count='{CHATS}']")
            self._send(chats[-2], lina, "又有新消息", "again")
            page.wait_for_selector(f".chat-list[data-count='{CHATS + 1}']")
            # Back, first after the pinned one.
            page.wait_for_function(
                "(id) => document.querySelectorAll('.chat-row')[1]?.dataset.roomId"
                " === id",
                arg=chats[-2],
            )

            # 搜索: the server finds the spare room by its name; the client leaves it out.
            self._wait_found(lina, "应用通知", spare)
            page.fill("input[name=chat-search]", "应用通知")
            page.wait_for_selector(".search-pane .empty")
            self.assertEqual(
                page.locator(f".search-pane [data-room-id='{spare}']").count(), 0
            )
            page.press("input[name=chat-search]", "Escape")
            # An app claims it (pool.py's batch, here one event at a time): the app's
            # notices, shown with 应用, read-only with the hint.
            state = f"/_matrix/client/v3/rooms/{quote(spare)}/state"
            self._api("PUT", f"{state}/{APP}/", pool, {"agentid": 1000002})
            self._api("PUT", f"{state}/{SPARE}/", pool, {})
            self._api("PUT", f"{state}/m.room.name/", pool, {"name": "考勤提醒"})
            page.wait_for_selector(f".chat-list[data-count='{CHATS + 2}']")
            page.wait_for_selector(
                f"{ROW % spare} .chat-name:has-text('考勤提醒') .app-tag"
            )
            page.click(ROW % spare)
            page.wait_for_selector(".conversation-header h2 .app-tag")
            hint = page.get_attribute("textarea[name=message]", "placeholder") or ""
            self.assertIn("回复请在与应用的会话中发送", hint)
            self.assertTrue(page.is_disabled("textarea[name=message]"))
            # Which sync the page used, and the unread counts' source under sliding sync.
            asked = page.evaluate(
                "() => performance.getEntriesByType('resource').map((r) => r.name)"
            )
            sliding = [a for a in asked if "simplified_msc3575/sync" in a]
            classic = [a for a in asked if "/_matrix/client/v3/sync" in a]
            unread = [a for a in asked if "/_jwwx/client/v1/messages/unread" in a]
            if sync == "v2":
                self.assertEqual((sliding, unread), ([], []))
                self.assertTrue(classic)
            else:
                self.assertEqual(classic, [])
                self.assertTrue(sliding)
                self.assertTrue(unread)
            self.assertEqual(page.errors, [])

    def test_forward_several_one_by_one_and_merged(self) -> None:
        require_browser()
        room_id, officers = self._group()
        server = self.server.server_name
        lina_id = f"@{officers['李娜'][0]}:{server}"
        for n, text in enumerate(("嫌疑车辆已出城", "沿G15向南")):
            self._send(room_id, officers["张伟"][1], text, f"f{n}")
        # The chat they go to: 王芳's with 李娜.
        direct = self._api(
            "POST",
            "/_matrix/client/v3/createRoom",
            officers["王芳"][1],
            {"is_direct": True, "invite": [lina_id], "preset": "trusted_private_chat"},
        )["room_id"]
        with browser_page() as page:
            self._sign_in(page, officers["李娜"][0])
            page.wait_for_selector(ROW % direct)
            self._wait_joined(direct, lina_id, officers["王芳"][1])
            page.click(ROW % room_id)
            first = ".message:has-text('嫌疑车辆已出城')"
            second = ".message:has-text('沿G15向南')"
            # 多选 from the menu, the second ticked: 合并转发 to 王芳's chat.
            page.click(f"{first} .bubble", button="right")
            page.click(".context-menu [data-action=select]")
            page.check(f"{second} input.pick")
            page.wait_for_selector(".select-bar:has-text('已选择 2 条')")
            screenshot(page, "web-22-select")
            page.click(".select-bar [data-action=forward-merged]")
            page.click(f".forward-list [data-room-id='{direct}']")
            page.wait_for_selector(".composer:not([hidden])")
            # Then both again, one by one.
            page.click(f"{first} .bubble", button="right")
            page.click(".context-menu [data-action=select]")
            page.check(f"{second} input.pick")
            page.click(".select-bar [data-action=forward-each]")
            page.click(f".forward-list [data-room-id='{direct}']")

            page.click(ROW % direct)
            card = ".message.mine .merged-card"
            page.wait_for_selector(f"{card}:has-text('专案组的聊天记录')")
            self.assertIn("张伟：沿G15向南", page.inner_text(card))
            page.wait_for_selector(
                ".message.mine:not(.pending) .text:text-is('沿G15向南')"
            )
            page.wait_for_selector(".message.mine .text:text-is('嫌疑车辆已出城')")
            page.click(card)
            dialog = page.locator(".merged-dialog")
            dialog.wait_for()
            self.assertEqual(dialog.locator(".merged-list li").count(), 2)
            self.assertIn("张伟", dialog.inner_text())
            screenshot(page, "web-23-merged")
            self.assertEqual(page.errors, [])
        bodies = [
            e["content"]
            for e in reversed(self._messages(direct, officers["王芳"][1]))
            if e["type"] == "m.room.message"
        ]
        merged = next(c for c in bodies if "cn.jwwx.merged_forward" in c)
        record = merged["cn.jwwx.merged_forward"]
        self.assertEqual(record["title"], "专案组的聊天记录")
        self.assertEqual(
            [m["text"] for m in record["messages"]], ["嫌疑车辆已出城", "沿G15向南"]
        )
        plain = [c["body"] for c in bodies if "cn.jwwx.merged_forward" not in c]
        self.assertEqual(plain[-2:], ["嫌疑车辆已出城", "沿G15向南"])

    def _send(self, room_id: str, token: str, body: str, txn: str) -> None:
        self._api(
            "PUT",
            f"/_matrix/client/v3/rooms/{quote(room_id)}/send/m.room.message/{txn}",
            token,
            {"msgtype": "m.text", "body": body},
        )

    def _pool_bot(self) -> str:
        """A token of the open API pool's bot (@jwwx_notices: the spare rooms' sender),
        which the server registers at start (openapi's broadcast_pool)."""
        if WebMessageActionsTest.pool_token is None:
            suffix = os.urandom(3).hex()
            _admin_id, admin = self.server.register(f"poolboss{suffix}", admin=True)
            user_id = f"@jwwx_notices:{self.server.server_name}"
            # Registered by the pool at start, when the open API is loaded.
            with contextlib.suppress(HttpError):
                self.server.register("jwwx_notices")
            login = f"/_synapse/admin/v1/users/{quote(user_id)}/login"
            token = self._api("POST", login, admin, {})["access_token"]
            WebMessageActionsTest.pool_token = str(token)
        return WebMessageActionsTest.pool_token

    def _wait_found(self, token: str, q: str, room_id: str) -> None:
        """Until the unified search finds the room among the officer's groups."""
        path = f"/_jwwx/client/v1/search?kinds=groups&q={quote(q)}"
        deadline = time.monotonic() + WAIT_MS / 1000
        while room_id not in [
            g["room_id"] for g in self._api("GET", path, token)["groups"]["results"]
        ]:
            if time.monotonic() > deadline:
                self.fail(f"the search does not find {room_id} by {q}")
            time.sleep(0.2)

    def _wait_joined(self, room_id: str, user_id: str, token: str) -> None:
        path = f"/_matrix/client/v3/rooms/{quote(room_id)}/joined_members"
        deadline = time.monotonic() + WAIT_MS / 1000
        while user_id not in self._api("GET", path, token)["joined"]:
            if time.monotonic() > deadline:
                self.fail("the browser did not join the chat it was invited to")
            time.sleep(0.2)

    def test_voice_and_location(self) -> None:
        require_browser()
        room_id, officers = self._group()
        # 张伟's voice message (over HTTP), whose words the speech engine knows.
        audio = voice(2.0, 440.0)
        self.asr_engine.teach(audio, "请到三号门集合")
        uploaded = self._upload_audio(officers["张伟"][1], audio)
        self._api(
            "PUT",
            f"/_matrix/client/v3/rooms/{quote(room_id)}/send/m.room.message/v1",
            officers["张伟"][1],
            {
                "msgtype": "m.audio",
                "body": "语音消息",
                "url": uploaded,
                "info": {"mimetype": "audio/wav", "size": len(audio), "duration": 2000},
                "org.matrix.msc3245.voice": {},
            },
        )
        with browser_page(args=FAKE_MEDIA) as page:
            page.set_default_timeout(WAIT_MS)
            page.context.grant_permissions(
                ["microphone", "geolocation"], origin=self.server.base_url
            )
            page.context.set_geolocation({"latitude": 31.2304, "longitude": 121.4737})
            self._sign_in(page, officers["李娜"][0])
            page.click(f".chat-row[data-room-id='{room_id}']")

            # His voice: 2″, played, and 转文字 shows the engine's words.
            theirs = ".message:not(.mine) .voice-wrap"
            page.wait_for_selector(f"{theirs} .voice-len:has-text('2″')")
            page.click(f"{theirs} .voice-bubble")
            page.wait_for_selector(
                f"{theirs} .voice-bubble[data-state=playing],"
                f" {theirs} .voice-bubble[data-state=played]"
            )
            page.click(f"{theirs} button.transcribe")
            page.wait_for_selector(f"{theirs} .transcript:has-text('请到三号门集合')")

            # 语音: recorded from Chromium's stand-in microphone, sent with 发送.
            page.click(".composer button.voice")
            page.wait_for_selector(".recording")
            page.wait_for_function(
                "() => /录音中 [1-9]/.test("
                "document.querySelector('.recording')?.textContent || '')"
            )
            page.click(".recording [data-action=send-voice]")
            page.wait_for_selector(".message.mine:not(.pending) .voice-bubble")

            # 位置: the browser's position and a place name.
            page.click(".composer button.location")
            page.click(".location-dialog button:has-text('使用当前位置')")
            page.wait_for_function(
                "() => document.querySelector('input[name=lat]')?.value === '31.230400'"
            )
            page.fill("input[name=place]", "人民广场岗亭")
            page.click(".location-dialog button:has-text('发送')")
            card = ".message.mine:not(.pending) .location-card"
            page.wait_for_selector(f"{card}:has-text('人民广场岗亭')")
            self.assertIn("北纬31.2304°", page.inner_text(card))
            screenshot(page, "web-21-voice-location")
            self.assertEqual(page.errors, [])

        sent = {
            e["content"].get("msgtype"): e["content"]
            for e in self._messages(room_id, officers["张伟"][1])
            if e["sender"].startswith(f"@{officers['李娜'][0]}:")
        }
        recorded = sent["m.audio"]
        self.assertIn("org.matrix.msc3245.voice", recorded)
        self.assertGreaterEqual(recorded["info"]["duration"], 1000)
        self.assertTrue(recorded["info"]["mimetype"].startswith("audio/"))
        self.assertGreater(recorded["info"]["size"], 0)
        self.assertEqual(sent["m.location"]["geo_uri"], "geo:31.2304,121.4737")
        self.assertEqual(sent["m.location"]["info"]["description"], "人民广场岗亭")

    def test_video_sent_previewed_and_played(self) -> None:
        require_browser()
        room_id, officers = self._group()
        with browser_page() as page:
            self._sign_in(page, officers["李娜"][0])
            page.click(f".chat-row[data-room-id='{room_id}']")
            page.wait_for_selector(".conversation-header h2:has-text('专案组')")
            # A 1.5-second WebM made in the page (a canvas recorded by MediaRecorder:
            # no video file or encoder on the machine), chosen with 视频.
            recorded = page.evaluate(RECORD_VIDEO)
            page.set_input_files(
                "input[name=video]",
                files=[
                    {
                        "name": "现场视频.webm",
                        "mimeType": "video/webm",
                        "buffer": base64.b64decode(recorded),
                    }
                ],
            )
            bubble = page.locator(".message.mine:not(.pending) .video-bubble")
            # The poster frame shown, with the length.
            bubble.locator(".video-poster img").wait_for()
            self.assertRegex(bubble.locator(".video-length").inner_text(), r"^0:0[12]$")
            screenshot(page, "web-24-video")
            # Played in place from the server's copy.
            bubble.locator(".video-poster").click()
            page.wait_for_function(
                "() => { const v = document.querySelector('.video-bubble video');"
                " return v && v.src.startsWith('blob:') && v.readyState >= 1; }"
            )
            self.assertEqual(page.errors, [])
        sent = next(
            e["content"]
            for e in self._messages(room_id, officers["张伟"][1])
            if e["content"].get("msgtype") == "m.video"
        )
        info = sent["info"]
        self.assertEqual(sent["body"], "现场视频.webm")
        self.assertEqual(info["mimetype"], "video/webm")
        self.assertEqual((info["w"], info["h"]), (320, 240))
        self.assertGreaterEqual(info["duration"], 1000)
        self.assertEqual(info["size"], len(base64.b64decode(recorded)))
        self.assertEqual(info["thumbnail_info"]["mimetype"], "image/jpeg")
        self.assertTrue(info["thumbnail_url"].startswith("mxc://"))

    def test_mail_bind_read_reply_and_unbind(self) -> None:
        require_browser()
        _room_id, officers = self._group()
        bridge_pid(self.server.data_dir, "mail", int(self.mail_url.rsplit(":", 1)[1]))
        mail_case._deliver(
            self.mail_ports[1], mail_case.OFFICER, "案件协查通报", "请于今日协查。"
        )
        with browser_page() as page:
            # /_jwwx/mail/ of the client's origin: the homeserver forwards it to the
            # bridge (modules/web_client/forward.py), as on `make run`.
            self._sign_in(page, officers["张伟"][0])
            page.click("nav.rail button:has-text('邮件')")
            # A wrong password: the mail server's refusal; then bound.
            page.fill("input[name=mail-login]", mail_case.OFFICER)
            page.fill("input[name=mail-password]", "wrong")
            page.click(".mail-bind button[type=submit]")
            page.wait_for_selector(".mail-bind .error:has-text('邮箱账号或密码错误')")
            page.fill("input[name=mail-password]", mail_case.PASSWORD)
            page.click(".mail-bind button[type=submit]")
            row = ".mail-row:has-text('案件协查通报')"
            page.wait_for_selector(f"{row}.unseen")
            page.wait_for_selector(".mail-pane .list-title:has-text('1封未读')")
            # Read: the text, and no longer unread.
            page.click(row)
            page.wait_for_selector(".mail-detail .mail-text:has-text('请于今日协查。')")
            page.wait_for_selector(f"{row}:not(.unseen)")
            page.fill("textarea[name=mail-reply]", "收到，马上协查")
            page.click(".mail-reply button:has-text('回复')")
            page.wait_for_selector(".mail-reply .notice:has-text('已回复')")
            screenshot(page, "web-25-mail")
            reply = mail_case._inbox(
                self.mail_ports[0], mail_case.CHIEF, mail_case.CHIEF_PASSWORD
            )[-1]
            self.assertEqual(reply["Subject"], "Re: 案件协查通报")
            self.assertEqual(
                str(reply.get_body().get_content()).strip(), "收到，马上协查"
            )
            # 解绑: the bind form again, and the bridge forgot the account.
            page.click(".mail-login button:has-text('解绑')")
            page.wait_for_selector(".mail-bind")
            self.assertEqual(page.errors, [])
        request = urllib.request.Request(
            self.mail_url + "/_jwwx/mail/v1/account",
            headers={"Authorization": f"Bearer {officers['张伟'][1]}"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            self.assertEqual(json.loads(answer.read()), {"bound": False})

    def _upload_audio(self, token: str, data: bytes) -> str:
        request = urllib.request.Request(
            self._url("/_matrix/media/v3/upload?filename=voice.wav"),
            data=data,
            method="POST",
            headers={"Content-Type": "audio/wav", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request) as response:
            return str(json.loads(response.read())["content_uri"])

    def test_settings_notifications_font_password_and_devices(self) -> None:
        require_browser()
        room_id, officers = self._group()
        server = self.server.server_name
        lina_local, lina_token = officers["李娜"]
        lina_id = f"@{lina_local}:{server}"
        # 李娜's other session (her phone), to be signed out from the browser's 设置.
        phone = self._api(
            "POST",
            "/_matrix/client/v3/login",
            None,
            {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": lina_local},
                "password": "pw-" + lina_local,
                "device_id": "LINAPHONE",
                "initial_device_display_name": "李娜的手机",
            },
        )["access_token"]
        settings_path = (
            f"/_matrix/client/v3/user/{quote(lina_id)}/account_data/cn.jwwx.settings"
        )

        def settings() -> dict[str, Any]:
            try:
                return dict(self._api("GET", settings_path, lina_token))
            except HttpError as e:
                if e.status == 404:
                    return {}
                raise

        def wait_settings(check: Any) -> dict[str, Any]:
            deadline = time.monotonic() + WAIT_MS / 1000
            while not check(found := settings()):
                if time.monotonic() > deadline:
                    self.fail(f"设置 not saved: {found}")
                time.sleep(0.2)
            return found

        with browser_page() as page:
            # The page's desktop notifications, recorded (headless Chromium shows none).
            page.context.grant_permissions(["notifications"])
            page.add_init_script(
                "window.__notes = []; window.Notification = class {"
                " constructor(title, o) { window.__notes.push({ title, body: o.body }); }"
                " close() {} static get permission() { return 'granted'; }"
                " static requestPermission() { return Promise.resolve('granted'); } };"
            )
            self._sign_in(page, lina_local)
            page.wait_for_selector(f".chat-row[data-room-id='{room_id}']")
            notes = "() => window.__notes.map((n) => n.title + '|' + n.body)"

            def wait_note(text: str) -> list[str]:
                page.wait_for_function(
                    f"(t) => ({notes})().includes(t)", arg=text, timeout=WAIT_MS
                )
                return list(page.evaluate(notes))

            # A group message from 张伟 notifies (the chat is not open).
            self._send(room_id, officers["张伟"][1], "三点开会", "n1")
            wait_note("专案组|张伟：三点开会")

            # 设置 → 新消息通知: 免打扰时段 all day, 王芳 an important contact.
            page.click("nav.rail button:has-text('设置')")
            page.click(".settings-sections [data-section=notify]")
            page.fill("input[name=important-search]", "wf")
            # (This test's 王芳: the class's other tests add officers of that name.)
            page.click(
                f".important .pick-results .tree-row[data-userid='{officers['王芳'][0]}']"
            )
            page.wait_for_selector(".important .chosen li:has-text('王芳')")
            page.fill("input[name=dnd-start]", "08:00")
            page.fill("input[name=dnd-end]", "08:00")
            page.click("button:has-text('保存时段')")
            wait_settings(lambda s: s.get("dnd", {}).get("start") == "08:00")
            page.check("input[name=dnd]")
            saved = wait_settings(lambda s: s.get("dnd", {}).get("on") is True)
            self.assertEqual([p["name"] for p in saved["important"]], ["王芳"], saved)
            self.assertEqual(saved["dnd"]["end"], "08:00")
            screenshot(page, "web-22-settings-notify")
            # In the period: 张伟's message is silent, the important 王芳's notifies.
            self._send(room_id, officers["张伟"][1], "安静时段", "n2")
            self._send(room_id, officers["王芳"][1], "紧急情况", "n3")
            shown = wait_note("专案组|王芳：紧急情况")
            self.assertFalse([n for n in shown if "安静时段" in n], shown)
            # Without the text when 通知显示消息内容 is off.
            page.uncheck("input[name=preview]")
            wait_settings(lambda s: s.get("preview") is False)
            self._send(room_id, officers["王芳"][1], "不该显示", "n4")
            shown = wait_note("专案组|王芳发来一条消息")
            self.assertFalse([n for n in shown if "不该显示" in n], shown)

            # 消息免打扰 chats are listed, and 开启新消息提醒 turns the mute off.
            rule = f"/_matrix/client/v3/pushrules/global/override/{quote(room_id)}"
            self._api(
                "PUT",
                rule,
                lina_token,
                {
                    "actions": [],
                    "conditions": [
                        {"kind": "event_match", "key": "room_id", "pattern": room_id}
                    ],
                },
            )
            muted = f".muted-chats li[data-room-id='{room_id}']"
            page.click(f"{muted} button:has-text('开启新消息提醒')")
            page.wait_for_selector(muted, state="detached")
            with self.assertRaises(HttpError) as gone:
                self._api("GET", rule, lina_token)
            self.assertEqual(gone.exception.status, 404)

            # 通用 → 字体大小 特大 and 聊天背景 浅蓝: the chat's text at 18 px on light blue.
            page.click(".settings-sections [data-section=general]")
            page.check("input[name=font][value=larger]")
            page.check("input[name=background][value=blue]")
            wait_settings(
                lambda s: s.get("font") == "larger" and s.get("background") == "blue"
            )
            page.click("nav.rail button:has-text('聊天')")
            page.click(f".chat-row[data-room-id='{room_id}']")
            bubble = ".message .bubble:has-text('紧急情况')"
            page.wait_for_selector(bubble)
            self.assertEqual(
                page.eval_on_selector(bubble, "el => getComputedStyle(el).fontSize"),
                "18px",
            )
            self.assertEqual(
                page.eval_on_selector(
                    ".timeline", "el => getComputedStyle(el).backgroundColor"
                ),
                "rgb(232, 240, 248)",
            )

            # 账号与安全 → 修改密码: a wrong current password, the policy's refusal,
            # then the change (the other sessions kept).
            page.click("nav.rail button:has-text('设置')")
            page.click(".settings-sections [data-section=account]")
            form = ".settings .password-form"
            page.fill(f"{form} input[name=current]", "not-my-password")
            page.fill(f"{form} input[name=new]", "Jwwx-settings-2026")
            page.fill(f"{form} input[name=again]", "Jwwx-settings-2026")
            page.click(f"{form} button[type=submit]")
            page.wait_for_selector(f"{form} .error:has-text('当前密码错误')")
            page.fill(f"{form} input[name=current]", "pw-" + lina_local)
            page.fill(f"{form} input[name=new]", "short")
            page.fill(f"{form} input[name=again]", "short")
            page.click(f"{form} button[type=submit]")
            page.wait_for_selector(f"{form} .error:has-text('新密码不符合要求')")
            page.fill(f"{form} input[name=new]", "Jwwx-settings-2026")
            page.fill(f"{form} input[name=again]", "Jwwx-settings-2026")
            page.click(f"{form} button[type=submit]")
            page.wait_for_selector(".settings .notice:has-text('密码已修改')")

            # 登录设备: this browser (本机) and the phone; the phone signed out with
            # the (new) password after a wrong one.
            device = ".device[data-device-id=LINAPHONE]"
            page.wait_for_selector(f"{device}:has-text('李娜的手机')")
            page.wait_for_selector(".device:has(.role:has-text('本机'))")
            page.click(f"{device} button:has-text('退出登录')")
            page.fill(f"{device} input[name=device-password]", "pw-" + lina_local)
            page.click(f"{device} button:has-text('确认退出')")
            page.wait_for_selector(".devices .error:has-text('密码错误')")
            page.fill(f"{device} input[name=device-password]", "Jwwx-settings-2026")
            page.click(f"{device} button:has-text('确认退出')")
            page.wait_for_selector(device, state="detached")
            screenshot(page, "web-23-settings-account")
            with self.assertRaises(HttpError) as revoked:
                self._api("GET", "/_matrix/client/v3/account/whoami", phone)
            self.assertEqual(revoked.exception.status, 401)
            # The browser's own session still works.
            self._api("GET", "/_matrix/client/v3/account/whoami", lina_token)
            self.assertEqual(page.errors, [])
