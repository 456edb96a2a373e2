# SPDX-License-Identifier: AGPL-3.0-or-later
"""The audit archive end to end on a real Synapse: a scripted DM and group
conversation, the hash chain against tampering, encryption at rest and key rotation,
pull and push export (a real syslog collector that goes down for a while), the audit
searches and who may use them, and a crash without loss."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any, ClassVar
from urllib.parse import quote

import treq
import yaml
from PIL import Image, ImageDraw

from modules.audit.config import derive_key
from modules.audit.records import RecordError, open_body
from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.harness.server import TestServer, free_port
from tests.modules.audit.helpers import (
    PREFIX,
    HttpCollector,
    SyslogCollector,
    query,
    sleep,
    wait_for,
)

GROUPS = "/_jwwx/client/v1/groups"
AUDITOR = "auditor"
# The bureau's log system: a pull consumer with its own export credential.
BUREAU_TOKEN = "bureau-pull-" + "7" * 40


def q(value: str) -> str:
    return quote(value, safe="")


def picture(seed: int, size: int = 256) -> Image.Image:
    """A structured test image (shapes, not noise) that survives re-encoding."""
    image = Image.new("RGB", (size, size), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    for i in range(8):
        x = (seed * 37 + i * 53) % size
        y = (seed * 91 + i * 29) % size
        r = 20 + (seed * 13 + i * 7) % 40
        color = ((seed * 60 + i * 30) % 256, (i * 90) % 256, (seed * 17) % 256)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=color)
    draw.rectangle((0, 0, size // (2 + seed % 3), size // 4), fill=(20, 20, 120))
    return image


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


class AuditTests:
    collector: ClassVar[SyslogCollector]
    _configured: ClassVar[Any] = None

    @classmethod
    def prepare_class(cls) -> None:
        # Listens only inside the exporter test (trial wants a clean reactor after
        # each test); until then the exporter keeps retrying, as with a collector down.
        cls.collector = SyslogCollector(free_port())
        cls.http_collector = HttpCollector(free_port())
        cls.metrics_port = free_port()
        cls.init_args = ("--metrics-port", str(cls.metrics_port))

    # Set-up: audit admin, a fast poll and the exporter, through conf.d (written
    # before the server first starts: no restart to apply it).

    @classmethod
    def configure_server(cls, server: TestServer) -> None:
        cls._write_override_for(server)

    @staticmethod
    def _audit_config_of(server: TestServer) -> tuple[Any, dict[str, Any]]:
        rendered = yaml.safe_load((server.data_dir / "homeserver.yaml").read_text())
        for entry in rendered["modules"]:
            if entry["module"] == "modules.audit.AuditModule":
                return rendered, entry["config"]
        raise AssertionError("modules.audit is not in homeserver.yaml")

    def _audit_config(self) -> tuple[Any, dict[str, Any]]:
        return self._audit_config_of(self.server)

    @classmethod
    def _write_override_for(cls, server: TestServer, **changes: Any) -> None:
        rendered, config = cls._audit_config_of(server)
        config.update(
            poll_interval_seconds=0.2,
            exporters=[
                {
                    "name": "siem",
                    "syslog": {"host": "127.0.0.1", "port": cls.collector.port},
                    "retry_initial_seconds": 0.2,
                    "retry_max_seconds": 1,
                    "timeout_seconds": 5,
                },
                {
                    "name": "bureau-http",
                    "kinds": ["message", "group"],
                    "http": {"url": f"http://127.0.0.1:{cls.http_collector.port}/in"},
                    "retry_initial_seconds": 0.2,
                    "retry_max_seconds": 1,
                },
            ],
        )
        token_file = server.data_dir / "keys" / "pull_bureau"
        token_file.write_text(BUREAU_TOKEN + "\n", encoding="utf-8")
        config["pull_consumers"] = [{"name": "bureau", "token_file": str(token_file)}]
        config.update(changes)
        (server.data_dir / "conf.d" / "zz_audit.yaml").write_text(
            yaml.safe_dump({"modules": rendered["modules"]}, allow_unicode=True)
        )

    def _write_override(self, **changes: Any) -> None:
        self._write_override_for(self.server, **changes)

    async def _configure(self) -> None:
        cls = type(self)
        if cls._configured is self.server:
            return
        user_id, token = self.server.register(AUDITOR)
        cls.auditor = MatrixClient(self.server.base_url, user_id, token)
        cls.admin = self.user("superadmin", admin=True)
        # Audit admins are a role given at run time (admin_api), not a config list.
        await cls.admin.ok(
            "PUT", f"/_jwwx/admin/v1/admins/roles/{q(user_id)}", {"roles": ["audit"]}
        )
        cls.bureau = MatrixClient(self.server.base_url, "", BUREAU_TOKEN)
        cls._configured = self.server

    # Reading the archive.

    async def _records(self, kind: str) -> list[dict[str, Any]]:
        """Every record of a kind, paged through the export API by the audit admin
        (who reads after any seq and moves no cursor)."""
        out: list[dict[str, Any]] = []
        after = 0
        while True:
            page = await self.auditor.ok(
                "GET", f"{PREFIX}/export/{kind}?after_seq={after}&limit=500"
            )
            out.extend(page["records"])
            if not page["more"]:
                return out
            after = page["next_cursor"]

    async def _archived(self, kind: str, event_id: str) -> dict[str, Any]:
        async def find() -> dict[str, Any] | None:
            for record in await self._records(kind):
                if record["record"].get("event_id") == event_id:
                    return record
            return None

        return dict(await wait_for(find))

    async def _send(self, client: MatrixClient, room: str, text: str) -> str:
        status, body = await client.send_text(room, text)
        self.assertEqual(status, 200, body)
        return str(body["event_id"])

    async def _upload(self, client: MatrixClient, name: str, data: bytes) -> str:
        status, body = await client.request(
            "POST", f"/_matrix/media/v3/upload?filename={q(name)}", raw=data
        )
        self.assertEqual(status, 200, body)
        return str(body["content_uri"])

    async def _dm(self) -> tuple[MatrixClient, MatrixClient, str]:
        alice, bob = self.user("alice"), self.user("bob")
        room = await alice.create_room(
            preset="trusted_private_chat", is_direct=True, invite=[bob.user_id]
        )
        await bob.join(room)
        return alice, bob, room

    async def _operations(self) -> list[dict[str, Any]]:
        """Every operation the super admin sees (kind "audit"), paged."""
        out: list[dict[str, Any]] = []
        after = 0
        while True:
            page = await self.admin.ok(
                "GET", f"{PREFIX}/operations?after_seq={after}&limit=500"
            )
            out.extend(page["operations"])
            if page["complete"] or not page["operations"]:
                return out
            after = page["next_seq"]

    async def _head(self) -> int:
        status = await self.admin.ok("GET", f"{PREFIX}/exporters")
        return int(status["head_seq"])

    # Tests.

    async def test_conversation_is_archived(self) -> None:
        await self._configure()
        alice, bob, dm = await self._dm()
        hello = await self._send(alice, dm, "你好，今晚的部署方案见附件")
        data = b"%PDF-1.4 deployment plan " * 40
        mxc = await self._upload(alice, "部署方案.pdf", data)
        status, sent = await alice.send(
            dm,
            {
                "msgtype": "m.file",
                "body": "部署方案.pdf",
                "url": mxc,
                "info": {"size": len(data), "mimetype": "application/pdf"},
            },
        )
        self.assertEqual(status, 200, sent)
        carol = self.user("carol")
        group = await alice.ok(
            "POST", GROUPS, {"name": "专案组", "invite": [bob.user_id, carol.user_id]}
        )
        room = group["room_id"]
        await bob.join(room)
        await carol.join(room)
        in_group = await self._send(bob, room, "收到")
        await alice.ok(
            "PUT",
            f"/_matrix/client/v3/rooms/{q(room)}/state/m.room.name",
            {"name": "专案组（二）"},
        )
        await alice.ok(
            "POST",
            f"/_matrix/client/v3/rooms/{q(room)}/kick",
            {"user_id": carol.user_id, "reason": "调岗"},
        )
        after_kick = await self._send(alice, room, "继续")

        record = await self._archived("message", hello)
        body = record["record"]
        self.assertEqual(body["sender"], alice.user_id)
        self.assertEqual(body["recipients"], [bob.user_id])
        self.assertEqual(body["content"]["body"], "你好，今晚的部署方案见附件")
        self.assertEqual(body["room_id"], dm)
        self.assertFalse(body["is_group"])
        self.assertEqual(record["kind"], "message")
        self.assertEqual(len(record["hash"]), 64)

        file_record = (await self._archived("message", sent["event_id"]))["record"]
        [media] = file_record["media"]
        self.assertEqual(media["name"], "部署方案.pdf")
        self.assertEqual(media["upload_name"], "部署方案.pdf")
        self.assertEqual(media["size"], len(data))
        self.assertEqual(media["mxc"], mxc)
        import hashlib

        self.assertEqual(media["sha256"], hashlib.sha256(data).hexdigest())

        group_msg = (await self._archived("message", in_group))["record"]
        self.assertTrue(group_msg["is_group"])
        self.assertEqual(
            sorted(group_msg["recipients"]), sorted([alice.user_id, carol.user_id])
        )
        after = (await self._archived("message", after_kick))["record"]
        self.assertEqual(after["recipients"], [bob.user_id])

        ops = [
            (r["record"]["op"], r["record"].get("state_key"), r["record"]["details"])
            for r in await self._records("group")
            if r["record"]["room_id"] == room
        ]
        names = [op for op, _key, _details in ops]
        self.assertEqual(names[0], "create")
        self.assertIn(("join", carol.user_id), [(o, k) for o, k, _ in ops])
        self.assertIn(("kick", carol.user_id), [(o, k) for o, k, _ in ops])
        renames = [d for o, _k, d in ops if o == "rename"]
        self.assertEqual(renames[-1], {"before": "专案组", "after": "专案组（二）"})

    async def _transactions(self) -> dict[str, float]:
        """Synapse's count of database transactions by name, from its metrics."""
        response = await treq.get(
            f"http://127.0.0.1:{self.metrics_port}/_synapse/metrics", persistent=False
        )
        counts: dict[str, float] = {}
        name = "synapse_storage_transaction_time_count"  # a Counter: ..._total
        for line in (await response.content()).decode().splitlines():
            if line.split("{", 1)[0] in (name, f"{name}_total"):
                labels, value = line.rsplit(" ", 1)
                desc = labels.split('desc="', 1)[1].split('"', 1)[0]
                counts[desc] = counts.get(desc, 0) + float(value)
        return counts

    async def test_text_messages_are_archived_in_one_transaction_per_step(
        self,
    ) -> None:
        """Events with no media to fingerprint are read, checked against modules.burn
        and archived in the step's one transaction (issue 17, item 2: on SQLite each
        transaction queues for the connection message persistence needs); before,
        every step took three."""
        await self._configure()
        alice, _bob, dm = await self._dm()
        await self._archived("message", await self._send(alice, dm, "计数之前"))
        before = await self._transactions()
        for i in range(5):
            await self._archived("message", await self._send(alice, dm, f"计数{i}"))
        after = await self._transactions()

        def ran(desc: str) -> float:
            return after.get(desc, 0) - before.get(desc, 0)

        self.assertGreaterEqual(ran("jwwx_audit_read"), 5)
        self.assertEqual(ran("jwwx_audit_archive"), 0)
        self.assertEqual(ran("jwwx_burn_tracked_ids"), 0)

    async def test_burn_after_read_content_is_not_archived_by_default(self) -> None:
        """modules.burn's audit_copy is off (the template's default): the archive keeps
        who sent a burn-after-read message to whom and when, not its content."""
        await self._configure()
        alice, bob, dm = await self._dm()
        status, sent = await alice.send(
            dm,
            {
                "msgtype": "m.text",
                "body": "阅后即焚的接头暗号",
                "org.matrix.self_destruct": 60000,
            },
        )
        self.assertEqual(status, 200, sent)
        plain = await self._send(alice, dm, "普通消息照常存档")
        burned = (await self._archived("message", sent["event_id"]))["record"]
        self.assertEqual(burned["sender"], alice.user_id)
        self.assertEqual(burned["recipients"], [bob.user_id])
        self.assertTrue(burned["content"]["cn.jwwx.burn_after_read"])
        self.assertNotIn("接头暗号", json.dumps(burned, ensure_ascii=False))
        kept = (await self._archived("message", plain))["record"]
        self.assertEqual(kept["content"]["body"], "普通消息照常存档")
        found = await self.auditor.ok(
            "POST", f"{PREFIX}/search/messages", {"keyword": "接头暗号"}
        )
        self.assertEqual(found["results"], [])

    async def test_group_owner_transfer_mute_and_dissolve(self) -> None:
        await self._configure()
        owner, member = self.user("owner"), self.user("member")
        room = (
            await owner.ok(
                "POST", GROUPS, {"name": "临时群", "invite": [member.user_id]}
            )
        )["room_id"]
        await member.join(room)
        await owner.ok(
            "PUT",
            f"{GROUPS}/{q(room)}/muted",
            {"user_ids": [member.user_id], "muted": True},
        )
        await owner.ok(
            "PUT",
            f"{GROUPS}/{q(room)}/muted",
            {"user_ids": [member.user_id], "muted": False},
        )
        await owner.ok(
            "POST", f"{GROUPS}/{q(room)}/transfer", {"user_id": member.user_id}
        )
        await member.ok("POST", f"{GROUPS}/{q(room)}/dissolve", {})

        async def ops() -> list[str] | None:
            found = [
                r["record"]["op"]
                for r in await self._records("group")
                if r["record"]["room_id"] == room
            ]
            return found if "dissolve" in found else None

        found = await wait_for(ops)
        for op in ("mute", "unmute", "owner_transfer", "dissolve"):
            self.assertIn(op, found)

    async def test_chain_detects_modified_and_deleted_records(self) -> None:
        await self._configure()
        alice, _bob, dm = await self._dm()
        ids = [await self._send(alice, dm, f"链条测试 {i}") for i in range(3)]
        await self._archived("message", ids[2])
        target = await self._archived("message", ids[1])
        seq = target["seq"]
        ok = await self.auditor.ok("GET", f"{PREFIX}/verify")
        self.assertTrue(ok["ok"], ok)
        self.assertGreaterEqual(ok["checked"], seq)

        # Modified: another record's (validly sealed) payload put in its place.
        original = query(
            self.server,
            "SELECT payload FROM jwwx_audit_records WHERE seq = ?",
            (seq,),
        )[0][0]
        other = query(
            self.server,
            "SELECT payload FROM jwwx_audit_records WHERE seq = ?",
            (seq + 1,),
        )[0][0]
        query(
            self.server,
            "UPDATE jwwx_audit_records SET payload = ? WHERE seq = ?",
            (other, seq),
        )
        report = await self.auditor.ok("GET", f"{PREFIX}/verify")
        self.assertEqual(report["broken"], {"seq": seq, "reason": "modified"})
        self.assertFalse(report["ok"])
        part = await self.auditor.ok(
            "GET", f"{PREFIX}/verify?from_seq={seq}&max_records=2"
        )
        self.assertEqual(part["broken"], {"seq": seq, "reason": "modified"})
        part = await self.auditor.ok(
            "GET", f"{PREFIX}/verify?from_seq={seq + 1}&max_records=1"
        )
        self.assertEqual((part["ok"], part["next_seq"]), (True, seq + 2))
        code, offline = self._verify_offline()
        self.assertEqual((code, offline["broken"]), (1, report["broken"]))
        # Modified ciphertext fails its seal.
        flipped = ("A" if original[0] != "A" else "B") + original[1:]
        query(
            self.server,
            "UPDATE jwwx_audit_records SET payload = ? WHERE seq = ?",
            (flipped, seq),
        )
        report = await self.auditor.ok("GET", f"{PREFIX}/verify")
        self.assertEqual(report["broken"]["seq"], seq)
        self.assertEqual(report["broken"]["reason"], "modified")
        query(
            self.server,
            "UPDATE jwwx_audit_records SET payload = ? WHERE seq = ?",
            (original, seq),
        )
        self.assertTrue((await self.auditor.ok("GET", f"{PREFIX}/verify"))["ok"])

        # Deleted.
        row = query(
            self.server,
            "SELECT seq, kind, ts, key_id, has_media, hash_format, payload, hash"
            " FROM jwwx_audit_records WHERE seq = ?",
            (seq,),
        )[0]
        query(self.server, "DELETE FROM jwwx_audit_records WHERE seq = ?", (seq,))
        report = await self.auditor.ok("GET", f"{PREFIX}/verify")
        self.assertEqual(report["broken"], {"seq": seq, "reason": "missing"})
        query(
            self.server,
            "INSERT INTO jwwx_audit_records"
            " (seq, kind, ts, key_id, has_media, hash_format, payload, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            tuple(row),
        )
        self.assertTrue((await self.auditor.ok("GET", f"{PREFIX}/verify"))["ok"])
        code, offline = self._verify_offline()
        self.assertEqual((code, offline["ok"]), (0, True))

    def _verify_offline(self) -> tuple[int, dict[str, Any]]:
        """The operator's command, reading the database directly."""
        done = subprocess.run(
            [sys.executable, "-m", "homeserver", "audit-verify", "--data-dir"]
            + [str(self.server.data_dir)],
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertIn(done.returncode, (0, 1), done.stderr)
        return done.returncode, json.loads(done.stdout)

    async def test_has_media_is_inside_the_hash(self) -> None:
        """A1: clearing has_media hid a file message from the file and media searches
        while the verifier said ok. New records hash it (format 2)."""
        await self._configure()
        alice, _bob, dm = await self._dm()
        mxc = await self._upload(alice, "协查附件.pdf", b"%PDF-1.4 evidence")
        status, sent = await alice.send(
            dm, {"msgtype": "m.file", "body": "协查附件.pdf", "url": mxc}
        )
        self.assertEqual(status, 200, sent)
        seq = (await self._archived("message", sent["event_id"]))["seq"]
        [(has_media, hash_format)] = query(
            self.server,
            "SELECT has_media, hash_format FROM jwwx_audit_records WHERE seq = ?",
            (seq,),
        )
        self.assertEqual((has_media, hash_format), (1, 2))
        self.assertTrue((await self.auditor.ok("GET", f"{PREFIX}/verify"))["ok"])
        query(
            self.server,
            "UPDATE jwwx_audit_records SET has_media = 0 WHERE seq = ?",
            (seq,),
        )
        files = await self.auditor.ok(
            "POST", f"{PREFIX}/search/files", {"name": "协查附件"}
        )
        self.assertEqual(files["results"], [])
        report = await self.auditor.ok("GET", f"{PREFIX}/verify")
        self.assertFalse(report["ok"])
        self.assertEqual(
            (report["broken"]["seq"], report["broken"]["reason"]), (seq, "modified")
        )
        code, offline = self._verify_offline()
        self.assertEqual((code, offline["broken"]["seq"]), (1, seq))
        query(
            self.server,
            "UPDATE jwwx_audit_records SET has_media = 1 WHERE seq = ?",
            (seq,),
        )
        self.assertTrue((await self.auditor.ok("GET", f"{PREFIX}/verify"))["ok"])

    async def test_a_foreign_row_past_the_head_is_quarantined(self) -> None:
        """A2: one forged row with seq = head + 1 made every archive step fail on the
        unique seq, silently. It is quarantined, alerted, and archiving goes on; the
        verifier reports rows past the head."""
        await self._configure()
        alice, _bob, dm = await self._dm()
        first = await self._archived("message", await self._send(alice, dm, "伪造前"))
        forge = (
            "INSERT INTO jwwx_audit_records"
            " (seq, kind, ts, key_id, has_media, payload, hash)"
            " SELECT (SELECT last_seq FROM jwwx_audit_head) + 1, kind, ts, key_id,"
            " has_media, payload, hash FROM jwwx_audit_records WHERE seq = ?"
        )
        # Offline first (the server stopped, so the archiver cannot move it away):
        # the verifier checks rows past the head.
        self.server._terminate()
        try:
            query(self.server, forge, (first["seq"],))
            code, offline = self._verify_offline()
            self.assertEqual((code, offline["broken"]["reason"]), (1, "beyond_head"))
            query(
                self.server,
                "DELETE FROM jwwx_audit_records"
                " WHERE seq > (SELECT last_seq FROM jwwx_audit_head)",
            )
        finally:
            self.server._spawn()
        # Live: forged while the archiver runs (retried if it appended meanwhile).
        for attempt in range(5):
            try:
                query(self.server, forge, (first["seq"],))
                break
            except Exception:
                if attempt == 4:
                    raise
        # Reviewed however this test ends (a timeout on a loaded machine included):
        # an unreviewed quarantine keeps the class's server degraded, and the next
        # test's restart waits for a healthy server.
        self.addCleanup(
            query, self.server, "UPDATE jwwx_audit_quarantine SET reviewed_ts = 1"
        )
        after = await self._send(alice, dm, "伪造后的新消息照常存档")
        record = await self._archived("message", after)
        self.assertEqual(record["record"]["content"]["body"], "伪造后的新消息照常存档")
        quarantined = query(
            self.server,
            "SELECT seq, reason, reviewed_ts FROM jwwx_audit_quarantine",
        )
        self.assertEqual(len(quarantined), 1, quarantined)
        self.assertEqual(quarantined[0][1:], ("forged", None))
        # The forged seq is free again: the next genuine record took it.
        self.assertLessEqual(quarantined[0][0], record["seq"])
        health = await self.anonymous().request("GET", "/_jwwx/client/v1/health")
        self.assertEqual(health[0], 200, health)
        self.assertEqual(health[1]["status"], "degraded")
        audit = health[1]["modules"]["audit"]
        self.assertEqual(audit["status"], "degraded")
        self.assertIn("jwwx_audit_quarantine", json.dumps(audit, ensure_ascii=False))
        metrics = await treq.get(
            f"http://127.0.0.1:{self.metrics_port}/_synapse/metrics", persistent=False
        )
        text = (await metrics.content()).decode()
        self.assertIn("jwwx_audit_foreign_records_total 1.0", text)
        self.assertIn("jwwx_audit_quarantined_records 1.0", text)
        self.assertIn("foreign row(s) past the chain head", self.server.log_text())
        report = await self.auditor.ok("GET", f"{PREFIX}/verify")
        self.assertTrue(report["ok"], report)
        self.assertEqual(report["quarantined"], 1)
        # Once an auditor has reviewed it, health is ok again.
        query(self.server, "UPDATE jwwx_audit_quarantine SET reviewed_ts = 1")

        async def healthy() -> bool:
            answer = await self.anonymous().request("GET", "/_jwwx/client/v1/health")
            return bool(answer[1]["status"] == "ok")

        await wait_for(healthy)

    async def test_records_are_unreadable_without_the_key(self) -> None:
        await self._configure()
        alice, _bob, dm = await self._dm()
        marker = f"明文标记{os.urandom(4).hex()}"
        event_id = await self._send(alice, dm, marker)
        record = await self._archived("message", event_id)
        rows = query(
            self.server,
            "SELECT key_id, payload, kind, hash FROM jwwx_audit_records WHERE seq = ?",
            (record["seq"],),
        )
        key_id, payload = rows[0][0], rows[0][1]
        everything = " ".join(
            str(r)
            for r in query(self.server, "SELECT * FROM jwwx_audit_records")
            + query(self.server, "SELECT * FROM jwwx_audit_inbox")
        )
        self.assertNotIn(marker, everything)
        self.assertNotIn(alice.user_id, everything)
        self.assertNotIn(event_id, everything)
        # The right key opens it; another key does not.
        files = {"k1": "audit_key", "k2": "audit_key_2"}  # k2: the rotation test's
        key_file = self.server.data_dir / "keys" / files[key_id]
        keys = {key_id: derive_key(key_file.read_bytes())}
        self.assertEqual(open_body(keys, key_id, payload)["content"]["body"], marker)
        with self.assertRaises(RecordError):
            open_body(
                {key_id: derive_key(b"not the key at all, sorry")}, key_id, payload
            )

    async def test_only_audit_admins_search(self) -> None:
        await self._configure()
        officer = self.user("officer")
        body = {"keyword": "任意"}
        for client in (officer, self.admin):
            for method, path, payload in (
                ("POST", "search/messages", body),
                ("POST", "search/files", {"name": "x"}),
                ("GET", "verify", None),
            ):
                answer = await client.request(method, f"{PREFIX}/{path}", payload)
                self.assertErrcode(answer, 403, "M_FORBIDDEN")
            answer = await client.request(
                "POST", f"{PREFIX}/search/media", raw=b"\x89PNG"
            )
            self.assertErrcode(answer, 403, "M_FORBIDDEN")
        self.assertErrcode(
            await self.anonymous().request("POST", f"{PREFIX}/search/messages", body),
            401,
            "M_MISSING_TOKEN",
        )
        # Bad input: clear errors.
        self.assertErrcode(
            await self.auditor.request("POST", f"{PREFIX}/search/messages", {}),
            400,
            "M_MISSING_PARAM",
        )
        self.assertErrcode(
            await self.auditor.request(
                "POST",
                f"{PREFIX}/search/messages",
                {"keyword": "x", "from_ts": 10, "to_ts": 5},
            ),
            400,
            "M_INVALID_PARAM",
        )
        # Export reads decrypted content: audit admins and pull consumers' credentials
        # only; officers and plain server admins are refused.
        for client in (officer, self.admin):
            self.assertErrcode(
                await client.request("GET", f"{PREFIX}/export/message?consumer=x"),
                403,
                "M_FORBIDDEN",
            )
        self.assertErrcode(
            await self.auditor.request("GET", f"{PREFIX}/export/nope?consumer=x"),
            404,
            "M_NOT_FOUND",
        )
        # The super admin sees the auditor's searches; the auditor cannot list them.
        await self.auditor.ok(
            "POST", f"{PREFIX}/search/messages", {"keyword": "审计留痕"}
        )
        self.assertErrcode(
            await self.auditor.request("GET", f"{PREFIX}/operations"),
            403,
            "M_FORBIDDEN",
        )

        async def logged() -> Any:
            return [
                op
                for op in await self._operations()
                if op["record"].get("query", {}).get("keyword") == "审计留痕"
            ]

        [op] = await wait_for(logged)
        self.assertEqual(op["record"]["actor"], self.auditor.user_id)
        self.assertEqual(op["record"]["action"], "search.messages")

    async def test_searches_by_keyword_file_and_image(self) -> None:
        await self._configure()
        alice, bob, dm = await self._dm()
        word = f"涉密{os.urandom(3).hex()}"
        start = int(time.time() * 1000) - 1000
        text_id = await self._send(alice, dm, f"关于{word}的通报")
        image = picture(3)
        png = encode(image, "PNG")
        mxc = await self._upload(alice, "现场照片.png", png)
        status, sent = await alice.send(
            dm,
            {
                "msgtype": "m.image",
                "body": "现场照片.png",
                "url": mxc,
                "info": {"mimetype": "image/png", "size": len(png)},
            },
        )
        self.assertEqual(status, 200, sent)
        image_id = sent["event_id"]
        await self._archived("message", image_id)

        hits = await self.auditor.ok(
            "POST", f"{PREFIX}/search/messages", {"keyword": word, "from_ts": start}
        )
        [hit] = hits["results"]
        self.assertEqual(
            (hit["event_id"], hit["sender"], hit["recipients"]),
            (text_id, alice.user_id, [bob.user_id]),
        )
        self.assertEqual(hit["content"]["body"], f"关于{word}的通报")
        self.assertTrue(hits["complete"])
        none = await self.auditor.ok(
            "POST",
            f"{PREFIX}/search/messages",
            {"keyword": word, "from_ts": 0, "to_ts": start - 5000},
        )
        self.assertEqual(none["results"], [])

        files = await self.auditor.ok(
            "POST", f"{PREFIX}/search/files", {"name": "现场照片", "from_ts": start}
        )
        [found] = files["results"]
        self.assertEqual(found["event_id"], image_id)
        self.assertEqual(found["status"], "present")
        self.assertEqual(found["recipients"], [bob.user_id])

        async def media_search(data: bytes) -> list[dict[str, Any]]:
            status, body = await self.auditor.request(
                "POST", f"{PREFIX}/search/media?from_ts={start}", raw=data
            )
            self.assertEqual(status, 200, body)
            return list(body["results"])

        [exact] = await media_search(png)
        self.assertEqual(exact["files"][0]["match"], "exact")
        recompressed = encode(image.resize((200, 200)), "JPEG", quality=55)
        [similar] = await media_search(recompressed)
        self.assertEqual(similar["event_id"], image_id)
        self.assertEqual(similar["files"][0]["match"], "similar")
        self.assertEqual(await media_search(encode(picture(11), "PNG")), [])

        # Videos: found by their exact hash.
        video = b"\x00\x00\x00\x18ftypmp42" + os.urandom(4096)
        video_mxc = await self._upload(alice, "执法记录.mp4", video)
        status, sent = await alice.send(
            dm,
            {
                "msgtype": "m.video",
                "body": "执法记录.mp4",
                "url": video_mxc,
                "info": {"mimetype": "video/mp4", "size": len(video)},
            },
        )
        self.assertEqual(status, 200, sent)
        await self._archived("message", sent["event_id"])
        [clip] = await media_search(video)
        self.assertEqual(
            (clip["event_id"], clip["files"][0]["match"]), (sent["event_id"], "exact")
        )
        self.assertEqual(await media_search(video[:-1] + bytes([video[-1] ^ 1])), [])

        # A file whose media is gone (retention, deletion) is "expired".
        gone = await self._upload(alice, "过期通报.docx", b"PK docx " * 50)
        status, sent = await alice.send(
            dm, {"msgtype": "m.file", "body": "过期通报.docx", "url": gone}
        )
        self.assertEqual(status, 200, sent)
        await self._archived("message", sent["event_id"])
        server_name, media_id = gone[len("mxc://") :].split("/", 1)
        await self.admin.ok(
            "DELETE", f"/_synapse/admin/v1/media/{server_name}/{media_id}"
        )
        files = await self.auditor.ok(
            "POST", f"{PREFIX}/search/files", {"name": "过期通报", "from_ts": start}
        )
        self.assertEqual(files["results"][0]["status"], "expired")

        # Redacted, then the file's status says so.
        await alice.ok(
            "PUT",
            f"/_matrix/client/v3/rooms/{q(dm)}/redact/{q(image_id)}/t{os.urandom(4).hex()}",
            {"reason": "撤回"},
        )
        files = await self.auditor.ok(
            "POST", f"{PREFIX}/search/files", {"name": "现场照片", "from_ts": start}
        )
        self.assertEqual(files["results"][0]["status"], "redacted")

    async def test_admin_operations_and_logins_are_recorded(self) -> None:
        await self._configure()
        path = "/_jwwx/admin/v1/policy/keywords"
        before = (await self.admin.ok("GET", path))["keywords"]
        word = f"审计词{os.urandom(3).hex()}"
        await self.admin.ok("PUT", path, {"keywords": [*before, word]})
        await self.admin.ok("PUT", path, {"keywords": before})

        async def admin_op() -> Any:
            return [
                r["record"]
                for r in await self._records("admin")
                if word in (r["record"].get("after") or [])
            ]

        [op] = await wait_for(admin_op)
        self.assertEqual(op["actor"], self.admin.user_id)
        self.assertEqual(op["action"], "policy.keywords.replace")
        self.assertEqual(op["before"], before)

        officer = self.user("login")
        localpart = officer.user_id[1:].split(":")[0]
        login = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": localpart},
            "password": "pw-" + localpart,
        }
        status, body = await self.anonymous().request(
            "POST", "/_matrix/client/v3/login", login
        )
        self.assertEqual(status, 200, body)
        bad = {**login, "password": "wrong"}
        self.assertEqual(
            (await self.anonymous().request("POST", "/_matrix/client/v3/login", bad))[
                0
            ],
            403,
        )

        async def logins() -> Any:
            found = [
                r["record"]
                for r in await self._records("usage")
                if r["record"]["user_id"] in (officer.user_id, localpart)
            ]
            return found if len(found) >= 2 else None

        found = await wait_for(logins)
        ok = [r for r in found if r["result"] == "ok"]
        self.assertEqual(ok[0]["device_id"], body["device_id"])
        self.assertIn("platform", ok[0])
        self.assertIn("failed", [r["result"] for r in found])

    async def test_pull_cursor_is_durable(self) -> None:
        await self._configure()
        alice, _bob, dm = await self._dm()
        await self._archived("message", await self._send(alice, dm, "游标"))
        await self._send(alice, dm, "游标 二")
        page = await self.bureau.ok("GET", f"{PREFIX}/export/message?limit=2")
        self.assertEqual((page["consumer"], len(page["records"])), ("bureau", 2))
        await self.bureau.ok(
            "PUT", f"{PREFIX}/export/message/cursor", {"position": page["next_cursor"]}
        )
        again = await self.bureau.ok("GET", f"{PREFIX}/export/message?limit=2")
        self.assertEqual(again["cursor"], page["next_cursor"])
        self.assertGreater(again["records"][0]["seq"], page["records"][-1]["seq"])
        self.assertErrcode(
            await self.bureau.request(
                "PUT", f"{PREFIX}/export/message/cursor", {"position": 10**12}
            ),
            400,
            "M_INVALID_PARAM",
        )

    async def test_cursors_belong_to_their_consumer(self) -> None:
        """Issue 15: a plain server admin can neither read the archive through the
        export nor move a consumer's cursor; the consumer moves it forward only; an
        admin can move it back (re-delivery), which is logged and archived."""
        await self._configure()
        alice, _bob, dm = await self._dm()
        first = await self._send(alice, dm, "归属")
        await self._send(alice, dm, "归属 二")
        base = f"{PREFIX}/export/message"
        # The plain server admin: no content, no cursor.
        self.assertErrcode(
            await self.admin.request("GET", f"{base}?consumer=bureau"),
            403,
            "M_FORBIDDEN",
        )
        await self._archived("message", first)
        for client in (self.admin, self.auditor):
            self.assertErrcode(
                await client.request(
                    "PUT", f"{base}/cursor", {"consumer": "bureau", "position": 1}
                ),
                403,
                "M_FORBIDDEN",
            )
        # The consumer: its own cursor, forward only.
        page = await self.bureau.ok("GET", f"{base}?limit=2")
        forward = page["next_cursor"]
        self.assertGreater(forward, page["cursor"])
        await self.bureau.ok("PUT", f"{base}/cursor", {"position": forward})
        self.assertErrcode(
            await self.bureau.request(
                "PUT", f"{base}/cursor", {"position": forward - 1}
            ),
            400,
            "M_INVALID_PARAM",
        )
        self.assertErrcode(
            await self.bureau.request(
                "PUT", f"{base}/cursor", {"consumer": "other", "position": forward}
            ),
            403,
            "M_FORBIDDEN",
        )
        self.assertErrcode(
            await self.bureau.request("GET", f"{base}?consumer=other"),
            403,
            "M_FORBIDDEN",
        )
        # The auditor reads after the consumer's cursor without moving it.
        peek = await self.auditor.ok("GET", f"{base}?consumer=bureau&limit=1")
        self.assertEqual(peek["cursor"], forward)
        self.assertEqual(
            (await self.bureau.ok("GET", f"{base}?limit=1"))["cursor"], forward
        )
        # An admin reset: never forward; back is allowed, logged and archived.
        self.assertErrcode(
            await self.admin.request(
                "POST",
                f"{base}/cursor/reset",
                {"consumer": "bureau", "position": forward + 1},
            ),
            400,
            "M_INVALID_PARAM",
        )
        reset = await self.admin.ok(
            "POST", f"{base}/cursor/reset", {"consumer": "bureau", "position": 0}
        )
        self.assertEqual((reset["cursor"], reset["was"]), (0, forward))
        self.assertEqual((await self.bureau.ok("GET", f"{base}?limit=1"))["cursor"], 0)
        self.assertErrcode(
            await self.auditor.request(
                "POST", f"{base}/cursor/reset", {"consumer": "bureau", "position": 0}
            ),
            403,
            "M_FORBIDDEN",
        )

        async def reset_logged() -> Any:
            return [
                op
                for op in await self._operations()
                if op["record"].get("action") == "export.cursor_reset"
                and op["record"].get("actor") == self.admin.user_id
            ]

        [op] = await wait_for(reset_logged)
        self.assertEqual((op["record"]["from"], op["record"]["to"]), (forward, 0))
        self.assertIn("reset by " + self.admin.user_id, self.server.log_text())

    async def test_exporter_survives_collector_outage_and_restart(self) -> None:
        await self._configure()
        self.collector.start()
        try:
            await self._exporter_through_outage()
        finally:
            await self.collector.stop()
            await sleep(0.1)

    async def _exporter_through_outage(self) -> None:
        alice, _bob, dm = await self._dm()
        await self._archived("message", await self._send(alice, dm, "导出前"))

        async def caught_up() -> bool:
            status = await self.admin.ok("GET", f"{PREFIX}/exporters")
            siem = status["exporters"][0]
            seqs = [r["seq"] for r in self.collector.records()]
            return bool(
                siem["backlog"] == 0 and seqs and seqs[-1] == status["head_seq"]
            )

        await wait_for(caught_up)
        delivered = [r["seq"] for r in self.collector.records()]
        self.assertEqual(delivered, sorted(delivered))
        start = delivered[-1]
        self.collector.messages.clear()

        await self.collector.stop()
        during = [await self._send(alice, dm, f"断线期间 {i}") for i in range(5)]
        await self._archived("message", during[-1])

        async def backlog() -> Any:
            siem = (await self.admin.ok("GET", f"{PREFIX}/exporters"))["exporters"][0]
            return siem if siem["backlog"] > 0 and siem["failures"] > 0 else None

        siem = await wait_for(backlog)
        self.assertIsNotNone(siem["last_error"])
        # The server restarts while the collector is still down: the cursor is durable.
        self.server.restart()
        later = await self._send(alice, dm, "重启之后")
        await self._archived("message", later)
        await sleep(0.5)
        self.assertEqual(self.collector.messages, [])
        self.collector.start()
        await wait_for(caught_up)
        records = self.collector.records()
        seqs = [r["seq"] for r in records]
        self.assertEqual(seqs, list(range(start + 1, start + 1 + len(seqs))))
        sent = {r["record"].get("event_id") for r in records}
        for event_id in [*during, later]:
            self.assertIn(event_id, sent)

    async def test_http_exporter_and_backlog_metric(self) -> None:
        await self._configure()
        alice, _bob, dm = await self._dm()
        last = await self._send(alice, dm, "HTTP 导出")
        await self._archived("message", last)
        metrics_url = f"http://127.0.0.1:{self.metrics_port}/_synapse/metrics"

        async def backlog_metric() -> float | None:
            response = await treq.get(metrics_url, persistent=False)
            text = (await response.content()).decode()
            for line in text.splitlines():
                if line.startswith(
                    'jwwx_audit_export_backlog_records{exporter="bureau-http"}'
                ):
                    return float(line.split()[-1])
            return None

        self.assertGreater(await wait_for(backlog_metric), 0)
        self.http_collector.start()
        try:

            async def delivered() -> bool:
                ids = [r["record"].get("event_id") for r in self.http_collector.records]
                return last in ids

            await wait_for(delivered)
        finally:
            await self.http_collector.stop()
        records = self.http_collector.records
        seqs = [r["seq"] for r in records]
        self.assertEqual(seqs, sorted(set(seqs)))
        self.assertEqual({r["kind"] for r in records}, {"message", "group"})
        self.assertIn("application/x-ndjson", self.http_collector.content_types[0])

        async def drained() -> bool:
            return await backlog_metric() == 0

        await wait_for(drained)

    async def test_key_rotation_keeps_old_records_readable(self) -> None:
        await self._configure()
        alice, _bob, dm = await self._dm()
        old_word = f"旧钥{os.urandom(3).hex()}"
        old = await self._archived("message", await self._send(alice, dm, old_word))
        new_key = self.server.data_dir / "keys" / "audit_key_2"
        new_key.write_text(os.urandom(32).hex())
        _rendered, config = self._audit_config()
        keys = {**config["keys"], "k2": str(new_key)}
        self._write_override(keys=keys, current_key_id="k2")
        self.server.restart()
        new_word = f"新钥{os.urandom(3).hex()}"
        new = await self._archived("message", await self._send(alice, dm, new_word))
        key_ids = dict(
            query(
                self.server,
                "SELECT seq, key_id FROM jwwx_audit_records WHERE seq IN (?, ?)",
                (old["seq"], new["seq"]),
            )
        )
        self.assertEqual(key_ids, {old["seq"]: "k1", new["seq"]: "k2"})
        for word in (old_word, new_word):
            hits = await self.auditor.ok(
                "POST", f"{PREFIX}/search/messages", {"keyword": word}
            )
            self.assertEqual(len(hits["results"]), 1, word)
        self.assertTrue((await self.auditor.ok("GET", f"{PREFIX}/verify"))["ok"])

    async def test_crash_loses_nothing_and_duplicates_nothing(self) -> None:
        await self._configure()
        alice, _bob, dm = await self._dm()
        sent = [await self._send(alice, dm, f"崩溃测试 {i}") for i in range(40)]
        # Killed without warning, likely in the middle of archiving these.
        process = self.server._process
        assert process is not None
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        self.server.restart()
        await self._archived("message", sent[-1])
        archived = [
            r["record"]["event_id"]
            for r in await self._records("message")
            if r["record"]["event_id"] in sent
        ]
        self.assertEqual(archived, sent)
        self.assertTrue((await self.auditor.ok("GET", f"{PREFIX}/verify"))["ok"])


class AuditSQLiteTest(AuditTests, SQLiteCase):
    pass


class AuditPostgresTest(AuditTests, PostgresCase):
    pass
