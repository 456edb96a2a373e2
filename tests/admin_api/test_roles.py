# SPDX-License-Identifier: AGPL-3.0-or-later
"""The separated roles over HTTP (三员分立, docs/admin.md "Roles"): only audit admins
read message content — the super admin gets 403 —, every audit admin's action is
logged and only the super admin lists that log (filters, paging, CSV); a security
admin manages the keyword and watermark policies but not accounts or the directory;
a group admin holding settings.keywords alone is refused the watermark; every
settings write is one operation-log record with before and after."""

import csv
import io
import os
from typing import Any, ClassVar
from urllib.parse import quote

from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.modules.audit.helpers import wait_for
from tests.modules.directory.helpers import ADMIN as DIRECTORY

ADMINS = "/_jwwx/admin/v1/admins"
AUDIT = "/_jwwx/admin/v1/audit"
KEYWORDS = "/_jwwx/admin/v1/policy/keywords"
WATERMARK = "/_jwwx/admin/v1/watermark/settings"
ACCOUNTS = "/_jwwx/admin/v1/accounts"


def q(value: str) -> str:
    return quote(value, safe="")


class RolesTests:
    boss: ClassVar[MatrixClient]
    auditor: ClassVar[MatrixClient]
    security: ClassVar[MatrixClient]
    _configured: ClassVar[Any] = None

    async def _configure(self) -> None:
        """Once per server: a super admin, an audit admin and a security admin, the
        roles given at run time (no config, no restart)."""
        cls = type(self)
        if cls._configured is self.server:
            return
        cls.boss = self.user("boss", admin=True)
        cls.auditor = self.user("auditor")
        cls.security = self.user("secadmin")
        for client, role in ((cls.auditor, "audit"), (cls.security, "security")):
            await cls.boss.ok(
                "PUT", f"{ADMINS}/roles/{q(client.user_id)}", {"roles": [role]}
            )
        cls._configured = self.server

    async def _operations(self, query: str) -> list[dict[str, Any]]:
        """Every record the super admin's listing answers, paged through next_seq."""
        out: list[dict[str, Any]] = []
        after = 0
        while True:
            page = await self.boss.ok(
                "GET", f"{AUDIT}/operations?{query}&after_seq={after}&limit=2"
            )
            out.extend(page["operations"])
            if page["complete"]:
                return out
            after = page["next_seq"]

    async def test_audit_role_reads_content_and_only_the_super_admin_sees_its_log(
        self,
    ) -> None:
        await self._configure()
        officer = self.user("officer")
        word = f"审计词{os.urandom(3).hex()}"
        search = {"keyword": word}

        # The super admin holds every other right, not this one (nor does an officer
        # or the security admin): 403, nothing logged.
        for client in (self.boss, officer, self.security):
            for method, path, body in (
                ("POST", "search/messages", search),
                ("POST", "search/files", {"name": word}),
                ("GET", "verify?max_records=1", None),
                ("GET", "export/message?after_seq=0&limit=1", None),
            ):
                self.assertErrcode(
                    await client.request(method, f"{AUDIT}/{path}", body),
                    403,
                    "M_FORBIDDEN",
                )

        # The audit admin can; each action is archived.
        found = await self.auditor.ok("POST", f"{AUDIT}/search/messages", search)
        self.assertEqual(found["results"], [])
        await self.auditor.ok("GET", f"{AUDIT}/verify?max_records=5")
        await self.auditor.ok("GET", f"{AUDIT}/export/message?after_seq=0&limit=1")
        await self.auditor.ok("GET", f"{AUDIT}/exporters")
        # …but never its own role's log: not by export, not by the listing.
        self.assertErrcode(
            await self.auditor.request("GET", f"{AUDIT}/export/audit?after_seq=0"),
            403,
            "M_FORBIDDEN",
        )
        for client in (self.auditor, self.security, officer):
            for log in ("audit", "admin"):
                self.assertErrcode(
                    await client.request("GET", f"{AUDIT}/operations?log={log}"),
                    403,
                    "M_FORBIDDEN",
                )

        # The super admin sees all four, filtered by operator and paged.
        mine = f"log=audit&actor={q(self.auditor.user_id)}"

        async def logged() -> Any:
            ops = await self._operations(mine)
            return ops if len(ops) >= 4 else None

        ops = await wait_for(logged)
        self.assertEqual(
            [op["record"]["action"] for op in ops],
            ["search.messages", "verify", "export", "exporters.status"],
        )
        self.assertEqual({op["record"]["actor"] for op in ops}, {self.auditor.user_id})
        self.assertEqual(ops[0]["record"]["query"]["keyword"], word)
        # By type (a dotted prefix) and by target (part of the query).
        by_type = await self._operations(f"{mine}&action=search")
        self.assertEqual([op["seq"] for op in by_type], [ops[0]["seq"]])
        by_target = await self._operations(f"log=audit&target={q(word[-6:])}")
        self.assertEqual([op["seq"] for op in by_target], [ops[0]["seq"]])
        # By time: nothing before the first record.
        early = await self._operations(f"{mine}&to_ts={ops[0]['ts'] - 1}")
        self.assertEqual(early, [])

        # CSV export of the same listing; spreadsheet formulas are defused.
        status, text = await self.boss.request(
            "GET", f"{AUDIT}/operations?{mine}&format=csv&limit=100"
        )
        self.assertEqual(status, 200, text)
        self.assertTrue(text.startswith("\ufeff"))
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
        self.assertEqual([r["seq"] for r in rows], [str(op["seq"]) for op in ops])
        self.assertEqual(rows[0]["actor"], "'" + self.auditor.user_id)
        self.assertEqual(rows[0]["action"], "search.messages")
        self.assertIn(word, rows[0]["detail"])

        # Bad input: a clear error.
        for query in (
            "log=nope",
            "format=xml",
            "limit=0",
            "limit=501",
            "from_ts=10&to_ts=5",
            "after_seq=-1",
            "actor=" + "x" * 300,
        ):
            self.assertErrcode(
                await self.boss.request("GET", f"{AUDIT}/operations?{query}"),
                400,
                "M_INVALID_PARAM",
            )
        self.assertErrcode(
            await self.boss.request(
                "PUT", f"{ADMINS}/roles/{q(officer.user_id)}", {"roles": ["auditor"]}
            ),
            400,
            "CN_JWWX_ADMIN_ROLE_UNKNOWN",
        )
        self.assertErrcode(
            await self.boss.request(
                "PUT",
                f"{ADMINS}/roles/{q(officer.user_id)}",
                {"roles": ["audit", "security"]},
            ),
            409,
            "CN_JWWX_ADMIN_ROLE_CONFLICT",
        )
        # Giving the role takes effect at once, taking it away too.
        await self.boss.ok(
            "PUT", f"{ADMINS}/roles/{q(officer.user_id)}", {"roles": ["audit"]}
        )
        await officer.ok("POST", f"{AUDIT}/search/messages", search)
        await self.boss.ok("PUT", f"{ADMINS}/roles/{q(officer.user_id)}", {"roles": []})
        self.assertErrcode(
            await officer.request("POST", f"{AUDIT}/search/messages", search),
            403,
            "M_FORBIDDEN",
        )

    async def test_security_admin_and_settings_rights(self) -> None:
        await self._configure()
        sec = self.security
        # Policies: the keyword list and the watermark/sharing settings.
        before = (await sec.ok("GET", KEYWORDS))["keywords"]
        word = f"安全词{os.urandom(3).hex()}"
        await sec.ok("PUT", KEYWORDS, {"keywords": [*before, word]})
        mark_before = await sec.ok("GET", WATERMARK)
        opacity = 0.31 if mark_before["watermark"]["opacity"] != 0.31 else 0.32
        mark_after = await sec.ok("PUT", WATERMARK, {"watermark": {"opacity": opacity}})
        self.assertEqual(mark_after["watermark"]["opacity"], opacity)

        # Not accounts, not the directory, not admin groups or roles.
        officer = self.user("secofficer")
        for method, path in (
            ("GET", f"{ACCOUNTS}/users/{q(officer.user_id)}"),
            ("POST", f"{ACCOUNTS}/users/{q(officer.user_id)}/disable"),
            ("GET", f"{DIRECTORY}/departments/1/children"),
            ("GET", f"{DIRECTORY}/tags"),
            ("GET", f"{ADMINS}/groups"),
            ("GET", f"{ADMINS}/roles"),
        ):
            status, body = await sec.request(
                method, path, {} if method == "POST" else None
            )
            self.assertEqual(status, 403, f"{method} {path}: {body}")
            self.assertIn(body["errcode"], ("M_FORBIDDEN", "CN_JWWX_ADMIN_SCOPE"))

        # A group admin holding settings.keywords only: keywords yes, watermark no.
        kw_admin = self.user("kwadmin")
        await self.boss.ok(
            "POST",
            f"{ADMINS}/groups",
            {
                "name": f"敏感词管理组{os.urandom(2).hex()}",
                "members": [kw_admin.user_id],
                "rights": ["settings.keywords"],
            },
        )
        await kw_admin.ok("GET", KEYWORDS)
        await kw_admin.ok("PUT", KEYWORDS, {"keywords": before})
        for method, body in (("GET", None), ("PUT", {"watermark": {"opacity": 0.5}})):
            self.assertErrcode(
                await kw_admin.request(method, WATERMARK, body), 403, "M_FORBIDDEN"
            )
        self.assertEqual(
            (await self.boss.ok("GET", WATERMARK))["watermark"]["opacity"], opacity
        )
        # Bad input changes nothing and is not logged.
        self.assertErrcode(
            await sec.request("PUT", WATERMARK, {"watermark": {"opacity": 7}}),
            400,
            "M_INVALID_PARAM",
        )
        self.assertErrcode(
            await sec.request("PUT", KEYWORDS, {"keywords": "not a list"}),
            400,
            "M_INVALID_PARAM",
        )

        # Each write is one operation-log record with before and after, which the
        # super admin finds by operator, type and target.
        async def writes() -> Any:
            ops = await self._operations(
                f"log=admin&actor={q(sec.user_id)}&target=setting%3A"
            )
            return ops if len(ops) >= 2 else None

        keywords_op, watermark_op = [op["record"] for op in await wait_for(writes)]
        self.assertEqual(keywords_op["action"], "policy.keywords.replace")
        self.assertEqual(keywords_op["target"], "setting:keywords")
        self.assertEqual(keywords_op["before"], before)
        self.assertIn(word, keywords_op["after"])
        self.assertTrue(keywords_op["detail"]["ip"])
        self.assertEqual(watermark_op["action"], "watermark.settings.update")
        self.assertEqual(watermark_op["before"], mark_before)
        self.assertEqual(watermark_op["after"]["watermark"]["opacity"], opacity)

        async def group_write() -> Any:
            return await self._operations(
                f"log=admin&actor={q(kw_admin.user_id)}&action=policy.keywords"
            )

        [restored] = await wait_for(group_write)
        self.assertEqual(restored["record"]["after"], before)


class RolesSQLiteTest(RolesTests, SQLiteCase):
    pass


class RolesPostgresTest(RolesTests, PostgresCase):
    pass
