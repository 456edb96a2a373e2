# SPDX-License-Identifier: AGPL-3.0-or-later
"""Multi-factor login against a real Synapse (SQLite and PostgreSQL): TOTP enrolment
(otpauth URI, QR PNG) and login, wrong and replayed codes, recovery codes, the policy
(departments, admins), admin reset, per-device keys issued by admins."""

import base64
import time
from typing import Any

import pyotp

from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.modules.accounts.helpers import (
    ACCOUNTS,
    ANDROID,
    LOGIN,
    MFA,
    MFA_LOGIN_TYPE,
    WHOAMI,
    account,
    accounts_admin,
    change_password,
    directory_officer,
    login,
    login_log,
    mfa_login,
    mfa_secret_path,
    override_accounts_config,
    raw_request,
    restore_config,
    session_client,
    unique,
)
from tests.modules.directory.helpers import department

POLICY = f"{ACCOUNTS}/security_policy"


def _other_last_character(key: str) -> str:
    # Always a different key (replacing the last character by a fixed one was the same
    # key whenever the key already ended with it).
    return key[:-1] + ("Y" if key.endswith("Z") else "Z")


class MfaTests:
    # The policy test restarts the server twice: on a loaded 2-core machine that
    # outlasts trial's default 120 s (a hang guard, not a timing).
    timeout = 400

    async def test_totp_enrolment_and_login(self) -> None:
        base = self.server.base_url
        admin = accounts_admin(self)
        officer, localpart, password = account(self, "mfa")
        mfa = MFA
        status, flows = await raw_request(base, "GET", LOGIN)
        self.assertIn("cn.jwwx.login.totp", [f["type"] for f in flows["flows"]])
        self.assertFalse((await officer.ok("GET", mfa))["totp_enabled"])
        enrol = await officer.ok("POST", f"{mfa}/totp", {})
        self.assertTrue(enrol["otpauth_uri"].startswith("otpauth://totp/"))
        self.assertTrue(base64.b64decode(enrol["qr_png_base64"]).startswith(b"\x89PNG"))
        parsed = pyotp.parse_uri(enrol["otpauth_uri"])
        self.assertEqual((parsed.secret, parsed.issuer), (enrol["secret"], "警务微信"))
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
            return await mfa_login(base, localpart, pw, code, user_agent=ANDROID)

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
        log = await login_log(admin, localpart)
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

    async def test_mfa_required_by_policy(self) -> None:
        """mfa.required_for: departments (with sub-departments), admins, all. A user
        the policy covers is held until enrolled and cannot turn TOTP off; an admin can
        reset a lost authenticator. Departments come from the config (a restart);
        admins and all from the run-time policy over it (security_policy.py, in force
        at once: two restarts fewer), which is put back to the config's mode after."""
        base = self.server.base_url
        admin = accounts_admin(self)
        root = await department(admin, f"刑侦支队{unique()}", None)
        squad = await department(admin, "一大队", root)
        inside, outside = [
            await self._officer_with_own_password(admin, dept)
            for dept in (squad, await department(admin, f"交警支队{unique()}", None))
        ]
        override = override_accounts_config(
            self.server,
            mfa={
                "secret_path": mfa_secret_path(self.server),
                "required_for": "departments",
                "departments": [root],
            },
        )
        try:
            body = self.assertErrcode(
                await inside.request("GET", WHOAMI),
                403,
                "CN_JWWX_MFA_ENROLMENT_REQUIRED",
            )
            self.assertIn("动态验证码", body["error"])
            await outside.ok("GET", WHOAMI)
            await admin.ok("GET", WHOAMI)
            self.assertTrue((await inside.ok("GET", MFA))["required"])
            self.assertFalse((await outside.ok("GET", MFA))["required"])
            await self._enrol(inside)
            await inside.ok("GET", WHOAMI)
            await self._enrol(admin)  # so it keeps working under "admins" below

            await admin.ok("PUT", POLICY, {"mfa": {"required_for": "admins"}})
            boss, boss_localpart, boss_password = account(self, "mfaboss", admin=True)
            self.assertErrcode(
                await boss.request("GET", WHOAMI), 403, "CN_JWWX_MFA_ENROLMENT_REQUIRED"
            )
            await outside.ok("GET", WHOAMI)
            await inside.ok("GET", WHOAMI)  # enrolled of its own accord: still on
            codes = await self._enrol(boss)
            await boss.ok("GET", WHOAMI)  # the same session works once enrolled
            self.assertErrcode(
                await login(base, boss_password, user=boss_localpart),
                403,
                "CN_JWWX_MFA_REQUIRED",
            )
            # Covered by the policy: turning TOTP off is refused, whatever the code.
            body = self.assertErrcode(
                await boss.request("DELETE", f"{MFA}/totp", {"code": codes[0]}),
                403,
                "M_FORBIDDEN",
            )
            self.assertIn("安全策略", body["error"])
            # Lost phone and codes: an admin resets; the next login is held again.
            reset_path = f"{ACCOUNTS}/users/{boss_localpart}/mfa"
            self.assertErrcode(
                await outside.request("DELETE", reset_path), 403, "M_FORBIDDEN"
            )
            await admin.ok("DELETE", reset_path)
            self.assertErrcode(
                await admin.request("DELETE", reset_path), 404, "M_NOT_FOUND"
            )
            status, session = await login(base, boss_password, user=boss_localpart)
            self.assertEqual(status, 200, session)
            self.assertErrcode(
                await session_client(base, session).request("GET", WHOAMI),
                403,
                "CN_JWWX_MFA_ENROLMENT_REQUIRED",
            )
            resets = await login_log(admin, boss_localpart, kind="admin")
            self.assertEqual(
                [(e["result"], e["identifier"]) for e in resets],
                [("mfa_reset", admin.user_id)],
            )

            await admin.ok("PUT", POLICY, {"mfa": {"required_for": "all"}})
            self.assertErrcode(
                await outside.request("GET", WHOAMI),
                403,
                "CN_JWWX_MFA_ENROLMENT_REQUIRED",
            )
            await inside.ok("GET", WHOAMI)
        finally:
            # The shipped config's mode (none) for the class's other tests.
            await admin.ok("PUT", POLICY, {"mfa": {"required_for": "none"}})
            restore_config(self.server, override)

    async def _officer_with_own_password(
        self, admin: MatrixClient, dept: int
    ) -> MatrixClient:
        """A directory member in `dept`, past the first-login change."""
        userid, initial = await directory_officer(self, admin, [dept])
        status, session = await login(self.server.base_url, initial, user=userid)
        self.assertEqual(status, 200, session)
        client = session_client(self.server.base_url, session)
        status, body = await change_password(client, userid, initial, "Mfa-Test-2026!")
        self.assertEqual(status, 200, body)
        return client

    async def _enrol(self, client: MatrixClient) -> list[str]:
        enrol = await client.ok("POST", f"{MFA}/totp", {})
        code = pyotp.TOTP(enrol["secret"]).now()
        confirmed = await client.ok("POST", f"{MFA}/totp/confirm", {"code": code})
        return list(confirmed["recovery_codes"])

    async def test_device_key_issued_by_admin(self) -> None:
        base = self.server.base_url
        admin = accounts_admin(self)
        officer, localpart, password = account(self, "keyed")
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
        self.assertEqual((await officer.ok("GET", MFA))["device_keys"], 1)
        # The account now needs the second factor; the device key is one.
        self.assertErrcode(
            await login(base, password, user=localpart), 403, "CN_JWWX_MFA_REQUIRED"
        )

        async def key_login(code: str, **extra: Any) -> tuple[int, Any]:
            return await mfa_login(base, localpart, password, code, **extra)

        status, session = await key_login(issued["key"])
        self.assertEqual(status, 200, session)
        self.assertEqual((await key_login(issued["key"]))[0], 200)  # a key is reusable
        self.assertErrcode(
            await key_login(_other_last_character(issued["key"])), 403, "M_FORBIDDEN"
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

    async def test_device_key_bound_to_one_device(self) -> None:
        base = self.server.base_url
        admin = accounts_admin(self)
        _, localpart, password = account(self, "terminal")
        keys = f"{ACCOUNTS}/users/{localpart}/device_keys"
        for bad in (
            {"label": "车载终端", "device_id": 7},
            {"label": "车载终端", "device_id": "a b"},
        ):
            self.assertErrcode(
                await admin.request("POST", keys, bad), 400, "M_INVALID_PARAM"
            )
        self.assertEqual((await admin.ok("GET", keys))["device_keys"], [])
        issued = await admin.ok(
            "POST", keys, {"label": "车载终端", "device_id": "CAR0042"}
        )
        self.assertEqual(issued["device_id"], "CAR0042")
        self.assertEqual(
            [k["device_id"] for k in (await admin.ok("GET", keys))["device_keys"]],
            ["CAR0042"],
        )
        # Another device (or none named) cannot use it: a wrong credential, logged.
        for extra in ({}, {"device_id": "OTHER1"}):
            body = self.assertErrcode(
                await mfa_login(base, localpart, password, issued["key"], **extra),
                403,
                "M_FORBIDDEN",
            )
            self.assertIn("CAR0042", body["error"])
        status, session = await mfa_login(
            base, localpart, password, issued["key"], device_id="CAR0042"
        )
        self.assertEqual((status, session.get("device_id")), (200, "CAR0042"), session)
        log = await login_log(admin, localpart, kind="login")
        self.assertEqual([e["result"] for e in log], ["ok", "failed", "failed"])
        self.assertEqual(log[0]["login_type"], MFA_LOGIN_TYPE)


class MfaSQLiteTest(MfaTests, SQLiteCase):
    pass


class MfaPostgresTest(MfaTests, PostgresCase):
    pass
