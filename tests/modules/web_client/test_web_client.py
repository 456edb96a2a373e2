# SPDX-License-Identifier: AGPL-3.0-or-later
"""The officer's web client (clients/web, docs/web_client.md) in a real headless
Chromium against a real server: an officer logs in, finds a colleague in the directory
by pinyin, starts a 1:1 chat and sends a message; the colleague (a Matrix client over
HTTP) answers with text and an image, which appear in the browser; a chat the colleague
starts shows up with its unread badge. And over HTTP: the page's security headers, and
the committed bundle built from the committed sources.

SQLite only: the client speaks the client-server API and our client APIs, whose
behaviour on PostgreSQL is tested by the modules' own tests on both engines.
"""

import io
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

from twisted.trial import unittest

from PIL import Image

from homeserver.http import HttpError
from modules.common.synapse.errors import ConfigError
from modules.web_client.bundle import WEB as WEB_SOURCES
from modules.web_client.bundle import built_hash, source_hash
from modules.web_client.config import DEFAULT_DIST, WebClientConfig
from tests.harness import postgres
from tests.harness.browser import (
    another_page,
    browser_page,
    require_browser,
    screenshot,
)
from tests.modules.web_client.helpers import WEB, WebCase

DIRECTORY = "/_jwwx/admin/v1/directory"
BLOCKED = "违禁测试词"
# More messages than the timeline's window (clients/web/src/rules.js WINDOW.size, 120).
LONG_CHAT = 135


class BundleTest(unittest.TestCase):
    def test_committed_bundle_is_built_from_the_sources(self) -> None:
        # `make web` rebuilds it; a change to clients/web committed without its new
        # dist/ would serve an old client.
        self.assertEqual(
            built_hash(),
            source_hash(),
            "clients/web/dist is older than its sources: run `make web` and commit dist/",
        )

    def test_client_logic_with_node_test_runner(self) -> None:
        node = shutil.which("node")
        if node is None:
            postgres.skip_or_fail(
                "node is not installed (apt-get install nodejs)",
                "node for the web client's tests",
            )
        result = subprocess.run(
            [node, "--test", "test/"],
            cwd=WEB_SOURCES,
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("# fail 0", result.stdout)

    def test_config(self) -> None:
        self.assertEqual(WebClientConfig.parse({}).dist_path, DEFAULT_DIST)
        self.assertEqual(WebClientConfig.parse({}).mail_registration_id, "jwwx_mail")
        for bad in (
            {"dist_path": "/nonexistent"},
            {"dist_path": 3},
            {"other": 1},
            {"mail_registration_id": ""},
        ):
            with self.assertRaises(ConfigError, msg=str(bad)):
                WebClientConfig.parse(bad)


def lina_token(page: Any) -> str:
    """The signed-in page's access token (its session in sessionStorage)."""
    return str(
        page.evaluate(
            "() => JSON.parse(sessionStorage.getItem('jwwx.web.session')).token"
        )
    )


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline_handlers: list[str] = []
        self.assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.scripts.append(found)
        self.inline_handlers += [k for k, _ in attrs if k.startswith("on")]
        for key in ("src", "href"):
            value = found.get(key)
            if value and value.startswith(WEB + "assets/"):
                self.assets.append(value)


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "PNG")
    return out.getvalue()


class WebClientTest(WebCase):
    keywords = (BLOCKED,)

    def test_page_is_served_with_security_headers(self) -> None:
        with urllib.request.urlopen(self._url(WEB)) as response:
            headers = response.headers
            html = response.read().decode("utf-8")
        csp = headers["Content-Security-Policy"]
        self.assertIn("script-src 'self'", csp)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertNotIn("unsafe-eval", csp)
        self.assertEqual(headers["X-Frame-Options"], "DENY")
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")
        self.assertEqual(headers["Cache-Control"], "no-cache")
        self.assertNotIn("Access-Control-Allow-Origin", headers)
        parser = _Scripts()
        parser.feed(html)
        self.assertTrue(parser.scripts)
        self.assertTrue(all(s.get("src") for s in parser.scripts), parser.scripts)
        self.assertEqual(parser.inline_handlers, [])
        script = next(a for a in parser.assets if a.endswith(".js"))
        with urllib.request.urlopen(self._url(script)) as response:
            self.assertEqual(
                response.headers["Content-Type"], "text/javascript; charset=utf-8"
            )
            self.assertIn("immutable", response.headers["Cache-Control"])
            etag = response.headers["ETag"]
            # The SDK is in the bundle, its Rust crypto (WebAssembly) is not.
            body = response.read().decode("utf-8")
            self.assertIn("/_matrix/client", body)
        self.assertEqual(list(DEFAULT_DIST.rglob("*.wasm")), [])
        request = urllib.request.Request(
            self._url(script), headers={"If-None-Match": etag}
        )
        with self.assertRaises(urllib.error.HTTPError) as cached:
            urllib.request.urlopen(request)
        self.assertEqual(cached.exception.code, 304)
        for missing in ("assets/nothing.js", "assets/..%2Findex.html", "other"):
            with self.assertRaises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(self._url(WEB + missing))
            self.assertEqual(refused.exception.code, 404, missing)
        # No mail bridge registered here: its forward answers so (the forward itself:
        # tests.bridges.mail.test_mail, which reaches the bridge only through it).
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(self._url("/_jwwx/mail/v1/account"))
        self.assertEqual(refused.exception.code, 404)
        self.assertEqual(
            json.loads(refused.exception.read())["errcode"], "M_UNRECOGNIZED"
        )

    # In the browser.

    def _officers(self) -> tuple[str, str, str, str]:
        """李娜 (the browser's officer) and 张伟 in 刑侦支队: (lina, her initial password,
        zhangwei, his token). 李娜's account is the directory's, with an initial password
        an admin issued; 张伟's is registered with a password (his Matrix client) and
        named by the admin (officers may not rename themselves)."""
        suffix = os.urandom(3).hex()
        lina, zhangwei = f"lina{suffix}", f"zhangwei{suffix}"
        _admin_id, admin = self.server.register(f"chief{suffix}", admin=True)
        zhangwei_id, zhangwei_token = self.server.register(zhangwei)
        self._api(
            "PUT",
            f"/_synapse/admin/v2/users/{quote(zhangwei_id)}",
            admin,
            {"displayname": "张伟"},
        )
        root = self._api(
            "POST",
            f"{DIRECTORY}/departments",
            admin,
            {"name": "市局", "parent_id": None},
        )["id"]
        department = self._api(
            "POST",
            f"{DIRECTORY}/departments",
            admin,
            {"name": "刑侦支队", "parent_id": root},
        )["id"]
        for userid, name, position in (
            (lina, "李娜", "民警"),
            (zhangwei, "张伟", "侦查员"),
        ):
            self._api(
                "POST",
                f"{DIRECTORY}/members",
                admin,
                {
                    "userid": userid,
                    "name": name,
                    "department": [department],
                    "position": position,
                },
            )
        # 标签: an admin's tag with 张伟 and 刑侦支队 (its name carries the suffix).
        self._api(
            "POST",
            f"{DIRECTORY}/tags",
            admin,
            {
                "name": f"专案组{suffix}",
                "userids": [zhangwei],
                "department_ids": [department],
            },
        )
        # The screen watermark on every view, with the viewer's name and userid.
        self._api(
            "PUT",
            "/_jwwx/admin/v1/watermark/settings",
            admin,
            {
                "watermark": {
                    "enabled": True,
                    "chat_background": True,
                    "contact_list": True,
                    "profile": True,
                    "template": "{name} {userid}",
                    "opacity": 0.2,
                }
            },
        )
        initial = self._api(
            "POST", f"{DIRECTORY}/members/{lina}/initial_password", admin, {}
        )["initial_password"]
        return lina, initial, zhangwei, zhangwei_token

    def _sync_until(self, token: str, since: str | None, found: Any) -> tuple[str, Any]:
        """Long-polls /sync until found(answer) gives something: (next_batch, it)."""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            query = "timeout=5000" + (f"&since={quote(since)}" if since else "")
            answer = self._api("GET", f"/_matrix/client/v3/sync?{query}", token)
            since = answer["next_batch"]
            result = found(answer)
            if result:
                return since, result
        self.fail("not seen in /sync within 90 s")

    def _upload(self, token: str, data: bytes) -> str:
        request = urllib.request.Request(
            self._url("/_matrix/media/v3/upload?filename=scene.png"),
            data=data,
            method="POST",
            headers={"Content-Type": "image/png", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request) as response:
            import json

            return str(json.loads(response.read())["content_uri"])

    def test_officers_chat_through_the_web_client(self) -> None:
        require_browser()
        lina, initial, zhangwei, token = self._officers()
        with browser_page() as page:
            page.goto(self._url(WEB))
            page.fill("input[name=user]", lina)
            page.fill("input[name=password]", "wrong-password")
            page.click("form.login-form button[type=submit]")
            page.wait_for_selector(".login-form .error:has-text('账号或密码错误')")
            page.fill("input[name=password]", initial)
            page.click("form.login-form button[type=submit]")

            # The initial password must be changed first; the policy's refusal shown.
            page.wait_for_selector("h1:has-text('首次登录请修改密码')")
            page.fill("input[name=current]", initial)
            page.fill("input[name=new]", "short")
            page.fill("input[name=again]", "short")
            page.click("form.login-form button[type=submit]")
            refusal = page.locator(".login-form .error")
            refusal.wait_for()
            self.assertIn("密码", refusal.inner_text())
            screenshot(page, "web-00-first-login")
            page.fill("input[name=new]", "Jwwx-web-2026")
            page.fill("input[name=again]", "Jwwx-web-2026")
            page.click("form.login-form button[type=submit]")
            page.wait_for_selector("nav.rail")
            screenshot(page, "web-01-signed-in")

            # 通讯录: 张伟 found by the pinyin of his name, his profile, 发消息.
            page.click("nav.rail button:has-text('通讯录')")
            # The tree: 市局 opened, then 刑侦支队 with its two members.
            page.click(".department > .tree-row:has-text('市局')")
            unit = page.locator(".department > .tree-row:has-text('刑侦支队')")
            self.assertEqual(unit.locator(".count").inner_text(), "2")
            unit.click()
            page.wait_for_selector(".tree .member .tree-row:has-text('李娜')")
            page.wait_for_selector(".tree .member .tree-row:has-text('张伟')")
            # 标签 (folded): the admins' tag with its department and 张伟, whose row
            # opens his profile.
            page.click(".tags > .department > .tree-row:has-text('标签')")
            tag = page.locator(f".tag > .tree-row:has-text('专案组{lina[4:]}')")
            self.assertEqual(tag.locator(".count").inner_text(), "1")
            tag.click()
            page.wait_for_selector(".tag .department > .tree-row:has-text('刑侦支队')")
            page.click(f".tag .member .tree-row[data-userid='{zhangwei}']")
            page.wait_for_selector(".profile h2:has-text('张伟')")
            screenshot(page, "web-02a-tags")
            # Ctrl+F: the search box, from the chats too.
            page.click("nav.rail button:has-text('聊天')")
            page.keyboard.press("Control+f")
            page.wait_for_function(
                "() => document.activeElement?.name === 'contact-search'"
            )
            page.keyboard.type("zhangwei")
            # His row (other tests of the class add other officers named 张伟).
            page.click(f".search-results .tree-row[data-userid='{zhangwei}']")
            page.wait_for_selector(".profile h2:has-text('张伟')")
            page.wait_for_selector(".profile dd:has-text('刑侦支队')")
            page.wait_for_selector(".watermark.over-contacts")
            screenshot(page, "web-02-profile")
            # 收藏联系人: he is on top of the directory, and over HTTP; then taken off.
            page.click(".profile .favorite-toggle:has-text('收藏联系人')")
            page.wait_for_selector(".profile .favorite-toggle[aria-pressed=true]")
            page.fill("input[name=contact-search]", "")
            page.wait_for_selector(
                f".favorite-contacts .tree-row[data-userid='{zhangwei}']"
            )
            favorites = "/_jwwx/client/v1/directory/favorites"
            listed = self._api("GET", favorites, lina_token(page))["favorites"]
            self.assertEqual([m["userid"] for m in listed], [zhangwei])
            page.click(f".favorite-contacts .tree-row[data-userid='{zhangwei}']")
            page.click(".profile .favorite-toggle:has-text('取消收藏')")
            page.wait_for_selector(".favorite-contacts", state="detached")
            self.assertEqual(
                self._api("GET", favorites, lina_token(page))["favorites"], []
            )
            page.click(".profile button:has-text('发消息')")
            page.wait_for_selector(".conversation")
            page.wait_for_selector(f".watermark.over-chat[data-text='李娜 {lina}']")

            page.fill("textarea[name=message]", "张伟你好，今晚八点开会")
            page.press("textarea[name=message]", "Enter")
            page.wait_for_selector(".message.mine:not(.pending) :text('今晚八点开会')")
            # A filtered keyword: the policy's message, the draft kept, nothing sent.
            page.fill("textarea[name=message]", f"这句含有{BLOCKED}")
            page.press("textarea[name=message]", "Enter")
            page.wait_for_selector(".composer .error")
            self.assertIn(BLOCKED, page.input_value("textarea[name=message]"))
            self.assertEqual(page.locator(f".message:has-text('{BLOCKED}')").count(), 0)
            page.fill("textarea[name=message]", "")
            # 图片: a photo uploaded and sent, shown in 李娜's own timeline.
            page.set_input_files(
                "input[name=image]",
                files=[
                    {
                        "name": "photo.png",
                        "mimeType": "image/png",
                        "buffer": png((30, 90, 200)),
                    }
                ],
            )
            page.wait_for_selector(".message.mine:not(.pending) img.message-image")

            # 张伟's Matrix client: the invitation, then the message, then his answers.
            since, room_id = self._sync_until(
                token,
                None,
                lambda a: next(iter(a.get("rooms", {}).get("invite", {})), None),
            )
            self._api("POST", f"/_matrix/client/v3/join/{quote(room_id)}", token, {})

            def texts(answer: Any) -> list[str]:
                joined = answer.get("rooms", {}).get("join", {}).get(room_id, {})
                events = joined.get("timeline", {}).get("events", [])
                return [
                    e["content"].get("body")
                    for e in events
                    if e["type"] == "m.room.message"
                ]

            since, seen = self._sync_until(token, None, texts)
            self.assertIn("张伟你好，今晚八点开会", seen)
            self.assertIn("photo.png", seen)
            self._api(
                "PUT",
                f"/_matrix/client/v3/rooms/{quote(room_id)}/send/m.room.message/t1",
                token,
                {"msgtype": "m.text", "body": "收到，准时参加"},
            )
            page.wait_for_selector(".message:not(.mine) :text('收到，准时参加')")
            mxc = self._upload(token, png((200, 30, 30)))
            self._api(
                "PUT",
                f"/_matrix/client/v3/rooms/{quote(room_id)}/send/m.room.message/t2",
                token,
                {
                    "msgtype": "m.image",
                    "body": "scene.png",
                    "url": mxc,
                    "info": {"mimetype": "image/png", "w": 64, "h": 48},
                },
            )
            image = page.locator(".message:not(.mine) img.message-image")
            image.wait_for()
            page.wait_for_function(
                "() => document.querySelector('img.message-image').naturalWidth > 0"
            )
            self.assertIn("张伟", page.inner_text(".conversation-header"))
            self.assertIn("[图片]", page.inner_text(".chat-list"))
            screenshot(page, "web-03-conversation")

            # A chat 张伟 starts: joined by itself, listed first with its unread badge.
            other = self._api(
                "POST",
                "/_matrix/client/v3/createRoom",
                token,
                {
                    "is_direct": True,
                    "invite": [f"@{lina}:{self.server.server_name}"],
                    "name": "案件协查",
                    "preset": "trusted_private_chat",
                },
            )["room_id"]
            page.wait_for_selector(f".chat-row[data-room-id='{other}']")
            lina_id = f"@{lina}:{self.server.server_name}"
            members = f"/_matrix/client/v3/rooms/{quote(other)}/joined_members"
            for _ in range(450):
                if lina_id in self._api("GET", members, token)["joined"]:
                    break
                time.sleep(0.2)
            else:
                self.fail("the browser did not join the chat it was invited to")
            for n in (1, 2):
                self._api(
                    "PUT",
                    f"/_matrix/client/v3/rooms/{quote(other)}/send/m.room.message/o{n}",
                    token,
                    {"msgtype": "m.text", "body": f"协查第{n}条"},
                )
            badge = page.locator(f".chat-row[data-room-id='{other}'] .badge")
            badge.wait_for()
            page.wait_for_function(
                "(id) => document.querySelector(`.chat-row[data-room-id='${id}'] .badge`)"
                "?.textContent === '2'",
                arg=other,
            )
            first = page.locator(".chat-row").first.get_attribute("data-room-id")
            self.assertEqual(first, other)
            screenshot(page, "web-04-unread")
            # Opening it reads it: the badge goes.
            page.click(f".chat-row[data-room-id='{other}']")
            page.wait_for_selector(".conversation-header h2:has-text('案件协查')")
            badge.wait_for(state="detached")
            self.assertEqual(page.errors, [])
        # The chosen password is the account's now; the initial one is refused.
        for password, expected in (("Jwwx-web-2026", None), (initial, "M_FORBIDDEN")):
            try:
                self._api(
                    "POST",
                    "/_matrix/client/v3/login",
                    None,
                    {
                        "type": "m.login.password",
                        "identifier": {"type": "m.id.user", "user": lina},
                        "password": password,
                    },
                )
                errcode = None
            except HttpError as e:
                errcode = e.body.get("errcode") if isinstance(e.body, dict) else e.body
            self.assertEqual(errcode, expected)

    # Groups and burn-after-read, with two officers in two browser sessions (the group:
    # helpers.WebCase._group).

    def test_group_read_list_mute_and_burn_after_read(self) -> None:
        require_browser()
        room_id, officers = self._group()
        server = self.server.server_name
        wangfang = f"@{officers['王芳'][0]}:{server}"
        row = f".chat-row[data-room-id='{room_id}']"
        with browser_page() as page:
            self._sign_in(page, officers["李娜"][0])
            other = another_page(page)
            self._sign_in(other, officers["张伟"][0])
            page.click(row)
            page.wait_for_selector(".conversation-header h2:has-text('专案组（3）')")

            # 群聊信息: members with their departments, 李娜 the owner.
            page.click("button[aria-label=群聊信息]")
            page.wait_for_selector(
                f".group-member[data-user-id='{wangfang}'] .dept:has-text('治安支队')"
            )
            page.wait_for_selector(".group-member:has-text('李娜') .role.owner")
            page.wait_for_selector(
                ".group-member:has-text('张伟') .dept:has-text('刑侦支队')"
            )
            # The announcement, pinned on top once published.
            page.click(".group-panel button:has-text('编辑群公告')")
            page.fill("textarea[name=announcement]", "明早八点在指挥中心集合")
            page.click(".group-panel button:has-text('发布')")
            page.wait_for_selector(".announcement:has-text('明早八点在指挥中心集合')")
            # The QR join link.
            page.click(".group-panel button:has-text('群二维码')")
            page.wait_for_function(
                "() => document.querySelector('.qr img')?.naturalWidth > 0"
            )
            self.assertIn("/_jwwx/client/v1/groups/join/", page.inner_text(".qr-url"))
            # 王芳 muted: shown so, and the server refuses her message.
            page.click(f".group-member[data-user-id='{wangfang}'] button.mute")
            page.wait_for_selector(
                f".group-member[data-user-id='{wangfang}'] .muted-tag"
            )
            with self.assertRaises(HttpError) as refused:
                self._api(
                    "PUT",
                    f"/_matrix/client/v3/rooms/{quote(room_id)}/send/m.room.message/m1",
                    officers["王芳"][1],
                    {"msgtype": "m.text", "body": "我被禁言了吗"},
                )
            self.assertEqual(refused.exception.status, 403)
            screenshot(page, "web-05-group-panel")
            page.click("button[aria-label=关闭群聊信息]")

            # Her message: 2 unread, then 王芳 reads it (1), the list names who.
            page.fill("textarea[name=message]", "行动方案已更新，请查收")
            page.press("textarea[name=message]", "Enter")
            mine = page.locator(
                ".message.mine:not(.pending):has-text('行动方案已更新')"
            )
            mine.locator(".read-state:text-is('2人未读')").wait_for()
            event_id = mine.get_attribute("data-event-id")
            self._api(
                "POST",
                f"/_matrix/client/v3/rooms/{quote(room_id)}/receipt/m.read/{quote(event_id)}",
                officers["王芳"][1],
                {},
            )
            mine.locator(".read-state:text-is('1人未读')").wait_for()
            # Her receipt covers the earlier announcement too.
            page.locator(".message.mine:has-text('【群公告】')").locator(
                ".read-state:text-is('1人未读')"
            ).wait_for()
            mine.locator(".read-state").click()
            page.wait_for_selector(".read-list .unread li:has-text('张伟')")
            page.wait_for_selector(".read-list .read li:has-text('王芳')")
            screenshot(page, "web-06-read-list")
            page.click(".read-list button[aria-label=关闭]")

            # 张伟 opens the group: the announcement on top; he has read it.
            other.click(row)
            other.wait_for_selector(".announcement:has-text('明早八点在指挥中心集合')")
            mine.locator(".read-state:text-is('全部已读')").wait_for()

            # Mute all: his composer closes with the reason, and opens again.
            page.click("button[aria-label=群聊信息]")
            page.check("input[name=mute-all]")
            other.wait_for_selector(
                "textarea[name=message][disabled][placeholder*='全员禁言']"
            )
            screenshot(other, "web-07-muted")
            page.uncheck("input[name=mute-all]")
            other.wait_for_selector("textarea[name=message]:not([disabled])")
            page.click("button[aria-label=关闭群聊信息]")

            # Burn-after-read: the toggle (the group's warning shown), 10 s after reading.
            page.check("input[name=burn]")
            page.wait_for_selector(
                ".burn-notice:has-text('任一成员阅读后即开始倒计时')"
            )
            self.assertEqual(page.input_value("select[name=burn-ttl]"), "10000")
            page.fill("textarea[name=message]", "今晚行动地点：东门仓库")
            page.press("textarea[name=message]", "Enter")
            burning = ".message.burn:has-text('东门仓库')"
            for each in (page, other):
                each.wait_for_selector(
                    f"{burning} .burn-tag.counting:has-text('秒后销毁')"
                )
            burnt_id = page.get_attribute(burning, "data-event-id")
            screenshot(other, "web-08-burn-countdown")
            for each in (page, other):
                each.wait_for_selector(burning, state="detached")
            # Gone on the server too (redacted: no content left).
            event = self._api(
                "GET",
                f"/_matrix/client/v3/rooms/{quote(room_id)}/event/{quote(burnt_id)}",
                officers["王芳"][1],
            )
            self.assertEqual(event["content"], {})
            self.assertNotIn("东门仓库", page.inner_text(".chat-list"))
            self.assertEqual(page.errors, [])
            self.assertEqual(other.errors, [])

    def test_files_sharing_favorites_and_search(self) -> None:
        require_browser()
        room_id, officers = self._group()
        server = self.server.server_name
        zhangwei = officers["张伟"][1]
        _admin_id, admin = self.server.register(f"sec{os.urandom(3).hex()}", admin=True)
        settings = "/_jwwx/admin/v1/watermark/settings"
        self._api(
            "PUT",
            settings,
            admin,
            {
                "watermark": {
                    "enabled": True,
                    "media": True,
                    "template": "{name} {userid}",
                },
                "sharing": {
                    "allow_forward_messages": True,
                    "allow_save_to_device": True,
                },
            },
        )
        # 张伟's 1:1 chat with 李娜 (the forward's target), his picture and a text.
        direct = self._api(
            "POST",
            "/_matrix/client/v3/createRoom",
            zhangwei,
            {
                "is_direct": True,
                "invite": [f"@{officers['李娜'][0]}:{server}"],
                "preset": "trusted_private_chat",
            },
        )["room_id"]
        photo = png((10, 160, 60))
        send = f"/_matrix/client/v3/rooms/{quote(room_id)}/send/m.room.message"
        self._api(
            "PUT",
            f"{send}/f1",
            zhangwei,
            {
                "msgtype": "m.image",
                "body": "现场.png",
                "url": self._upload(zhangwei, photo),
                "info": {"mimetype": "image/png", "w": 64, "h": 48},
            },
        )
        self._api(
            "PUT",
            f"{send}/f2",
            zhangwei,
            {"msgtype": "m.text", "body": "嫌疑车辆车牌京A12345"},
        )
        try:
            with browser_page() as page:
                self._sign_in(page, officers["李娜"][0])
                page.click(f".chat-row[data-room-id='{room_id}']")
                plate = page.locator(".message:not(.mine):has-text('京A12345') .bubble")
                plate.wait_for()

                # 文件: uploaded with its progress, shown as a card.
                listing = "姓名,单位\n张伟,刑侦支队\n".encode() * 4000
                page.set_input_files(
                    "input[name=file]",
                    files=[
                        {"name": "名单.csv", "mimeType": "text/csv", "buffer": listing}
                    ],
                )
                card = page.locator(
                    ".message.mine:not(.pending) .file-card:has-text('名单.csv')"
                )
                card.wait_for()
                self.assertIn("KB", card.inner_text())
                with page.expect_download() as got:
                    card.locator("button.download").click()
                with open(got.value.path(), "rb") as saved:
                    self.assertEqual(saved.read(), listing)

                # The picture: preview, zoom, and its download carries the viewer's mark.
                page.click(".message:not(.mine) .image-button")
                page.wait_for_selector(".viewer img")
                page.click(".viewer button[aria-label=放大]")
                self.assertEqual(page.inner_text(".viewer .zoom"), "125%")
                screenshot(page, "web-09-image-viewer")
                with page.expect_download() as got:
                    page.click(".viewer button:has-text('下载')")
                with open(got.value.path(), "rb") as saved:
                    marked = Image.open(io.BytesIO(saved.read())).convert("RGB")
                self.assertEqual(marked.size, (64, 48))
                plain = Image.open(io.BytesIO(photo)).convert("RGB")
                self.assertNotEqual(list(marked.getdata()), list(plain.getdata()))
                page.click(".viewer button[aria-label=关闭预览]")

                # Right-click: 收藏, then 转发 to the 1:1 chat.
                plate.click(button="right")
                page.click(".context-menu button[data-action=favorite]")
                page.wait_for_selector(".composer .notice:has-text('已收藏')")
                plate.click(button="right")
                page.click(".context-menu button[data-action=forward]")
                page.click(f".forward-list button[data-room-id='{direct}']")
                page.wait_for_selector(".composer .notice:has-text('已转发给')")
                page.click(f".chat-row[data-room-id='{direct}']")
                page.wait_for_selector(
                    ".message.mine:not(.pending):has-text('京A12345')"
                )

                # 收藏: listed, found by its text, not by another.
                page.click("nav.rail button:has-text('收藏')")
                page.wait_for_selector(".fav-row:has-text('京A12345')")
                page.fill("input[name=favorite-search]", "没有这句")
                page.wait_for_selector(
                    ".favorites-pane .empty:has-text('没有找到相关收藏')"
                )
                page.fill("input[name=favorite-search]", "车牌")
                page.click(".fav-row:has-text('京A12345')")
                page.wait_for_selector(
                    ".favorite-detail .fav-body:has-text('京A12345')"
                )
                screenshot(page, "web-10-favorites")

                # 搜索 in the chat list: the message found by a Chinese substring.
                search = f"/_jwwx/client/v1/search?kinds=messages&q={quote('车牌京A')}"
                # (Both copies: the group's and the one forwarded to the 1:1 chat.)
                for _ in range(450):
                    results = self._api("GET", search, officers["李娜"][1])["messages"][
                        "results"
                    ]
                    if {r["room_id"] for r in results} >= {room_id, direct}:
                        break
                    time.sleep(0.2)
                page.click("nav.rail button:has-text('聊天')")
                page.fill("input[name=chat-search]", "车牌京A")
                hit = page.locator(f".search-pane .hit[data-room-id='{room_id}']").first
                hit.wait_for()
                screenshot(page, "web-11-search")
                hit.click()
                page.wait_for_selector(".conversation-header h2:has-text('专案组')")

                # A hit far back: the forwarded copy in the 1:1 chat, with more
                # messages after it than the first /sync, the opened chat's first
                # pages and the newest window (120) hold. It opens at the message:
                # loaded, in view, marked.
                chat = f"/_matrix/client/v3/rooms/{quote(direct)}/send/m.room.message"
                for n in range(150):
                    self._api(
                        "PUT",
                        f"{chat}/later{n}",
                        zhangwei,
                        {"msgtype": "m.text", "body": f"后续消息{n}"},
                    )
                page.fill("input[name=chat-search]", "车牌京A")
                far = page.locator(f".search-pane .hit[data-room-id='{direct}']").first
                far.wait_for()
                found = far.get_attribute("data-event-id")
                far.click()
                message = page.locator(
                    f".timeline[data-jumped='{found}'] li[data-event-id='{found}']"
                )
                message.wait_for()
                pane = page.locator(".timeline").bounding_box()
                box = message.bounding_box()
                assert pane is not None and box is not None
                self.assertGreaterEqual(box["y"], pane["y"])
                self.assertLessEqual(
                    box["y"] + box["height"], pane["y"] + pane["height"]
                )
                self.assertIn("京A12345", message.inner_text())
                screenshot(page, "web-11b-search-jump")

                # The policy closes sharing: copy, forward and download are refused.
                self._api(
                    "PUT",
                    settings,
                    admin,
                    {
                        "sharing": {
                            "allow_forward_messages": False,
                            "allow_forward_files": False,
                            "allow_save_to_device": False,
                        }
                    },
                )
                page.reload()
                page.click(f".chat-row[data-room-id='{room_id}']")
                plate.wait_for()
                plate.click(button="right")
                for action in ("copy", "forward"):
                    self.assertTrue(
                        page.locator(
                            f".context-menu button[data-action={action}]"
                        ).is_disabled()
                    )
                self.assertEqual(page.locator(".bubble.no-copy").count() > 0, True)
                page.keyboard.press("Escape")
                page.wait_for_selector(
                    ".message.mine .file-card .no-save:has-text('禁止下载')"
                )
                page.click(".message:not(.mine) .image-button")
                page.wait_for_selector(".viewer img")
                self.assertEqual(
                    page.locator(".viewer button:has-text('下载')").count(), 0
                )
                screenshot(page, "web-12-sharing-closed")
                page.click(".viewer button[aria-label=关闭预览]")

                # A long chat keeps a bounded window of messages: scrolled to the top it
                # slides and pages until the first, never rendering them all.
                def one(n: int) -> None:
                    self._api(
                        "PUT",
                        f"/_matrix/client/v3/rooms/{quote(direct)}/send/m.room.message/l{n}",
                        zhangwei,
                        {"msgtype": "m.text", "body": f"第{n:03d}条记录"},
                    )

                with ThreadPoolExecutor(4) as pool:
                    list(pool.map(one, range(LONG_CHAT)))
                page.click("nav.rail button:has-text('聊天')")
                page.click(f".chat-row[data-room-id='{direct}']")
                page.wait_for_selector(
                    f".message:has-text('第{LONG_CHAT - 1:03d}条记录')"
                )
                for _ in range(60):
                    page.evaluate(
                        "() => { const t = document.querySelector('.timeline');"
                        " t.scrollTop = 5; t.scrollTop = 0; }"
                    )
                    page.wait_for_timeout(200)
                    if page.locator(".message:has-text('第000条记录')").count():
                        break
                page.wait_for_selector(".message:has-text('第000条记录')")
                self.assertLessEqual(page.locator(".timeline > li").count(), 120)
                self.assertEqual(
                    page.locator(".message:has-text('第169条记录')").count(), 0
                )

                # A public account's push: a card in its chat (only its bot posts there),
                # the article opened in a new window with the officer's token.
                accounts = "/_jwwx/admin/v1/pubaccounts/accounts"
                account = self._api(
                    "POST",
                    accounts,
                    admin,
                    {
                        "name": "市局发布",
                        "editors": [officers["张伟"][0]],
                        "subscribers": {"userids": [officers["李娜"][0]]},
                    },
                )
                base = f"{accounts}/{account['id']}"
                for _ in range(450):  # the rooms are filled in the background
                    if self._api("GET", base, admin)["subscriber_count"] == 1:
                        break
                    time.sleep(0.2)
                article = self._api(
                    "POST",
                    f"{base}/articles",
                    zhangwei,
                    {
                        "title": "春节安保部署",
                        "digest": "请各单位做好值守",
                        "author": "宣传处",
                        "body": "<p>各单位：春节期间加强巡逻。</p>",
                    },
                )
                self._api(
                    "POST", f"{base}/pushes", zhangwei, {"article_ids": [article["id"]]}
                )
                page.click("nav.rail button:has-text('聊天')")
                page.click(".chat-row:has-text('市局发布')")
                card = page.locator(".card.pubaccount:has-text('春节安保部署')")
                card.wait_for()
                self.assertIn("请各单位做好值守", card.inner_text())
                page.wait_for_selector("textarea[name=message][disabled]")
                screenshot(page, "web-13-pubaccount-card")
                with page.expect_popup() as got:
                    card.locator(".card-main").click()
                got.value.wait_for_load_state()
                self.assertIn("access_token=", got.value.url)
                self.assertIn("春节安保部署", got.value.content())
                got.value.close()

                # only after the risk prompt is confirmed.
                entries = "/_jwwx/admin/v1/workbench/entries"
                self._api(
                    "POST",
                    entries,
                    admin,
                    {
                        "name": "警情通报",
                        "category": "办公",
                        "url": self._url("/_jwwx/web/?entry=internal"),
                        "zone": "internal",
                        "visible_range": None,
                    },
                )
                self._api(
                    "POST",
                    entries,
                    admin,
                    {
                        "name": "外网门户",
                        "category": "外部",
                        "url": self._url("/_matrix/client/versions?entry=external"),
                        "zone": "external",
                        "visible_range": None,
                    },
                )
                page.click("nav.rail button:has-text('工作台')")
                page.wait_for_selector(".workbench .category h3:has-text('办公')")
                page.wait_for_selector(".entry:has-text('外网门户') .zone-tag")
                page.fill("input[name=workbench-search]", "jqtb")
                page.wait_for_selector(".entry:has-text('外网门户')", state="detached")
                page.wait_for_selector(".entry:has-text('警情通报')")
                with page.expect_popup() as got:
                    page.click(".entry:has-text('警情通报')")
                got.value.wait_for_load_state()
                self.assertIn("entry=internal", got.value.url)
                got.value.close()
                page.fill("input[name=workbench-search]", "")
                page.click(".entry:has-text('外网门户')")
                page.wait_for_selector(".dialog.risk:has-text('数据安全风险提示')")
                screenshot(page, "web-14-workbench-risk")
                page.click(".dialog.risk button:has-text('取消')")
                page.wait_for_selector(".dialog.risk", state="detached")
                self.assertEqual(len(page.context.pages), 1)
                page.click(".entry:has-text('外网门户')")
                with page.expect_popup() as got:
                    page.click(".dialog.risk button:has-text('继续访问')")
                got.value.wait_for_load_state()
                self.assertIn("entry=external", got.value.url)
                self.assertEqual(page.errors, [])
        finally:
            self._api(
                "PUT",
                settings,
                admin,
                {
                    "sharing": {
                        "allow_forward_messages": True,
                        "allow_forward_files": True,
                        "allow_save_to_device": True,
                    }
                },
            )
