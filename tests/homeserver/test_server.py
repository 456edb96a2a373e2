# SPDX-License-Identifier: AGPL-3.0-or-later
"""A real server started by the launcher: health, check, create-admin, restart."""

import yaml

from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.harness.server import launcher

BOOTSTRAP = "/_jwwx/admin/v1/bootstrap/token"


class ServerTests:
    async def test_versions_and_module_health(self) -> None:
        client = self.anonymous()
        versions = await client.ok("GET", "/_matrix/client/versions")
        self.assertIn("versions", versions)
        health = await client.ok("GET", "/_jwwx/client/v1/health")
        self.assertEqual(health["status"], "ok")
        self.assertEqual(
            health["modules"]["policy"], {"status": "ok", "schema_version": 1}
        )
        self.assertIn("admin_api", health["modules"])

    async def test_no_presence_as_shipped(self) -> None:
        """Presence is off in the rendered config (issue 17, item 8): an officer's
        online state and status message reach no one sharing a room with them, and
        /sync carries no presence."""
        alice, bob = self.user("pres_a"), self.user("pres_b")
        room = await alice.create_room(preset="private_chat", invite=[bob.user_id])
        await bob.join(room)
        await alice.ok(
            "PUT",
            f"/_matrix/client/v3/presence/{alice.user_id}/status",
            {"presence": "online", "status_msg": "值班中"},
        )
        seen = await bob.ok(
            "GET", f"/_matrix/client/v3/presence/{alice.user_id}/status"
        )
        self.assertEqual(seen, {"presence": "offline"})
        await alice.sync()
        synced = await bob.sync()
        self.assertEqual(synced.get("presence", {}).get("events", []), [])

    def test_check_command(self) -> None:
        result = launcher("check", "--data-dir", str(self.server.data_dir), check=False)
        self.assertEqual(result.returncode, 0, result)
        healthy = result.stdout.split("modules healthy: ")[1].strip().split(", ")
        self.assertIn("policy", healthy)
        self.assertIn("directory", healthy)
        # Every module of the rendered config reports, under its package's name (a
        # module may add probes of its own parts, as modules.docs its editor page).
        config = yaml.safe_load((self.server.data_dir / "homeserver.yaml").read_text())
        packages = {entry["module"].split(".")[-2] for entry in config["modules"]}
        self.assertEqual(len(packages), len(config["modules"]))
        self.assertEqual(packages - set(healthy), set(), healthy)

    async def test_create_admin_creates_then_resets(self) -> None:
        data_dir = str(self.server.data_dir)
        password_file = self.server.data_dir / "keys" / "boss_password"
        first = launcher("create-admin", "--data-dir", data_dir, "--user", "boss")
        self.assertIn("已创建", first.stdout)
        old_password = password_file.read_text().strip()
        second = launcher("create-admin", "--data-dir", data_dir, "--user", "boss")
        self.assertIn("已重置密码", second.stdout)
        new_password = password_file.read_text().strip()
        self.assertNotEqual(old_password, new_password)

        client = self.anonymous()

        async def login(password: str) -> tuple[int, dict]:
            return await client.request(
                "POST",
                "/_matrix/client/v3/login",
                {
                    "type": "m.login.password",
                    "identifier": {"type": "m.id.user", "user": "boss"},
                    "password": password,
                },
            )

        self.assertErrcode(await login(old_password), 403, "M_FORBIDDEN")
        status, session = await login(new_password)
        self.assertEqual(status, 200, session)
        admin = MatrixClient(
            self.server.base_url, session["user_id"], session["access_token"]
        )
        # Synapse's own admin API accepts the account: it really is a server admin.
        user = await admin.ok("GET", f"/_synapse/admin/v2/users/{session['user_id']}")
        self.assertTrue(user["admin"])

    async def test_load_sample(self) -> None:
        data_dir = str(self.server.data_dir)
        launcher("create-admin", "--data-dir", data_dir)
        result = launcher(
            "load-sample",
            "--data-dir",
            data_dir,
            "--departments",
            "12",
            "--members",
            "30",
        )
        self.assertIn("members: 30 created", result.stdout)
        again = launcher(
            "load-sample",
            "--data-dir",
            data_dir,
            "--departments",
            "12",
            "--members",
            "30",
        )
        self.assertIn("members: 0 created, 0 updated, 30 unchanged", again.stdout)
        bad = launcher(
            "load-sample", "--data-dir", data_dir, "--members", "-1", check=False
        )
        self.assertEqual(bad.returncode, 2)

    async def test_bootstrap_endpoint_refuses_without_the_secret(self) -> None:
        client = self.anonymous()
        nonce = (await client.ok("GET", BOOTSTRAP))["nonce"]
        self.assertErrcode(
            await client.request(
                "POST", BOOTSTRAP, {"user": "admin", "nonce": nonce, "mac": "00" * 32}
            ),
            403,
            "M_FORBIDDEN",
        )
        # The nonce was used up by the failed attempt.
        self.assertErrcode(
            await client.request(
                "POST", BOOTSTRAP, {"user": "admin", "nonce": nonce, "mac": "00" * 32}
            ),
            400,
            "M_UNKNOWN",
        )
        self.assertErrcode(
            await client.request("POST", BOOTSTRAP, {"user": "admin"}),
            400,
            "M_MISSING_PARAM",
        )

    async def test_restart_keeps_data_and_applies_schema_once(self) -> None:
        admin = self.user("admin", admin=True)
        await admin.ok(
            "PUT", "/_jwwx/admin/v1/policy/keywords", {"keywords": ["重启后仍在"]}
        )
        self.server.restart()
        listed = await admin.ok("GET", "/_jwwx/admin/v1/policy/keywords")
        self.assertEqual(listed["keywords"], ["重启后仍在"])
        self.assertNotIn(
            "applied schema versions",
            self.server.log_tail(400).split("Shutting down")[-1],
        )


class ServerSQLiteTest(ServerTests, SQLiteCase):
    pass


class ServerPostgresTest(ServerTests, PostgresCase):
    pass
