# SPDX-License-Identifier: AGPL-3.0-or-later
"""Bad input reported by the route test of issue 15 (items 3, 5 and 6), reproduced over
HTTP on both engines: every request is answered (no hang), with a clear 400 (WeCom: its
errcode, never -1), and error messages never echo more than a short excerpt."""

import itertools
from typing import Any
from urllib.parse import quote, urlencode

from twisted.internet import defer

from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.modules.openapi.helpers import CORPID, create_app, token_for

DIRECTORY_ADMIN = "/_jwwx/admin/v1/directory"
DIRECTORY = "/_jwwx/client/v1/directory"
GROUPS = "/_jwwx/client/v1/groups"
FAVORITES = "/_jwwx/client/v1/favorites"
MFA = "/_jwwx/client/v1/accounts/mfa"
BOOTSTRAP = "/_jwwx/admin/v1/bootstrap/token"
# A few seconds: a request left unanswered fails the test instead of hanging it.
ANSWER_TIMEOUT = 15.0
SURROGATE = "\ud800"
HUGE = 2**64
DIGITS_5000 = "9" * 5000

_names = itertools.count(1)


def _unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


class BadInputTests:
    async def _call(
        self,
        client: MatrixClient,
        method: str,
        path: str,
        body: Any = None,
        raw: bytes | None = None,
    ) -> tuple[int, Any]:
        return await client.request(method, path, body, raw=raw, timeout=ANSWER_TIMEOUT)

    async def _refused(
        self,
        client: MatrixClient,
        method: str,
        path: str,
        body: Any = None,
        raw: bytes | None = None,
        status: int = 400,
    ) -> dict[str, Any]:
        code, answer = await self._call(client, method, path, body, raw)
        self.assertEqual(code, status, (method, path[:80], answer))
        self.assertIsInstance(answer, dict)
        self.assertLess(len(answer.get("error", "")), 300)
        return dict(answer)

    async def _wecom(
        self,
        client: MatrixClient,
        path: str,
        token: str,
        body: Any = None,
        **query: Any,
    ) -> dict[str, Any]:
        url = f"/cgi-bin/{path}?" + urlencode({"access_token": token, **query})
        raw = None
        if isinstance(body, bytes):
            raw, body = body, None
        code, answer = await client.request(
            "GET" if body is None and raw is None else "POST",
            url,
            body,
            token="",
            raw=raw,
            timeout=ANSWER_TIMEOUT,
        )
        self.assertEqual(code, 200, answer)
        return dict(answer)

    def _wecom_refused(self, answer: dict[str, Any], *errcodes: int) -> None:
        self.assertIn(answer["errcode"], errcodes or (40058, 47001), answer)
        self.assertLess(len(answer["errmsg"]), 300)

    async def _app(self, admin: MatrixClient) -> str:
        app = await create_app(admin, name=_unique("同步"), directory_write=True)
        return await token_for(self.anonymous(), app["secret"])

    async def _group(self, officer: MatrixClient) -> str:
        created = await officer.ok("POST", GROUPS, {"name": _unique("专案组")})
        return str(created["room_id"])

    # Issue 15.3: lone surrogates and long values.

    async def test_lone_surrogates_are_answered_not_hung(self) -> None:
        admin = self.user("admin", admin=True)
        officer = self.user("officer")
        room = quote(await self._group(officer))
        bad_user = f"@{SURROGATE}:test.jwwx"
        await self._refused(
            officer,
            "PUT",
            f"{GROUPS}/{room}/muted",
            {"user_ids": [bad_user], "muted": True},
        )
        await self._refused(
            officer, "POST", f"{GROUPS}/{room}/transfer", {"user_id": bad_user}
        )
        await self._refused(
            admin,
            "POST",
            f"{DIRECTORY_ADMIN}/members",
            {"userid": f"a{SURROGATE}", "name": "警员", "department": [1]},
        )
        token = await self._app(admin)
        client = self.anonymous()
        self._wecom_refused(
            await self._wecom(
                client,
                "user/create",
                token,
                {"userid": f"a{SURROGATE}", "name": "x", "department": [1]},
            )
        )
        self._wecom_refused(
            await self._wecom(
                client,
                "message/send",
                token,
                {"touser": SURROGATE, "msgtype": "text", "text": {"content": "x"}},
            )
        )

    async def test_long_values_are_not_echoed(self) -> None:
        admin = self.user("admin", admin=True)
        token = await self._app(admin)
        long_id = "u" * 1_000_000
        answer = await self._wecom(
            self.anonymous(),
            "user/update",
            token,
            {"userid": long_id, "name": "x"},
        )
        self.assertNotEqual(answer["errcode"], 0)
        self.assertLess(len(answer["errmsg"]), 300)
        code, body = await self._call(
            admin, "GET", f"{DIRECTORY_ADMIN}/members/{'u' * 5000}"
        )
        self.assertLess(code, 500, body)
        self.assertLess(len(body["error"]), 300)

    # Issue 15.5: NUL in paths, queries and JSON.

    async def test_nul_is_refused_on_both_engines(self) -> None:
        admin = self.user("admin", admin=True)
        officer = self.user("officer")
        room = quote(await self._group(officer))
        await self._refused(officer, "GET", f"{DIRECTORY}/search/members?q=a%00b")
        await self._refused(officer, "GET", f"{DIRECTORY}/search/departments?q=%00")
        await self._refused(officer, "PUT", f"{DIRECTORY}/favorites/a%00b", {})
        await self._refused(officer, "GET", f"{FAVORITES}?q=a%00")
        await self._refused(officer, "GET", f"{FAVORITES}/1%00")
        await self._refused(officer, "GET", f"{GROUPS}/saved?q=%00")
        await self._refused(officer, "POST", GROUPS, {"name": "专案\x00组"})
        await self._refused(officer, "GET", f"{GROUPS}/join/abc%00def")
        await self._refused(
            officer, "PUT", f"{GROUPS}/{room}/announcement", {"text": "a\x00b"}
        )
        await self._refused(
            admin,
            "POST",
            f"{DIRECTORY_ADMIN}/departments",
            {"name": "a\x00b", "parent_id": None},
        )
        token = await self._app(admin)
        client = self.anonymous()
        self._wecom_refused(
            await self._wecom(client, "user/get", token, userid="a\x00b")
        )
        self._wecom_refused(
            await self._wecom(
                client, "department/create", token, {"name": "a\x00", "parentid": 0}
            )
        )
        groups = await officer.ok("GET", f"{GROUPS}/saved")
        self.assertFalse(any("\x00" in str(g) for g in groups.get("groups", [])))

    # Issue 15.6: malformed numbers and structure.

    async def test_malformed_numbers_get_400(self) -> None:
        admin = self.user("admin", admin=True)
        officer = self.user("officer")
        for query in (f"limit={DIGITS_5000}", f"from={DIGITS_5000}", "from=%C2%B2"):
            await self._refused(
                officer, "GET", f"{DIRECTORY}/search/members?q=a&{query}"
            )
            await self._refused(officer, "GET", f"{FAVORITES}?{query}")
        for tag in (str(HUGE), "%C2%B2", DIGITS_5000):
            await self._refused(admin, "GET", f"{DIRECTORY_ADMIN}/tags/{tag}")
            await self._refused(admin, "GET", f"{DIRECTORY_ADMIN}/jobs/{tag}")
        await self._refused(admin, "GET", f"{DIRECTORY_ADMIN}/departments/%C2%B2")
        await self._refused(admin, "GET", "/_jwwx/admin/v1/admins/groups/%C2%B2")
        room = quote(await self._group(officer))
        await self._refused(
            officer, "POST", f"{GROUPS}/{room}/join_links", {"ttl_seconds": HUGE}
        )
        await self._refused(
            admin,
            "POST",
            f"{DIRECTORY_ADMIN}/departments",
            {"name": "x", "parent_id": HUGE},
        )
        token = await self._app(admin)
        client = self.anonymous()
        self._wecom_refused(
            await self._wecom(
                client, "department/update", token, {"id": HUGE, "name": "x"}
            )
        )
        self._wecom_refused(
            await self._wecom(
                client, "tag/update", token, {"tagid": HUGE, "tagname": "x"}
            )
        )
        self._wecom_refused(
            await self._wecom(client, "user/list", token, department_id="²")
        )

    async def test_deep_json_is_refused_before_parsing(self) -> None:
        admin = self.user("admin", admin=True)
        deep = b"[" * 100_000 + b"]" * 100_000
        await self._refused(self.anonymous(), "POST", BOOTSTRAP, raw=deep)
        nested = b'{"user": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}"
        await self._refused(self.anonymous(), "POST", BOOTSTRAP, raw=nested)
        await self._refused(admin, "POST", f"{DIRECTORY_ADMIN}/departments", raw=deep)
        token = await self._app(admin)
        self._wecom_refused(
            await self._wecom(self.anonymous(), "user/create", token, deep),
            47001,
        )

    async def test_totp_code_with_emoji(self) -> None:
        officer = self.user("officer")
        await officer.ok("POST", f"{MFA}/totp", {})
        code, body = await self._call(
            officer, "POST", f"{MFA}/totp/confirm", {"code": "😀😀😀😀😀😀"}
        )
        self.assertIn(code, (400, 403), body)

    async def test_concurrent_totp_enrolments(self) -> None:
        """Found by the route inventory test: two enrolments at once collided on
        PostgreSQL (500)."""
        officer = self.user("officer")
        answers = await defer.gatherResults(
            [
                defer.ensureDeferred(self._call(officer, "POST", f"{MFA}/totp", {}))
                for _ in range(30)
            ]
        )
        self.assertEqual([code for code, _ in answers], [200] * 30, answers)
        enrol = await officer.ok("POST", f"{MFA}/totp", {})
        status = await officer.ok("GET", MFA)
        self.assertFalse(status["totp_enabled"])
        self.assertTrue(enrol["secret"])

    async def test_member_gender_of_wrong_type(self) -> None:
        admin = self.user("admin", admin=True)
        root = await admin.ok(
            "POST",
            f"{DIRECTORY_ADMIN}/departments",
            {"name": _unique("市局"), "parent_id": None},
        )
        for gender in ([], {}, "男", 7):
            await self._refused(
                admin,
                "POST",
                f"{DIRECTORY_ADMIN}/members",
                {
                    "userid": _unique("g"),
                    "name": "警员",
                    "department": [root["id"]],
                    "gender": gender,
                },
            )

    async def test_oauth_agentid_that_is_not_a_small_number(self) -> None:
        client = self.anonymous()
        for agentid in ("99999999999999999999999", "²", DIGITS_5000):
            query = urlencode(
                {
                    "appid": CORPID,
                    "redirect_uri": "https://app.example/cb",
                    "response_type": "code",
                    "scope": "snsapi_base",
                    "agentid": agentid,
                }
            )
            code, _page = await self._call(
                client, "GET", f"/connect/oauth2/authorize?{query}"
            )
            self.assertEqual(code, 400, agentid[:30])


class BadInputSQLiteTest(BadInputTests, SQLiteCase):
    pass


class BadInputPostgresTest(BadInputTests, PostgresCase):
    pass
