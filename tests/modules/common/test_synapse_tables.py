# SPDX-License-Identifier: AGPL-3.0-or-later
"""Each statement of modules/common/synapse/tables.py against a fresh database of the
pinned Synapse, on SQLite and PostgreSQL: a Synapse upgrade that renames a column or
moves a table fails here, not in production (docs/upgrading.md).

One real server per engine; a few users, a room, messages, an edit, a redaction,
receipts and an upload made over HTTP give every statement rows to find. The statements
then run on the server's database through the same `?`-placeholder transactions our
code uses (modules.common.dbapi)."""

import json
import sqlite3
import uuid
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

from twisted.trial import unittest

from modules.common.dbapi import run_in_transaction
from modules.common.synapse import tables
from tests.harness import postgres
from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient

R = TypeVar("R")


def q(value: str) -> str:
    return quote(value, safe="")


class TablesTests:
    """Mixin: bound to both engines below."""

    server: Any
    _world: ClassVar[dict[str, Any] | None] = None
    # Synapse writes message bodies to event_search only where modules.search does not
    # answer /search: such a server, so that censor_event_txn has a row to delete.
    module_config: ClassVar[dict[str, dict[str, Any]]] = {
        "modules.search.SearchModule": {"serve_matrix_search": False}
    }

    # The database and the fixture.

    def txn(self, fn: Callable[..., R], *args: Any) -> R:
        """fn(txn, *args) in one transaction on the server's database."""
        if self.server.engine == "sqlite":
            conn: Any = sqlite3.connect(
                self.server.data_dir / "homeserver.db", timeout=30, isolation_level=None
            )
        else:
            conn = postgres.connect(self.server.pg_database)
        try:
            return run_in_transaction(conn, self.server.engine, fn, *args)
        finally:
            conn.close()

    def ordering(self, event_id: str) -> int:
        def read(txn: Any) -> int:
            txn.execute(
                "SELECT stream_ordering FROM events WHERE event_id = ?", (event_id,)
            )
            return int(txn.fetchone()[0])

        return self.txn(read)

    async def world(self) -> dict[str, Any]:
        cls = type(self)
        if cls._world is None or cls._world["base_url"] != self.server.base_url:
            cls._world = await self._build_world()
        return cls._world

    async def _build_world(self) -> dict[str, Any]:
        alice: MatrixClient = self.user("alice")  # type: ignore[attr-defined]
        bob: MatrixClient = self.user("bob")  # type: ignore[attr-defined]
        room = await alice.create_room(preset="public_chat")
        await bob.join(room)
        rooms = f"/_matrix/client/v3/rooms/{q(room)}"
        message = (await alice.send_text(room, "hello"))[1]["event_id"]
        edit = (
            await alice.send(
                room,
                {
                    "msgtype": "m.text",
                    "body": "* hello again",
                    "m.new_content": {"msgtype": "m.text", "body": "hello again"},
                    "m.relates_to": {"rel_type": "m.replace", "event_id": message},
                },
            )
        )[1]["event_id"]
        redacted = (await alice.send_text(room, "to be redacted"))[1]["event_id"]
        await alice.ok("PUT", f"{rooms}/redact/{q(redacted)}/{uuid.uuid4().hex}", {})
        searchable = (await alice.send_text(room, "burn this content"))[1]["event_id"]
        await bob.ok("POST", f"{rooms}/receipt/m.read/{q(message)}", {})
        await alice.ok("POST", f"{rooms}/receipt/m.read.private/{q(edit)}", {})
        status, upload = await alice.request(
            "POST", "/_matrix/media/v3/upload?filename=note.txt", raw=b"twelve bytes"
        )
        assert status == 200, upload
        return {
            "base_url": self.server.base_url,
            "alice": alice.user_id,
            "bob": bob.user_id,
            "room": room,
            "message": message,
            "edit": edit,
            "redacted": redacted,
            "searchable": searchable,
            "media_id": str(upload["content_uri"]).rsplit("/", 1)[1],
        }

    # One test per statement.

    async def test_has_own_password(self) -> None:
        w = await self.world()
        self.assertTrue(self.txn(tables.has_own_password_txn, w["alice"]))
        self.assertFalse(self.txn(tables.has_own_password_txn, "@nobody:test.jwwx"))

    async def test_account_password(self) -> None:
        w = await self.world()
        self.assertEqual(
            self.txn(tables.account_password_txn, w["alice"]), (True, True)
        )
        self.assertEqual(
            self.txn(tables.account_password_txn, "@nobody:test.jwwx"), (False, False)
        )

    async def test_password_state_sql(self) -> None:
        w = await self.world()
        state = tables.password_state_sql("?")

        def read(txn: Any, user_id: str) -> Any:
            txn.execute(f"SELECT {state}", (user_id,))
            return txn.fetchone()[0]

        self.assertEqual(self.txn(read, w["alice"]), 2)
        self.assertIsNone(self.txn(read, "@nobody:test.jwwx"))

    async def test_devices(self) -> None:
        w = await self.world()
        devices = self.txn(tables.devices_txn, w["alice"])
        self.assertGreaterEqual(len(devices), 1)
        self.assertTrue(all(isinstance(d[0], str) for d in devices))

    async def test_live_device_sql(self) -> None:
        w = await self.world()
        device = self.txn(tables.devices_txn, w["alice"])[0][0]
        condition = tables.live_device_sql("?", "?")

        def read(txn: Any, user_id: str, device_id: str) -> int:
            txn.execute(
                f"SELECT COUNT(*) FROM rooms AS r WHERE {condition} AND r.room_id = ?",
                (user_id, device_id, w["room"]),
            )
            return int(txn.fetchone()[0])

        self.assertEqual(self.txn(read, w["alice"], device), 1)
        self.assertEqual(self.txn(read, w["bob"], device), 0)
        self.assertEqual(self.txn(read, w["alice"], "NOSUCHDEVICE"), 0)

    async def test_all_room_ids(self) -> None:
        w = await self.world()
        self.assertIn(w["room"], self.txn(tables.all_room_ids_txn))

    async def test_public_read_positions(self) -> None:
        w = await self.world()
        positions = self.txn(tables.public_read_positions_txn, w["room"], None)
        self.assertEqual(positions.get(w["bob"]), self.ordering(w["message"]))
        self.assertNotIn(w["alice"], positions)  # hers is private
        in_thread = self.txn(tables.public_read_positions_txn, w["room"], "$thread")
        self.assertEqual(in_thread, positions)

    async def test_public_read_since_sql(self) -> None:
        w = await self.world()
        condition = tables.public_read_since_sql("r.room_id", "?", "?")

        def read(txn: Any, user_id: str, ordering: int) -> int:
            txn.execute(
                f"SELECT COUNT(*) FROM rooms AS r WHERE {condition} AND r.room_id = ?",
                (user_id, ordering, w["room"]),
            )
            return int(txn.fetchone()[0])

        at = self.ordering(w["message"])
        self.assertEqual(self.txn(read, w["bob"], at), 1)
        self.assertEqual(self.txn(read, w["bob"], at + 1), 0)
        self.assertEqual(self.txn(read, w["alice"], 0), 0)

    async def test_furthest_reads(self) -> None:
        w = await self.world()
        reads = self.txn(tables.furthest_reads_txn, w["room"])
        self.assertEqual(reads[w["bob"]], self.ordering(w["message"]))
        self.assertEqual(reads[w["alice"]], self.ordering(w["edit"]))

    async def test_stream_events_after(self) -> None:
        w = await self.world()
        events = self.txn(tables.stream_events_after_txn, 0, 1 << 40, 1000)
        by_id = {e.event_id: e for e in events}
        self.assertEqual(by_id[w["message"]].room_id, w["room"])
        self.assertEqual(by_id[w["message"]].event["content"]["body"], "hello")
        orderings = [e.stream_ordering for e in events]
        self.assertEqual(orderings, sorted(orderings))
        at = self.ordering(w["message"])
        one = self.txn(tables.stream_events_after_txn, at - 1, at, 10)
        self.assertEqual([e.event_id for e in one], [w["message"]])

    async def test_stream_messages_in_rooms(self) -> None:
        w = await self.world()

        def read(txn: Any) -> list[tuple[tables.StreamEvent, tuple[Any, ...]]]:
            txn.execute(
                "CREATE TEMPORARY TABLE jwwx_test_rooms (room_id TEXT, note TEXT)"
            )
            txn.execute("INSERT INTO jwwx_test_rooms VALUES (?, 'mine')", (w["room"],))
            found = tables.stream_messages_in_rooms_txn(
                txn, "jwwx_test_rooms", 0, 1 << 40, 1000
            )
            txn.execute("DROP TABLE jwwx_test_rooms")
            return found

        found = self.txn(read)
        ids = [event.event_id for event, _row in found]
        self.assertIn(w["message"], ids)
        self.assertIn(w["edit"], ids)
        self.assertTrue(all(row == (w["room"], "mine") for _event, row in found))
        self.assertTrue(
            all(event.event["type"] == "m.room.message" for event, _row in found)
        )

    async def test_first_message_by(self) -> None:
        w = await self.world()
        found = self.txn(tables.first_message_by_txn, w["room"], w["alice"])
        self.assertEqual(found, (w["message"], self.ordering(w["message"])))
        self.assertIsNone(self.txn(tables.first_message_by_txn, w["room"], w["bob"]))

    async def test_existing_event_ids(self) -> None:
        w = await self.world()
        found = self.txn(
            tables.existing_event_ids_txn, [w["message"], w["redacted"], "$unknown"]
        )
        self.assertEqual(found, {w["message"], w["redacted"]})

    async def test_redacted_event_ids(self) -> None:
        w = await self.world()
        found = self.txn(
            tables.redacted_event_ids_txn, [w["redacted"], w["message"], "$unknown"]
        )
        self.assertEqual(found, {w["redacted"]})

    async def test_edits_of(self) -> None:
        w = await self.world()
        self.assertEqual(self.txn(tables.edits_of_txn, w["message"]), [w["edit"]])
        self.assertEqual(self.txn(tables.edits_of_txn, w["edit"]), [])

    async def test_event_json(self) -> None:
        w = await self.world()
        event = self.txn(tables.event_json_txn, w["message"])
        assert event is not None
        self.assertEqual(event["content"]["body"], "hello")
        self.assertEqual(event["room_id"], w["room"])
        self.assertIsNone(self.txn(tables.event_json_txn, "$unknown"))

    async def test_relations_of(self) -> None:
        w = await self.world()
        self.assertEqual(self.txn(tables.relations_of_txn, w["message"]), [w["edit"]])
        self.assertEqual(self.txn(tables.relations_of_txn, w["edit"]), [])

    async def test_censor_event(self) -> None:
        w = await self.world()
        event_id = w["searchable"]

        def search_rows(txn: Any) -> int:
            txn.execute(
                "SELECT COUNT(*) FROM event_search WHERE event_id = ?", (event_id,)
            )
            return int(txn.fetchone()[0])

        def stored(txn: Any) -> str:
            txn.execute("SELECT json FROM event_json WHERE event_id = ?", (event_id,))
            return str(txn.fetchone()[0])

        self.assertEqual(self.txn(search_rows), 1)
        original = json.loads(self.txn(stored))
        self.assertEqual(original["content"]["body"], "burn this content")
        pruned = json.dumps({**original, "content": {}})
        self.txn(tables.censor_event_txn, event_id, pruned)

        self.assertEqual(self.txn(stored), pruned)
        self.assertEqual(self.txn(search_rows), 0)

    async def test_local_media_rows(self) -> None:
        w = await self.world()
        rows = self.txn(tables.local_media_rows_txn, [w["media_id"], "missing"])
        self.assertEqual(
            rows, {w["media_id"]: ("note.txt", 12, "application/json", False)}
        )


class TablesSQLiteTest(TablesTests, SQLiteCase):
    pass


class TablesPostgresTest(TablesTests, PostgresCase):
    pass


class EveryStatementTestedTest(unittest.TestCase):
    def test_each_statement_of_tables_has_its_test(self) -> None:
        statements = [
            name
            for name, value in vars(tables).items()
            if callable(value)
            and getattr(value, "__module__", "") == tables.__name__
            and name.endswith(("_txn", "_sql"))
        ]
        self.assertGreaterEqual(len(statements), 12)
        for name in statements:
            test = "test_" + name.removesuffix("_txn")
            self.assertTrue(hasattr(TablesTests, test), f"{name} needs {test}")
