# SPDX-License-Identifier: AGPL-3.0-or-later
"""Issue 15's findings on the open API, reproduced over HTTP on a real server: OAuth2
redirect URIs as a browser reads them, codes consumed by a wrong app, secrets in
responses and logs, security headers, userids outside an app's range, and a callback
server that misbehaves while another app's callbacks keep arriving."""

import itertools
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.modules.openapi.helpers import (
    CORPID,
    DIRECTORY,
    create_app,
    get_page,
    wait_account,
)

_names = itertools.count(1)

# (redirect_uri, what it is). Every one must be refused (400, a page, no Location).
BYPASSES = [
    # The reported one: Python reads the host after the backslash, browsers before it.
    ("http://evil.example\\@app1.example:8443/cb", "backslash + userinfo"),
    ("https://evil.example\\.h5.example.cn/", "backslash in host"),
    ("https://h5.example.cn\\@evil.example/", "backslash before @"),
    ("https:\\\\evil.example/h5.example.cn", "backslashes as slashes"),
    # Userinfo, even with the trusted host behind it.
    ("https://h5.example.cn@evil.example/", "userinfo, host evil"),
    ("https://h5.example.cn:443@evil.example/", "userinfo with port-like password"),
    ("https://user:pass@h5.example.cn/", "userinfo, host trusted"),
    ("https://evil.example%2F@h5.example.cn/", "encoded slash in userinfo"),
    ("https://evil.example%40h5.example.cn/", "encoded @"),
    # Delimiters hiding in the authority.
    ("https://evil.example#@h5.example.cn/", "fragment before @"),
    ("https://evil.example?@h5.example.cn/", "query before @"),
    ("https://h5.example.cn.evil.example/", "trusted name as a sub-domain"),
    ("https://h5.example.cn%2eevil.example/", "percent-encoded dot"),
    ("https://%68%35.example.cn/", "percent-encoded trusted name"),
    ("https://h5.example.cn%00.evil.example/", "encoded NUL"),
    # Whitespace and control characters (browsers drop tab/newline, trim C0/space).
    ("https://h5.example.cn\t.evil.example/", "tab"),
    ("https://evil.exa\nmple/h5.example.cn", "newline"),
    (" https://evil.example/", "leading space"),
    ("https://evil.example\x0b@h5.example.cn/", "vertical tab"),
    ("https://h5.example.cn\x00.evil.example/", "NUL"),
    ("https://h5.example.cn\u200b/", "zero-width space"),
    ("https://\u3000h5.example.cn/", "ideographic space"),
    # Scheme forms browsers accept.
    ("https:evil.example/", "no slashes"),
    ("https:/evil.example/", "one slash"),
    ("https:///evil.example/", "three slashes"),
    ("javascript://h5.example.cn/%0aalert(1)", "javascript:"),
    ("ftp://h5.example.cn/", "ftp:"),
    ("//evil.example/", "scheme-relative"),
    # IDN and Unicode that maps to delimiters or look-alikes.
    ("https://h5.example.cn\uff0f.evil.example/", "full-width solidus"),
    ("https://evil.example\uff03.h5.example.cn/", "full-width number sign"),
    ("https://h5.ex\u0430mple.cn/", "Cyrillic a"),
    ("https://h5.example.cn\u3002evil.example/", "ideographic full stop"),
    ("https://h5.example.cn./", "trailing dot"),
    # Ports and brackets: a clear refusal, never a 5xx.
    ("https://h5.example.cn:8443/", "another port"),
    ("http://app1.example/cb", "the trusted host without its port"),
    ("https://h5.example.cn:99999/", "port out of range"),
    ("https://h5.example.cn:0/", "port 0"),
    ("https://h5.example.cn:44x/", "port not a number"),
    ("https://h5.example.cn:/", "empty port"),
    ("https://[::1]/", "IPv6 literal"),
    ("https://h5.example.cn]/", "lone bracket"),
    ("https://[h5.example.cn]/", "bracketed name"),
    ("https://h5.example.cn:443:443/", "two ports"),
    ("", "empty"),
    ("h5.example.cn/entry", "no scheme"),
]

# (redirect_uri, expected Location prefix): what a browser reads as the trusted host.
ACCEPTED = [
    ("https://h5.example.cn/entry?from=menu", "https://h5.example.cn/entry?from=menu&"),
    ("HTTPS://H5.Example.CN/entry", "https://h5.example.cn/entry?"),
    ("https://h5.example.cn:443/a", "https://h5.example.cn/a?"),
    ("http://h5.example.cn/a", "http://h5.example.cn/a?"),
    ("https://\uff48\uff15.example.cn/fw", "https://h5.example.cn/fw?"),
    ("https://h5.example.cn/\u641c\u7d22?q=\u8b66", "https://h5.example.cn/%E6%90%9C"),
    ("https://h5.example.cn/#frag", "https://h5.example.cn/?"),
    ("http://app1.example:8443/cb", "http://app1.example:8443/cb?"),
]


class ApiSecurityTests:
    async def _admin(self) -> MatrixClient:
        return self.user("secadmin", admin=True)  # type: ignore[attr-defined, no-any-return]

    async def _officer(
        self, admin: MatrixClient, dept: int
    ) -> tuple[MatrixClient, str]:
        client: MatrixClient = self.user("secoff")  # type: ignore[attr-defined]
        userid = client.user_id[1:].split(":")[0]
        await admin.ok(
            "POST",
            f"{DIRECTORY}/members",
            {"userid": userid, "name": f"警员{next(_names)}", "department": [dept]},
        )
        await wait_account(admin, userid)
        return client, userid

    async def _department(self, admin: MatrixClient) -> int:
        body = {"name": f"安全部门{next(_names)}", "parent_id": None}
        return int((await admin.ok("POST", f"{DIRECTORY}/departments", body))["id"])

    # Item 1: OAuth2 open redirect.

    async def test_oauth_redirect_uri_bypass_families(self) -> None:
        admin = await self._admin()
        base = self.server.base_url  # type: ignore[attr-defined]
        root = await self._department(admin)
        officer, _ = await self._officer(admin, root)
        h5 = await create_app(
            admin,
            redirect_domain="h5.example.cn",
            visible_range={"department_ids": [root]},
        )
        app1 = await create_app(
            admin,
            redirect_domain="app1.example:8443",
            visible_range={"department_ids": [root]},
        )

        def authorize(redirect: str, app: dict[str, Any] | None) -> str:
            params = {
                "appid": CORPID,
                "redirect_uri": redirect,
                "response_type": "code",
                "scope": "snsapi_base",
                "state": "st",
            }
            if app is not None:
                params["agentid"] = str(app["agentid"])
            return "/connect/oauth2/authorize?" + urlencode(params)

        failures = []
        for uri, what in BYPASSES:
            app = app1 if "app1" in uri else h5
            for chosen in (app, None):  # with agentid, and "any app trusting it"
                status, location, body = await get_page(
                    base, authorize(uri, chosen), officer.token
                )
                if (status, location) != (400, None) or "无法授权" not in body:
                    failures.append((what, uri, chosen is None, status, location))
        self.assertEqual(failures, [])  # type: ignore[attr-defined]
        # The login page's POST applies the same check.
        for uri, what in BYPASSES[:4]:
            code, answer = await officer.request(
                "POST",
                "/connect/oauth2/authorize",
                {"appid": CORPID, "redirect_uri": uri, "agentid": h5["agentid"]},
            )
            self.assertEqual(  # type: ignore[attr-defined]
                (code, answer.get("errcode")), (400, "CN_JWWX_OAUTH_REFUSED"), what
            )
        # Legitimate forms reach the trusted host, as the browser will read it.
        for uri, prefix in ACCEPTED:
            app = app1 if "app1" in uri else h5
            status, location, body = await get_page(
                base, authorize(uri, app), officer.token
            )
            self.assertEqual(status, 302, (uri, body))  # type: ignore[attr-defined]
            assert location is not None
            self.assertTrue(location.startswith(prefix), (uri, location))  # type: ignore[attr-defined]
            query = dict(parse_qsl(urlsplit(location).query))
            self.assertEqual(query["state"], "st")  # type: ignore[attr-defined]
            self.assertNotIn("#", location)  # type: ignore[attr-defined]
        # An IDN trusted domain (stored as punycode) admits its Unicode spelling.
        idn = await create_app(
            admin,
            redirect_domain="https://xn--fiqs8s.example",
            visible_range={"department_ids": [root]},
        )
        status, location, _ = await get_page(
            base, authorize("https://\u4e2d\u56fd.example/h5", idn), officer.token
        )
        self.assertEqual(status, 302)  # type: ignore[attr-defined]
        self.assertTrue(  # type: ignore[attr-defined]
            (location or "").startswith("https://xn--fiqs8s.example/h5?code=")
        )
        # The scheme, when the trusted domain names one, is compared too.
        status, location, _ = await get_page(
            base, authorize("http://xn--fiqs8s.example/h5", idn), officer.token
        )
        self.assertEqual((status, location), (400, None))  # type: ignore[attr-defined]
        # An admin cannot save a trusted domain with a path, userinfo or a bad port.
        for bad in ("h5.example.cn/path", "a@h5.example.cn", "h5.example.cn:99999"):
            refused = await admin.request(
                "PUT",
                f"/_jwwx/admin/v1/openapi/apps/{h5['agentid']}",
                {"redirect_domain": bad},
            )
            self.assertEqual(refused[0], 400, bad)  # type: ignore[attr-defined]


class ApiSecuritySQLiteTest(ApiSecurityTests, SQLiteCase):
    pass


class ApiSecurityPostgresTest(ApiSecurityTests, PostgresCase):
    pass
