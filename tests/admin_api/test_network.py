# SPDX-License-Identifier: AGPL-3.0-or-later
"""The admin API's network and host allow-lists (admin_api allowed_networks /
allowed_hosts): admin endpoints of every module refused from elsewhere with 403
CN_JWWX_ADMIN_NETWORK and the refusal in the operation log; officers' endpoints not
affected."""

import json
from typing import Any
from urllib.parse import quote

import treq
import yaml

from tests.admin_api.test_admin_model import ADMINS, AUDIT, OP_AUDITOR
from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient, _pool
from tests.modules.audit.helpers import wait_for
from tests.modules.directory.helpers import ADMIN as DIRECTORY


class AdminNetworkTests:
    # Three restarts: on a loaded 2-core machine that outlasts trial's default 120 s
    # (a hang guard, not a timing).
    timeout = 400

    def _override(self, **admin_api: Any) -> None:
        """conf.d: the audit admin and a fast archiver (to read the log), and these
        admin_api keys; then restart."""
        rendered = yaml.safe_load(
            (self.server.data_dir / "homeserver.yaml").read_text()
        )
        for entry in rendered["modules"]:
            if entry["module"] == "modules.audit.AuditModule":
                entry["config"].update(
                    poll_interval_seconds=0.2,
                )
            if entry["module"] == "admin_api.AdminApiModule":
                entry["config"].update(admin_api)
        (self.server.data_dir / "conf.d" / "zz_admin_network.yaml").write_text(
            yaml.safe_dump({"modules": rendered["modules"]}, allow_unicode=True)
        )
        self.server.restart()

    async def _get(self, client: MatrixClient, path: str, host: str) -> tuple[int, Any]:
        response = await treq.request(
            "GET",
            client.base_url + path,
            headers={"Authorization": [f"Bearer {client.token}"], "Host": [host]},
            pool=_pool,
        )
        return response.code, json.loads(await response.content())

    async def test_allow_lists(self) -> None:
        boss = self.user("super", admin=True)
        user_id, token = self.server.register(OP_AUDITOR)
        auditor = MatrixClient(self.server.base_url, user_id, token)
        await boss.ok("PUT", f"{ADMINS}/roles/{quote(user_id)}", {"roles": ["audit"]})
        officer = self.user("officer")

        # Right address, wrong host name; then the right one.
        self._override(
            allowed_networks=["127.0.0.0/8"], allowed_hosts=["admin.example"]
        )
        body = self.assertErrcode(
            await boss.request("GET", f"{ADMINS}/me"), 403, "CN_JWWX_ADMIN_NETWORK"
        )
        self.assertEqual(body["ip"], "127.0.0.1")
        self.assertErrcode(
            await boss.request("GET", f"{DIRECTORY}/jobs"), 403, "CN_JWWX_ADMIN_NETWORK"
        )
        status, me = await self._get(boss, f"{ADMINS}/me", "admin.example:8448")
        self.assertEqual((status, me.get("roles")), (200, ["super"]), me)
        status, _ = await self._get(boss, f"{DIRECTORY}/jobs", "ADMIN.example")
        self.assertEqual(status, 200)
        # Officers' endpoints are not the admin API.
        await officer.ok("GET", "/_matrix/client/v3/account/whoami")

        # An address outside the list: refused whatever the host.
        self._override(allowed_networks=["10.0.0.0/8", "fd00::/8"])
        self.assertErrcode(
            await boss.request("GET", f"{ADMINS}/groups"), 403, "CN_JWWX_ADMIN_NETWORK"
        )
        status, body = await self._get(boss, f"{DIRECTORY}/jobs", "admin.example")
        self.assertEqual((status, body["errcode"]), (403, "CN_JWWX_ADMIN_NETWORK"))

        # Without the lists again: the refusals are in the operation log.
        self._override()
        await boss.ok("GET", f"{ADMINS}/me")

        async def refusals() -> Any:
            consumer = f"n{id(self)}{len(str(self))}"
            page = await auditor.ok(
                "GET", f"{AUDIT}/export/admin?consumer={consumer}&limit=500"
            )
            found = [
                r["record"]
                for r in page["records"]
                if r["record"]["action"] == "admin.access.refused"
            ]
            return found if len(found) >= 4 else None

        found = await wait_for(refusals)
        self.assertEqual({r["actor"] for r in found}, {boss.user_id})
        self.assertIn(f"path:{ADMINS}/me", [r["target"] for r in found])
        self.assertEqual(found[0]["detail"]["ip"], "127.0.0.1")


class AdminNetworkSQLiteTest(AdminNetworkTests, SQLiteCase):
    pass


class AdminNetworkPostgresTest(AdminNetworkTests, PostgresCase):
    pass
