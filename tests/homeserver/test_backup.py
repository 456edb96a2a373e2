# SPDX-License-Identifier: AGPL-3.0-or-later
"""The inspection report (`report --weekly`, from a backfilled Prometheus and this
server's database), and the restore drill: a populated server backed up while it runs (`python -m homeserver
backup`), destroyed (database dropped, data directory removed), restored into a fresh
data directory and database (`restore`) and started: messages, the directory, the
audit chain (audit-verify) and media come back intact. A damaged backup file is
refused by `backup --verify` and by `restore` (nothing written). Both engines."""

import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from homeserver.backup import HISTORY_FILE
from tests.harness import postgres
from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.harness.server import TestServer, launcher
from tests.homeserver import prometheus
from tests.modules.openapi.helpers import enrol_officer, root_department
from tests.modules.watermark.media_http import get_bytes, media_path, upload

DIRECTORY = "/_jwwx/admin/v1/directory"


def _audit(data_dir: Path) -> dict[str, Any]:
    result = launcher("audit-verify", "--data-dir", str(data_dir), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


class BackupRestoreTests:
    # Bound to a ServerCase of each engine below. Two server starts and a restore:
    # more than trial's default 120 s on a loaded machine.
    timeout = 420
    server: TestServer
    engine: str

    async def test_a_inspection_report(self) -> None:
        """`report --weekly` from a real Prometheus holding a known week (persister1
        down 200 minutes) and this server's database: HTML and PDF with the plots,
        the availability computed from the series, the database counts, the audit
        chain and the backup made in the period."""
        alice = self.user("reporter")
        room = await alice.create_room()
        for i in range(3):
            status, _ = await alice.send_text(room, f"巡检消息 {i}")
            self.assertEqual(status, 200)
        out = Path(tempfile.mkdtemp(prefix="jwwx-report-"))
        self.addCleanup(shutil.rmtree, out, True)
        launcher("backup", "--data-dir", str(self.server.data_dir), "--out", str(out))
        with prometheus.prometheus_with_a_week(out) as url:
            made = launcher(
                "report",
                "--weekly",
                "--data-dir",
                str(self.server.data_dir),
                "--prometheus",
                url,
                "--out",
                str(out / "reports"),
            )
        report = json.loads(made.stdout)
        self.assertEqual(report["problems"], [])
        # 20 of the week's 1,008 ten-minute points fall in the outage (± the edges).
        expected = 1 - 20 / 1008
        self.assertAlmostEqual(report["service_availability"], expected, delta=0.002)
        self.assertEqual(report["process_availability"]["main"], 1.0)
        self.assertAlmostEqual(
            report["process_availability"]["persister1"], expected, delta=0.002
        )
        self.assertGreaterEqual(report["database"]["messages"], 3)
        self.assertGreaterEqual(report["database"]["accounts"], 1)
        self.assertTrue(report["audit"]["ok"])
        self.assertEqual(report["backups"], 1)
        page = Path(report["html"]).read_text(encoding="utf-8")
        self.assertIn("周巡检报告", page)
        self.assertEqual(page.count("data:image/png;base64,"), 7)
        self.assertIn("98.0", page)  # the service availability, in the table
        self.assertTrue(Path(report["pdf"]).read_bytes().startswith(b"%PDF"))

    async def test_backup_destroy_restore(self) -> None:
        admin = self.user("bkadmin", admin=True)
        alice = self.user("alice")
        bob = self.user("bob")
        dept = await root_department(admin, "备份演练支队")
        userid = await enrol_officer(admin, bob, dept)
        room = await alice.create_room(invite=[bob.user_id])
        await bob.join(room)
        texts = [f"备份演练消息 {i}" for i in range(3)]
        for text in texts:
            status, _ = await alice.send_text(room, text)
            self.assertEqual(status, 200)
        attachment = os.urandom(3000)
        mxc = await upload(alice, attachment, "application/octet-stream", "笔录.bin")
        audit_before = _audit(self.server.data_dir)
        self.assertTrue(audit_before["ok"])

        out = Path(tempfile.mkdtemp(prefix="jwwx-backups-"))
        self.addCleanup(shutil.rmtree, out, True)
        made = launcher(
            "backup", "--data-dir", str(self.server.data_dir), "--out", str(out)
        )
        summary = json.loads(made.stdout)
        backup_file = Path(summary["file"])
        self.assertEqual(summary["engine"], self.engine)
        self.assertGreaterEqual(summary["media_files"], 1)
        with tarfile.open(backup_file) as tar:
            names = tar.getnames()
        self.assertIn("data/keys/signing.key", names)
        self.assertIn("data/keys/audit_key", names)
        self.assertFalse([n for n in names if n.startswith("data/media_store/")])
        checked = launcher("backup", "--verify", str(backup_file))
        self.assertTrue(json.loads(checked.stdout)["ok"])
        history = (self.server.data_dir / HISTORY_FILE).read_text().splitlines()
        self.assertEqual(json.loads(history[0])["action"], "backup")

        # A damaged copy is refused, and restore writes nothing.
        damaged = out / "damaged.tar"
        raw = bytearray(backup_file.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        damaged.write_bytes(bytes(raw))
        refused = launcher("backup", "--verify", str(damaged), check=False)
        self.assertEqual(refused.returncode, 2, refused.stdout)
        self.assertIn("does not match", refused.stderr)
        nowhere = out / "not-restored"
        refused = launcher(
            "restore", str(damaged), "--data-dir", str(nowhere), check=False
        )
        self.assertEqual(refused.returncode, 2)
        self.assertFalse(nowhere.exists())

        # Destroy the server: its database and its data directory.
        port = self.server.port
        self.server.stop()

        restored = TestServer(self.engine)
        restored.port, restored.base_url = port, self.server.base_url
        extra: list[str] = []
        if self.engine == "postgres":
            params = postgres.create_database()
            restored.pg_database = str(params["dbname"])
            password = f":{params['password']}" if params["password"] else ""
            extra = [
                "--database-url",
                f"postgresql://{params['user']}{password}@{params['host']}:"
                f"{params['port']}/{params['dbname']}",
            ]
        try:
            done = launcher(
                "restore",
                str(backup_file),
                "--data-dir",
                str(restored.data_dir),
                *extra,
            )
            self.assertEqual(json.loads(done.stdout)["engine"], self.engine)
            # Restoring twice into the same place is refused.
            again = launcher(
                "restore",
                str(backup_file),
                "--data-dir",
                str(restored.data_dir),
                *extra,
                check=False,
            )
            self.assertEqual(again.returncode, 2)
            self.assertIn("not empty", again.stderr)
            restored._spawn()
            await self._check_restored(restored, admin, bob, room, texts, userid)
            status, body, _ = await get_bytes(
                restored.base_url, media_path(mxc), bob.token
            )
            self.assertEqual((status, body), (200, attachment))
            audit_after = _audit(restored.data_dir)
            self.assertTrue(audit_after["ok"])
            self.assertGreaterEqual(audit_after["checked"], audit_before["checked"])
        finally:
            restored.stop()

    async def _check_restored(
        self,
        restored: TestServer,
        admin: MatrixClient,
        bob: MatrixClient,
        room: str,
        texts: list[str],
        userid: str,
    ) -> None:
        # The same accounts and sessions: the tokens are in the restored database.
        reader = MatrixClient(restored.base_url, bob.user_id, bob.token)
        timeline = await reader.messages(room, limit=50)
        self.assertEqual(
            [e["content"]["body"] for e in timeline if e["type"] == "m.room.message"],
            list(reversed(texts)),
        )
        boss = MatrixClient(restored.base_url, admin.user_id, admin.token)
        member = await boss.ok("GET", f"{DIRECTORY}/members/{userid}")
        self.assertEqual(member["account_state"], "created")


class BackupRestoreSQLiteTest(BackupRestoreTests, SQLiteCase):
    pass


class BackupRestorePostgresTest(BackupRestoreTests, PostgresCase):
    pass
