# SPDX-License-Identifier: AGPL-3.0-or-later
"""Burn-after-read end to end: two real clients, a file with media, a read receipt, a
server restart between reading and burning, and the database checked afterwards."""

import json
import sqlite3
from typing import Any
from urllib.parse import quote

from twisted.internet import reactor, task

import yaml

from tests.harness import postgres
from tests.harness.case import PostgresCase, SQLiteCase

FIELD = "org.matrix.self_destruct"


def _sleep(seconds: float) -> Any:
    return task.deferLater(reactor, seconds, lambda: None)


def q(value: str) -> str:
    return quote(value, safe="")


class BurnTests:
    def _query(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Read the server's database directly, as an auditor would."""
        if self.server.engine == "sqlite":
            conn = sqlite3.connect(self.server.data_dir / "homeserver.db")
            try:
                return list(conn.execute(sql, args).fetchall())
            finally:
                conn.close()
        assert self.server.pg_database is not None
        pg = postgres.connect(self.server.pg_database)
        try:
            with pg.cursor() as cur:
                cur.execute(sql.replace("?", "%s"), args)
                return list(cur.fetchall())
        finally:
            pg.close()

    def _stored_json(self, event_id: str) -> str:
        rows = self._query(
            "SELECT json FROM event_json WHERE event_id = ?", (event_id,)
        )
        return str(rows[0][0])

    def _burn_row(self, event_id: str) -> tuple[Any, ...] | None:
        rows = self._query(
            "SELECT read_ts, read_by, burned_ts FROM jwwx_burn_messages WHERE event_id = ?",
            (event_id,),
        )
        return rows[0] if rows else None

    async def _pair(self) -> tuple[Any, Any, str]:
        alice, bob = self.user("alice"), self.user("bob")
        room = await alice.create_room(preset="private_chat", invite=[bob.user_id])
        await bob.join(room)
        return alice, bob, room

    async def _event(self, client: Any, room: str, event_id: str) -> dict[str, Any]:
        return dict(
            await client.ok(
                "GET", f"/_matrix/client/v3/rooms/{q(room)}/event/{q(event_id)}"
            )
        )

    async def _receipt(self, client: Any, room: str, event_id: str) -> None:
        await client.ok(
            "POST",
            f"/_matrix/client/v3/rooms/{q(room)}/receipt/m.read/{q(event_id)}",
            {},
        )

    async def test_burn_after_read_survives_a_restart(self) -> None:
        alice, bob, room = await self._pair()
        upload = await alice.request(
            "POST",
            "/_matrix/media/v3/upload?filename=secret.txt",
            raw="绝密附件内容".encode(),
        )
        self.assertEqual(upload[0], 200, upload)
        mxc = upload[1]["content_uri"]
        server_name, media_id = mxc[len("mxc://") :].split("/", 1)
        download = f"/_matrix/client/v1/media/download/{server_name}/{media_id}"
        self.assertEqual((await bob.request("GET", download))[0], 200)
        content = {
            "msgtype": "m.file",
            "body": "绝密名单.txt",
            "url": mxc,
            FIELD: 8000,
        }
        status, sent = await alice.send(room, content)
        self.assertEqual(status, 200, sent)
        burn_id = sent["event_id"]
        status, normal = await alice.send_text(room, "普通消息")
        self.assertEqual(status, 200)
        await bob.sync_timeline_until(room, lambda e: e["event_id"] == burn_id)
        # The sender's own receipt starts nothing; unread, it stays however long.
        await self._receipt(alice, room, normal["event_id"])
        await _sleep(2.5)
        seen = await self._event(bob, room, burn_id)
        self.assertEqual(seen["content"]["body"], "绝密名单.txt")
        self.assertIsNone(self._burn_row(burn_id)[0])
        # bob reads it: the timer starts (kept in the database) ...
        await self._receipt(bob, room, burn_id)
        for _ in range(50):
            row = self._burn_row(burn_id)
            if row is not None and row[0] is not None:
                break
            await _sleep(0.1)
        self.assertEqual(row[1], bob.user_id)
        self.assertIsNone(row[2])
        # ... and survives a restart in the middle of it.
        self.server.restart()
        self.assertEqual(
            (await self._event(bob, room, burn_id))["content"]["body"], "绝密名单.txt"
        )
        for _ in range(150):
            event = await self._event(bob, room, burn_id)
            if not event["content"]:
                break
            await _sleep(0.2)
        self.assertEqual(event["content"], {})
        self.assertEqual((await self._event(alice, room, burn_id))["content"], {})
        # Gone from the database too (not only hidden), and its media with it.
        stored = self._stored_json(burn_id)
        self.assertNotIn("绝密", json.loads(stored).get("content", {}).get("body", ""))
        self.assertNotIn("body", json.loads(stored)["content"])
        self.assertNotIn(media_id, stored)
        self.assertEqual((await bob.request("GET", download))[0], 404)
        self.assertEqual(
            self._query(
                "SELECT COUNT(*) FROM event_search WHERE event_id = ?", (burn_id,)
            )[0][0],
            0,
        )
        self.assertIsNotNone(self._burn_row(burn_id)[2])
        # audit_copy is off: the burn module keeps no copy of its own.
        self.assertEqual(
            self._query(
                "SELECT COUNT(*) FROM jwwx_burn_audit WHERE event_id = ?", (burn_id,)
            )[0][0],
            0,
        )
        # Other messages are untouched.
        kept = await self._event(bob, room, normal["event_id"])
        self.assertEqual(kept["content"]["body"], "普通消息")
        events = await bob.messages(room)
        redactions = [e for e in events if e["type"] == "m.room.redaction"]
        self.assertEqual([r["redacts"] for r in redactions], [burn_id])
        self.assertEqual(redactions[0]["sender"], alice.user_id)

    async def test_edits_burn_with_the_message(self) -> None:
        alice, bob, room = await self._pair()
        status, sent = await alice.send(
            room, {"msgtype": "m.text", "body": "原文", "cn.jwwx.burn_after_read": 0}
        )
        self.assertEqual(status, 200)
        burn_id = sent["event_id"]
        status, edit = await alice.send(
            room,
            {
                "msgtype": "m.text",
                "body": "* 修改后",
                "m.new_content": {"msgtype": "m.text", "body": "修改后"},
                "m.relates_to": {"rel_type": "m.replace", "event_id": burn_id},
            },
        )
        self.assertEqual(status, 200)
        await self._receipt(bob, room, edit["event_id"])
        for _ in range(100):
            original = await self._event(bob, room, burn_id)
            edited = await self._event(bob, room, edit["event_id"])
            if not original["content"] and not edited["content"]:
                break
            await _sleep(0.2)
        self.assertEqual((await self._event(bob, room, burn_id))["content"], {})
        self.assertEqual(
            (await self._event(bob, room, edit["event_id"]))["content"], {}
        )
        self.assertNotIn("修改后", self._stored_json(edit["event_id"]))

    async def test_a_favourited_file_outlives_a_burn(self) -> None:
        alice, bob, room = await self._pair()
        upload = await alice.request(
            "POST", "/_matrix/media/v3/upload?filename=plan.pdf", raw=b"%PDF plan"
        )
        mxc = upload[1]["content_uri"]
        download = "/_matrix/client/v1/media/download/" + mxc[len("mxc://") :]
        file = {"msgtype": "m.file", "body": "方案.pdf", "url": mxc}
        status, plain = await alice.send(room, file)
        self.assertEqual(status, 200)
        await bob.ok(
            "POST",
            "/_jwwx/client/v1/favorites",
            {"room_id": room, "event_id": plain["event_id"]},
        )
        # The same file again, burn-after-read: the message burns, the file stays.
        status, sent = await alice.send(room, {**file, FIELD: 0})
        self.assertEqual(status, 200)
        await self._receipt(bob, room, sent["event_id"])
        for _ in range(100):
            row = self._burn_row(sent["event_id"])
            if row is not None and row[2] is not None:
                break
            await _sleep(0.2)
        self.assertEqual(
            (await self._event(bob, room, sent["event_id"]))["content"], {}
        )
        self.assertEqual((await bob.request("GET", download))[0], 200)

    async def test_audit_copy_only_when_the_setting_says_so(self) -> None:
        # Without modules.audit (the hook's other side), audit_copy: true keeps the
        # copy in jwwx_burn_audit; the other tests show nothing is kept when off.
        config = yaml.safe_load(
            (self.server.data_dir / "homeserver.yaml").read_text(encoding="utf-8")
        )
        modules = []
        for module in config["modules"]:
            if module["module"] == "modules.audit.AuditModule":
                continue
            if module["module"] == "modules.burn.BurnModule":
                module["config"] = {**(module.get("config") or {}), "audit_copy": True}
            modules.append(module)
        override = self.server.data_dir / "conf.d" / "zz_burn_audit_test.yaml"
        override.write_text(yaml.safe_dump({"modules": modules}), encoding="utf-8")
        self.server.restart()
        try:
            alice, bob, room = await self._pair()
            status, sent = await alice.send(
                room, {"msgtype": "m.text", "body": "审计留存的密令", FIELD: 0}
            )
            self.assertEqual(status, 200)
            burn_id = sent["event_id"]
            await self._receipt(bob, room, burn_id)
            for _ in range(100):
                row = self._burn_row(burn_id)
                if row is not None and row[2] is not None:
                    break
                await _sleep(0.2)
            self.assertEqual((await self._event(bob, room, burn_id))["content"], {})
            self.assertNotIn("审计留存的密令", self._stored_json(burn_id))
            copies = self._query(
                "SELECT sender, event_json FROM jwwx_burn_audit WHERE event_id = ?",
                (burn_id,),
            )
            self.assertEqual(len(copies), 1)
            self.assertEqual(copies[0][0], alice.user_id)
            self.assertIn("审计留存的密令", json.loads(copies[0][1])["content"]["body"])
        finally:
            override.unlink()
            self.server.restart()

    async def test_bad_time_to_live_is_refused(self) -> None:
        alice, _bob, room = await self._pair()
        for bad in ("10s", -1, 1.5, True, 2**40):
            answer = await alice.send(
                room, {"msgtype": "m.text", "body": "x", FIELD: bad}
            )
            body = self.assertErrcode(answer, 400, "M_INVALID_PARAM")
            self.assertIn("阅后即焚", body["error"])


class BurnSQLiteTest(BurnTests, SQLiteCase):
    pass


class BurnPostgresTest(BurnTests, PostgresCase):
    pass
