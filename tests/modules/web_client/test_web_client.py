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
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

from twisted.trial import unittest

from PIL import Image

from homeserver.http import HttpError, request_json
from modules.common.synapse.errors import ConfigError
from modules.web_client.bundle import WEB as WEB_SOURCES
from modules.web_client.bundle import built_hash, source_hash
from modules.web_client.config import DEFAULT_DIST, WebClientConfig
from tests.harness import postgres
from tests.harness.browser import browser_page, require_browser, screenshot
from tests.harness.case import SQLiteCase

WEB = "/_jwwx/web/"
DIRECTORY = "/_jwwx/admin/v1/directory"
BLOCKED = "违禁测试词"


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
            if postgres.must_run():
                raise RuntimeError("CI=true requires node for the web client's tests")
            raise unittest.SkipTest(
                "skipped: node is not installed (apt-get install nodejs)"
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
        for bad in ({"dist_path": "/nonexistent"}, {"dist_path": 3}, {"other": 1}):
            with self.assertRaises(ConfigError, msg=str(bad)):
                WebClientConfig.parse(bad)


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


class WebClientTest(SQLiteCase):
    keywords = (BLOCKED,)

    def _url(self, path: str) -> str:
        return self.server.base_url + path

    def _api(self, method: str, path: str, token: str | None, body: Any = None) -> Any:
        return request_json(method, self._url(path), body, token=token)

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
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            query = "timeout=5000" + (f"&since={quote(since)}" if since else "")
            answer = self._api("GET", f"/_matrix/client/v3/sync?{query}", token)
            since = answer["next_batch"]
            result = found(answer)
            if result:
                return since, result
        self.fail("not seen in /sync within 30 s")

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
            # Ctrl+F: the search box, from the chats too.
            page.click("nav.rail button:has-text('聊天')")
            page.keyboard.press("Control+f")
            page.wait_for_function(
                "() => document.activeElement?.name === 'contact-search'"
            )
            page.keyboard.type("zhangwei")
            page.click(".search-results .tree-row:has-text('张伟')")
            page.wait_for_selector(".profile h2:has-text('张伟')")
            page.wait_for_selector(".profile dd:has-text('刑侦支队')")
            page.wait_for_selector(".watermark.over-contacts")
            screenshot(page, "web-02-profile")
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
                token, None, lambda a: next(iter(a["rooms"].get("invite", {})), None)
            )
            self._api("POST", f"/_matrix/client/v3/join/{quote(room_id)}", token, {})

            def texts(answer: Any) -> list[str]:
                joined = answer["rooms"].get("join", {}).get(room_id, {})
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
            for _ in range(100):
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
