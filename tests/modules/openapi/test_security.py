# SPDX-License-Identifier: AGPL-3.0-or-later
"""Issue 15's findings on the open API, reproduced over HTTP on a real server: OAuth2
redirect URIs as a browser reads them, codes consumed by a wrong app, secrets in
responses and logs, security headers, userids outside an app's range, and a callback
server that misbehaves while another app's callbacks keep arriving."""

import itertools
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import treq

from modules.openapi.crypto import MsgCrypt, generate_encoding_aes_key, parse_xml
from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.harness.server import free_port
from tests.modules.openapi.helpers import (
    APPS,
    CORPID,
    DIRECTORY,
    create_app,
    execute_sql,
    get_page,
    sleep,
    token_for,
    upload,
    wait_account,
    wecom,
)
from tests.modules.openapi.receiver import Receiver

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


class BadReceiver(Receiver):
    """An app server that answers 2xx with a reply we cannot read (bytes that are not
    UTF-8, a reply envelope whose MsgSignature is not ASCII, …), every time it gets
    the same message; or HTTP 500 while `status` says so."""

    def __init__(self, crypt: MsgCrypt) -> None:
        super().__init__(crypt)
        self.answers: dict[str, bytes] = {}  # message Content → the 2xx answer
        self.status = 200

    def render_POST(self, request: Any) -> bytes:
        self.posts += 1
        if self.status != 200:
            request.setResponseCode(self.status)
            return b"down"
        message = parse_xml(
            self.crypt.decrypt_msg(
                request.content.read(),
                self._arg(request, "msg_signature"),
                self._arg(request, "timestamp"),
                self._arg(request, "nonce"),
            )
        )
        if message["MsgId"] not in {m["MsgId"] for m in self.messages}:
            self.messages.append(message)
        return self.answers.get(message.get("Content", ""), b"success")


async def wait_until(check: Any, what: str, tries: int = 600) -> Any:
    for _ in range(tries):
        result = await check()
        if result:
            return result
        await sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class ApiSecurityTests:
    metrics_port = 0

    @classmethod
    def prepare_class(cls) -> None:
        cls.metrics_port = free_port()
        cls.init_args = ("--metrics-port", str(cls.metrics_port))

    async def _metric(self, name: str) -> float:
        url = f"http://127.0.0.1:{self.metrics_port}/_synapse/metrics"
        response = await treq.get(url, persistent=False)
        text = (await response.content()).decode()
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.split()[-1])
        return total

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

    # Item 4: one app's callback server must not block every app's callbacks.

    async def _conversation(
        self,
        client: MatrixClient,
        app: dict[str, Any],
        officer: MatrixClient,
        userid: str,
    ) -> str:
        token = await token_for(client, app["secret"])
        sent = await wecom(
            client,
            "message/send",
            token,
            {
                "touser": userid,
                "msgtype": "text",
                "agentid": app["agentid"],
                "text": {"content": "您好"},
            },
        )
        assert sent["errcode"] == 0, sent

        async def room() -> str | None:
            result = await officer.sync(timeout_ms=500)
            for room_id, joined in result.get("rooms", {}).get("join", {}).items():
                for event in joined.get("timeline", {}).get("events", []):
                    if event.get("sender") == app["bot_user_id"]:
                        return str(room_id)
            return None

        return str(await wait_until(room, "the app's conversation", 40))

    async def test_misbehaving_callback_server_blocks_only_itself(self) -> None:
        admin = await self._admin()
        client = self.anonymous()  # type: ignore[attr-defined]
        root = await self._department(admin)
        officer, userid = await self._officer(admin, root)
        key_bad, key_good = generate_encoding_aes_key(), generate_encoding_aes_key()
        bad = BadReceiver(MsgCrypt("Bad1", key_bad, CORPID, "aes"))
        good = Receiver(MsgCrypt("Good1", key_good, CORPID, "aes"))
        bad_url, good_url = bad.start(), good.start()
        try:
            bad_app = await create_app(
                admin,
                name="坏回调",
                callback={"url": bad_url, "token": "Bad1", "encoding_aes_key": key_bad},
                visible_range={"department_ids": [root]},
            )
            good_app = await create_app(
                admin,
                name="好回调",
                callback={
                    "url": good_url,
                    "token": "Good1",
                    "encoding_aes_key": key_good,
                },
                visible_range={"department_ids": [root]},
            )
            bad_room = await self._conversation(client, bad_app, officer, userid)
            good_room = await self._conversation(client, good_app, officer, userid)
            # 2xx answers that cannot be read: not UTF-8, a non-ASCII MsgSignature,
            # an envelope with a non-UTF-8 ciphertext field.
            bad.answers = {
                "坏 一": b"\xff\xfe<xml>\x80\x81</xml>",
                "坏 二": (
                    "<xml><Encrypt><![CDATA[AAAA]]></Encrypt>"
                    "<MsgSignature><![CDATA[签名é]]></MsgSignature>"
                    "<TimeStamp>1</TimeStamp><Nonce>n</Nonce></xml>"
                ).encode(),
                "坏 三": b"<xml><Encrypt>\xc3\x28</Encrypt></xml>",
            }
            for text in ("一", "二", "三"):
                await officer.send_text(bad_room, f"坏 {text}")
            await officer.send_text(good_room, "好 一")
            # The other app's callback arrives although the bad one came first.
            await wait_until(
                lambda: _true(len(good.messages) >= 1), "the good app's callback"
            )
            self.assertEqual(good.messages[0]["Content"], "好 一")  # type: ignore[attr-defined]

            async def bad_settled() -> dict[str, Any] | None:
                queue = await admin.ok(
                    "GET", f"{APPS}/{bad_app['agentid']}/callbacks?state=sent"
                )
                return queue if queue["counts"]["sent"] == 3 else None

            # The bad app's messages are delivered (2xx) once each and marked sent:
            # the unreadable replies are dropped, not re-POSTed.
            queue = await wait_until(bad_settled, "the bad app's rows marked")
            self.assertEqual(queue["counts"]["pending"], 0)  # type: ignore[attr-defined]
            self.assertEqual(bad.posts, 3)  # type: ignore[attr-defined]
            self.assertGreaterEqual(  # type: ignore[attr-defined]
                await self._metric("jwwx_openapi_callback_replies_dropped_total"), 3
            )
            # An app server that keeps failing: retried with backoff, then dead-lettered,
            # visible in the admin API and the metric; the other app still gets through.
            bad.status = 500
            await officer.send_text(bad_room, "坏 四")

            async def retrying() -> list[dict[str, Any]] | None:
                queue = await admin.ok(
                    "GET", f"{APPS}/{bad_app['agentid']}/callbacks?state=pending"
                )
                rows = [r for r in queue["callbacks"] if r["attempts"] >= 1]
                return rows or None

            (row,) = await wait_until(retrying, "a failed attempt")
            self.assertEqual(row["last_error"], "HTTP 500")  # type: ignore[attr-defined]
            await officer.send_text(good_room, "好 二")
            await wait_until(
                lambda: _true(len(good.messages) >= 2), "the good app's 2nd callback"
            )
            execute_sql(
                self.server,  # type: ignore[attr-defined]
                "UPDATE jwwx_openapi_callbacks SET attempts = 5, next_attempt_ts = 0"
                " WHERE agentid = ? AND msgid = ?",
                (bad_app["agentid"], row["msgid"]),
            )

            async def dead() -> dict[str, Any] | None:
                queue = await admin.ok("GET", f"{APPS}/{bad_app['agentid']}/callbacks")
                return queue if queue["callbacks"] else None

            queue = await wait_until(dead, "the dead letter")
            self.assertEqual(queue["state"], "failed")  # type: ignore[attr-defined]
            self.assertEqual(  # type: ignore[attr-defined]
                [(r["msgid"], r["attempts"]) for r in queue["callbacks"]],
                [(row["msgid"], 6)],
            )
            self.assertGreaterEqual(  # type: ignore[attr-defined]
                await self._metric("jwwx_openapi_callbacks_dead_letter"), 1
            )
            # An admin requeues it once the app server is back.
            bad.status = 200
            posts = bad.posts
            retried = await admin.ok(
                "POST", f"{APPS}/{bad_app['agentid']}/callbacks/retry", {}
            )
            self.assertEqual(retried, {"requeued": 1})  # type: ignore[attr-defined]
            await wait_until(
                lambda: _true(len(bad.messages) >= 4), "the requeued callback"
            )
            self.assertEqual(bad.messages[-1]["Content"], "坏 四")  # type: ignore[attr-defined]
            self.assertGreater(bad.posts, posts)  # type: ignore[attr-defined]
            refused = await admin.request(
                "GET", f"{APPS}/{bad_app['agentid']}/callbacks?state=lost"
            )
            self.assertEqual(refused[0], 400)  # type: ignore[attr-defined]
        finally:
            await bad.stop()
            await good.stop()

    # Item 7: secrets in responses and logs, security headers.

    async def test_secrets_shown_once_and_redacted_from_logs(self) -> None:
        admin = await self._admin()
        client = self.anonymous()  # type: ignore[attr-defined]
        base = self.server.base_url  # type: ignore[attr-defined]
        key = generate_encoding_aes_key()
        receiver = Receiver(MsgCrypt("T0kenXyz", key, CORPID, "aes"))
        url = receiver.start()
        try:
            callback = {"url": url, "token": "T0kenXyz", "encoding_aes_key": key}
            app = await create_app(admin, name="密钥", callback=callback)
            # Shown in the answer that set them, like the secret...
            self.assertEqual(app["callback"], callback)  # type: ignore[attr-defined]
            # ...and never again.
            one = await admin.ok("GET", f"{APPS}/{app['agentid']}")
            listed = await admin.ok("GET", APPS)
            mine = [a for a in listed["apps"] if a["agentid"] == app["agentid"]]
            for shown in (one, mine[0]):
                self.assertEqual(shown["callback"], {"url": url})  # type: ignore[attr-defined]
                self.assertNotIn(key, str(shown))  # type: ignore[attr-defined]
                self.assertNotIn("T0kenXyz", str(shown))  # type: ignore[attr-defined]
            renamed = await admin.ok(
                "PUT", f"{APPS}/{app['agentid']}", {"name": "改名"}
            )
            self.assertEqual(renamed["callback"], {"url": url})  # type: ignore[attr-defined]
        finally:
            await receiver.stop()
        # Credentials in query strings never reach the log: a multipart POST to
        # gettoken, which Synapse refuses with a warning naming the URI (the access
        # log, at INFO, names every URI the same way: see test_request_log_redaction).
        secret = app["secret"]
        token = await token_for(client, secret)
        boundary = "b0undary"
        form = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n'
            f"--{boundary}--\r\n"
        ).encode()
        query = urlencode({"corpid": CORPID, "corpsecret": secret})
        try:
            response = await treq.request(
                "POST",
                f"{base}/cgi-bin/gettoken?{query}",
                data=form,
                headers={"Content-Type": [f"multipart/form-data; boundary={boundary}"]},
                persistent=False,
            )
            await response.content()
        except Exception:  # noqa: S110 - Synapse may drop the connection
            pass
        code_value = "C0deValue1234567890"
        answer = await wecom(client, "auth/getuserinfo", token, code=code_value)
        self.assertEqual(answer["errcode"], 40029)  # type: ignore[attr-defined]

        async def logged() -> str | None:
            text = self.server.log_text()  # type: ignore[attr-defined]
            return text if "/cgi-bin/gettoken?" in text else None

        text = await wait_until(logged, "the request log lines")
        for value in (secret, token, code_value):
            self.assertNotIn(value, text)  # type: ignore[attr-defined]
        self.assertIn("corpsecret=<redacted>", text)  # type: ignore[attr-defined]
        # The OAuth login page cannot be framed.
        params = urlencode(
            {"appid": CORPID, "redirect_uri": "https://h5.example.cn/", "state": "x"}
        )
        response = await treq.request(
            "GET", f"{base}/connect/oauth2/authorize?{params}", persistent=False
        )
        await response.content()
        headers = response.headers
        self.assertEqual(  # type: ignore[attr-defined]
            headers.getRawHeaders(b"x-frame-options"), [b"DENY"]
        )
        self.assertIn(  # type: ignore[attr-defined]
            b"frame-ancestors 'none'",
            b";".join(headers.getRawHeaders(b"content-security-policy") or []),
        )
        # media/get: the uploader's Content-Type is neither sniffed nor run.
        status, uploaded = await upload(
            base, token, "file", "page.html", b"<script>alert(1)</script>", "text/html"
        )
        assert uploaded is not None and uploaded["errcode"] == 0, uploaded
        query = urlencode({"access_token": token, "media_id": uploaded["media_id"]})
        response = await treq.request(
            "GET", f"{base}/cgi-bin/media/get?{query}", persistent=False
        )
        await response.content()
        headers = response.headers
        self.assertEqual(  # type: ignore[attr-defined]
            headers.getRawHeaders(b"x-content-type-options"), [b"nosniff"]
        )
        csp = b";".join(headers.getRawHeaders(b"content-security-policy") or [])
        self.assertIn(b"sandbox", csp)  # type: ignore[attr-defined]

    # Item 8 (open API): existence outside the range, wrong-app OAuth redemption.

    async def test_range_hides_existence_and_wrong_app_consumes_code(self) -> None:
        admin = await self._admin()
        client = self.anonymous()  # type: ignore[attr-defined]
        base = self.server.base_url  # type: ignore[attr-defined]
        inside, outside = await self._department(admin), await self._department(admin)
        officer, userid = await self._officer(admin, inside)
        _, stranger = await self._officer(admin, outside)
        app = await create_app(
            admin,
            redirect_domain="h5.example.cn",
            visible_range={"department_ids": [inside]},
        )
        other = await create_app(admin, redirect_domain="other.example.cn")
        token = await token_for(client, app["secret"])
        seen = await wecom(client, "user/get", token, userid=userid)
        self.assertEqual(seen["errcode"], 0)  # type: ignore[attr-defined]
        hidden = await wecom(client, "user/get", token, userid=stranger)
        missing = await wecom(client, "user/get", token, userid="nosuchuser99")
        # The same answer for an existing userid outside the range and an unknown one.
        self.assertEqual(  # type: ignore[attr-defined]
            (hidden["errcode"], hidden["errmsg"]),
            (missing["errcode"], missing["errmsg"]),
        )
        self.assertEqual(hidden["errcode"], 60011)  # type: ignore[attr-defined]
        # A code presented by the wrong app is consumed all the same (single use).
        params = {
            "appid": CORPID,
            "redirect_uri": "https://h5.example.cn/x",
            "state": "s",
            "agentid": str(app["agentid"]),
        }
        path = "/connect/oauth2/authorize?" + urlencode(params)
        status, location, _ = await get_page(base, path, officer.token)
        self.assertEqual(status, 302)  # type: ignore[attr-defined]
        code = dict(parse_qsl(urlsplit(location or "").query))["code"]
        wrong = await token_for(client, other["secret"])
        refused = await wecom(client, "auth/getuserinfo", wrong, code=code)
        self.assertEqual(refused["errcode"], 40029)  # type: ignore[attr-defined]
        after = await wecom(client, "auth/getuserinfo", token, code=code)
        self.assertEqual(after["errcode"], 40029, after)  # type: ignore[attr-defined]

    # Metrics of every module endpoint (modules/common/metrics.py).

    async def _series(self, name: str, **labels: str) -> float:
        """The sum of a metric's series whose labels include `labels`."""
        url = f"http://127.0.0.1:{self.metrics_port}/_synapse/metrics"
        response = await treq.get(url, persistent=False)
        total = 0.0
        for line in (await response.content()).decode().splitlines():
            if not line.startswith(name + "{"):
                continue
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.split()[-1])
        return total

    async def test_endpoint_metrics(self) -> None:
        """Requests and errors per route pattern, WeCom errcodes included; a request
        matching no route counts under its router's prefix, an unknown method as
        OTHER, so clients cannot add label values."""
        admin = await self._admin()
        client = self.anonymous()  # type: ignore[attr-defined]
        app = await create_app(admin)
        route = "/cgi-bin/gettoken"
        before = {
            "ok": await self._series("jwwx_http_requests_total", route=route),
            "bad": await self._series(
                "jwwx_http_errors_total", route=route, errcode="40001"
            ),
            "unknown": await self._series(
                "jwwx_http_requests_total", route="/cgi-bin/*", method="OTHER"
            ),
        }
        await token_for(client, app["secret"])
        answer = await wecom(client, "gettoken", corpid=CORPID, corpsecret="wrong")
        self.assertEqual(answer["errcode"], 40001, answer)  # type: ignore[attr-defined]
        await client.request("BREW", "/cgi-bin/no/such/route/x1")
        await client.request("GET", f"{APPS}/{app['agentid']}")
        after = {
            "ok": await self._series("jwwx_http_requests_total", route=route),
            "bad": await self._series(
                "jwwx_http_errors_total", route=route, errcode="40001"
            ),
            "unknown": await self._series(
                "jwwx_http_requests_total", route="/cgi-bin/*", method="OTHER"
            ),
        }
        self.assertEqual(  # type: ignore[attr-defined]
            {k: after[k] - before[k] for k in after}, {"ok": 2, "bad": 1, "unknown": 1}
        )
        # Unauthenticated admin read: a Matrix error, counted under its pattern.
        self.assertGreaterEqual(  # type: ignore[attr-defined]
            await self._series(
                "jwwx_http_errors_total",
                route="/_jwwx/admin/v1/openapi/apps/{agentid}",
                errcode="M_MISSING_TOKEN",
            ),
            1,
        )
        self.assertGreater(  # type: ignore[attr-defined]
            await self._series("jwwx_http_request_seconds_count", route=route), 0
        )


async def _true(value: bool) -> bool:
    return value


class ApiSecuritySQLiteTest(ApiSecurityTests, SQLiteCase):
    pass


class ApiSecurityPostgresTest(ApiSecurityTests, PostgresCase):
    pass
