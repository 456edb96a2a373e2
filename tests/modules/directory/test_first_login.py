# SPDX-License-Identifier: AGPL-3.0-or-later
"""An imported officer logs in before provisioning has created the account: the initial
password is issued (and mailed) first, and the first login with it creates the account.

The server's provisioning job pauses an hour after each account it creates
(provisioning_pause_seconds), in job order, so a member added after another one stays
without an account unless its login creates it."""

import itertools
import re
import time
from typing import Any

from tests.harness.case import PostgresCase, SQLiteCase
from tests.modules.directory import test_provisioning as provisioning
from tests.modules.directory.helpers import ADMIN, department, member

_runs = itertools.count(1)


class FirstLoginTests(provisioning.MailedAccounts):
    module_config = {
        "modules.directory.DirectoryModule": {"provisioning_pause_seconds": 3600}
    }

    async def _wait_ready(self, admin: Any, job_id: int) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            job = await admin.ok("GET", f"{ADMIN}/jobs/{job_id}")
            if job["login_ready"] == job["total"]:
                return dict(job)
            await provisioning.sleep(0.2)
        raise AssertionError(f"job {job_id}: passwords not issued: {job}")

    async def _mailed_password(self, address: str) -> str:
        body = (await self._wait_mail(address)).get_content()
        found = re.search(r"初始密码[：:]\s*(\S+)", body)
        assert found is not None, body
        return found.group(1)

    async def _state(self, admin: Any, userid: str) -> str:
        return str(
            (await admin.ok("GET", f"{ADMIN}/members/{userid}"))["account_state"]
        )

    async def test_login_creates_the_account_the_job_has_not_reached(self) -> None:
        admin = self.user("lazyadmin", admin=True)
        root = await department(admin, f"分局{next(_runs)}", None)
        run = next(_runs)
        # The job creates one account an hour, in job order: this one comes first.
        await member(admin, f"lazya{run}", "甲先行", [root])
        userid = f"lazyb{run}"
        address = f"{userid}@police.example"
        created = await member(admin, userid, "乙后到", [root], email=address)
        job = await self._wait_ready(admin, created["job_id"])
        self.assertEqual((job["pending"], job["finished"]), (1, False), job)
        password = await self._mailed_password(address)
        self.assertEqual(await self._state(admin, userid), "pending")
        # A wrong password creates nothing.
        self.assertEqual((await self._login(userid, password + "x"))[0], 403)
        self.assertEqual(await self._state(admin, userid), "pending")
        status, session = await self._login(userid, password)
        self.assertEqual(status, 200, session)
        self.assertEqual(session["user_id"], f"@{userid}:{self.server.server_name}")
        self.assertEqual(await self._state(admin, userid), "created")
        job = await admin.ok("GET", f"{ADMIN}/jobs/{created['job_id']}")
        self.assertEqual((job["created"], job["finished"]), (1, True), job)
        profile = await admin.ok(
            "GET", f"/_matrix/client/v3/profile/{session['user_id']}"
        )
        self.assertEqual(profile["displayname"], "乙后到")
        # The account is an ordinary first-login account: a second login works too.
        self.assertEqual((await self._login(userid, password))[0], 200)

    async def test_disabled_member_and_admin_reset_before_creation(self) -> None:
        admin = self.user("lazyadmin", admin=True)
        root = await department(admin, f"分局{next(_runs)}", None)
        run = next(_runs)
        await member(admin, f"lazyc{run}", "丙先行", [root])
        disabled = f"lazyd{run}"
        created = await member(admin, disabled, "丁停用", [root], enable=0)
        await self._wait_ready(admin, created["job_id"])
        # No e-mail: the admin hands out a fresh initial password, before creation.
        reset = await admin.ok(
            "POST", f"{ADMIN}/members/{disabled}/initial_password", {}
        )
        # A disabled member's login is refused as for a created account (locked).
        self.assertErrcode(
            await self._login(disabled, reset["initial_password"]),
            401,
            "M_USER_LOCKED",
        )
        await admin.ok("PUT", f"{ADMIN}/members/{disabled}", {"enable": 1})
        self.assertEqual(
            (await self._login(disabled, reset["initial_password"]))[0], 200
        )
        # A member deleted before its account existed cannot log in with its password.
        gone = f"lazye{run}"
        created = await member(admin, gone, "戊删除", [root])
        await self._wait_ready(admin, created["job_id"])
        reset = await admin.ok("POST", f"{ADMIN}/members/{gone}/initial_password", {})
        await admin.ok("DELETE", f"{ADMIN}/members/{gone}")
        self.assertEqual((await self._login(gone, reset["initial_password"]))[0], 403)


class FirstLoginSQLiteTest(FirstLoginTests, SQLiteCase):
    pass


class FirstLoginPostgresTest(FirstLoginTests, PostgresCase):
    pass
