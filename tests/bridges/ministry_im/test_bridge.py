# SPDX-License-Identifier: AGPL-3.0-or-later
"""The ministry IM bridge end to end: started by the launcher beside a real homeserver
(`jwwx_bridges.ministry_im` in conf.d/), the reference peer (the ministry's side of
docs/ministry_im.md) in a thread. Both directions with receipts, a file in chunks,
refusals of bad signatures, stale timestamps and replays, the unit rule both ways, the
directory lookup under the published policy, and a kill of the bridge mid-transfer in
each direction with nothing lost or duplicated."""

import json
import os
import signal
import time
import urllib.request
from typing import Any, ClassVar

from twisted.internet import reactor, threads
from twisted.web.client import HTTPConnectionPool

import treq

from tests.bridges.ministry_im import setup
from tests.bridges.ministry_im.peer import ReferencePeer, seal, sm3_hex
from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.harness.server import TestServer, free_port
from tests.modules.openapi.helpers import (
    enrol_officer,
    root_department,
    sleep,
)

PREFIX = "/_jwwx/admin/v1/crossdomain/peers"


class MinistryBridgeTests:
    server: Any
    user: Any
    assertEqual: Any
    assertIn: Any
    assertTrue: Any
    assertFalse: Any
    assertLess: Any
    assertNotIn: Any
    timeout = 600
    peer: ClassVar[ReferencePeer]
    port: ClassVar[int]
    module_config: ClassVar[dict[str, dict[str, Any]]] = setup.MODULE_CONFIG

    @classmethod
    def prepare_class(cls) -> None:
        cls.port = free_port()
        cls.peer = setup.start_peer(cls.port)
        cls.peer.contacts = [{"id": "zhangsan", "name": "部里张三"}]

    @classmethod
    def finish_class(cls) -> None:
        cls.peer.stop()

    @classmethod
    def configure_server(cls, server: TestServer) -> None:
        setup.configure(server, cls.port, cls.peer)

    async def _pid(self, other_than: int | None = None) -> int:
        return int(
            await threads.deferToThread(
                setup.bridge_pid, self.server.data_dir, self.port, other_than
            )
        )

    async def _officer(self, name: str, permitted: bool) -> tuple[MatrixClient, str]:
        boss = self.user(f"{name}boss", admin=True)
        unit = await root_department(boss, f"{name}{os.urandom(3).hex()}")
        officer = self.user(name)
        userid = await enrol_officer(boss, officer, unit)
        if permitted:
            await boss.ok(
                "PUT",
                f"{PREFIX}/{setup.DOMAIN}",
                {
                    "units": [unit],
                    "directory": {"departments": [unit], "fields": []},
                    "apps": [],
                },
            )
        return officer, userid

    async def _timeline(
        self, officer: MatrixClient, want: Any, seconds: float = 120
    ) -> list[dict[str, Any]]:
        """The officer's events (joining invites) until want(events) is true."""
        events: list[dict[str, Any]] = []
        deadline = time.monotonic() + seconds
        since = None
        while time.monotonic() < deadline:
            path = "/_matrix/client/v3/sync?timeout=1000"
            if since:
                path += f"&since={since}"
            result = await officer.ok("GET", path)
            since = result.get("next_batch")
            for room_id in result.get("rooms", {}).get("invite", {}):
                await officer.join(room_id)
            for room_id, room in result.get("rooms", {}).get("join", {}).items():
                for event in room.get("timeline", {}).get("events", []):
                    events.append({**event, "room_id": room_id})
            if want(events):
                return events
        raise AssertionError(f"not seen in time: {events[-5:]}")

    async def _joined(self, officer: MatrixClient, room_id: str, user_id: str) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            members = await officer.ok(
                "GET", f"/_matrix/client/v3/rooms/{room_id}/joined_members"
            )
            if user_id in members.get("joined", {}):
                return
            await sleep(0.5)
        raise AssertionError(f"{user_id} did not join {room_id}")

    async def _redacted(
        self, officer: MatrixClient, room_id: str, event_id: str
    ) -> Any:
        """The event once its content is gone (a recall, a burn)."""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            event = await officer.ok(
                "GET", f"/_matrix/client/v3/rooms/{room_id}/event/{event_id}"
            )
            if not event.get("content"):
                return event
            await sleep(0.5)
        raise AssertionError(f"{event_id} was not redacted")

    async def _bridge_forgot(self, text: str) -> None:
        """No file of the bridge's database holds `text` any more."""
        base = self.server.data_dir / "ministry_im"
        deadline = time.monotonic() + 90
        while True:
            found = [
                f.name
                for f in base.glob("ministry_im.sqlite3*")
                if text.encode() in f.read_bytes()
            ]
            if not found:
                return
            self.assertLess(time.monotonic(), deadline, found)
            await sleep(0.5)

    def _to_bridge(self, kind: str, payload: Any) -> Any:
        return threads.deferToThread(self.peer.send_until, kind, payload)

    def _until_peer(self, check: Any) -> Any:
        return threads.deferToThread(self.peer.wait, check)

    async def test_both_directions(self) -> None:
        await self._pid()
        officer, userid = await self._officer("mjboth", permitted=True)
        conv = f"direct/zhangsan/{userid}"
        text = f"部里通知 {os.urandom(3).hex()}"
        item = self.peer.item(conv, "zhangsan", type="text", text=text)
        answer = await self._to_bridge("message", item)
        self.assertEqual(answer["accepted"], [item["relay_id"]])
        again = await self._to_bridge(
            "message", item
        )  # the same item: acknowledged only
        self.assertEqual(again["accepted"], [item["relay_id"]])
        events = await self._timeline(
            officer,
            lambda evs: any(e["content"].get("body") == text for e in evs),
        )
        mine = [e for e in events if e["content"].get("body") == text]
        self.assertEqual(len(mine), 1)
        room_id, event_id = mine[0]["room_id"], mine[0]["event_id"]
        self.assertEqual(
            mine[0]["sender"], f"@ministry_zhangsan:{self.server.server_name}"
        )
        await self._until_peer(
            lambda s: any(
                r["relay_id"] == item["relay_id"] and r["kind"] == "delivered"
                for r in s.receipts
            )
        )
        await officer.ok(
            "POST", f"/_matrix/client/v3/rooms/{room_id}/receipt/m.read/{event_id}", {}
        )
        await self._until_peer(
            lambda s: any(
                r["relay_id"] == item["relay_id"] and r["kind"] == "read"
                for r in s.receipts
            )
        )
        # Our side: a text and a file of three chunks, in order.
        reply = f"收到 {os.urandom(3).hex()}"
        await officer.send_text(room_id, reply)
        data = os.urandom(600 * 1024)
        mxc = (
            await officer.request(
                "POST",
                "/_matrix/media/v3/upload?filename=a.bin",
                raw=data,
            )
        )[1]["content_uri"]
        await officer.ok(
            "PUT",
            f"/_matrix/client/v3/rooms/{room_id}/send/m.room.message/f{os.urandom(4).hex()}",
            {"msgtype": "m.file", "body": "a.bin", "url": mxc},
        )
        got = await self._until_peer(
            lambda s: len(s.messages.get(conv, [])) >= 2 and s.messages[conv]
        )
        self.assertEqual([m["type"] for m in got], ["text", "file"])
        self.assertEqual(got[0]["text"], reply)
        self.assertEqual([m["seq"] for m in got], [1, 2])
        self.assertEqual(bytes(self.peer.state.files[got[1]["file_id"]]), data)
        self.assertEqual(got[1]["sm3"], sm3_hex(data))
        # The ministry reads our reply: the puppet's read receipt.
        await self._to_bridge(
            "receipt",
            {"relay_id": got[0]["relay_id"], "kind": "read", "user": "zhangsan"},
        )
        # A file from the ministry, in chunks.
        blob = os.urandom(700 * 1024)
        file_id, file_item = self.peer.file_item(
            conv, "zhangsan", blob, "file", "b.bin"
        )
        for chunk in self.peer.chunks(file_id, blob):
            await self._to_bridge("file_chunk", chunk)
        await self._to_bridge("message", file_item)
        events = await self._timeline(
            officer, lambda evs: any(e["content"].get("body") == "b.bin" for e in evs)
        )
        url = next(e for e in events if e["content"].get("body") == "b.bin")["content"][
            "url"
        ]
        answer = await treq.get(
            f"{self.server.base_url}/_matrix/client/v1/media/download/{url[6:]}",
            headers={"Authorization": [f"Bearer {officer.token}"]},
            pool=HTTPConnectionPool(reactor, persistent=False),
        )
        content = await answer.content()
        self.assertEqual(content, blob)
        # Lookup both ways.
        found = await self._to_bridge("lookup", {"query": "警员"})
        self.assertIn(userid, [r.get("userid") for r in found["results"]])
        bot = f"@jwwx_ministry:{self.server.server_name}"
        chat = await officer.create_room(preset="private_chat", invite=[bot])
        await self._joined(officer, chat, bot)
        await officer.send_text(chat, "查找 张三")
        events = await self._timeline(
            officer,
            lambda evs: any(
                "@ministry_zhangsan:" in e["content"].get("body", "") for e in evs
            ),
        )
        self.assertTrue(any(e["sender"] == bot for e in events))

    async def test_edit_recall_burn_to_matrix(self) -> None:
        """The ministry edits a text, recalls a message and sends a burn-after-read
        one: the edit and the recall apply to the posted events; the burn message is
        gone here (modules.burn) once read, the ministry's own copy goes with the read
        receipt, and the bridge keeps none."""
        await self._pid()
        officer, userid = await self._officer("mjchange", permitted=True)
        conv = f"direct/zhouba/{userid}"
        tag = os.urandom(3).hex()
        first = self.peer.item(conv, "zhouba", type="text", text=f"原文 {tag}")
        await self._to_bridge("message", first)
        edit = self.peer.item(
            conv, "zhouba", type="edit", target=first["relay_id"], text=f"改后 {tag}"
        )
        await self._to_bridge("message", edit)
        gone = self.peer.item(conv, "zhouba", type="text", text=f"撤回 {tag}")
        await self._to_bridge("message", gone)
        recall = self.peer.item(conv, "zhouba", type="recall", target=gone["relay_id"])
        await self._to_bridge("message", recall)
        self.assertEqual(
            await self._to_bridge("message", recall),
            {"accepted": [recall["relay_id"]], "next_seq": 5},
        )  # again: acknowledged, not applied twice
        secret = f"阅后即焚 {tag}"
        burn = self.peer.item(
            conv, "zhouba", type="text", text=secret, burn_after_read_ms=0
        )
        await self._to_bridge("message", burn)
        events = await self._timeline(
            officer, lambda evs: any(e["content"].get("body") == secret for e in evs)
        )
        burned = next(e for e in events if e["content"].get("body") == secret)
        room_id = burned["room_id"]
        self.assertEqual(burned["content"]["org.matrix.self_destruct"], 0)
        await self._until_peer(
            lambda s: any(
                r["relay_id"] == burn["relay_id"] and r["kind"] == "delivered"
                for r in s.receipts
            )
        )
        timeline = await officer.messages(room_id)
        puppet = f"@ministry_zhouba:{self.server.server_name}"
        original = next(
            e for e in timeline if e["content"].get("body") == first["text"]
        )
        edits = [
            e
            for e in timeline
            if (e["content"].get("m.relates_to") or {}).get("event_id")
            == original["event_id"]
        ]
        self.assertEqual(len(edits), 1, edits)
        self.assertEqual(
            (edits[0]["sender"], edits[0]["content"]["m.new_content"]["body"]),
            (puppet, edit["text"]),
        )
        recalls = [e for e in timeline if e["type"] == "m.room.redaction"]
        self.assertEqual(len(recalls), 1, recalls)
        self.assertEqual(
            (recalls[0]["sender"], recalls[0]["content"].get("reason")),
            (puppet, "撤回"),
        )
        target = recalls[0].get("redacts") or recalls[0]["content"].get("redacts")
        self.assertEqual(
            (await self._redacted(officer, room_id, target))["sender"], puppet
        )
        self.assertNotIn(gone["text"], json.dumps(timeline, ensure_ascii=False))
        # Read here: modules.burn burns ours, the ministry forgets its copy.
        await officer.ok(
            "POST",
            f"/_matrix/client/v3/rooms/{room_id}/receipt/m.read/{burned['event_id']}",
            {},
        )
        await self._until_peer(lambda s: s.sent[burn["relay_id"]].get("burned"))
        self.assertNotIn("text", self.peer.state.sent[burn["relay_id"]])
        await self._redacted(officer, room_id, burned["event_id"])
        await self._bridge_forgot(secret)

    async def test_forbidden_unit(self) -> None:
        await self._pid()
        officer, userid = await self._officer("mjforbid", permitted=False)
        item = self.peer.item(
            f"direct/zhaoliu/{userid}", "zhaoliu", type="text", text="禁"
        )
        answer = await self._to_bridge("message", item)
        self.assertEqual(answer["accepted"], [])
        self.assertEqual(
            answer["rejected"],
            [
                {
                    "relay_id": item["relay_id"],
                    "errcode": "CN_JWWX_CROSS_DOMAIN_FORBIDDEN",
                }
            ],
        )
        room_id = await officer.create_room(preset="private_chat")
        status, refused = await officer.request(
            "POST",
            f"/_matrix/client/v3/rooms/{room_id}/invite",
            {"user_id": f"@ministry_zhaoliu:{self.server.server_name}"},
        )
        self.assertEqual(
            (status, refused["errcode"]), (403, "CN_JWWX_CROSS_DOMAIN_FORBIDDEN")
        )


class RobustnessTests(MinistryBridgeTests):
    """Refusals and kills: the bridge's own logic, run on one engine."""

    async def test_refusals(self) -> None:
        await self._pid()
        _officer, userid = await self._officer("mjrefuse", permitted=True)
        conv = f"direct/lisi/{userid}"
        item = self.peer.item(conv, "lisi", type="text", text="伪造")

        def attempt(**override: str) -> tuple[int, Any]:
            return self.peer.send("message", item, **override)

        status, answer = await threads.deferToThread(attempt, signature="0" * 64)
        self.assertEqual((status, answer["errcode"]), (401, "RELAY_BAD_SIGNATURE"))
        old = str(int(time.time() * 1000) - 3_600_000)
        status, answer = await threads.deferToThread(attempt, timestamp=old)
        self.assertEqual((status, answer["errcode"]), (401, "RELAY_STALE"))
        status, answer = await threads.deferToThread(attempt, key_id="k9")
        self.assertEqual((status, answer["errcode"]), (401, "RELAY_UNKNOWN_KEY"))
        # A replay: the very same request twice.
        body = seal(setup.SM4["k1"], item)
        headers = self.peer.headers("/relay/v1/message", body)
        status, first = await threads.deferToThread(
            self.peer.post, "message", body, headers
        )
        self.assertEqual(status, 200, first)
        status, answer = await threads.deferToThread(
            self.peer.post, "message", body, headers
        )
        self.assertEqual((status, answer["errcode"]), (401, "RELAY_REPLAY"))
        # Bad items: named field, nothing stored.
        bad = {**self.peer.item(conv, "wangwu", type="text", text="x")}
        status, answer = await threads.deferToThread(self.peer.send, "message", bad)
        self.assertEqual((status, answer["errcode"]), (400, "RELAY_BAD_ITEM"))
        self.assertIn("sender", answer["error"])
        status, answer = await threads.deferToThread(
            self.peer.send, "message", {**item, "relay_id": "r" * 20, "seq": 1}
        )
        self.assertEqual((status, answer["errcode"]), (409, "RELAY_SEQ_USED"))
        # Unsigned, oversized, a file over max_file_bytes, an officer we do not have,
        # a receipt of an item we never sent.
        status, answer = await threads.deferToThread(
            self.peer.post, "message", body, {"Content-Type": "application/json"}
        )
        self.assertEqual((status, answer["errcode"]), (401, "RELAY_UNSIGNED"))
        huge = b"x" * ((1 << 20) + 1)
        status, answer = await threads.deferToThread(
            self.peer.post,
            "message",
            huge,
            self.peer.headers("/relay/v1/message", huge),
        )
        self.assertEqual((status, answer["errcode"]), (413, "RELAY_TOO_LARGE"))
        chunk = self.peer.chunks("f" * 16, b"abc")[0]
        status, answer = await threads.deferToThread(
            self.peer.send, "file_chunk", {**chunk, "size": 200 << 20}
        )
        self.assertEqual((status, answer["errcode"]), (400, "RELAY_BAD_ITEM"))
        self.assertIn("size", answer["error"])
        stranger = self.peer.item(
            "direct/lisi/mjnobody", "lisi", type="text", text="找不到"
        )
        answer = await self._to_bridge("message", stranger)
        self.assertEqual(
            (answer["accepted"], answer["rejected"][0]["errcode"]),
            ([], "CN_JWWX_CROSS_DOMAIN_FORBIDDEN"),
        )
        status, answer = await threads.deferToThread(
            self.peer.send,
            "receipt",
            {"relay_id": "u" * 20, "kind": "read", "user": "lisi"},
        )
        self.assertEqual((status, answer["errcode"]), (404, "RELAY_UNKNOWN_ITEM"))
        # An edit or recall of an unknown item, or of one of another conversation:
        # refused, nothing stored (the seq stays free).
        for change in (
            {"type": "recall", "target": "n" * 20},
            {"type": "edit", "target": "n" * 20, "text": "x"},
            {"type": "edit", "target": item["relay_id"], "text": "x", "seq": 1},
        ):
            fields = {"relay_id": "c" * 20, "conversation": conv, "seq": 2}
            fields.update(sender="lisi", **change)
            if "seq" in change:
                fields.update(conversation="group/mjrefuse", sender="lisi")
            status, answer = await threads.deferToThread(
                self.peer.send, "message", fields
            )
            self.assertEqual((status, answer["errcode"]), (400, "RELAY_BAD_ITEM"))
            self.assertIn("target", answer["error"])

    async def test_group_started_here(self) -> None:
        """An officer starts a group with two ministry contacts: one group portal,
        its name and ministry members go with our messages, the ministry's answer
        comes back into the same room."""
        await self._pid()
        officer, userid = await self._officer("mjgroup", permitted=True)
        room_id = await officer.create_room(preset="private_chat", name="专案组")
        puppets = [f"@ministry_{w}:{self.server.server_name}" for w in ("zhou", "wu")]
        for puppet in puppets:
            await officer.ok(
                "POST",
                f"/_matrix/client/v3/rooms/{room_id}/invite",
                {"user_id": puppet},
            )
        for puppet in puppets:
            await self._joined(officer, room_id, puppet)
        text = f"专案组通知 {os.urandom(3).hex()}"
        await officer.send_text(room_id, text)
        got = await self._until_peer(
            lambda s: next(
                (m for ms in s.messages.values() for m in ms if m.get("text") == text),
                None,
            )
        )
        conv = got["conversation"]
        self.assertTrue(conv.startswith("group/jwwx."), conv)
        self.assertEqual(
            (got["sender"], got["group_name"], got["members"]),
            (userid, "专案组", ["wu", "zhou"]),
        )
        reply = f"部里收到 {os.urandom(3).hex()}"
        await self._to_bridge(
            "message", self.peer.item(conv, "wu", type="text", text=reply)
        )
        events = await self._timeline(
            officer, lambda evs: any(e["content"].get("body") == reply for e in evs)
        )
        answer = next(e for e in events if e["content"].get("body") == reply)
        self.assertEqual((answer["room_id"], answer["sender"]), (room_id, puppets[1]))

    async def test_kill_mid_transfer(self) -> None:
        pid = await self._pid()
        officer, userid = await self._officer("mjkill", permitted=True)
        conv = f"direct/qianqi/{userid}"
        # To us: two chunks arrive, the bridge dies, the ministry resumes.
        blob = os.urandom(1024 * 1024)
        file_id, file_item = self.peer.file_item(conv, "qianqi", blob, "file", "k.bin")
        chunks = self.peer.chunks(file_id, blob)
        for chunk in chunks[:2]:
            await self._to_bridge("file_chunk", chunk)
        os.kill(pid, signal.SIGKILL)
        pid = await self._pid(pid)
        for chunk in chunks:  # from the start: the bridge acknowledges what it has
            await self._to_bridge("file_chunk", chunk)
        await self._to_bridge("message", file_item)
        await self._to_bridge("message", file_item)
        # Delivered (receipt to the ministry): the item is done, nothing posts it again.
        await self._until_peer(
            lambda s: any(
                r["relay_id"] == file_item["relay_id"] and r["kind"] == "delivered"
                for r in s.receipts
            )
        )
        events = await self._timeline(
            officer, lambda evs: any(e["content"].get("body") == "k.bin" for e in evs)
        )
        self.assertEqual(
            len({e["event_id"] for e in events if e["content"].get("body") == "k.bin"}),
            1,
        )
        room_id = next(e for e in events if e["content"].get("body") == "k.bin")[
            "room_id"
        ]
        # To the ministry: the bridge dies after the second chunk; it resumes there.
        killed: list[int] = []

        def on_chunk(fid: str, received: int) -> None:
            if not killed and received >= 2 * 256 * 1024:
                killed.append(pid)
                os.kill(pid, signal.SIGKILL)

        self.peer.on_chunk = on_chunk
        data = os.urandom(1024 * 1024 + 5)
        _s, upload = await officer.request(
            "POST", "/_matrix/media/v3/upload?filename=o.bin", raw=data
        )
        await officer.ok(
            "PUT",
            f"/_matrix/client/v3/rooms/{room_id}/send/m.room.message/o{os.urandom(4).hex()}",
            {"msgtype": "m.file", "body": "o.bin", "url": upload["content_uri"]},
        )
        after = f"之后 {os.urandom(3).hex()}"
        await officer.send_text(room_id, after)
        got = await self._until_peer(
            lambda s: len(s.messages.get(conv, [])) >= 2 and s.messages[conv]
        )
        self.peer.on_chunk = None
        await self._pid(pid)
        self.assertEqual(killed, [pid])
        self.assertEqual([m["type"] for m in got], ["file", "text"])
        self.assertEqual(got[1]["text"], after)
        self.assertEqual(bytes(self.peer.state.files[got[0]["file_id"]]), data)
        offsets = [o for f, o in self.peer.state.chunks if f == got[0]["file_id"]]
        # Five chunks; at most the one in flight at the kill is sent twice.
        self.assertTrue(5 <= len(offsets) <= 6, offsets)

    async def test_edit_recall_burn_to_ministry(self) -> None:
        """An officer edits his text, recalls a message and sends a burn-after-read
        one: the ministry gets an edit, a recall, and the burn message, in order,
        once each; its read receipt burns ours, no recall follows, the bridge keeps
        no copy."""
        await self._pid()
        officer, userid = await self._officer("mjtomin", permitted=True)
        conv = f"direct/wujiu/{userid}"
        hello = self.peer.item(conv, "wujiu", type="text", text="你好")
        await self._to_bridge("message", hello)
        events = await self._timeline(
            officer, lambda evs: any(e["content"].get("body") == "你好" for e in evs)
        )
        room_id = next(e for e in events if e["content"].get("body") == "你好")[
            "room_id"
        ]
        tag = os.urandom(3).hex()
        _s, sent = await officer.send_text(room_id, f"原文 {tag}")
        await officer.send(
            room_id,
            {
                "msgtype": "m.text",
                "body": f"* 改后 {tag}",
                "m.new_content": {"msgtype": "m.text", "body": f"改后 {tag}"},
                "m.relates_to": {"rel_type": "m.replace", "event_id": sent["event_id"]},
            },
        )
        _s, gone = await officer.send_text(room_id, f"撤回 {tag}")
        await officer.ok(
            "PUT",
            f"/_matrix/client/v3/rooms/{room_id}/redact/{gone['event_id']}/r{tag}",
            {"reason": "撤回"},
        )
        secret = f"阅后即焚 {tag}"
        _s, burn = await officer.send_text(
            room_id, secret, **{"org.matrix.self_destruct": 0}
        )
        got = await self._until_peer(
            lambda s: len(s.messages.get(conv, [])) >= 5 and s.messages[conv]
        )
        self.assertEqual(
            [m["type"] for m in got], ["text", "edit", "text", "recall", "text"]
        )
        self.assertEqual([m["seq"] for m in got], [1, 2, 3, 4, 5])
        self.assertEqual((got[0]["text"], got[0]["edited"]), (f"改后 {tag}", True))
        self.assertEqual(got[1]["target"], got[0]["relay_id"])
        self.assertEqual(got[3]["target"], got[2]["relay_id"])
        self.assertTrue(got[2]["recalled"])
        self.assertNotIn("text", got[2])
        self.assertEqual((got[4]["text"], got[4]["burn_after_read_ms"]), (secret, 0))
        await self._bridge_forgot(secret)  # acknowledged: the bridge kept nothing
        # The ministry user reads it: its copy goes, the read receipt burns ours.
        await threads.deferToThread(self.peer.read, got[4]["relay_id"], "wujiu")
        self.assertNotIn("text", got[4])
        await self._redacted(officer, room_id, burn["event_id"])
        # modules.burn's redaction is not a recall: the next message follows the
        # burned one directly.
        await officer.send_text(room_id, f"之后 {tag}")
        got = await self._until_peer(
            lambda s: len(s.messages.get(conv, [])) >= 6 and s.messages[conv]
        )
        self.assertEqual([m["type"] for m in got[4:]], ["text", "text"])
        self.assertEqual(got[5]["text"], f"之后 {tag}")

    async def test_portal_crash_makes_one_room(self) -> None:
        """The bridge dies right after creating a portal room, before recording it
        (fault injection: crash_points_dir): after the restart the message goes
        into that room, and the puppet is in one room only."""
        pid = await self._pid()
        admin = self.user("mjportaladmin", admin=True)
        officer, userid = await self._officer("mjportal", permitted=True)
        crash = self.server.data_dir / "ministry_im" / "crash" / "after_create_room"
        crash.parent.mkdir(exist_ok=True)
        crash.touch()
        hello = f"建群 {os.urandom(3).hex()}"
        item = self.peer.item(
            f"direct/zheng/{userid}", "zheng", type="text", text=hello
        )
        await self._to_bridge("message", item)
        pid = await self._pid(pid)  # it died at the crash point; the supervisor's
        self.assertFalse(crash.exists())
        events = await self._timeline(
            officer, lambda evs: any(e["content"].get("body") == hello for e in evs)
        )
        room_id = next(e for e in events if e["content"].get("body") == hello)[
            "room_id"
        ]
        puppet = f"@ministry_zheng:{self.server.server_name}"
        rooms = await admin.ok("GET", f"/_synapse/admin/v1/users/{puppet}/joined_rooms")
        self.assertEqual(rooms["joined_rooms"], [room_id])
        self.assertEqual(
            len([e for e in events if e["content"].get("body") == hello]), 1
        )

    async def test_peer_down_then_up(self) -> None:
        """The ministry is down: ours is queued (the backlog shows it), retried with
        back-off, and delivered once when it is back."""
        await self._pid()
        officer, userid = await self._officer("mjdown", permitted=True)
        conv = f"direct/sunba/{userid}"
        hello = self.peer.item(conv, "sunba", type="text", text="在吗")
        await self._to_bridge("message", hello)
        events = await self._timeline(
            officer, lambda evs: any(e["content"].get("body") == "在吗" for e in evs)
        )
        room_id = next(e for e in events if e["content"].get("body") == "在吗")[
            "room_id"
        ]
        self.peer.down = True
        try:
            for text in ("一", "二", "三"):
                await officer.send_text(room_id, text)
            health = await threads.deferToThread(_health, self.port)
            deadline = time.monotonic() + 90
            while health["backlog"]["to_ministry"] < 1 and time.monotonic() < deadline:
                await sleep(0.5)
                health = await threads.deferToThread(_health, self.port)
            self.assertGreaterEqual(health["backlog"]["to_ministry"], 1)
        finally:
            self.peer.down = False
        got = await self._until_peer(
            lambda s: len(s.messages.get(conv, [])) >= 3 and s.messages[conv]
        )
        self.assertEqual([m.get("text") for m in got], ["一", "二", "三"])
        self.assertEqual([m["seq"] for m in got], [1, 2, 3])


def _health(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(  # noqa: S310 - loopback
        f"http://127.0.0.1:{port}/health", timeout=10
    ) as answer:
        return dict(json.loads(answer.read()))


class MinistryBridgeSQLiteTest(RobustnessTests, SQLiteCase):
    pass


class MinistryBridgePostgresTest(MinistryBridgeTests, PostgresCase):
    """The homeserver side (crossdomain policy, directory, media) on PostgreSQL."""
