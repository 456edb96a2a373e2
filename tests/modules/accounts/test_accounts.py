"""modules.accounts against a real Synapse (SQLite and PostgreSQL): first-login password
change, password policy, login log, lockout, device-class limits, kick-offline, phone
login, bad input."""

import base64
import itertools
import json
import time
from typing import Any

from twisted.internet import reactor, task
from twisted.web.resource import Resource
from twisted.web.server import Site

import pyotp
import yaml

from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.modules.accounts.helpers import (
    ACCOUNTS,
    ANDROID,
    BROWSER,
    DIRECTORY,
    HARMONY,
    LOGIN,
    WINDOWS,
    login,
    raw_request,
    session_client,
)
from tests.modules.directory.helpers import department, member

_n = itertools.count(1)
PASSWORD_PATH = "/_matrix/client/v3/account/password"
WHOAMI = "/_matrix/client/v3/account/whoami"


async def sleep(seconds: float) -> None:
    await task.deferLater(reactor, seconds, lambda: None)


class SmsGateway(Resource):
    """Stand-in for the bureau's SMS gateway, speaking the shape in modules/accounts/sms.py."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.received: list[dict[str, Any]] = []
        self.tokens: list[str | None] = []
        self.refuse = False

    def render_POST(self, request: Any) -> bytes:
        self.received.append(json.loads(request.content.read()))
        auth = request.getHeader("Authorization")
        self.tokens.append(auth)
        request.setHeader(b"Content-Type", b"application/json")
        if self.refuse:
            return json.dumps({"code": 1024, "message": "quota exceeded"}).encode()
        return json.dumps({"code": 0, "message": "ok"}).encode()


class AccountsTests:
    # x_forwarded on (as behind nginx), so tests can log in "from" other addresses.
    init_args = ("--public-baseurl", "http://im.test.jwwx/")

    async def _officer(self, admin: MatrixClient, **fields: Any) -> tuple[str, str]:
        """A directory member with a Matrix account; returns (userid, initial password)."""
        root = await department(admin, f"支队{next(_n)}", None)
        userid = f"officer{next(_n)}"
        created = await member(admin, userid, "张民警", [root], **fields)
        for _ in range(150):
            job = await admin.ok("GET", f"{DIRECTORY}/jobs/{created['job_id']}")
            if job["finished"]:
                break
            await sleep(0.2)
        self.assertEqual(job["created"], 1, job)
        reset = await admin.ok(
            "POST", f"{DIRECTORY}/members/{userid}/initial_password", {}
        )
        return userid, reset["initial_password"]

    def _override_accounts_config(self, **changes: Any) -> Any:
        """Restart the server with modules.accounts config keys replaced (conf.d)."""
        override = self.server.data_dir / "conf.d" / "zz-accounts-test.yaml"
        rendered = yaml.safe_load(
            (self.server.data_dir / "homeserver.yaml").read_text()
        )
        for module in rendered["modules"]:
            if module["module"] == "modules.accounts.AccountsModule":
                module["config"].update(changes)
        override.write_text(yaml.safe_dump({"modules": rendered["modules"]}))
        self.server.restart()
        return override

    def _restore_config(self, override: Any) -> None:
        override.unlink()
        self.server.restart()

    async def _change(
        self, client: MatrixClient, userid: str, current: str, new: str
    ) -> tuple[int, Any]:
        """The standard two-step password change (UIA with the current password)."""
        body: dict[str, Any] = {"new_password": new, "logout_devices": False}
        status, flows = await client.request("POST", PASSWORD_PATH, body)
        if status != 401:
            return status, flows
        body["auth"] = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": userid},
            "password": current,
            "session": flows["session"],
        }
        return await client.request("POST", PASSWORD_PATH, body)

    # 1. First login.

    async def test_first_login_must_change_password(self) -> None:
        base = self.server.base_url
        admin = self.user("accadm", admin=True)
        userid, initial = await self._officer(admin)
        status, session = await login(base, initial, user=userid, user_agent=ANDROID)
        self.assertEqual(status, 200, session)
        officer = session_client(base, session)
        # Every request is refused with the documented error...
        for method, path in (
            ("GET", "/_matrix/client/v3/sync?timeout=0"),
            ("GET", WHOAMI),
            ("POST", "/_matrix/client/v3/createRoom"),
            ("GET", "/_jwwx/client/v1/directory/roots"),
        ):
            body = self.assertErrcode(
                await officer.request(method, path, {} if method == "POST" else None),
                403,
                "CN_JWWX_PASSWORD_CHANGE_REQUIRED",
            )
            self.assertIn("修改", body["error"])
        status_body = await officer.ok("GET", "/_jwwx/client/v1/accounts/status")
        self.assertTrue(status_body["must_change_password"])
        self.assertEqual(status_body["password_policy"]["min_length"], 8)
        # ...weak passwords are refused by the policy, with the reasons...
        for weak, reason in (
            ("Ab1!", "长度"),
            ("abcdefgh", "类"),
            (f"X1!{userid}", "账号"),
            (initial, "初始密码"),
        ):
            body = self.assertErrcode(
                await self._change(officer, userid, initial, weak),
                400,
                "M_WEAK_PASSWORD",
            )
            self.assertIn(reason, body["error"])
        self.assertErrcode(
            await officer.request("GET", WHOAMI),
            403,
            "CN_JWWX_PASSWORD_CHANGE_REQUIRED",
        )
        # ...a good one through the standard endpoint ends the state on the same session.
        status, body = await self._change(officer, userid, initial, "Jing-Wu-2026!")
        self.assertEqual(status, 200, body)
        self.assertEqual(
            (await officer.ok("GET", WHOAMI))["user_id"], session["user_id"]
        )
        await officer.ok("GET", "/_matrix/client/v3/sync?timeout=0")
        self.assertFalse(
            (await officer.ok("GET", "/_jwwx/client/v1/accounts/status"))[
                "must_change_password"
            ]
        )
        self.assertEqual((await login(base, initial, user=userid))[0], 403)
        # An admin reset signs every session out and starts over.
        reset = await admin.ok(
            "POST", f"{DIRECTORY}/members/{userid}/initial_password", {}
        )
        self.assertErrcode(await officer.request("GET", WHOAMI), 401, "M_UNKNOWN_TOKEN")
        self.assertEqual((await login(base, "Jing-Wu-2026!", user=userid))[0], 403)
        status, session = await login(base, reset["initial_password"], user=userid)
        self.assertEqual(status, 200, session)
        again = session_client(base, session)
        self.assertErrcode(
            await again.request("GET", WHOAMI), 403, "CN_JWWX_PASSWORD_CHANGE_REQUIRED"
        )
        self.assertTrue(
            (await admin.ok("GET", f"{ACCOUNTS}/users/{userid}"))[
                "must_change_password"
            ]
        )
        # Logging out is always possible.
        await again.ok("POST", "/_matrix/client/v3/logout", {})
        # Accounts with a password of their own are not affected.
        plain = self.user("plain")
        await plain.ok("GET", WHOAMI)

    # 2. Login log and lockout.

    async def test_lockout_after_failures_and_admin_release(self) -> None:
        base = self.server.base_url
        admin = self.user("accadm", admin=True)
        victim = self.user("victim")
        localpart = victim.user_id[1:].split(":")[0]
        password = "pw-" + localpart
        for _ in range(5):
            self.assertErrcode(
                await login(base, "wrong", user=localpart, user_agent=HARMONY),
                403,
                "M_FORBIDDEN",
            )
        # Locked: even the right password is refused, without being checked.
        body = self.assertErrcode(
            await login(base, password, user=localpart), 403, "CN_JWWX_LOGIN_LOCKED"
        )
        self.assertIn("锁定", body["error"])
        self.assertGreater(body["retry_after_ms"], 0)
        locks = (await admin.ok("GET", f"{ACCOUNTS}/lockouts"))["lockouts"]
        mine = [lock for lock in locks if lock["subject"] == victim.user_id]
        self.assertEqual(len(mine), 1, locks)
        self.assertEqual((mine[0]["scope"], mine[0]["failures"]), ("user", 5))
        self.assertTrue(
            (await admin.ok("GET", f"{ACCOUNTS}/users/{localpart}"))["locked"]
        )
        # Officers cannot see or release locks.
        self.assertErrcode(
            await victim.request("GET", f"{ACCOUNTS}/lockouts"), 403, "M_FORBIDDEN"
        )
        self.assertErrcode(
            await victim.request("DELETE", f"{ACCOUNTS}/lockouts/users/{localpart}"),
            403,
            "M_FORBIDDEN",
        )
        await admin.ok("DELETE", f"{ACCOUNTS}/lockouts/users/{localpart}")
        self.assertErrcode(
            await admin.request("DELETE", f"{ACCOUNTS}/lockouts/users/{localpart}"),
            404,
            "M_NOT_FOUND",
        )
        status, session = await login(
            base, password, user=localpart, user_agent=WINDOWS, device_id="PCDESK1"
        )
        self.assertEqual(status, 200, session)
        # The login log: newest first, every attempt with IP, user agent and platform.
        log = (await admin.ok("GET", f"{ACCOUNTS}/users/{localpart}/logins"))["logins"]
        self.assertEqual([e["result"] for e in log], ["ok", "locked"] + ["failed"] * 5)
        newest = log[0]
        self.assertEqual(
            (newest["kind"], newest["device_id"], newest["platform"], newest["ip"]),
            ("login", "PCDESK1", "desktop", "127.0.0.1"),
        )
        self.assertEqual(newest["user_agent"], WINDOWS)
        self.assertEqual(log[2]["platform"], "mobile")
        self.assertEqual(log[2]["errcode"], "M_FORBIDDEN")
        self.assertIn("locked:account", log[2]["detail"])
        # Paging and filters.
        page = await admin.ok("GET", f"{ACCOUNTS}/users/{localpart}/logins?limit=2")
        self.assertEqual(len(page["logins"]), 2)
        rest = await admin.ok(
            "GET",
            f"{ACCOUNTS}/users/{localpart}/logins?limit=50&from={page['next_from']}",
        )
        self.assertEqual(len(rest["logins"]), 5)
        failed = await admin.ok(
            "GET", f"{ACCOUNTS}/logins?user_id={localpart}&result=failed"
        )
        self.assertEqual(len(failed["logins"]), 5)
        self.assertErrcode(
            await admin.request("GET", f"{ACCOUNTS}/logins?limit=100000"),
            400,
            "M_INVALID_PARAM",
        )
        self.assertErrcode(
            await admin.request("DELETE", f"{ACCOUNTS}/lockouts/ips/not-an-ip"),
            400,
            "M_INVALID_PARAM",
        )

    async def test_source_ip_lockout(self) -> None:
        base = self.server.base_url
        admin = self.user("accadm", admin=True)
        someone = self.user("ipuser")
        localpart = someone.user_id[1:].split(":")[0]
        attacker = f"10.66.{next(_n) % 250}.7"
        # Guessing across many (even unknown) accounts from one address locks the address.
        for k in range(50):
            self.assertErrcode(
                await login(base, "guess", user=f"nobody{k}", forwarded_for=attacker),
                403,
                "M_FORBIDDEN",
            )
        self.assertErrcode(
            await login(
                base, "pw-" + localpart, user=localpart, forwarded_for=attacker
            ),
            403,
            "CN_JWWX_LOGIN_LOCKED",
        )
        status, _ = await login(
            base, "pw-" + localpart, user=localpart, forwarded_for="10.77.0.1"
        )
        self.assertEqual(status, 200)
        locks = (await admin.ok("GET", f"{ACCOUNTS}/lockouts"))["lockouts"]
        self.assertIn(("ip", attacker), [(x["scope"], x["subject"]) for x in locks])
        # Unknown accounts are not locked themselves (nothing to lock).
        self.assertNotIn("@nobody1:", " ".join(x["subject"] for x in locks))
        await admin.ok("DELETE", f"{ACCOUNTS}/lockouts/ips/{attacker}")
        status, _ = await login(
            base, "pw-" + localpart, user=localpart, forwarded_for=attacker
        )
        self.assertEqual(status, 200)

    # 3. Device-class limits and kick-offline.

    async def test_same_platform_login_signs_older_session_out(self) -> None:
        base = self.server.base_url
        admin = self.user("accadm", admin=True)
        someone = self.user("multi")
        localpart = someone.user_id[1:].split(":")[0]
        password = "pw-" + localpart
        sessions = {}
        for name, agent in (("phone1", ANDROID), ("pc", WINDOWS), ("web", BROWSER)):
            status, sessions[name] = await login(
                base, password, user=localpart, user_agent=agent
            )
            self.assertEqual(status, 200, sessions[name])
        clients = {k: session_client(base, v) for k, v in sessions.items()}
        for client in clients.values():
            await client.ok("GET", WHOAMI)
        # A second phone (HarmonyOS) signs the first phone out, and only it.
        status, phone2 = await login(base, password, user=localpart, user_agent=HARMONY)
        self.assertEqual(status, 200, phone2)
        self.assertErrcode(
            await clients["phone1"].request("GET", WHOAMI), 401, "M_UNKNOWN_TOKEN"
        )
        await clients["pc"].ok("GET", WHOAMI)
        await clients["web"].ok("GET", WHOAMI)
        await session_client(base, phone2).ok("GET", WHOAMI)
        # An explicit platform attribute in the login body counts too.
        status, pc2 = await login(
            base,
            password,
            user=localpart,
            user_agent=ANDROID,
            **{"cn.jwwx.platform": "desktop"},
        )
        self.assertEqual(status, 200, pc2)
        self.assertErrcode(
            await clients["pc"].request("GET", WHOAMI), 401, "M_UNKNOWN_TOKEN"
        )
        await session_client(base, phone2).ok("GET", WHOAMI)
        devices = (await admin.ok("GET", f"{ACCOUNTS}/users/{localpart}/devices"))[
            "devices"
        ]
        platforms = sorted(d["platform"] for d in devices if d["platform"])
        self.assertEqual(platforms, ["desktop", "mobile", "web"])
        kicks = (
            await admin.ok("GET", f"{ACCOUNTS}/logins?user_id={localpart}&kind=kick")
        )["logins"]
        self.assertEqual(
            sorted(k["device_id"] for k in kicks),
            sorted([sessions["phone1"]["device_id"], sessions["pc"]["device_id"]]),
        )
        self.assertTrue(all(k["result"] == "signed_out" for k in kicks))
        # Officers list and sign out their own devices with the standard endpoints.
        # (plus the device of the harness's registration, platform unknown).
        own = await session_client(base, phone2).ok("GET", "/_matrix/client/v3/devices")
        self.assertEqual(len(own["devices"]), 4)

    async def test_admin_kicks_a_device_offline(self) -> None:
        base = self.server.base_url
        admin = self.user("accadm", admin=True)
        someone = self.user("kicked")
        localpart = someone.user_id[1:].split(":")[0]
        status, session = await login(
            base, "pw-" + localpart, user=localpart, user_agent=ANDROID
        )
        self.assertEqual(status, 200, session)
        client = session_client(base, session)
        await client.ok("GET", WHOAMI)
        path = f"{ACCOUNTS}/users/{localpart}/devices/{session['device_id']}"
        self.assertErrcode(await someone.request("DELETE", path), 403, "M_FORBIDDEN")
        result = await admin.ok("DELETE", path)
        self.assertEqual(result["signed_out"], [session["device_id"]])
        self.assertErrcode(await client.request("GET", WHOAMI), 401, "M_UNKNOWN_TOKEN")
        self.assertErrcode(await admin.request("DELETE", path), 404, "M_NOT_FOUND")
        self.assertErrcode(
            await admin.request(
                "DELETE", f"{ACCOUNTS}/users/nobody{next(_n)}/devices/X"
            ),
            404,
            "M_NOT_FOUND",
        )
        # Sign out everywhere: the registration token of `someone` too.
        await admin.ok("POST", f"{ACCOUNTS}/users/{localpart}/logout", {})
        self.assertErrcode(await someone.request("GET", WHOAMI), 401, "M_UNKNOWN_TOKEN")
        kicks = (
            await admin.ok("GET", f"{ACCOUNTS}/logins?user_id={localpart}&kind=kick")
        )["logins"]
        self.assertIn("管理员", kicks[-1]["detail"])
        self.assertEqual(kicks[-1]["identifier"], admin.user_id)

    # 4. Phone login.

    async def test_phone_number_login(self) -> None:
        base = self.server.base_url
        admin = self.user("accadm", admin=True)
        mobile = f"139{next(_n):08d}"
        userid, initial = await self._officer(admin, mobile=mobile)
        user_id = f"@{userid}:{self.server.server_name}"
        for identifier in (
            {"type": "m.id.phone", "country": "CN", "phone": mobile},
            {"type": "m.id.phone", "country": "CN", "phone": f"+86 {mobile}"},
            {"type": "m.id.thirdparty", "medium": "msisdn", "address": f"86{mobile}"},
        ):
            status, session = await login(base, initial, identifier=identifier)
            self.assertEqual((status, session.get("user_id")), (200, user_id), session)
        self.assertErrcode(
            await login(
                base,
                initial + "x",
                identifier={"type": "m.id.phone", "country": "CN", "phone": mobile},
            ),
            403,
            "M_FORBIDDEN",
        )
        self.assertErrcode(
            await login(
                base,
                initial,
                identifier={
                    "type": "m.id.phone",
                    "country": "CN",
                    "phone": "13000000000",
                },
            ),
            403,
            "M_FORBIDDEN",
        )
        log = (await admin.ok("GET", f"{ACCOUNTS}/logins?user_id={userid}"))["logins"]
        self.assertEqual(log[0]["result"], "failed")
        self.assertEqual(log[0]["identifier"], f"phone:{mobile}")

    # 5. Multi-factor login (TOTP, recovery codes).

    async def test_totp_enrolment_and_login(self) -> None:
        base = self.server.base_url
        admin = self.user("accadm", admin=True)
        officer = self.user("mfa")
        localpart = officer.user_id[1:].split(":")[0]
        password = "pw-" + localpart
        mfa = "/_jwwx/client/v1/accounts/mfa"
        status, flows = await raw_request(base, "GET", LOGIN)
        self.assertIn("cn.jwwx.login.totp", [f["type"] for f in flows["flows"]])
        self.assertFalse((await officer.ok("GET", mfa))["totp_enabled"])
        enrol = await officer.ok("POST", f"{mfa}/totp", {})
        self.assertTrue(enrol["otpauth_uri"].startswith("otpauth://totp/"))
        self.assertTrue(base64.b64decode(enrol["qr_png_base64"]).startswith(b"\x89PNG"))
        totp = pyotp.TOTP(enrol["secret"])
        wrong = f"{(int(totp.now()) + 1) % 1000000:06d}"
        self.assertErrcode(
            await officer.request("POST", f"{mfa}/totp/confirm", {"code": wrong}),
            403,
            "M_FORBIDDEN",
        )
        self.assertErrcode(
            await officer.request("POST", f"{mfa}/totp/confirm", {}),
            400,
            "M_INVALID_PARAM",
        )
        first = totp.now()
        codes = (await officer.ok("POST", f"{mfa}/totp/confirm", {"code": first}))[
            "recovery_codes"
        ]
        self.assertEqual(len(codes), 10)
        self.assertErrcode(
            await officer.request("POST", f"{mfa}/totp", {}), 409, "CN_JWWX_MFA_ENABLED"
        )
        status_body = await officer.ok("GET", mfa)
        self.assertEqual(
            (status_body["totp_enabled"], status_body["recovery_codes_left"]),
            (True, 10),
        )
        # The password alone is no longer enough...
        body = self.assertErrcode(
            await login(base, password, user=localpart), 403, "CN_JWWX_MFA_REQUIRED"
        )
        self.assertEqual(body["cn.jwwx.login_type"], "cn.jwwx.login.totp")

        async def totp_login(code: str, pw: str = password) -> tuple[int, Any]:
            return await raw_request(
                base,
                "POST",
                LOGIN,
                {
                    "type": "cn.jwwx.login.totp",
                    "identifier": {"type": "m.id.user", "user": localpart},
                    "password": pw,
                    "code": code,
                },
                user_agent=ANDROID,
            )

        # ...wrong and replayed codes are refused, a fresh one works once.
        self.assertErrcode(await totp_login(wrong), 403, "M_FORBIDDEN")
        self.assertErrcode(await totp_login(first), 403, "M_FORBIDDEN")
        fresh = totp.at(time.time() + 30)
        self.assertErrcode(await totp_login(fresh, "bad-password"), 403, "M_FORBIDDEN")
        status, session = await totp_login(fresh)
        self.assertEqual(status, 200, session)
        await session_client(base, session).ok("GET", WHOAMI)
        self.assertErrcode(await totp_login(fresh), 403, "M_FORBIDDEN")
        # A recovery code works once.
        status, session = await totp_login(codes[0].lower())
        self.assertEqual(status, 200, session)
        self.assertErrcode(await totp_login(codes[0]), 403, "M_FORBIDDEN")
        self.assertEqual((await officer.ok("GET", mfa))["recovery_codes_left"], 9)
        log = (await admin.ok("GET", f"{ACCOUNTS}/users/{localpart}/logins"))["logins"]
        # (the second phone login signed the first phone out: one mobile session)
        self.assertEqual(
            [e["result"] for e in log][:5],
            ["failed", "signed_out", "ok", "failed", "ok"],
        )
        self.assertIn("mfa_required", [e["result"] for e in log])
        # Turning it off needs a code; then the password alone works again.
        self.assertErrcode(
            await officer.request("DELETE", f"{mfa}/totp", {"code": "AAAAA-BBBBB"}),
            403,
            "M_FORBIDDEN",
        )
        await officer.ok("DELETE", f"{mfa}/totp", {"code": codes[1]})
        self.assertEqual((await login(base, password, user=localpart))[0], 200)

    async def test_totp_required_by_policy(self) -> None:
        """mfa.required_for: admins — an admin without TOTP is held until enrolled."""
        override = self._override_accounts_config(
            mfa={
                "secret_path": str(self.server.data_dir / "keys" / "accounts_secret"),
                "required_for": "admins",
            }
        )
        try:
            base = self.server.base_url
            boss = self.user("mfaboss", admin=True)
            officer = self.user("mfafree")
            body = self.assertErrcode(
                await boss.request("GET", WHOAMI), 403, "CN_JWWX_MFA_ENROLMENT_REQUIRED"
            )
            self.assertIn("动态验证码", body["error"])
            await officer.ok("GET", WHOAMI)
            mfa = "/_jwwx/client/v1/accounts/mfa"
            self.assertTrue((await boss.ok("GET", mfa))["required"])
            self.assertFalse((await officer.ok("GET", mfa))["required"])
            enrol = await boss.ok("POST", f"{mfa}/totp", {})
            code = pyotp.TOTP(enrol["secret"]).now()
            await boss.ok("POST", f"{mfa}/totp/confirm", {"code": code})
            await boss.ok("GET", WHOAMI)  # the same session works once enrolled
            localpart = boss.user_id[1:].split(":")[0]
            self.assertErrcode(
                await login(base, "pw-" + localpart, user=localpart),
                403,
                "CN_JWWX_MFA_REQUIRED",
            )
        finally:
            self._restore_config(override)

    async def test_device_key_issued_by_admin(self) -> None:
        base = self.server.base_url
        admin = self.user("accadm", admin=True)
        officer = self.user("keyed")
        localpart = officer.user_id[1:].split(":")[0]
        password = "pw-" + localpart
        keys = f"{ACCOUNTS}/users/{localpart}/device_keys"
        self.assertErrcode(
            await officer.request("POST", keys, {"label": "x"}), 403, "M_FORBIDDEN"
        )
        self.assertErrcode(
            await admin.request("POST", keys, {"label": ""}), 400, "M_INVALID_PARAM"
        )
        issued = await admin.ok("POST", keys, {"label": "执法记录仪 A12"})
        self.assertTrue(issued["key"].startswith("JWK-"))
        listed = (await admin.ok("GET", keys))["device_keys"]
        self.assertEqual([k["label"] for k in listed], ["执法记录仪 A12"])
        self.assertNotIn("key", listed[0])
        self.assertEqual(
            (await officer.ok("GET", "/_jwwx/client/v1/accounts/mfa"))["device_keys"], 1
        )
        # The account now needs the second factor; the device key is one.
        self.assertErrcode(
            await login(base, password, user=localpart), 403, "CN_JWWX_MFA_REQUIRED"
        )

        async def key_login(code: str) -> tuple[int, Any]:
            return await raw_request(
                base,
                "POST",
                LOGIN,
                {
                    "type": "cn.jwwx.login.totp",
                    "identifier": {"type": "m.id.user", "user": localpart},
                    "password": password,
                    "code": code,
                },
            )

        status, session = await key_login(issued["key"])
        self.assertEqual(status, 200, session)
        self.assertEqual((await key_login(issued["key"]))[0], 200)  # a key is reusable
        self.assertErrcode(
            await key_login(issued["key"][:-1] + "Z"), 403, "M_FORBIDDEN"
        )
        # Revoked: the key stops working, and without factors the password is enough again.
        await admin.ok("DELETE", f"{keys}/{issued['key_id']}")
        self.assertErrcode(
            await admin.request("DELETE", f"{keys}/{issued['key_id']}"),
            404,
            "M_NOT_FOUND",
        )
        self.assertErrcode(await key_login(issued["key"]), 403, "M_FORBIDDEN")
        self.assertEqual((await login(base, password, user=localpart))[0], 200)

    # Admin account control: password reset with SMS delivery, disable / enable.

    async def test_admin_reset_with_sms_and_disable_enable(self) -> None:
        gateway = SmsGateway()
        port = reactor.listenTCP(0, Site(gateway), interface="127.0.0.1")
        url = f"http://127.0.0.1:{port.getHost().port}/send"
        override = self._override_accounts_config(sms={"url": url, "sign": "警务微信"})
        try:
            await self._reset_disable_enable(gateway)
        finally:
            await port.stopListening()
            self._restore_config(override)

    async def _reset_disable_enable(self, gateway: "SmsGateway") -> None:
        base = self.server.base_url
        admin = self.user("accadm", admin=True)
        mobile = f"137{next(_n):08d}"
        userid, initial = await self._officer(admin, mobile=mobile)
        status, session = await login(base, initial, user=userid)
        self.assertEqual(status, 200, session)
        officer = session_client(base, session)
        status, body = await self._change(officer, userid, initial, "Own-Pass-2026!")
        self.assertEqual(status, 200, body)
        path = f"{ACCOUNTS}/users/{userid}"
        # Refused: not an admin, bad body, unknown account, an account not in the directory.
        self.assertErrcode(
            await officer.request("POST", f"{path}/password_reset", {}),
            403,
            "M_FORBIDDEN",
        )
        self.assertErrcode(
            await admin.request("POST", f"{path}/password_reset", {"sms": "yes"}),
            400,
            "M_INVALID_PARAM",
        )
        self.assertErrcode(
            await admin.request(
                "POST", f"{ACCOUNTS}/users/ghost{next(_n)}/password_reset", {}
            ),
            404,
            "M_NOT_FOUND",
        )
        outsider = self.user("outsider")
        self.assertErrcode(
            await admin.request(
                "POST", f"{ACCOUNTS}/users/{outsider.user_id}/password_reset", {}
            ),
            404,
            "CN_JWWX_MEMBER_NOT_FOUND",
        )
        self.assertEqual(gateway.received, [])
        # The reset: shown once, sent by SMS in the documented shape, sessions ended.
        reset = await admin.ok("POST", f"{path}/password_reset", {})
        self.assertEqual((reset["sms_sent"], reset["sms_error"]), (True, None))
        self.assertEqual(len(gateway.received), 1)
        sms = gateway.received[0]
        self.assertEqual((sms["mobile"], sms["sign"]), (mobile, "警务微信"))
        self.assertIn(reset["initial_password"], sms["content"])
        self.assertTrue(sms["request_id"])
        self.assertEqual(gateway.tokens, [None])
        self.assertErrcode(await officer.request("GET", WHOAMI), 401, "M_UNKNOWN_TOKEN")
        self.assertEqual((await login(base, "Own-Pass-2026!", user=userid))[0], 403)
        status, session = await login(base, reset["initial_password"], user=userid)
        self.assertEqual(status, 200, session)
        self.assertErrcode(
            await session_client(base, session).request("GET", WHOAMI),
            403,
            "CN_JWWX_PASSWORD_CHANGE_REQUIRED",
        )
        # A gateway refusal is reported, and the password is still shown to the admin.
        gateway.refuse = True
        reset = await admin.ok("POST", f"{path}/password_reset", {})
        self.assertFalse(reset["sms_sent"])
        self.assertIn("quota", reset["sms_error"])
        without = await admin.ok("POST", f"{path}/password_reset", {"sms": False})
        self.assertEqual((without["sms_sent"], len(gateway.received)), (False, 2))
        # Disable: signed out, no login (M_USER_LOCKED); enable: back.
        password = without["initial_password"]
        status, session = await login(base, password, user=userid)
        self.assertEqual(status, 200, session)
        await admin.ok("POST", f"{path}/disable", {})
        self.assertErrcode(
            await session_client(base, session).request("GET", WHOAMI),
            401,
            "M_UNKNOWN_TOKEN",
        )
        self.assertErrcode(
            await login(base, password, user=userid), 401, "M_USER_LOCKED"
        )
        member = await admin.ok("GET", f"{DIRECTORY}/members/{userid}")
        self.assertFalse(member["enabled"])
        await admin.ok("POST", f"{path}/enable", {})
        self.assertEqual((await login(base, password, user=userid))[0], 200)
        # Accounts outside the directory are locked directly.
        await admin.ok("POST", f"{ACCOUNTS}/users/{outsider.user_id}/disable", {})
        self.assertErrcode(
            await outsider.request("GET", WHOAMI), 401, "M_UNKNOWN_TOKEN"
        )
        await admin.ok("POST", f"{ACCOUNTS}/users/{outsider.user_id}/enable", {})
        # Every admin action is in the user's log.
        log = [
            e
            for e in (await admin.ok("GET", f"{path}/logins"))["logins"]
            if e["kind"] == "admin"
        ]
        self.assertEqual(
            [e["result"] for e in log],
            [
                "enabled",
                "disabled",
                "password_reset",
                "password_reset",
                "password_reset",
            ],
        )
        self.assertEqual(log[0]["identifier"], admin.user_id)

    # 6. New network range or device: a server notice and an admin alert.

    async def test_new_place_login_notice(self) -> None:
        base = self.server.base_url
        admin = self.user("accadm", admin=True)
        officer = self.user("travel")
        localpart = officer.user_id[1:].split(":")[0]
        password = "pw-" + localpart

        async def login_from(ip: str, agent: str) -> MatrixClient:
            status, session = await login(
                base, password, user=localpart, user_agent=agent, forwarded_for=ip
            )
            self.assertEqual(status, 200, session)
            return session_client(base, session)

        await login_from("10.1.2.3", ANDROID)  # the first login sets the baseline
        await login_from("10.1.2.99", ANDROID)  # same /24, same client: nothing
        alerts_path = f"{ACCOUNTS}/alerts?user_id={localpart}"
        self.assertEqual((await admin.ok("GET", alerts_path))["alerts"], [])
        phone = await login_from("172.16.5.5", ANDROID)
        pc = await login_from("10.1.2.3", WINDOWS)
        alerts = (await admin.ok("GET", alerts_path))["alerts"]
        self.assertEqual(
            [(a["reasons"], a["ip"]) for a in alerts],
            [(["new_device"], "10.1.2.3"), (["new_network"], "172.16.5.5")],
        )
        self.assertEqual(alerts[1]["network"], "172.16.5.0/24")
        # The officer finds both notices in the server-notices room.
        notices: list[str] = []
        for _ in range(40):
            result = await pc.sync(timeout_ms=500)
            for room in result.get("rooms", {}).get("join", {}).values():
                for event in room.get("timeline", {}).get("events", []):
                    if event["sender"].startswith("@notices:") and (
                        event["type"] == "m.room.message"
                    ):
                        notices.append(event["content"].get("body", ""))
            if len(notices) >= 2:
                break
        self.assertEqual(len(notices), 2, notices)
        self.assertIn("172.16.5.5", notices[0])
        self.assertIn("新的网络位置", notices[0])
        self.assertIn("新的设备", notices[1])
        self.assertIn("如非本人操作", notices[1])
        alerts = (await admin.ok("GET", alerts_path))["alerts"]
        self.assertTrue(all(a["notified"] for a in alerts), alerts)
        await phone.ok("GET", WHOAMI)

    # Bad input.

    async def test_bad_login_input_changes_nothing(self) -> None:
        base = self.server.base_url
        admin = self.user("accadm", admin=True)
        someone = self.user("careful")
        localpart = someone.user_id[1:].split(":")[0]
        before = (await admin.ok("GET", f"{ACCOUNTS}/logins?user_id={localpart}"))[
            "logins"
        ]
        self.assertErrcode(
            await raw_request(base, "POST", LOGIN, raw=b"{not json"), 400, "M_NOT_JSON"
        )
        self.assertErrcode(
            await raw_request(base, "POST", LOGIN, {"type": "m.login.password"}),
            400,
            "M_INVALID_PARAM",
        )
        status, body = await raw_request(
            base,
            "POST",
            LOGIN,
            {
                "type": "cn.unknown",
                "identifier": {"type": "m.id.user", "user": localpart},
            },
        )
        self.assertEqual(status, 400, body)
        self.assertErrcode(
            await login(base, "x", user="a" * 5000), 400, "M_INVALID_PARAM"
        )
        self.assertErrcode(
            await login(
                base,
                "x",
                identifier={"type": "m.id.phone", "country": "CN", "phone": ""},
            ),
            400,
            "M_INVALID_PARAM",
        )
        after = (await admin.ok("GET", f"{ACCOUNTS}/logins?user_id={localpart}"))[
            "logins"
        ]
        self.assertEqual(before, after)
        self.assertErrcode(
            await admin.request("GET", f"{ACCOUNTS}/users/bad%20name"),
            400,
            "M_INVALID_PARAM",
        )
        self.assertErrcode(
            await admin.request("GET", f"{ACCOUNTS}/users/@x:elsewhere.example"),
            400,
            "M_INVALID_PARAM",
        )


class AccountsSQLiteTest(AccountsTests, SQLiteCase):
    pass


class AccountsPostgresTest(AccountsTests, PostgresCase):
    pass
