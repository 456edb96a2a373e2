# SPDX-License-Identifier: AGPL-3.0-or-later
"""The PostgreSQL failover drill (docs/availability.md): our server on a primary with a
synchronous streaming replica, both clusters of this test's own on loopback; while a
client sends, the primary is stopped at once (as a lost machine) and the replica
promoted. The server finds the new primary by itself through libpq's multi-host
connection string (`host: "a,b"`, `port: "p,q"`, `target_session_attrs: read-write`,
in `database.args`): no restart, no moved address. Every acknowledged message is in the
room exactly once afterwards; the recovery time is printed."""

import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from twisted.trial import unittest

import yaml

from tests.harness import pg_cluster, postgres
from tests.harness.client import MatrixClient
from tests.harness.drills import send_until_acknowledged
from tests.harness.server import TestServer, free_port

MESSAGES = 12
CRASH_AFTER = 4


class PostgresFailoverTest(unittest.TestCase):
    timeout = 420

    def setUp(self) -> None:
        postgres.skip_unless_ready(
            pg_cluster.unavailable_reason(), "the failover drill"
        )
        root = Path(tempfile.mkdtemp(prefix="jwwx-failover-"))
        self.addCleanup(shutil.rmtree, root, True)
        pg_cluster.owned_temp_dir(root / "pg")
        self.primary = pg_cluster.Cluster(root / "pg" / "primary", free_port())
        self.replica = pg_cluster.Cluster(root / "pg" / "replica", free_port())
        self.primary.initdb()
        self.primary.start()
        self.addCleanup(self.primary.stop)
        self.replica.replica_of(self.primary)
        self.replica.start()
        self.addCleanup(self.replica.stop)
        self.primary.wait_sync_replica()
        self.primary.query(
            "CREATE DATABASE jwwx ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
            " TEMPLATE template0"
        )
        url = f"postgresql://postgres@127.0.0.1:{self.primary.port}/jwwx"
        self.server = TestServer(
            init_args=("--database-url", url), configure=self._both_hosts
        )
        self.addCleanup(self.server.stop)
        self.server.start()

    def _both_hosts(self, server: TestServer) -> None:
        """database.args naming both clusters; libpq connects to the one that takes
        writes (conf.d, as an operator would write it)."""
        rendered = yaml.safe_load((server.data_dir / "homeserver.yaml").read_text())
        database = rendered["database"]
        database["args"].update(
            host="127.0.0.1,127.0.0.1",
            port=f"{self.primary.port},{self.replica.port}",
            target_session_attrs="read-write",
            connect_timeout=3,
        )
        (server.data_dir / "conf.d" / "zz_failover.yaml").write_text(
            yaml.safe_dump({"database": database})
        )

    def _client(self, prefix: str) -> MatrixClient:
        localpart = f"{prefix}{uuid.uuid4().hex[:6]}"
        user_id, token = self.server.register(localpart)
        return MatrixClient(self.server.base_url, user_id, token)

    async def test_primary_lost_replica_promoted_no_acknowledged_message_lost(
        self,
    ) -> None:
        alice, bob = self._client("alice"), self._client("bob")
        room = await alice.create_room(invite=[bob.user_id])
        await bob.join(room)
        acknowledged: dict[str, str] = {}
        crashed_at = promoted_at = back_at = 0.0
        longest = 0.0
        failures = 0
        for i in range(MESSAGES):
            if i == CRASH_AFTER:
                self.primary.crash()
                crashed_at = time.monotonic()
                # What Patroni or the operator does once the primary is declared
                # lost (their detection time comes on top, docs/availability.md).
                self.replica.promote()
                promoted_at = time.monotonic()
            started = time.monotonic()
            text = f"切换 {i}"
            event_id, failed = await send_until_acknowledged(
                alice, room, text, "failover"
            )
            acknowledged[event_id] = text
            failures += failed
            if i == CRASH_AFTER:
                back_at = time.monotonic()
            longest = max(longest, time.monotonic() - started)
        # The old primary is gone: everything below comes from the promoted replica.
        self.assertEqual(self.replica.query("SELECT pg_is_in_recovery()")[0][0], False)
        timeline = await bob.messages(room, limit=100)
        texts = {
            e["event_id"]: e["content"]["body"]
            for e in timeline
            if e["type"] == "m.room.message"
        }
        self.assertEqual(texts, acknowledged)
        self.assertEqual(len(acknowledged), MESSAGES)
        rows = self.replica.query(
            "SELECT count(*) FROM events WHERE type = 'm.room.message'"
            f" AND room_id = '{room}'",
            dbname="jwwx",
        )
        self.assertEqual(rows[0][0], MESSAGES)
        # /sync and our modules answer on the new primary.
        synced: dict[str, Any] = await bob.sync()
        self.assertIn(room, synced["rooms"]["join"])
        health = await alice.ok("GET", "/_jwwx/client/v1/health")
        self.assertEqual(health["status"], "ok", health)
        print(
            f"\nprimary stopped at once; replica promoted after"
            f" {promoted_at - crashed_at:.1f}s; sends acknowledged again"
            f" {back_at - crashed_at:.1f}s after the crash ({failures} refused or"
            f" timed-out attempts, longest wait for one acknowledgement"
            f" {longest:.1f}s); {len(acknowledged)} acknowledged, all present once"
        )
