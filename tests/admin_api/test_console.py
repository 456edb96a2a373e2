# SPDX-License-Identifier: AGPL-3.0-or-later
"""The web console (admin_api/console, docs/console.md) in a real headless Chromium
against a real server: login with TOTP, the department tree, a member's validation
error, an import's report table, creating an admin group, an officer refused, markup
in names rendered as text, the idle logout; and the page's security headers over HTTP.

SQLite only: the console is a client of the admin API, whose behaviour on PostgreSQL
is tested by the modules' own tests on both engines; nothing here depends on the engine.
"""

import time
import urllib.request
from html.parser import HTMLParser
from typing import Any

from twisted.trial import unittest

import pyotp

from admin_api.console.config import ConsoleConfig
from homeserver.http import HttpError, request_json
from modules.common.synapse.errors import ConfigError
from tests.harness.browser import browser_page, require_browser, screenshot
from tests.harness.case import SQLiteCase

CONSOLE = "/_jwwx/console/"
DIRECTORY = "/_jwwx/admin/v1/directory"
XSS_NAME = '<img src=x onerror="window.hacked=1">'
BAD_MEMBERS_CSV = (
    "账号,姓名,手机,部门\n"
    "ok1,正常人,13800000001,2001\n"
    "bad two,坏账号,123,2001\n"
    "ok3,,13800000003,99999\n"
).encode()


class ConsoleConfigTest(unittest.TestCase):
    def test_defaults_and_refusals(self) -> None:
        self.assertEqual(ConsoleConfig.parse({}).idle_logout_minutes, 15)
        self.assertEqual(ConsoleConfig.parse({"page_size": 20}).page_size, 20)
        for bad in (
            {"idle_logout_minutes": 0},
            {"idle_logout_minutes": "15"},
            {"page_size": 5000},
            {"title": ""},
            {"unknown": 1},
        ):
            with self.assertRaises(ConfigError, msg=str(bad)):
                ConsoleConfig.parse(bad)


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline_handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs))
        self.inline_handlers += [k for k, _ in attrs if k.startswith("on")]


class ConsoleTest(SQLiteCase):
    def _url(self, path: str) -> str:
        return self.server.base_url + path

    def _admin(self) -> tuple[str, str, str]:
        """A super admin (Synapse server admin): (localpart, password, token)."""
        localpart = f"chief{time.monotonic_ns() % 10**9}"
        _user_id, token = self.server.register(localpart, admin=True)
        return localpart, "pw-" + localpart, token

    def _api(self, method: str, path: str, token: str, body: Any = None) -> Any:
        return request_json(method, self._url(path), body, token=token)

    def _organisation(self, token: str) -> None:
        """市局 (2000) → 刑侦支队 (2001) with three members, 治安支队 (2002), and a
        department whose name is markup."""
        try:
            self._api("GET", f"{DIRECTORY}/departments/2000", token)
            return
        except HttpError:
            pass
        make = [
            (2000, "市局", None),
            (2001, "刑侦支队", 2000),
            (2002, "治安支队", 2000),
        ]
        make.append((2003, XSS_NAME, 2000))
        for dep_id, name, parent in make:
            self._api(
                "POST",
                f"{DIRECTORY}/departments",
                token,
                {"id": dep_id, "name": name, "parent_id": parent},
            )
        for n, (userid, name) in enumerate(
            [("zhangsan", "张三"), ("lisi", "李四"), ("wangwu", "王五")]
        ):
            self._api(
                "POST",
                f"{DIRECTORY}/members",
                token,
                {
                    "userid": userid,
                    "name": name,
                    "department": [2001],
                    "mobile": f"1390000000{n}",
                },
            )
        # The accounts are made in the background; the admin group names one of them.
        for _ in range(300):
            member = self._api("GET", f"{DIRECTORY}/members/lisi", token)
            if member["account_state"] == "created":
                return
            time.sleep(0.1)
        self.fail(f"lisi's account was not created: {member}")

    def _totp_admin(self) -> tuple[str, str, str, pyotp.TOTP]:
        """A super admin with TOTP on (admins need it: docs/admin.md)."""
        localpart, password, token = self._admin()
        enrol = self._api("POST", "/_jwwx/client/v1/accounts/mfa/totp", token, {})
        totp = pyotp.TOTP(enrol["secret"])
        self._api(
            "POST",
            "/_jwwx/client/v1/accounts/mfa/totp/confirm",
            token,
            {"code": totp.now()},
        )
        return localpart, password, token, totp

    def _login_with_totp(
        self, page: Any, user: str, password: str, totp: pyotp.TOTP, shot: str = ""
    ) -> None:
        self._login(page, user, password)
        page.wait_for_selector("input[name=code]")
        if shot:
            screenshot(page, shot)
        # The next time step: the enrolment's confirmation used the current one.
        page.fill("input[name=code]", totp.at(time.time() + 30))
        page.click("form.login-form button[type=submit]")
        page.wait_for_selector("nav")

    def _login(self, page: Any, user: str, password: str) -> None:
        page.goto(self._url(CONSOLE))
        page.fill("input[name=user]", user)
        page.fill("input[name=password]", password)
        page.click("form.login-form button[type=submit]")

    # Over HTTP: the page and its headers.

    def test_page_is_served_with_security_headers(self) -> None:
        with urllib.request.urlopen(self._url(CONSOLE)) as response:
            headers = response.headers
            html = response.read().decode("utf-8")
        csp = headers["Content-Security-Policy"]
        self.assertIn("script-src 'self'", csp)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertNotIn("unsafe-eval", csp)
        self.assertEqual(headers["X-Frame-Options"], "DENY")
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")
        self.assertNotIn("Access-Control-Allow-Origin", headers)
        parser = _Scripts()
        parser.feed(html)
        self.assertTrue(parser.scripts)
        self.assertTrue(all(s.get("src") for s in parser.scripts), parser.scripts)
        self.assertEqual(parser.inline_handlers, [])
        with urllib.request.urlopen(self._url(CONSOLE + "assets/main.js")) as response:
            self.assertEqual(
                response.headers["Content-Type"], "text/javascript; charset=utf-8"
            )
            etag = response.headers["ETag"]
            self.assertIn("import", response.read().decode("utf-8"))
        request = urllib.request.Request(
            self._url(CONSOLE + "assets/main.js"), headers={"If-None-Match": etag}
        )
        with self.assertRaises(urllib.error.HTTPError) as cached:
            urllib.request.urlopen(request)
        self.assertEqual(cached.exception.code, 304)
        for missing in ("assets/nothing.js", "assets/..%2Fconfig.py", "other"):
            with self.assertRaises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(self._url(CONSOLE + missing))
            self.assertEqual(refused.exception.code, 404, missing)

    # In the browser.

    def test_admin_works_through_the_console(self) -> None:
        require_browser()
        localpart, password, token, totp = self._totp_admin()
        self._organisation(token)
        with browser_page() as page:
            # Password, then the second step the server asks for.
            self._login_with_totp(page, localpart, password, totp, "01-login-totp")

            # The tree: the root with its member count, then a department's members.
            page.wait_for_selector("#department-name")
            self.assertIn(localpart, page.inner_text("#whoami"))
            root = page.locator(".tree li[data-id='2000'] > .node-label")
            self.assertIn("(3)", root.inner_text())
            page.click(".tree li[data-id='2001'] > .node-label")
            page.wait_for_selector("#department-name:has-text('刑侦支队')")
            page.wait_for_selector("tr[data-userid='zhangsan']")
            self.assertIn("共 3 人", page.inner_text(".pager"))
            # Markup in a department's name is shown as text, never run.
            markup = page.locator(".tree li[data-id='2003'] .node-name")
            self.assertEqual(markup.inner_text(), XSS_NAME)
            self.assertEqual(page.locator(".tree img").count(), 0)
            screenshot(page, "02-directory")

            # A member's form shows the directory's validation message; nothing saved.
            page.click("tr[data-userid='zhangsan'] button")
            page.fill("input[name=mobile]", "12ab")
            page.click(".dialog-footer button.primary")
            alert = page.locator(".dialog .form-error")
            alert.wait_for()
            self.assertIn("手机号", alert.inner_text())
            screenshot(page, "03-member-validation")
            saved = self._api("GET", f"{DIRECTORY}/members/zhangsan", token)
            self.assertEqual(saved["mobile"], "13900000000")
            page.fill("input[name=mobile]", "13900000099")
            page.click(".dialog-footer button.primary")
            page.wait_for_selector(".overlay", state="detached")
            saved = self._api("GET", f"{DIRECTORY}/members/zhangsan", token)
            self.assertEqual(saved["mobile"], "13900000099")

            # A bad import file: the report table lists row, column and reason.
            page.click("button:has-text('导入')")
            page.set_input_files(
                "input[type=file]",
                files=[
                    {
                        "name": "成员.csv",
                        "mimeType": "text/csv",
                        "buffer": BAD_MEMBERS_CSV,
                    }
                ],
            )
            page.click(".dialog-footer button:has-text('开始导入')")
            report = page.locator(".report-table")
            report.wait_for()
            rows = report.locator("tbody tr")
            self.assertGreaterEqual(rows.count(), 3)
            text = report.inner_text()
            self.assertIn("行", page.inner_text(".report-table thead"))
            for row in ("3", "4"):
                self.assertIn(row, text)
            screenshot(page, "04-import-report")
            with self.assertRaises(HttpError):
                self._api("GET", f"{DIRECTORY}/members/ok1", token)
            page.click(".dialog-x")

            # An admin group with a scope, rights and a member.
            page.click("nav a[data-route=admins]")
            page.click("button:has-text('新建管理组')")
            page.fill("input[name=name]", "刑侦支队管理组")
            page.fill("textarea[name=members]", "lisi")
            page.fill("input[aria-label^='管理范围']", "刑侦")
            page.click(".picker-results button:has-text('刑侦支队')")
            page.check("input[name=right][value='directory.view']")
            page.check("input[name=right][value='directory.edit_members']")
            page.check("input[name=hidden_field][value='mobile']")
            page.click(".detail button:has-text('创建')")
            page.wait_for_selector(".tree .node-label:has-text('刑侦支队管理组')")
            screenshot(page, "05-admin-group")
            self.assertEqual(page.errors, [])
        groups = self._api("GET", "/_jwwx/admin/v1/admins/groups", token)["groups"]
        created = [g for g in groups if g["name"] == "刑侦支队管理组"]
        self.assertEqual(len(created), 1, groups)
        self.assertEqual(created[0]["scope"], [2001])
        self.assertEqual(
            sorted(created[0]["rights"]), ["directory.edit_members", "directory.view"]
        )
        self.assertEqual(created[0]["hidden_fields"], ["mobile"])

    def test_officer_cannot_open_the_console(self) -> None:
        require_browser()
        officer = f"officer{time.monotonic_ns() % 10**9}"
        self.server.register(officer)
        with browser_page() as page:
            self._login(page, officer, "pw-" + officer)
            notice = page.locator(".notice")
            notice.wait_for()
            self.assertIn("不是管理员", notice.inner_text())
            self.assertEqual(page.locator("nav").count(), 0)
            self.assertIsNone(
                page.evaluate("sessionStorage.getItem('jwwx.console.session')")
            )
            # A wrong password is refused with the reason.
            self._login(page, officer, "wrong")
            page.wait_for_selector(".form-error:has-text('账号或密码错误')")
            self.assertEqual(page.errors, [])

    def test_idle_logout(self) -> None:
        require_browser()
        localpart, password, _token, totp = self._totp_admin()
        with browser_page() as page:
            page.clock.install()
            self._login_with_totp(page, localpart, password, totp)
            token = page.evaluate(
                "JSON.parse(sessionStorage.getItem('jwwx.console.session')).token"
            )
            page.clock.fast_forward("14:30")
            page.wait_for_selector("#idle-warning")
            page.clock.fast_forward("01:00")
            notice = page.locator(".notice")
            notice.wait_for()
            self.assertIn("未操作", notice.inner_text())
            screenshot(page, "06-idle-logout")
        # The token was revoked on the server, not only forgotten by the page.
        with self.assertRaises(HttpError) as refused:
            self._api("GET", "/_jwwx/admin/v1/admins/me", token)
        self.assertEqual(refused.exception.status, 401)
