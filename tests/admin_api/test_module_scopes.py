# SPDX-License-Identifier: AGPL-3.0-or-later
"""The admin endpoints of accounts, groups and the open API ask the decision API with
their targets (docs/admin.md): an admin group scoped to unit A, asking for members,
groups, apps and settings of unit B, gets 403 CN_JWWX_ADMIN_SCOPE and nothing changes;
in scope it works and is logged; listings keep only what is in scope; unit quotas hold
for the admin API's enable and the open API's user/create and user/update.

The mixin runs in the classes of test_operation_log_coverage.py (one server per engine
for both files)."""

from typing import Any, ClassVar

from tests.harness.client import MatrixClient
from tests.modules.directory.helpers import department, member
from tests.modules.groups.helpers import make_group
from tests.modules.openapi.helpers import create_app, token_for, wecom

from .wiring import (
    ADMINS,
    OperationLog,
    directory_member,
    officer,
    pull_token,
    unique,
)

ACCOUNTS = "/_jwwx/admin/v1/accounts"
GROUPS = "/_jwwx/admin/v1/groups"
APPS = "/_jwwx/admin/v1/openapi/apps"
SCOPE = "CN_JWWX_ADMIN_SCOPE"
QUOTA = "CN_JWWX_ADMIN_QUOTA_EXCEEDED"
RIGHTS = [
    "directory.view",
    "directory.enable_disable",
    "directory.reset_password",
    "apps.manage",
    "apps.create",
    "settings.group_caps",
]


class World:
    """Unit A and unit B below one root; officers in each; an admin group scoped to A
    that may manage app A; app B beside it."""

    boss: MatrixClient
    admin: MatrixClient
    unit_a: int
    unit_b: int
    a1: MatrixClient
    a1_id: str
    a2: MatrixClient
    b1: MatrixClient
    b1_id: str
    app_a: int
    app_b: int


class ModuleScopeTests:
    _world: ClassVar[Any] = None
    _world_of: ClassVar[Any] = None
    _log: ClassVar[Any] = None

    async def world(self) -> World:
        cls = type(self)
        if cls._world_of is self.server:
            return cls._world  # type: ignore[no-any-return]
        w = World()
        w.boss = self.user("boss", admin=True)
        root = await department(w.boss, unique("市局"), None)
        w.unit_a = await department(w.boss, "东城分局", root)
        w.unit_b = await department(w.boss, "西城分局", root)
        w.a1, w.a1_id = await officer(self, w.boss, [w.unit_a])
        w.a2, _a2 = await officer(self, w.boss, [w.unit_a])
        w.b1, w.b1_id = await officer(self, w.boss, [w.unit_b])
        w.app_a = (
            await create_app(w.boss, visible_range={"department_ids": [w.unit_a]})
        )["agentid"]
        w.app_b = (
            await create_app(w.boss, visible_range={"department_ids": [w.unit_b]})
        )["agentid"]
        w.admin = self.user("unitadmin")
        await w.boss.ok(
            "POST",
            f"{ADMINS}/groups",
            {
                "name": unique("东城分局管理组"),
                "members": [w.admin.user_id],
                "scope": [w.unit_a],
                "rights": RIGHTS,
                "apps": [str(w.app_a)],
            },
        )
        cls._world, cls._world_of = w, self.server
        cls._log = OperationLog(self.server.base_url, pull_token())
        return w

    @property
    def log(self) -> OperationLog:
        return type(self)._log  # type: ignore[no-any-return]

    async def _quota(self, w: World, unit: int, quota: int | None) -> int:
        """Sets unit's quota; returns its usage."""
        answer = await w.boss.ok("PUT", f"{ADMINS}/quotas/{unit}", {"quota": quota})
        return int(answer["usage"])

    async def _usage(self, w: World, unit: int) -> int:
        return await self._quota(w, unit, None)

    # The pickers' department search.

    async def test_department_search_keeps_to_the_scope(self) -> None:
        w = await self.world()
        search = "/_jwwx/admin/v1/directory/search/departments?q=城分局&limit=20"
        everything = (await w.boss.ok("GET", search))["results"]
        names = {d["id"]: [p["name"] for p in d["path"]] for d in everything}
        self.assertIn(w.unit_a, names)
        self.assertIn(w.unit_b, names)
        self.assertEqual(len(names[w.unit_a]), 1)  # the unique 市局 above it
        # The unit's admin: its own unit only, and no name above its scope.
        for right in ("", "&right=directory.view", "&right=apps.manage"):
            found = (await w.admin.ok("GET", search + right))["results"]
            self.assertEqual([(d["id"], d["path"]) for d in found], [(w.unit_a, [])])
        self.assertErrcode(
            await w.admin.request("GET", search + "&right=audit.search"),
            403,
            "M_FORBIDDEN",
        )
        self.assertErrcode(
            await w.admin.request("GET", search + "&right=x;y"), 400, "M_INVALID_PARAM"
        )
        # An account without admin rights gets nothing.
        plain = self.user("plain")
        self.assertErrcode(await plain.request("GET", search), 403, "M_FORBIDDEN")
        # The member search (the console's tree search) keeps to the scope too.
        members = "/_jwwx/admin/v1/directory/search/members?q=minjing&limit=100"
        found = (await w.admin.ok("GET", members))["results"]
        userids = {m["userid"] for m in found}
        self.assertIn(w.a2.user_id[1:].split(":", 1)[0], userids)
        self.assertNotIn(w.b1_id, userids)
        self.assertEqual(
            {d["id"] for m in found for d in m.get("departments", [])}, {w.unit_a}
        )
        # The super admin's is the directory's own search, unfiltered.
        self.assertTrue((await w.boss.ok("GET", members))["results"])

    # Accounts.

    async def test_accounts_targets_and_listings(self) -> None:
        w = await self.world()
        for method, path, body in (
            ("GET", f"users/{w.b1_id}", None),
            ("GET", f"users/{w.b1_id}/devices", None),
            ("POST", f"users/{w.b1_id}/disable", {}),
            ("POST", f"users/{w.b1_id}/logout", {}),
            ("POST", f"users/{w.b1_id}/password_reset", {"sms": False}),
            ("DELETE", f"users/{w.b1_id}/mfa", None),
            ("GET", f"logins?user_id={w.b1_id}", None),
        ):
            self.assertErrcode(
                await w.admin.request(method, f"{ACCOUNTS}/{path}", body), 403, SCOPE
            )
        # Nothing changed for the officer of unit B: enabled, still signed in.
        self.assertTrue((await directory_member(w.boss, w.b1_id))["enabled"])
        await w.b1.ok("GET", "/_matrix/client/v3/account/whoami")

        # In scope: it works, and is logged with before/after and the address.
        await w.admin.ok("GET", f"{ACCOUNTS}/users/{w.a1_id}")
        await w.admin.ok("POST", f"{ACCOUNTS}/users/{w.a1_id}/disable", {})
        self.assertFalse((await directory_member(w.boss, w.a1_id))["enabled"])
        record = await self.log.wait_for_action(
            "accounts.disable", f"user:{w.a1.user_id}"
        )
        self.assertEqual(
            (record["actor"], record["before"], record["after"]),
            (w.admin.user_id, {"enabled": True}, {"enabled": False}),
        )
        self.assertEqual(record["detail"]["ip"], "127.0.0.1")
        reset = await w.admin.ok(
            "POST", f"{ACCOUNTS}/users/{w.a1_id}/password_reset", {"sms": False}
        )
        logged = await self.log.wait_for_action(
            "accounts.password_reset", f"user:{w.a1.user_id}"
        )
        self.assertNotIn(reset["initial_password"], repr(logged))

        # The login log: the super admin's sign-out of B's officer is not listed.
        await w.boss.ok("POST", f"{ACCOUNTS}/users/{w.b1_id}/logout", {})
        everyone = await w.boss.ok("GET", f"{ACCOUNTS}/logins?limit=500")
        self.assertIn(w.b1.user_id, {e["user_id"] for e in everyone["logins"]})
        seen = await w.admin.ok("GET", f"{ACCOUNTS}/logins?limit=500")
        users = {e["user_id"] for e in seen["logins"]}
        self.assertIn(w.a1.user_id, users)
        self.assertNotIn(w.b1.user_id, users)

        # Enabling counts against unit A's quota (checked in the directory's write).
        usage = await self._usage(w, w.unit_a)
        await self._quota(w, w.unit_a, usage)
        try:
            body = self.assertErrcode(
                await w.admin.request("POST", f"{ACCOUNTS}/users/{w.a1_id}/enable", {}),
                403,
                QUOTA,
            )
            self.assertEqual(body["unit_id"], w.unit_a)
            self.assertFalse((await directory_member(w.boss, w.a1_id))["enabled"])
            await self._quota(w, w.unit_a, usage + 1)
            await w.admin.ok("POST", f"{ACCOUNTS}/users/{w.a1_id}/enable", {})
            self.assertTrue((await directory_member(w.boss, w.a1_id))["enabled"])
        finally:
            await self._quota(w, w.unit_a, None)

    # Groups.

    async def test_groups_rooms_and_settings(self) -> None:
        w = await self.world()
        # New officers (the accounts test signs a1 and b1 out).
        b2, _b2 = await officer(self, w.boss, [w.unit_b])
        a3, _a3 = await officer(self, w.boss, [w.unit_a])
        a4, _a4 = await officer(self, w.boss, [w.unit_a])
        room_b = await make_group(b2)
        room_a = await make_group(a3, a4)
        for method, path in (
            ("GET", f"rooms/{room_b}"),
            ("POST", f"rooms/{room_b}/dissolve"),
            ("POST", f"rooms/{room_b}/transfer"),
        ):
            body = None if method == "GET" else {"user_id": a3.user_id}
            self.assertErrcode(
                await w.admin.request(method, f"{GROUPS}/{path}", body), 403, SCOPE
            )
        info = await w.boss.ok("GET", f"{GROUPS}/rooms/{room_b}")
        self.assertFalse(info["dissolved"])
        self.assertEqual(info["owner"], b2.user_id)
        await w.admin.ok("GET", f"{GROUPS}/rooms/{room_a}")

        before = await w.boss.ok("GET", f"{GROUPS}/settings")
        wanted = before["max_members"] - 1
        try:
            after = await w.admin.ok(
                "PUT", f"{GROUPS}/settings", {"max_members": wanted}
            )
            self.assertEqual(after["max_members"], wanted)
            record = await self.log.wait_for_action("groups.settings.update")
            self.assertEqual(
                (record["actor"], record["before"], record["after"]),
                (w.admin.user_id, before, after),
            )
            # Retention is another right (settings.retention): refused, unchanged.
            self.assertErrcode(
                await w.admin.request(
                    "PUT", f"{GROUPS}/settings", {"retention_days": 30}
                ),
                403,
                "M_FORBIDDEN",
            )
            self.assertEqual(
                (await w.boss.ok("GET", f"{GROUPS}/settings"))["retention_days"],
                before["retention_days"],
            )
        finally:
            await w.boss.ok(
                "PUT", f"{GROUPS}/settings", {"max_members": before["max_members"]}
            )

    # The open API's admin endpoints.

    async def test_apps_targets_ranges_and_listing(self) -> None:
        w = await self.world()
        listed = await w.admin.ok("GET", APPS)
        self.assertEqual([a["agentid"] for a in listed["apps"]], [w.app_a])
        original = await w.boss.ok("GET", f"{APPS}/{w.app_b}")
        for method, path, body in (
            ("GET", f"{w.app_b}", None),
            ("PUT", f"{w.app_b}", {"name": "改名"}),
            ("DELETE", f"{w.app_b}", None),
            ("POST", f"{w.app_b}/secret", {}),
            ("POST", f"{w.app_b}/callbacks/retry", {}),
            ("GET", f"{w.app_b}/statistics", None),
            # App A's range may not reach unit B, nor the whole directory.
            ("PUT", f"{w.app_a}", {"visible_range": {"department_ids": [w.unit_b]}}),
            ("PUT", f"{w.app_a}", {"visible_range": {"userids": [w.b1_id]}}),
            ("PUT", f"{w.app_a}", {"directory_write": True}),
        ):
            self.assertErrcode(
                await w.admin.request(method, f"{APPS}/{path}", body), 403, SCOPE
            )
        self.assertEqual(await w.boss.ok("GET", f"{APPS}/{w.app_b}"), original)
        app_a = await w.boss.ok("GET", f"{APPS}/{w.app_a}")
        self.assertEqual(app_a["visible_range"]["department_ids"], [w.unit_a])
        self.assertFalse(app_a["directory_write"])

        count = len((await w.boss.ok("GET", APPS))["apps"])
        self.assertErrcode(
            await w.admin.request(
                "POST",
                APPS,
                {"name": "越界应用", "visible_range": {"department_ids": [w.unit_b]}},
            ),
            403,
            SCOPE,
        )
        self.assertEqual(len((await w.boss.ok("GET", APPS))["apps"]), count)

        # In scope: works and is logged, never with a secret.
        created = await w.admin.ok(
            "POST",
            APPS,
            {"name": "东城应用", "visible_range": {"department_ids": [w.unit_a]}},
        )
        record = await self.log.wait_for_action(
            "openapi.app.create", f"app:{created['agentid']}"
        )
        self.assertEqual(record["actor"], w.admin.user_id)
        self.assertNotIn(created["secret"], repr(record))
        # Its creator's group now lists it (part of the create's record): the admin
        # manages the app it created.
        (group_id,) = created["admin_groups"]
        self.assertEqual(record["after"]["admin_groups"], [group_id])
        group = await w.boss.ok("GET", f"{ADMINS}/groups/{group_id}")
        self.assertEqual(group["apps"], sorted([str(w.app_a), str(created["agentid"])]))
        await w.admin.ok("GET", f"{APPS}/{created['agentid']}")
        # A sub-group gets a new app only where its parent allows it: here it does not.
        station_admin = self.user("stationappadmin")
        await w.boss.ok(
            "POST",
            f"{ADMINS}/groups",
            {
                "name": unique("派出所应用组"),
                "parent_id": group_id,
                "members": [station_admin.user_id],
                "scope": [w.unit_a],
                "rights": ["apps.create", "apps.manage"],
            },
        )
        own = await station_admin.ok(
            "POST",
            APPS,
            {"name": "派出所应用", "visible_range": {"userids": [w.a1_id]}},
        )
        self.assertEqual(own["admin_groups"], [])
        self.assertErrcode(
            await station_admin.request("GET", f"{APPS}/{own['agentid']}"), 403, SCOPE
        )
        await w.admin.ok("PUT", f"{APPS}/{w.app_a}", {"description": "东城分局应用"})
        record = await self.log.wait_for_action("openapi.app.update", f"app:{w.app_a}")
        self.assertEqual(
            (record["before"]["description"], record["after"]["description"]),
            ("", "东城分局应用"),
        )

    async def test_open_api_member_writes_respect_unit_quotas(self) -> None:
        w = await self.world()
        app = await create_app(w.boss, name="通讯录同步", directory_write=True)
        token = await token_for(w.boss, app["secret"])
        disabled = unique("mjoff")
        await member(w.boss, disabled, "停用民警", [w.unit_a], enable=0)
        usage = await self._usage(w, w.unit_a)
        await self._quota(w, w.unit_a, usage)
        newcomer = unique("mjnew")
        try:
            answer = await wecom(
                w.boss,
                "user/create",
                token,
                {"userid": newcomer, "name": "新民警", "department": [w.unit_a]},
            )
            self.assertEqual(answer["errcode"], 60011, answer)
            self.assertIn("授权人数", answer["errmsg"])
            self.assertErrcode(
                await w.boss.request(
                    "GET", f"/_jwwx/admin/v1/directory/members/{newcomer}"
                ),
                404,
                "CN_JWWX_MEMBER_NOT_FOUND",
            )
            answer = await wecom(
                w.boss, "user/update", token, {"userid": disabled, "enable": 1}
            )
            self.assertEqual(answer["errcode"], 60011, answer)
            self.assertFalse((await directory_member(w.boss, disabled))["enabled"])
            # Unit B has no quota: fine there.
            answer = await wecom(
                w.boss,
                "user/create",
                token,
                {"userid": newcomer, "name": "新民警", "department": [w.unit_b]},
            )
            self.assertEqual(answer["errcode"], 0, answer)
        finally:
            await self._quota(w, w.unit_a, None)
        answer = await wecom(
            w.boss, "user/update", token, {"userid": disabled, "enable": 1}
        )
        self.assertEqual(answer["errcode"], 0, answer)
