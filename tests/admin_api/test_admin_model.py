# SPDX-License-Identifier: AGPL-3.0-or-later
"""The administration model over HTTP (docs/admin.md's worked example): a district
branch's admin group and its sub-group for one police station, each seeing and editing
only its subtree; rights-subset and cycle refusal; separated roles; unit quotas; every
write in the audit archive's operation log."""

import itertools
import os
from typing import Any, ClassVar
from urllib.parse import quote

from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.modules.audit.helpers import wait_for
from tests.modules.directory.helpers import ADMIN as DIRECTORY
from tests.modules.directory.helpers import department, member

ADMINS = "/_jwwx/admin/v1/admins"
AUDIT = "/_jwwx/admin/v1/audit"
OP_AUDITOR = "opauditor"
_names = itertools.count(1)

BRANCH_RIGHTS = [
    "directory.view",
    "directory.edit_structure",
    "directory.edit_members",
    "directory.enable_disable",
    "groups.create_subgroups",
]


def _unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}{os.urandom(2).hex()}"


class World:
    """The bureau → district branch (a second-level unit) → police station, another
    branch beside it, and the two admin groups of the worked example."""

    super: MatrixClient
    branch_admin: MatrixClient
    station_admin: MatrixClient
    root: int
    district: int
    station: int
    other: int
    group: int
    subgroup: int


class AdminModelTests:
    _configured: ClassVar[Any] = None
    auditor: ClassVar[MatrixClient]

    async def _configure(self) -> None:
        """Once per server: an audit admin of the archive (the fast archiver is the
        classes' module_config), so the operation log can be read back."""
        cls = type(self)
        if cls._configured is self.server:
            return
        user_id, token = self.server.register(OP_AUDITOR)
        cls.auditor = MatrixClient(self.server.base_url, user_id, token)
        boss = self.user("super", admin=True)
        await boss.ok("PUT", f"{ADMINS}/roles/{quote(user_id)}", {"roles": ["audit"]})
        cls._configured = self.server

    async def _world(self, hidden: tuple[str, ...] = ("mobile",)) -> World:
        await self._configure()
        w = World()
        w.super = self.user("super", admin=True)
        w.branch_admin = self.user("branchadmin")
        w.station_admin = self.user("stationadmin")
        w.root = await department(w.super, _unique("市局"), None)
        w.district = await department(w.super, "东城分局", w.root)
        w.station = await department(w.super, "东华门派出所", w.district)
        w.other = await department(w.super, "西城分局", w.root)
        group = await w.super.ok(
            "POST",
            f"{ADMINS}/groups",
            {
                "name": _unique("东城分局管理组"),
                "members": [w.branch_admin.user_id],
                "scope": [w.district],
                "rights": BRANCH_RIGHTS,
                "apps": ["*"],
            },
        )
        w.group = int(group["id"])
        subgroup = await w.branch_admin.ok(
            "POST",
            f"{ADMINS}/groups",
            {
                "name": "东华门派出所管理组",
                "parent_id": w.group,
                "members": [w.station_admin.user_id],
                "scope": [w.station],
                "rights": ["directory.view", "directory.edit_members"],
                "hidden_fields": list(hidden),
            },
        )
        w.subgroup = int(subgroup["id"])
        return w

    @staticmethod
    def _userid() -> str:
        return _unique("mj")

    async def _operations(self, action: str) -> list[dict[str, Any]]:
        consumer = f"t{os.urandom(4).hex()}"
        out: list[dict[str, Any]] = []
        while True:
            page = await self.auditor.ok(
                "GET", f"{AUDIT}/export/admin?consumer={consumer}&limit=500"
            )
            out.extend(r["record"] for r in page["records"])
            if not page["more"]:
                return [r for r in out if r.get("action") == action]
            await self.auditor.ok(
                "PUT",
                f"{AUDIT}/export/admin/cursor",
                {"consumer": consumer, "position": page["next_cursor"]},
            )

    # The worked example.

    async def test_branch_and_station_each_see_and_edit_only_their_subtree(
        self,
    ) -> None:
        w = await self._world()
        in_station = self._userid()
        in_other = self._userid()
        await member(w.super, in_station, "张三", [w.station], mobile="13800000001")
        await member(w.super, in_other, "李四", [w.other], mobile="13800000002")

        # The station's admin: its station, without mobile numbers.
        found = await w.station_admin.ok("GET", f"{DIRECTORY}/members/{in_station}")
        self.assertEqual(found["name"], "张三")
        self.assertNotIn("mobile", found)
        children = await w.station_admin.ok(
            "GET", f"{DIRECTORY}/departments/{w.station}/children"
        )
        self.assertEqual([m["userid"] for m in children["members"]], [in_station])
        self.assertNotIn("mobile", children["members"][0])
        for path in (
            f"{DIRECTORY}/members/{in_other}",
            f"{DIRECTORY}/departments/{w.district}",
            f"{DIRECTORY}/departments/{w.other}/children",
        ):
            self.assertErrcode(
                await w.station_admin.request("GET", path), 403, "CN_JWWX_ADMIN_SCOPE"
            )
        await w.station_admin.ok(
            "PUT", f"{DIRECTORY}/members/{in_station}", {"name": "张三丰"}
        )
        body = self.assertErrcode(
            await w.station_admin.request(
                "PUT", f"{DIRECTORY}/members/{in_station}", {"mobile": "13900000000"}
            ),
            403,
            "CN_JWWX_ADMIN_SCOPE",
        )
        self.assertIn("mobile", body["error"])
        self.assertErrcode(
            await w.station_admin.request(
                "PUT", f"{DIRECTORY}/members/{in_other}", {"name": "改名"}
            ),
            403,
            "CN_JWWX_ADMIN_SCOPE",
        )
        # Creating a member in the branch above its station: refused, nothing created.
        outside = self._userid()
        self.assertErrcode(
            await w.station_admin.request(
                "POST",
                f"{DIRECTORY}/members",
                {"userid": outside, "name": "王五", "department": [w.district]},
            ),
            403,
            "CN_JWWX_ADMIN_SCOPE",
        )
        self.assertErrcode(
            await w.super.request("GET", f"{DIRECTORY}/members/{outside}"),
            404,
            "CN_JWWX_MEMBER_NOT_FOUND",
        )
        # A right its group does not hold at all: M_FORBIDDEN.
        self.assertErrcode(
            await w.station_admin.request(
                "POST",
                f"{DIRECTORY}/departments",
                {"name": "警务室", "parent_id": w.station},
            ),
            403,
            "M_FORBIDDEN",
        )
        other_state = await w.super.ok("GET", f"{DIRECTORY}/members/{in_other}")
        self.assertEqual(other_state["name"], "李四")
        self.assertEqual(other_state["mobile"], "13800000002")

        # The branch's admin: the whole branch, every field, but not the other branch.
        found = await w.branch_admin.ok("GET", f"{DIRECTORY}/members/{in_station}")
        self.assertEqual(found["mobile"], "13800000001")
        self.assertEqual(found["name"], "张三丰")
        team = await w.branch_admin.ok(
            "POST",
            f"{DIRECTORY}/departments",
            {"name": "治安队", "parent_id": w.district},
        )
        self.assertErrcode(
            await w.branch_admin.request(
                "POST",
                f"{DIRECTORY}/departments",
                {"name": "治安队", "parent_id": w.other},
            ),
            403,
            "CN_JWWX_ADMIN_SCOPE",
        )
        # Moving a member within the branch is fine; into the other branch is not.
        await w.branch_admin.ok(
            "PUT", f"{DIRECTORY}/members/{in_station}", {"department": [team["id"]]}
        )
        self.assertErrcode(
            await w.branch_admin.request(
                "PUT", f"{DIRECTORY}/members/{in_station}", {"department": [w.other]}
            ),
            403,
            "CN_JWWX_ADMIN_SCOPE",
        )
        moved = await w.super.ok("GET", f"{DIRECTORY}/members/{in_station}")
        self.assertEqual([d["id"] for d in moved["departments"]], [team["id"]])
        # Now outside the station: its admin no longer sees the member.
        self.assertErrcode(
            await w.station_admin.request("GET", f"{DIRECTORY}/members/{in_station}"),
            403,
            "CN_JWWX_ADMIN_SCOPE",
        )
        # Whole-directory operations stay with the super admin.
        self.assertErrcode(
            await w.branch_admin.request("GET", f"{DIRECTORY}/tags"),
            403,
            "CN_JWWX_ADMIN_SCOPE",
        )
        # An account in no admin group is no admin.
        nobody = self.user("nobody")
        self.assertErrcode(
            await nobody.request("GET", f"{DIRECTORY}/members/{in_station}"),
            403,
            "M_FORBIDDEN",
        )
        self.assertErrcode(
            await nobody.request("GET", f"{ADMINS}/groups"), 403, "M_FORBIDDEN"
        )
        # The branch's admin sees its group and the sub-group; the station's its own.
        listed = await w.branch_admin.ok("GET", f"{ADMINS}/groups")
        self.assertEqual(
            sorted(g["id"] for g in listed["groups"]), sorted([w.group, w.subgroup])
        )
        me = await w.station_admin.ok("GET", f"{ADMINS}/me")
        self.assertEqual([g["id"] for g in me["groups"]], [w.subgroup])
        self.assertEqual(me["groups"][0]["hidden_fields"], ["mobile"])
        self.assertEqual(me["groups"][0]["scope"], [w.station])

        # The directory's writes are in the operation log; the refused ones are not.
        async def member_updates() -> Any:
            found = [
                r
                for r in await self._operations("directory.member.update")
                if r["target"] in (f"member:{in_station}", f"member:{in_other}")
            ]
            return found if len(found) >= 2 else None

        updates = await wait_for(member_updates)
        self.assertEqual(
            [(u["actor"], u["before"]["name"], u["after"]["name"]) for u in updates],
            [
                (w.station_admin.user_id, "张三", "张三丰"),
                (w.branch_admin.user_id, "张三丰", "张三丰"),
            ],
        )
        self.assertEqual(updates[0]["detail"]["ip"], "127.0.0.1")
        created = await self._operations("directory.department.create")
        self.assertIn(
            (w.branch_admin.user_id, f"department:{team['id']}"),
            [(c["actor"], c["target"]) for c in created],
        )

    async def test_subgroup_rights_stay_within_the_parent_and_no_cycles(self) -> None:
        w = await self._world(hidden=("email", "mobile"))
        await w.super.ok(
            "PUT", f"{ADMINS}/groups/{w.group}", {"hidden_fields": ["email"]}
        )
        before = await w.super.ok("GET", f"{ADMINS}/groups/{w.subgroup}")
        base = {"name": "另一个派出所组", "parent_id": w.group, "scope": [w.station]}
        cases: list[tuple[dict[str, Any], int, str]] = [
            (
                {"rights": ["directory.reset_password"]},
                400,
                "CN_JWWX_ADMIN_RIGHTS_EXCEED",
            ),
            ({"scope": [w.other]}, 400, "CN_JWWX_ADMIN_RIGHTS_EXCEED"),
            ({"hidden_fields": []}, 400, "CN_JWWX_ADMIN_RIGHTS_EXCEED"),
            ({"scope": [987654321012]}, 400, "CN_JWWX_ADMIN_SCOPE_INVALID"),
            ({"rights": ["directory.fly"]}, 400, "CN_JWWX_ADMIN_RIGHT_UNKNOWN"),
            ({"hidden_fields": ["password"]}, 400, "CN_JWWX_ADMIN_RIGHT_UNKNOWN"),
            (
                {"members": [f"@nobody-here:{self.server.server_name}"]},
                400,
                "CN_JWWX_ADMIN_USER_UNKNOWN",
            ),
            ({"name": "东华门派出所管理组"}, 409, "CN_JWWX_ADMIN_GROUP_EXISTS"),
        ]
        for change, status, errcode in cases:
            body = {**base, "hidden_fields": ["email"], **change}
            answer = await w.branch_admin.request("POST", f"{ADMINS}/groups", body)
            self.assertErrcode(answer, status, errcode)
        self.assertErrcode(
            await w.super.request(
                "POST", f"{ADMINS}/groups", {**base, "parent_id": 987654321}
            ),
            400,
            "CN_JWWX_ADMIN_GROUP_NOT_FOUND",
        )
        exceeded = self.assertErrcode(
            await w.branch_admin.request(
                "PUT",
                f"{ADMINS}/groups/{w.subgroup}",
                {"rights": ["directory.view", "directory.import_export"]},
            ),
            400,
            "CN_JWWX_ADMIN_RIGHTS_EXCEED",
        )
        self.assertEqual(exceeded["exceeding"]["rights"], ["directory.import_export"])
        # Cycles: a group under itself or under its own sub-group.
        for parent in (w.group, w.subgroup):
            self.assertErrcode(
                await w.super.request(
                    "PUT", f"{ADMINS}/groups/{w.group}", {"parent_id": parent}
                ),
                400,
                "CN_JWWX_ADMIN_GROUP_CYCLE",
            )
        # Who may change what.
        self.assertErrcode(
            await w.station_admin.request(
                "POST", f"{ADMINS}/groups", {**base, "parent_id": w.subgroup}
            ),
            403,
            "CN_JWWX_ADMIN_SCOPE",
        )
        self.assertErrcode(
            await w.branch_admin.request(
                "POST",
                f"{ADMINS}/groups",
                {"name": _unique("顶级"), "scope": [w.other]},
            ),
            403,
            "M_FORBIDDEN",
        )
        self.assertErrcode(
            await w.branch_admin.request(
                "PUT", f"{ADMINS}/groups/{w.group}", {"scope": [w.root]}
            ),
            403,
            "CN_JWWX_ADMIN_SCOPE",
        )
        self.assertErrcode(
            await w.super.request("DELETE", f"{ADMINS}/groups/{w.group}"),
            400,
            "CN_JWWX_ADMIN_GROUP_HAS_CHILDREN",
        )
        after = await w.super.ok("GET", f"{ADMINS}/groups/{w.subgroup}")
        self.assertEqual(after, before)
        top = await w.super.ok("GET", f"{ADMINS}/groups/{w.group}")
        self.assertIsNone(top["parent_id"])

        # Narrowing the parent narrows the sub-group at once (the cache is invalidated).
        userid = self._userid()
        await member(w.super, userid, "赵六", [w.station])
        await w.station_admin.ok(
            "PUT", f"{DIRECTORY}/members/{userid}", {"name": "赵七"}
        )
        await w.super.ok(
            "PUT",
            f"{ADMINS}/groups/{w.group}",
            {"rights": ["directory.view", "groups.create_subgroups"]},
        )
        narrowed = await w.super.ok("GET", f"{ADMINS}/groups/{w.subgroup}")
        self.assertEqual(narrowed["effective_rights"], ["directory.view"])
        self.assertErrcode(
            await w.station_admin.request(
                "PUT", f"{DIRECTORY}/members/{userid}", {"name": "赵八"}
            ),
            403,
            "M_FORBIDDEN",
        )
        # The branch's admin deletes the sub-group; then the station's admin is none.
        await w.branch_admin.ok("DELETE", f"{ADMINS}/groups/{w.subgroup}")
        self.assertErrcode(
            await w.station_admin.request("GET", f"{DIRECTORY}/members/{userid}"),
            403,
            "M_FORBIDDEN",
        )

    async def test_separated_roles(self) -> None:
        await self._configure()
        boss = self.user("super", admin=True)
        officer = self.user("officer")
        path = f"{ADMINS}/roles/{quote(officer.user_id)}"
        await boss.ok("PUT", path, {"roles": ["audit"]})
        self.assertErrcode(
            await boss.request("PUT", path, {"roles": ["audit", "security"]}),
            409,
            "CN_JWWX_ADMIN_ROLE_CONFLICT",
        )
        self.assertErrcode(
            await boss.request("PUT", path, {"roles": ["super", "audit"]}),
            409,
            "CN_JWWX_ADMIN_ROLE_CONFLICT",
        )
        body = self.assertErrcode(
            await boss.request("PUT", path, {"roles": ["chief"]}),
            400,
            "CN_JWWX_ADMIN_ROLE_UNKNOWN",
        )
        self.assertEqual(body["unknown"], ["chief"])
        self.assertErrcode(
            await boss.request(
                "PUT",
                f"{ADMINS}/roles/{quote('@ghost-x:' + self.server.server_name)}",
                {"roles": []},
            ),
            400,
            "CN_JWWX_ADMIN_USER_UNKNOWN",
        )
        listed = await boss.ok("GET", f"{ADMINS}/roles")
        self.assertEqual(
            [r["role"] for r in listed["roles"] if r["user_id"] == officer.user_id],
            ["audit"],
        )
        self.assertEqual((await officer.ok("GET", f"{ADMINS}/me"))["roles"], ["audit"])
        # The audit admin manages no policy; the security admin does, but no accounts.
        watermark = "/_jwwx/admin/v1/watermark/settings"
        self.assertErrcode(await officer.request("GET", watermark), 403, "M_FORBIDDEN")
        await boss.ok("PUT", path, {"roles": ["security"]})
        await officer.ok("GET", watermark)
        self.assertErrcode(
            await officer.request("GET", f"{DIRECTORY}/jobs"), 403, "M_FORBIDDEN"
        )
        self.assertErrcode(
            await officer.request("GET", f"{ADMINS}/roles"), 403, "M_FORBIDDEN"
        )
        # An audit or security admin is no group admin, and the other way round.
        w = await self._world()
        self.assertErrcode(
            await boss.request(
                "PUT", f"{ADMINS}/groups/{w.subgroup}", {"members": [officer.user_id]}
            ),
            409,
            "CN_JWWX_ADMIN_ROLE_CONFLICT",
        )
        body = self.assertErrcode(
            await boss.request(
                "PUT",
                f"{ADMINS}/roles/{quote(w.station_admin.user_id)}",
                {"roles": ["audit"]},
            ),
            409,
            "CN_JWWX_ADMIN_ROLE_CONFLICT",
        )
        self.assertEqual(body["groups"], [w.subgroup])
        self.assertEqual((await w.station_admin.ok("GET", f"{ADMINS}/me"))["roles"], [])
        # The super role makes a server admin; nobody demotes themselves.
        await boss.ok("PUT", path, {"roles": ["super"]})
        await officer.ok("GET", f"{ADMINS}/quotas")
        self.assertErrcode(
            await officer.request("PUT", path, {"roles": []}), 403, "M_FORBIDDEN"
        )
        await boss.ok("PUT", path, {"roles": []})
        self.assertErrcode(
            await officer.request("GET", f"{ADMINS}/quotas"), 403, "M_FORBIDDEN"
        )

        # Every write reached the audit archive's operation log, with the source IP.
        async def role_changes() -> Any:
            found = [
                r
                for r in await self._operations("admin.roles.set")
                if r["target"] == f"user:{officer.user_id}"
            ]
            return found if len(found) >= 4 else None

        changes = await wait_for(role_changes)
        self.assertEqual(
            [(c["before"], c["after"]) for c in changes],
            [
                ([], ["audit"]),
                (["audit"], ["security"]),
                (["security"], ["super"]),
                (["super"], []),
            ],
        )
        self.assertEqual(changes[0]["actor"], boss.user_id)
        self.assertEqual(changes[0]["detail"]["ip"], "127.0.0.1")

    async def test_unit_quotas(self) -> None:
        w = await self._world()
        quotas = await w.super.ok("GET", f"{ADMINS}/quotas")
        usage = {u["id"]: u["usage"] for u in quotas["units"]}
        self.assertEqual(usage[w.district], 0)
        self.assertNotIn(w.station, usage)
        first = self._userid()
        await member(w.super, first, "甲", [w.station])
        saved = await w.super.ok("PUT", f"{ADMINS}/quotas/{w.district}", {"quota": 2})
        self.assertEqual(
            (saved["quota"], saved["usage"], saved["over_quota"]), (2, 1, False)
        )
        await member(w.branch_admin, self._userid(), "乙", [w.station])
        refused = self._userid()
        body = self.assertErrcode(
            await w.branch_admin.request(
                "POST",
                f"{DIRECTORY}/members",
                {"userid": refused, "name": "丙", "department": [w.station]},
            ),
            403,
            "CN_JWWX_ADMIN_QUOTA_EXCEEDED",
        )
        self.assertEqual(
            (body["unit_id"], body["quota"], body["usage"]), (w.district, 2, 2)
        )
        self.assertErrcode(
            await w.super.request("GET", f"{DIRECTORY}/members/{refused}"),
            404,
            "CN_JWWX_MEMBER_NOT_FOUND",
        )
        # A disabled member does not count; enabling it beyond the quota is refused.
        disabled = self._userid()
        await member(w.branch_admin, disabled, "丁", [w.station], enable=0)
        self.assertErrcode(
            await w.branch_admin.request(
                "PUT", f"{DIRECTORY}/members/{disabled}", {"enable": 1}
            ),
            403,
            "CN_JWWX_ADMIN_QUOTA_EXCEEDED",
        )
        # Moving a member's main department into the full unit is refused too.
        mover = self._userid()
        await member(w.super, mover, "己", [w.other])
        self.assertErrcode(
            await w.super.request(
                "PUT", f"{DIRECTORY}/members/{mover}", {"department": [w.station]}
            ),
            403,
            "CN_JWWX_ADMIN_QUOTA_EXCEEDED",
        )
        moved = await w.super.ok("GET", f"{DIRECTORY}/members/{mover}")
        self.assertEqual([d["id"] for d in moved["departments"]], [w.other])
        # The other branch has no quota.
        await member(w.super, self._userid(), "戊", [w.other])
        # Below usage: saved and reported.
        lowered = await w.super.ok("PUT", f"{ADMINS}/quotas/{w.district}", {"quota": 1})
        self.assertTrue(lowered["over_quota"])
        self.assertIn("warning", lowered)
        listed = await w.super.ok("GET", f"{ADMINS}/quotas")
        [row] = [u for u in listed["units"] if u["id"] == w.district]
        self.assertEqual((row["quota"], row["usage"], row["over_quota"]), (1, 2, True))
        # Bad input changes nothing.
        for unit, value, status, errcode in (
            (w.station, 5, 400, "CN_JWWX_ADMIN_QUOTA_NOT_UNIT"),
            (w.root, 5, 400, "CN_JWWX_ADMIN_QUOTA_NOT_UNIT"),
            (987654321012, 5, 404, "CN_JWWX_DEPARTMENT_NOT_FOUND"),
            (w.district, -1, 400, "M_INVALID_PARAM"),
            (w.district, "many", 400, "M_INVALID_PARAM"),
        ):
            self.assertErrcode(
                await w.super.request(
                    "PUT", f"{ADMINS}/quotas/{unit}", {"quota": value}
                ),
                status,
                errcode,
            )
        self.assertErrcode(
            await w.branch_admin.request(
                "PUT", f"{ADMINS}/quotas/{w.district}", {"quota": 9}
            ),
            403,
            "M_FORBIDDEN",
        )
        listed = await w.super.ok("GET", f"{ADMINS}/quotas")
        [row] = [u for u in listed["units"] if u["id"] == w.district]
        self.assertEqual(row["quota"], 1)
        # An import taking the unit beyond its quota is refused whole, with the numbers.
        first_new, second_new = self._userid(), self._userid()
        rows = "账号,姓名,部门\n" + "".join(
            f"{u},导入{i},{d}\n"
            for i, (u, d) in enumerate(((first_new, w.other), (second_new, w.station)))
        )
        body = self.assertErrcode(
            await w.super.request(
                "POST",
                f"{DIRECTORY}/import/members?filename=m.csv",
                raw=rows.encode("utf-8"),
            ),
            403,
            "CN_JWWX_ADMIN_QUOTA_EXCEEDED",
        )
        self.assertEqual(
            [
                (u["unit_id"], u["quota"], u["usage"], u["usage_after"])
                for u in body["units"]
            ],
            [(w.district, 1, 2, 3)],
        )
        for userid in (first_new, second_new):
            self.assertErrcode(
                await w.super.request("GET", f"{DIRECTORY}/members/{userid}"),
                404,
                "CN_JWWX_MEMBER_NOT_FOUND",
            )
        # Lifting the quota lets the unit grow again.
        await w.super.ok("PUT", f"{ADMINS}/quotas/{w.district}", {"quota": None})
        await w.branch_admin.ok("PUT", f"{DIRECTORY}/members/{disabled}", {"enable": 1})
        status, report = await w.super.request(
            "POST",
            f"{DIRECTORY}/import/members?filename=m.csv",
            raw=rows.encode("utf-8"),
        )
        self.assertEqual((status, report["created"]), (200, 2), report)


# A fast archiver from the server's start (no restart to apply it).
FAST_ARCHIVER = {"modules.audit.AuditModule": {"poll_interval_seconds": 0.2}}


class AdminModelSQLiteTest(AdminModelTests, SQLiteCase):
    module_config = FAST_ARCHIVER


class AdminModelPostgresTest(AdminModelTests, PostgresCase):
    module_config = FAST_ARCHIVER
