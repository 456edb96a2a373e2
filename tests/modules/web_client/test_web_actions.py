# SPDX-License-Identifier: AGPL-3.0-or-later
"""The web client's message actions in two browser sessions against a real server
(docs/web_client.md): @ with the member picker (pinyin initials) and m.mentions, the
mentioned officer's [有人@我]; a reply quoting its message; an edit shown on both sides;
reactions; recall by the sender and by the group's owner (our recall rules), and none
offered to a member for others' messages; the draft kept per chat; the emoji panel.

SQLite only: the client speaks the client-server API and the groups client API, whose
behaviour on PostgreSQL is tested by the modules' own tests on both engines.
"""

from typing import Any
from urllib.parse import quote

from tests.harness.browser import (
    another_page,
    browser_page,
    require_browser,
    screenshot,
)
from tests.modules.web_client.helpers import WAIT_MS, WebCase


class WebMessageActionsTest(WebCase):
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
