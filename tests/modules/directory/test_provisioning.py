# SPDX-License-Identifier: AGPL-3.0-or-later
"""Accounts from the directory: background creation, initial-password e-mail through a
real SMTP server (aiosmtpd), first login with it, and account control by admins."""

import email
import email.policy
import itertools
import re
import time
from typing import Any, ClassVar

from twisted.internet import reactor, task

from aiosmtpd.controller import Controller

from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.harness.server import free_port
from tests.modules.directory.helpers import ADMIN, department, member

_runs = itertools.count(1)


class Inbox:
    """SMTP stand-in for the bureau's mail relay; mail to refuse@… is refused."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("refuse@"):
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            email.message_from_bytes(
                envelope.original_content, policy=email.policy.default
            )
        )
        return "250 OK"

    def for_address(self, address: str) -> Any | None:
        for message in self.messages:
            if message["To"] == address:
                return message
        return None


async def sleep(seconds: float) -> None:
    await task.deferLater(reactor, seconds, lambda: None)


class MailedAccounts:
    """An SMTP stand-in started with the server, and the waits and login of the tests."""

    inbox: ClassVar[Inbox]
    controller: ClassVar[Controller]

    @classmethod
    def prepare_class(cls) -> None:
        cls.inbox = Inbox()
        port = free_port()
        cls.controller = Controller(cls.inbox, hostname="127.0.0.1", port=port)
        cls.controller.start()
        cls.init_args = (
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            str(port),
            "--mail-from",
            "noreply@police.example",
        )

    @classmethod
    def finish_class(cls) -> None:
        cls.controller.stop()

    async def _wait_mail(self, address: str, seconds: float = 30) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            message = self.inbox.for_address(address)
            if message is not None:
                return message
            await sleep(0.2)
        raise AssertionError(f"no mail to {address} within {seconds}s")

    async def _wait_job(self, admin: MatrixClient, job_id: int) -> dict[str, Any]:
        for _ in range(150):
            job = await admin.ok("GET", f"{ADMIN}/jobs/{job_id}")
            if job["finished"]:
                return dict(job)
            await sleep(0.2)
        raise AssertionError(f"job {job_id} did not finish: {job}")

    async def _login(self, user: str, password: str) -> tuple[int, Any]:
        return await self.anonymous().request(
            "POST",
            "/_matrix/client/v3/login",
            {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": user},
                "password": password,
            },
        )


class ProvisioningTests(MailedAccounts):
    async def test_imported_member_gets_mail_and_logs_in_then_changes_password(
        self,
    ) -> None:
        admin = self.user("provadmin", admin=True)
        root = await department(admin, f"市局{next(_runs)}", None)
        userid = f"prov{next(_runs)}"
        address = f"{userid}@police.example"
        created = await member(admin, userid, "李初登", [root], email=address)
        job = await self._wait_job(admin, created["job_id"])
        self.assertEqual((job["created"], job["failed"]), (1, 0))
        message = await self._wait_mail(address)
        body = message.get_content()
        self.assertIn(userid, body)
        password = re.search(r"初始密码[：:]\s*(\S+)", body)
        self.assertIsNotNone(password, body)
        assert password is not None
        initial = password.group(1)
        self.assertEqual(
            (await admin.ok("GET", f"{ADMIN}/members/{userid}"))["account_state"],
            "created",
        )
        # The initial password logs in (checked by keyed hash, no bcrypt).
        status, session = await self._login(userid, initial)
        self.assertEqual(status, 200, session)
        self.assertEqual(session["user_id"], f"@{userid}:{self.server.server_name}")
        self.assertEqual((await self._login(userid, initial + "x"))[0], 403)
        # The display name came from the directory.
        officer = MatrixClient(
            self.server.base_url, session["user_id"], session["access_token"]
        )
        # (read by the admin: until the password is changed, modules.accounts lets the
        # officer's session do nothing else)
        profile = await admin.ok(
            "GET", f"/_matrix/client/v3/profile/{session['user_id']}"
        )
        self.assertEqual(profile["displayname"], "李初登")
        # Changing it through the standard endpoint (UIA with the initial password)...
        change = {"new_password": "MyOwn-Passw0rd!", "logout_devices": False}
        status, flows = await officer.request(
            "POST", "/_matrix/client/v3/account/password", change
        )
        self.assertEqual(status, 401, flows)
        change["auth"] = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": userid},
            "password": initial,
            "session": flows["session"],
        }
        await officer.ok("POST", "/_matrix/client/v3/account/password", change)
        # ...the chosen password works and the initial one no longer does.
        self.assertEqual((await self._login(userid, "MyOwn-Passw0rd!"))[0], 200)
        self.assertEqual((await self._login(userid, initial))[0], 403)

    async def test_disable_enable_delete_and_password_reset(self) -> None:
        admin = self.user("provadmin", admin=True)
        root = await department(admin, f"市局{next(_runs)}", None)
        userid = f"ctl{next(_runs)}"
        created = await member(admin, userid, "王控制", [root])
        await self._wait_job(admin, created["job_id"])
        reset = await admin.ok("POST", f"{ADMIN}/members/{userid}/initial_password", {})
        self.assertFalse(
            reset["mail_queued"]
        )  # no e-mail address: the admin hands it over
        status, session = await self._login(userid, reset["initial_password"])
        self.assertEqual(status, 200, session)
        officer = MatrixClient(
            self.server.base_url, session["user_id"], session["access_token"]
        )
        # Disabling signs the officer out everywhere and refuses new logins.
        await admin.ok("PUT", f"{ADMIN}/members/{userid}", {"enable": 0})
        status, _ = await officer.request("GET", "/_matrix/client/v3/account/whoami")
        self.assertEqual(status, 401)
        status, body = await self._login(userid, reset["initial_password"])
        self.assertEqual((status, body.get("errcode")), (401, "M_USER_LOCKED"), body)
        await admin.ok("PUT", f"{ADMIN}/members/{userid}", {"enable": 1})
        self.assertEqual((await self._login(userid, reset["initial_password"]))[0], 200)
        # Deleting removes the member and deactivates the account.
        await admin.ok("DELETE", f"{ADMIN}/members/{userid}")
        self.assertEqual((await self._login(userid, reset["initial_password"]))[0], 403)

    async def test_deleted_member_added_again_gets_the_account_back(self) -> None:
        admin = self.user("provadmin", admin=True)
        root = await department(admin, f"市局{next(_runs)}", None)
        userid = f"again{next(_runs)}"
        created = await member(admin, userid, "回归者", [root])
        await self._wait_job(admin, created["job_id"])
        await admin.ok("DELETE", f"{ADMIN}/members/{userid}")
        created = await member(admin, userid, "回归者", [root])
        job = await self._wait_job(admin, created["job_id"])
        self.assertEqual((job["created"], job["failed"]), (1, 0), job)
        reset = await admin.ok("POST", f"{ADMIN}/members/{userid}/initial_password", {})
        self.assertEqual((await self._login(userid, reset["initial_password"]))[0], 200)

    async def test_name_and_avatar_follow_the_directory(self) -> None:
        admin = self.user("provadmin", admin=True)
        root = await department(admin, f"市局{next(_runs)}", None)
        userid = f"face{next(_runs)}"
        user_id = f"@{userid}:{self.server.server_name}"
        created = await member(
            admin, userid, "赵头像", [root], avatar="mxc://test.jwwx/first"
        )
        await self._wait_job(admin, created["job_id"])
        profile_path = f"/_matrix/client/v3/profile/{user_id}"
        profile = await admin.ok("GET", profile_path)
        self.assertEqual(
            (profile["displayname"], profile["avatar_url"]),
            ("赵头像", "mxc://test.jwwx/first"),
        )
        await admin.ok(
            "PUT",
            f"{ADMIN}/members/{userid}",
            {"name": "赵新名", "avatar": "mxc://test.jwwx/second"},
        )
        profile = await admin.ok("GET", profile_path)
        self.assertEqual(
            (profile["displayname"], profile["avatar_url"]),
            ("赵新名", "mxc://test.jwwx/second"),
        )
        # The officer cannot rename themself: the directory is the source of names.
        reset = await admin.ok("POST", f"{ADMIN}/members/{userid}/initial_password", {})
        status, session = await self._login(userid, reset["initial_password"])
        officer = MatrixClient(
            self.server.base_url, session["user_id"], session["access_token"]
        )
        status, _ = await officer.request(
            "PUT", f"{profile_path}/displayname", {"displayname": "自己改的名"}
        )
        self.assertEqual(status, 403)
        self.assertErrcode(
            await admin.request(
                "PUT", f"{ADMIN}/members/{userid}", {"avatar": "http://evil/x.png"}
            ),
            400,
            "M_INVALID_PARAM",
        )

    async def test_failed_mail_is_visible_and_retried(self) -> None:
        admin = self.user("provadmin", admin=True)
        root = await department(admin, f"市局{next(_runs)}", None)
        userid = f"bounce{next(_runs)}"
        created = await member(
            admin, userid, "退信", [root], email="refuse@police.example"
        )
        await self._wait_job(admin, created["job_id"])
        for _ in range(450):
            mails = (await admin.ok("GET", f"{ADMIN}/mails?state=pending"))["mails"]
            mine = [m for m in mails if m["userid"] == userid and m["attempts"] > 0]
            if mine:
                break
            await sleep(0.2)
        self.assertTrue(mine, mails)
        self.assertIn("550", mine[0]["last_error"])
        self.assertErrcode(
            await admin.request("GET", f"{ADMIN}/mails?state=weird"),
            400,
            "M_INVALID_PARAM",
        )


class ProvisioningSQLiteTest(ProvisioningTests, SQLiteCase):
    pass


class ProvisioningPostgresTest(ProvisioningTests, PostgresCase):
    pass
