# SPDX-License-Identifier: AGPL-3.0-or-later
"""Admin login hardening over HTTP (admin_api/sessions.py): every admin session passes
TOTP before the admin API answers it (step-up, enrolment on the way, TOTP login), idle
sessions expire, wrong codes are limited, refusals are in the operation log. The same
servers run test_organisation.py's tests (unit information, splash, profile fields)."""

import time
from typing import Any
from urllib.parse import quote

import pyotp

from homeserver.admin import register_user
from homeserver.config_file import load_server_config
from tests.admin_api.test_admin_model import ADMINS, AUDIT, OP_AUDITOR
from tests.admin_api.test_organisation import OrganisationTests
from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import ENROL_PATH, MatrixClient
from tests.modules.audit.helpers import sleep, wait_for
from tests.modules.directory.helpers import ADMIN as DIRECTORY
from tests.modules.directory.helpers import department, member

SESSION = f"{ADMINS}/session"
VERIFY = f"{SESSION}/verify"
REQUIRED = "CN_JWWX_ADMIN_SECOND_FACTOR_REQUIRED"
EXPIRED = "CN_JWWX_ADMIN_SESSION_EXPIRED"
IDLE_SECONDS = 4


def _wrong(secret: str) -> str:
    """A six-digit code none of the accepted time steps around now has."""
    totp = pyotp.TOTP(secret)
    now = time.time()
    valid = {totp.at(now + offset * 30) for offset in (-1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


class AdminSessionTests:
    module_config = {
        "admin_api.AdminApiModule": {"idle_timeout_seconds": IDLE_SECONDS},
        "modules.audit.AuditModule": {"poll_interval_seconds": 0.2},
    }

    def _unverified_admin(self, localpart: str) -> MatrixClient:
        """A super admin whose token comes from plain registration (no second factor)."""
        config = load_server_config(self.server.data_dir)
        token = register_user(config, localpart, "pw-" + localpart, admin=True)
        client = MatrixClient(
            self.server.base_url, f"@{localpart}:{self.server.server_name}", token
        )
        client.auto_second_factor = False
        return client

    async def operation_log(
        self, boss: MatrixClient, actor: str, prefix: str | tuple[str, ...], wanted: int
    ) -> list[dict[str, Any]]:
        """The operation-log records of `actor` whose action starts with `prefix`, once
        there are `wanted` (read by an audit admin, made once per server)."""
        cls = type(self)
        if getattr(cls, "_auditor_of", None) is not self.server:
            user_id, token = self.server.register(OP_AUDITOR)
            cls._auditor = MatrixClient(self.server.base_url, user_id, token)
            await boss.ok(
                "PUT", f"{ADMINS}/roles/{quote(user_id)}", {"roles": ["audit"]}
            )
            cls._auditor_of = self.server
        auditor = cls._auditor

        async def records() -> Any:
            found, after = [], 0
            while True:
                page = await auditor.ok(
                    "GET", f"{AUDIT}/export/admin?after_seq={after}&limit=500"
                )
                found += [
                    r["record"]
                    for r in page["records"]
                    if r["record"]["actor"] == actor
                    and r["record"]["action"].startswith(prefix)
                ]
                if not page["more"]:
                    break
                after = page["next_cursor"]
            return found if len(found) >= wanted else None

        return list(await wait_for(records))

    async def test_admin_sessions_need_totp_and_expire(self) -> None:
        admin = self._unverified_admin("totpadmin")
        officer = self.user("officer")

        # Unverified: every module's admin endpoint refuses, with where to go.
        body = self.assertErrcode(
            await admin.request("GET", f"{ADMINS}/me"), 403, REQUIRED
        )
        self.assertEqual((body["verify"], body["enrol"]), (VERIFY, ENROL_PATH))
        self.assertErrcode(
            await admin.request("GET", f"{DIRECTORY}/jobs"), 403, REQUIRED
        )
        # An officer gets the endpoint's own answer; officers' APIs are untouched.
        self.assertErrcode(
            await officer.request("GET", f"{DIRECTORY}/jobs"), 403, "M_FORBIDDEN"
        )
        await admin.ok("GET", "/_matrix/client/v3/account/whoami")

        state = await admin.ok("GET", SESSION)
        self.assertEqual(
            (state["admin"], state["verified"], state["totp"]), (True, False, "none")
        )
        self.assertEqual(state["idle_timeout_seconds"], IDLE_SECONDS)
        self.assertErrcode(
            await admin.request("POST", VERIFY, {"code": "123456"}),
            400,
            "CN_JWWX_ADMIN_TOTP_NOT_ENROLLED",
        )
        # Bad input: nothing counted, nothing changed.
        for bad in ({}, {"code": 123456}, {"code": "12 34\x00"}, {"code": "1", "x": 1}):
            status, answer = await admin.request("POST", VERIFY, bad)
            self.assertEqual(status, 400, (bad, answer))

        # Enrolment (accounts' endpoint), then its first code passes the session.
        secret = (await admin.ok("POST", ENROL_PATH))["secret"]
        self.assertEqual((await admin.ok("GET", SESSION))["totp"], "pending")
        self.assertErrcode(
            await admin.request("POST", VERIFY, {"code": _wrong(secret)}),
            403,
            "M_FORBIDDEN",
        )
        code = pyotp.TOTP(secret).now()
        done = await admin.ok("POST", VERIFY, {"code": code})
        self.assertEqual(len(done["recovery_codes"]), 10)
        self.assertEqual((done["verified"], done["verified_by"]), (True, "enrolment"))
        me = await admin.ok("GET", f"{ADMINS}/me")
        self.assertIn("super", me["roles"])
        await admin.ok("GET", f"{DIRECTORY}/jobs")
        # A used code does not pass again.
        self.assertErrcode(
            await admin.request("POST", VERIFY, {"code": code}), 403, "M_FORBIDDEN"
        )

        # Idle: refused after the idle time, then a recovery code passes again.
        await sleep(IDLE_SECONDS + 1.5)
        self.assertErrcode(await admin.request("GET", f"{ADMINS}/me"), 403, EXPIRED)
        self.assertFalse((await admin.ok("GET", SESSION))["verified"])
        again = await admin.ok("POST", VERIFY, {"code": done["recovery_codes"][0]})
        self.assertEqual(again["verified_by"], "totp")
        await admin.ok("GET", f"{ADMINS}/me")
        # Activity extends it: requests closer together than the idle time keep going.
        for _ in range(3):
            await sleep(IDLE_SECONDS / 2)
            await admin.ok("GET", f"{ADMINS}/me")

        # A TOTP login gives a verified session at once.
        login = await admin.ok(
            "POST",
            "/_matrix/client/v3/login",
            {
                "type": "cn.jwwx.login.totp",
                "identifier": {"type": "m.id.user", "user": "totpadmin"},
                "password": "pw-totpadmin",
                "code": pyotp.TOTP(secret).at(time.time() + 30),
            },
        )
        console = MatrixClient(
            self.server.base_url, admin.user_id, login["access_token"]
        )
        console.auto_second_factor = False
        self.assertEqual((await console.ok("GET", SESSION))["verified_by"], "login")
        await console.ok("GET", f"{ADMINS}/groups")

    async def test_group_admins_wrong_codes_and_the_log(self) -> None:
        boss = self.user("boss", admin=True)  # a bootstrap session: verified
        await boss.ok("GET", f"{ADMINS}/me")
        member_id, token = self.server.register("grpadmin")
        grp = MatrixClient(self.server.base_url, member_id, token)
        grp.auto_second_factor = False
        await boss.ok(
            "POST",
            f"{ADMINS}/groups",
            {"name": "二次验证组", "members": [member_id], "rights": ["apps.create"]},
        )
        self.assertErrcode(await grp.request("GET", f"{ADMINS}/me"), 403, REQUIRED)
        secret = (await grp.ok("POST", ENROL_PATH))["secret"]
        await grp.ok("POST", VERIFY, {"code": pyotp.TOTP(secret).now()})
        await grp.ok("GET", f"{ADMINS}/me")
        # Five wrong codes, then even a right one is refused for a while; they are
        # counted in the database: a restart in between forgets none of them.
        for attempt in range(5):
            if attempt == 3:
                self.server.restart()
            self.assertErrcode(
                await grp.request("POST", VERIFY, {"code": _wrong(secret)}),
                403,
                "M_FORBIDDEN",
            )
        code = pyotp.TOTP(secret).at(time.time() + 30)
        body = self.assertErrcode(
            await grp.request("POST", VERIFY, {"code": code}),
            403,
            "CN_JWWX_ADMIN_TOTP_LOCKED",
        )
        self.assertGreater(body["retry_after_ms"], 0)

        # The refusals and verifications are in the operation log.
        found = await self.operation_log(boss, member_id, "admin.session.", 7)
        actions = [r["action"] for r in found]
        self.assertEqual(actions.count("admin.session.verify"), 1, actions)
        self.assertEqual(actions.count("admin.session.refused"), 6, actions)
        first = found[0]
        self.assertEqual(first["target"], f"path:{ADMINS}/me")
        self.assertEqual(first["detail"]["errcode"], REQUIRED)
        self.assertEqual(first["detail"]["ip"], "127.0.0.1")


class ScopeCacheTests:
    """Scope decisions come from an in-memory directory view (admin_api.authority's
    DirectoryView): a directory change counts at the next request."""

    async def test_scope_follows_directory_changes_at_once(self) -> None:
        boss = self.user("cacheboss", admin=True)
        root = await department(boss, "缓存测试市局", None)
        unit_a = await department(boss, "甲分局", root)
        unit_b = await department(boss, "乙分局", root)
        station = await department(boss, "某派出所", unit_a)
        await member(boss, "cachemember1", "李四", [station])
        admin_id, token = self.server.register("cachegroupadmin")
        admin = MatrixClient(self.server.base_url, admin_id, token)
        await boss.ok(
            "POST",
            f"{ADMINS}/groups",
            {
                "name": "甲分局管理组",
                "members": [admin_id],
                "scope": [unit_a],
                "rights": ["directory.view", "directory.edit_members"],
            },
        )
        await admin.ok("GET", f"{DIRECTORY}/members/cachemember1")
        # The station moves to the other unit: out of scope at once (tree change).
        await boss.ok(
            "PUT", f"{DIRECTORY}/departments/{station}", {"parent_id": unit_b}
        )
        self.assertErrcode(
            await admin.request("GET", f"{DIRECTORY}/members/cachemember1"),
            403,
            "CN_JWWX_ADMIN_SCOPE",
        )
        # The member moves back into the unit: in scope at once (member change).
        await boss.ok(
            "PUT", f"{DIRECTORY}/members/cachemember1", {"department": [unit_a]}
        )
        await admin.ok("GET", f"{DIRECTORY}/members/cachemember1")
        await admin.ok("PUT", f"{DIRECTORY}/members/cachemember1", {"position": "民警"})
        # A new member in the unit is in scope at once, one elsewhere is not.
        await member(boss, "cachemember2", "王五", [unit_b])
        self.assertErrcode(
            await admin.request("GET", f"{DIRECTORY}/members/cachemember2"),
            403,
            "CN_JWWX_ADMIN_SCOPE",
        )


class AdminSessionSQLiteTest(
    AdminSessionTests, OrganisationTests, ScopeCacheTests, SQLiteCase
):
    pass


class AdminSessionPostgresTest(
    AdminSessionTests, OrganisationTests, ScopeCacheTests, PostgresCase
):
    pass
