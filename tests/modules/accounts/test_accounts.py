# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.accounts against a real Synapse (SQLite and PostgreSQL): first-login password
change, password policy, login log, lockout, device-class limits, own devices,
kick-offline, phone login, new-place notices, admin account control, bad input.
Multi-factor login is in test_mfa.py."""

import datetime
from typing import Any, ClassVar

from twisted.internet import reactor
from twisted.web.server import Site

import pyotp
from aiosmtpd.controller import Controller

from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.harness.server import free_port
from tests.modules.accounts.helpers import (
    ACCOUNTS,
    ANDROID,
    BROWSER,
    DEVICES,
    DIRECTORY,
    HARMONY,
    LOGIN,
    MFA,
    WHOAMI,
    WINDOWS,
    SmsGateway,
    account,
    accounts_admin,
    change_password,
    directory_officer,
    login,
    login_log,
    override_accounts_config,
    raw_request,
    restore_config,
    server_notices,
    session_client,
    sleep,
    unique,
    with_password_auth,
)
from tests.modules.directory.helpers import department, member
from tests.modules.directory.test_provisioning import Inbox


class AccountsTests:
    inbox: ClassVar[Inbox]
    smtp: ClassVar[Controller]

    @classmethod
    def prepare_class(cls) -> Any:
        """An SMTP stand-in (the directory mails reset passwords), and x_forwarded on
        (as behind nginx), so tests can log in "from" other addresses."""
        cls.inbox = Inbox()
        port = free_port()
        cls.smtp = Controller(cls.inbox, hostname="127.0.0.1", port=port)
        cls.smtp.start()
        cls.init_args = (
            "--public-baseurl",
            "http://im.test.jwwx/",
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            str(port),
            "--mail-from",
            "noreply@police.example",
        )

    @classmethod
    def finish_class(cls) -> Any:
        cls.smtp.stop()

    async def _mail_with(self, address: str, text: str) -> Any:
        """The mail to `address` whose body contains `text` (sent in the background)."""
        for _ in range(150):
            for message in self.inbox.messages:
                if message["To"] == address and text in message.get_content():
                    return message
            await sleep(0.2)
        raise AssertionError(f"no mail to {address} with {text!r}")

    # 1. First login.

    async def test_first_login_must_change_password(self) -> None:
        base = self.server.base_url
        admin = accounts_admin(self)
        userid, initial = await directory_officer(self, admin)
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
                await change_password(officer, userid, initial, weak),
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
        status, body = await change_password(officer, userid, initial, "Jing-Wu-2026!")
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
        admin = accounts_admin(self)
        victim, localpart, password = account(self, "victim")
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

    async def test_admin_sets_the_security_policy_at_run_time(self) -> None:
        base = self.server.base_url
        admin = accounts_admin(self)
        # The admin keeps working when every account must use a second factor.
        enrol = await admin.ok("POST", f"{MFA}/totp", {})
        code = pyotp.TOTP(enrol["secret"]).now()
        await admin.ok("POST", f"{MFA}/totp/confirm", {"code": code})
        path = f"{ACCOUNTS}/security_policy"
        shown = await admin.ok("GET", path)
        self.assertEqual(shown["config"]["lockout"]["max_failures"], 5)
        self.assertEqual(shown["set_sections"], [])
        self.assertTrue(shown["mfa"]["available"])
        try:
            # One wrong password locks now; two web sessions may stay; every account
            # must enrol a second factor.
            answer = await admin.ok(
                "PUT",
                path,
                {
                    "lockout": {"max_failures": 1},
                    "device_limits": {"web": 2},
                    "mfa": {"required_for": "all"},
                },
            )
            self.assertEqual(answer["lockout"]["max_failures"], 1)
            self.assertEqual(answer["lockout"]["lock_seconds"], 1800)  # the config's
            self.assertEqual(answer["device_limits"]["mobile"], 1)
            victim, localpart, password = account(self, "policy")
            self.assertErrcode(
                await login(base, "wrong", user=localpart, forwarded_for="10.9.8.7"),
                403,
                "M_FORBIDDEN",
            )
            self.assertErrcode(
                await login(base, password, user=localpart, forwarded_for="10.9.8.7"),
                403,
                "CN_JWWX_LOGIN_LOCKED",
            )
            self.assertErrcode(
                await victim.request("GET", WHOAMI),
                403,
                "CN_JWWX_MFA_ENROLMENT_REQUIRED",
            )
            await admin.ok("DELETE", f"{ACCOUNTS}/lockouts/users/{localpart}")
            await admin.ok("PUT", path, {"mfa": {"required_for": "none"}})
            webs = []
            for _ in range(2):
                status, session = await login(
                    base, password, user=localpart, user_agent=BROWSER
                )
                self.assertEqual(status, 200, session)
                webs.append(session_client(base, session))
            for web in webs:
                await web.ok("GET", WHOAMI)  # the limit (config: 1) is 2 now
            shown = await admin.ok("GET", path)
            self.assertEqual(
                sorted(shown["set_sections"]), ["device_limits", "lockout", "mfa"]
            )
            self.assertEqual(shown["updated_by"], admin.user_id)
            # Bad bodies: refused whole, nothing stored.
            for body in (
                {},
                {"lockout": {"max_failures": 0}},
                {"lockout": {"max_failures": 3}, "device_limits": {"tv": 1}},
                {"mfa": {"required_for": "departments"}},
                {"mfa": {"required_for": "sometimes"}},
                {"device_limits": {"web": "2"}},
                {"new_login_alerts": 1},
                {"password_policy": {}},
            ):
                self.assertErrcode(
                    await admin.request("PUT", path, body), 400, "M_INVALID_PARAM"
                )
            self.assertEqual(
                (await admin.ok("GET", path))["lockout"]["max_failures"], 1
            )
            self.assertErrcode(
                await victim.request("PUT", path, {"new_login_alerts": False}),
                403,
                "M_FORBIDDEN",
            )
        finally:
            config = shown["config"]
            await admin.ok(
                "PUT",
                path,
                {k: config[k] for k in ("mfa", "device_limits", "lockout")},
            )

    async def test_active_members_per_period_and_unit(self) -> None:
        admin = accounts_admin(self)
        path = f"{ACCOUNTS}/activity"
        root = await department(admin, f"统计市局{unique()}", None)
        east, west = [
            await department(admin, n, root) for n in ("东区分局", "西区分局")
        ]
        officers = []
        for unit in (east, east, west):
            officer, localpart, password = account(self, "active")
            await member(admin, localpart, "民警", [unit])
            officers.append(officer)
        for officer in officers:
            await officer.ok("GET", WHOAMI)  # any request makes its account active
        await officers[0].ok("GET", WHOAMI)  # counted once a day
        status, _session = await login(
            self.server.base_url, password, user=localpart, user_agent=BROWSER
        )
        self.assertEqual(status, 200)
        day = await admin.ok("GET", f"{path}?period=day&count=3")
        self.assertEqual(len(day["series"]), 3)
        self.assertEqual(day["series"][-1]["start"], day["last_day"])
        self.assertGreaterEqual(day["series"][-1]["active"], 3)
        units = {u["id"]: (u["active"], u["members"]) for u in day["units"]}
        self.assertEqual((units[east], units[west]), ((2, 2), (1, 1)))
        self.assertGreaterEqual(day["usage"]["web"]["ok"], 1)  # the usage records
        week = await admin.ok("GET", f"{path}?period=week&count=2")
        monday = datetime.date.fromisoformat(week["series"][-1]["start"])
        self.assertEqual(monday.weekday(), 0)
        month = await admin.ok("GET", f"{path}?period=month&count=2")
        self.assertTrue(month["series"][-1]["start"].endswith("-01"))
        self.assertGreaterEqual(month["series"][-1]["active"], 3)
        # A unit's admin counts its unit only, without the bureau's usage records.
        unit_admin = self.user("unitstats")
        await admin.ok(
            "POST",
            "/_jwwx/admin/v1/admins/groups",
            {
                "name": f"西区统计{unique()}",
                "members": [unit_admin.user_id],
                "scope": [west],
                "rights": ["directory.view"],
            },
        )
        scoped = await unit_admin.ok("GET", f"{path}?period=day&count=1")
        self.assertEqual([(u["id"], u["active"]) for u in scoped["units"]], [(west, 1)])
        self.assertEqual(scoped["total_active"], 1)
        self.assertIsNone(scoped["usage"])
        for bad in ("period=year", "period=day&count=0", "period=day&count=93"):
            self.assertErrcode(
                await admin.request("GET", f"{path}?{bad}"), 400, "M_INVALID_PARAM"
            )
        self.assertErrcode(await officers[0].request("GET", path), 403, "M_FORBIDDEN")

    async def test_lock_after_many_logins_of_the_account(self) -> None:
        # The lock read runs at every login (on PostgreSQL a statement prepared once per
        # connection): after many reads of this account it still sees a new lock.
        base = self.server.base_url
        _someone, localpart, password = account(self, "often")
        for k in range(8):
            status, body = await login(
                base, password, user=localpart, device_id=f"OFTEN{k}"
            )
            self.assertEqual(status, 200, body)
        for _ in range(5):
            self.assertErrcode(
                await login(base, "wrong", user=localpart), 403, "M_FORBIDDEN"
            )
        self.assertErrcode(
            await login(base, password, user=localpart), 403, "CN_JWWX_LOGIN_LOCKED"
        )

    async def test_source_ip_lockout(self) -> None:
        base = self.server.base_url
        admin = accounts_admin(self)
        someone, localpart, password = account(self, "ipuser")
        attacker = f"10.66.{unique() % 250}.7"
        # Guessing across many (even unknown) accounts from one address locks the address.
        for k in range(50):
            self.assertErrcode(
                await login(base, "guess", user=f"nobody{k}", forwarded_for=attacker),
                403,
                "M_FORBIDDEN",
            )
        self.assertErrcode(
            await login(base, password, user=localpart, forwarded_for=attacker),
            403,
            "CN_JWWX_LOGIN_LOCKED",
        )
        status, _ = await login(
            base, password, user=localpart, forwarded_for="10.77.0.1"
        )
        self.assertEqual(status, 200)
        locks = (await admin.ok("GET", f"{ACCOUNTS}/lockouts"))["lockouts"]
        self.assertIn(("ip", attacker), [(x["scope"], x["subject"]) for x in locks])
        # Unknown accounts are not locked themselves (nothing to lock).
        self.assertNotIn("@nobody1:", " ".join(x["subject"] for x in locks))
        await admin.ok("DELETE", f"{ACCOUNTS}/lockouts/ips/{attacker}")
        status, _ = await login(base, password, user=localpart, forwarded_for=attacker)
        self.assertEqual(status, 200)

    # 3. Device-class limits and kick-offline.

    async def test_same_platform_login_signs_older_session_out(self) -> None:
        base = self.server.base_url
        admin = accounts_admin(self)
        someone, localpart, password = account(self, "multi")
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
        kicks = await login_log(admin, localpart, kind="kick")
        self.assertEqual(
            sorted(k["device_id"] for k in kicks),
            sorted([sessions["phone1"]["device_id"], sessions["pc"]["device_id"]]),
        )
        self.assertTrue(all(k["result"] == "signed_out" for k in kicks))
        # The officer's own list (standard endpoint) shows the same live devices
        # (plus the device of the harness's registration, platform unknown).
        own = await session_client(base, phone2).ok("GET", DEVICES)
        self.assertEqual(len(own["devices"]), 4)

    async def test_officer_signs_own_device_out(self) -> None:
        """The standard endpoints: GET /devices, DELETE /devices/{id} (user-interactive
        auth with the password, which the login hooks see as a re-authentication)."""
        base = self.server.base_url
        admin = accounts_admin(self)
        _, localpart, password = account(self, "owndev")
        status, phone = await login(base, password, user=localpart, user_agent=ANDROID)
        self.assertEqual(status, 200, phone)
        status, pc = await login(base, password, user=localpart, user_agent=WINDOWS)
        self.assertEqual(status, 200, pc)
        desk, mobile = session_client(base, pc), session_client(base, phone)
        listed = [d["device_id"] for d in (await desk.ok("GET", DEVICES))["devices"]]
        self.assertIn(phone["device_id"], listed)
        path = f"{DEVICES}/{phone['device_id']}"
        # A wrong password is another go at the auth step (401), logged as a failure.
        status, body = await with_password_auth(
            desk, "DELETE", path, {}, localpart, "wrong"
        )
        self.assertEqual((status, body.get("errcode")), (401, "M_FORBIDDEN"), body)
        await mobile.ok("GET", WHOAMI)
        status, body = await with_password_auth(
            desk, "DELETE", path, {}, localpart, password
        )
        self.assertEqual(status, 200, body)
        self.assertErrcode(await mobile.request("GET", WHOAMI), 401, "M_UNKNOWN_TOKEN")
        await desk.ok("GET", WHOAMI)
        reauths = await login_log(admin, localpart, kind="reauth")
        self.assertEqual([e["result"] for e in reauths], ["ok", "failed"])
        # Signing the own session out (exempt from every check).
        await desk.ok("POST", "/_matrix/client/v3/logout", {})
        self.assertErrcode(await desk.request("GET", WHOAMI), 401, "M_UNKNOWN_TOKEN")

    async def test_admin_kicks_a_device_offline(self) -> None:
        base = self.server.base_url
        admin = accounts_admin(self)
        someone, localpart, password = account(self, "kicked")
        status, session = await login(
            base, password, user=localpart, user_agent=ANDROID
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
                "DELETE", f"{ACCOUNTS}/users/nobody{unique()}/devices/X"
            ),
            404,
            "M_NOT_FOUND",
        )
        # Sign out everywhere: the registration token of `someone` too.
        await admin.ok("POST", f"{ACCOUNTS}/users/{localpart}/logout", {})
        self.assertErrcode(await someone.request("GET", WHOAMI), 401, "M_UNKNOWN_TOKEN")
        kicks = await login_log(admin, localpart, kind="kick")
        self.assertIn("管理员", kicks[-1]["detail"])
        self.assertEqual(kicks[-1]["identifier"], admin.user_id)

    # 4. Phone login.

    async def test_phone_number_login(self) -> None:
        base = self.server.base_url
        admin = accounts_admin(self)
        mobile = f"139{unique():08d}"
        userid, initial = await directory_officer(self, admin, mobile=mobile)
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
        log = await login_log(admin, userid)
        self.assertEqual(log[0]["result"], "failed")
        self.assertEqual(log[0]["identifier"], f"phone:{mobile}")

    # Admin account control: password reset with SMS delivery, disable / enable.

    async def test_admin_reset_with_sms_and_disable_enable(self) -> None:
        gateway = SmsGateway()
        port = reactor.listenTCP(0, Site(gateway), interface="127.0.0.1")
        url = f"http://127.0.0.1:{port.getHost().port}/send"
        override = override_accounts_config(
            self.server, sms={"url": url, "sign": "警务微信"}
        )
        try:
            await self._reset_disable_enable(gateway)
        finally:
            await port.stopListening()
            restore_config(self.server, override)

    async def _reset_disable_enable(self, gateway: "SmsGateway") -> None:
        base = self.server.base_url
        admin = accounts_admin(self)
        mobile = f"137{unique():08d}"
        address = f"officer{unique()}@police.example"
        userid, initial = await directory_officer(
            self, admin, mobile=mobile, email=address
        )
        status, session = await login(base, initial, user=userid)
        self.assertEqual(status, 200, session)
        officer = session_client(base, session)
        status, body = await change_password(officer, userid, initial, "Own-Pass-2026!")
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
                "POST", f"{ACCOUNTS}/users/ghost{unique()}/password_reset", {}
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
        self.assertTrue(reset["mail_queued"])
        await self._mail_with(address, reset["initial_password"])
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
        admin = accounts_admin(self)
        officer, localpart, password = account(self, "travel")

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
        notices = await server_notices(pc, 2)
        # (sent in the background, so they may arrive in either order)
        self.assertEqual(len(notices), 2, notices)
        network = [text for text in notices if "172.16.5.5" in text]
        self.assertEqual(len(network), 1, notices)
        self.assertIn("新的网络位置", network[0])
        device = [text for text in notices if "新的设备" in text]
        self.assertEqual(len(device), 1, notices)
        self.assertIn("设备类型 电脑", device[0])
        self.assertTrue(all("如非本人操作" in text for text in notices), notices)
        alerts = (await admin.ok("GET", alerts_path))["alerts"]
        self.assertTrue(all(a["notified"] for a in alerts), alerts)
        await phone.ok("GET", WHOAMI)

    # Bad input.

    async def test_bad_login_input_changes_nothing(self) -> None:
        """Malformed bodies, unknown types and oversized fields get the standard
        error; nothing is logged or counted (more than max_failures of them naming the
        account leave it unlocked)."""
        base = self.server.base_url
        admin = accounts_admin(self)
        _, localpart, password = account(self, "careful")
        me = {"type": "m.id.user", "user": localpart}
        bad: list[tuple[dict[str, Any] | bytes, str]] = [
            (b"{not json", "M_NOT_JSON"),
            ({"type": "m.login.password"}, "M_INVALID_PARAM"),
            ({"type": "cn.unknown", "identifier": me, "password": "x"}, "M_UNKNOWN"),
            (
                {
                    "type": "m.login.password",
                    "identifier": {"type": "cn.x", "user": "a"},
                    "password": "x",
                },
                "M_UNKNOWN",
            ),
            ({"type": "m.login.password", "identifier": me}, "M_INVALID_PARAM"),
            ({"type": "m.login.password", "user": "a" * 5000, "password": "x"}, ""),
            ({"type": "m.login.password", "identifier": me, "password": "x" * 600}, ""),
            (
                {
                    "type": "cn.jwwx.login.totp",
                    "identifier": me,
                    "password": password,
                    "code": "1" * 300,
                },
                "",
            ),
            (
                {"type": "m.login.password", "identifier": me, "password": "x"}
                | {"device_id": "D" * 300},
                "",
            ),
            (
                {
                    "type": "m.login.password",
                    "identifier": {"type": "m.id.phone", "country": "CN", "phone": ""},
                    "password": "x",
                },
                "",
            ),
        ]
        for body, errcode in bad:
            status, answer = await raw_request(
                base,
                "POST",
                LOGIN,
                raw=body if isinstance(body, bytes) else None,
                body=None if isinstance(body, bytes) else body,
            )
            self.assertEqual(
                (status, answer.get("errcode")),
                (400, errcode or "M_INVALID_PARAM"),
                (body if isinstance(body, bytes) else str(body)[:200], answer),
            )
            self.assertTrue(answer.get("error"), answer)
        self.assertEqual(await login_log(admin, localpart), [])
        self.assertFalse(
            (await admin.ok("GET", f"{ACCOUNTS}/users/{localpart}"))["locked"]
        )
        self.assertEqual((await login(base, password, user=localpart))[0], 200)
        self.assertEqual(
            [e["result"] for e in await login_log(admin, localpart)], ["ok"]
        )
        # The admin API refuses malformed parameters the same way.
        for method, path in (
            ("GET", "users/bad%20name"),
            ("GET", "users/@x:elsewhere.example"),
            ("GET", "logins?limit=100000"),
            ("GET", f"logins?user_id={'a' * 300}"),
            ("DELETE", "lockouts/ips/not-an-ip"),
        ):
            self.assertErrcode(
                await admin.request(method, f"{ACCOUNTS}/{path}"),
                400,
                "M_INVALID_PARAM",
            )


class AccountsSQLiteTest(AccountsTests, SQLiteCase):
    pass


class AccountsPostgresTest(AccountsTests, PostgresCase):
    pass
