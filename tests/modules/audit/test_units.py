# SPDX-License-Identifier: AGPL-3.0-or-later
"""Pure parts of modules.audit: record chain, sealing, event → operation, syslog
framing, config errors."""

from pathlib import Path
from tempfile import TemporaryDirectory

from twisted.trial import unittest

from modules.audit.chain import ChainWalk
from modules.audit.config import AuditConfig, derive_key
from modules.audit.events import group_body, media_refs, message_body
from modules.audit.records import (
    GENESIS,
    RecordError,
    StoredRecord,
    chain_hash,
    open_body,
    seal_body,
)
from modules.audit.syslog import frame, parse_frames
from modules.audit.usage import client_version
from modules.common.synapse.errors import ConfigError

KEY_A = derive_key(b"a" * 40)
KEY_B = derive_key(b"b" * 40)


class RecordTests(unittest.TestCase):
    def test_chain_depends_on_previous_hash_and_every_field(self) -> None:
        first = chain_hash(GENESIS, 1, "message", 5, {"x": 1})
        self.assertEqual(len(first), 64)
        self.assertNotEqual(first, chain_hash(GENESIS, 1, "message", 5, {"x": 2}))
        self.assertNotEqual(first, chain_hash(GENESIS, 1, "message", 6, {"x": 1}))
        self.assertNotEqual(first, chain_hash(GENESIS, 2, "message", 5, {"x": 1}))
        self.assertNotEqual(
            chain_hash(first, 2, "group", 5, {}), chain_hash(GENESIS, 2, "group", 5, {})
        )

    def test_seal_needs_the_right_key(self) -> None:
        sealed = seal_body(KEY_A, {"body": "机密内容"})
        self.assertNotIn("机密", sealed)
        self.assertEqual(open_body({"a": KEY_A}, "a", sealed), {"body": "机密内容"})
        with self.assertRaises(RecordError):
            open_body({"a": KEY_B}, "a", sealed)
        with self.assertRaises(RecordError):
            open_body({"a": KEY_A}, "b", sealed)


def _chain(
    specs: list[tuple[int, bool, bool]],
) -> list[StoredRecord]:
    """Records (hash format, stored has_media, media in the body), validly chained."""
    rows, prev = [], GENESIS
    for seq, (fmt, has_media, with_media) in enumerate(specs, start=1):
        body = {"media": [{"mxc": "mxc://x/y"}] if with_media else []}
        prev = chain_hash(prev, seq, "message", seq, body, has_media, fmt)
        rows.append(
            StoredRecord(
                seq, "message", seq, "a", seal_body(KEY_A, body), prev, has_media, fmt
            )
        )
    return rows


def _walk(rows: list[StoredRecord]) -> dict[str, object] | None:
    walk = ChainWalk({"a": KEY_A})
    for row in rows:
        if not walk.feed(row):
            break
    return walk.broken


class HashFormatTests(unittest.TestCase):
    """A1: has_media is inside the hash of format 2; old format-1 records still verify
    (their has_media is checked against the body's media list)."""

    def test_has_media_is_inside_the_format_2_hash(self) -> None:
        body = {"media": []}
        self.assertNotEqual(
            chain_hash(GENESIS, 1, "message", 5, body, False, 2),
            chain_hash(GENESIS, 1, "message", 5, body, True, 2),
        )
        # Format 1 is what older records were hashed with: unchanged.
        self.assertEqual(
            chain_hash(GENESIS, 1, "message", 5, body, True, 1),
            chain_hash(GENESIS, 1, "message", 5, body),
        )

    def test_old_and_new_formats_verify_in_one_chain(self) -> None:
        rows = _chain(
            [(1, True, True), (1, False, False), (2, True, True), (2, False, False)]
        )
        self.assertIsNone(_walk(rows))

    def test_a_changed_has_media_is_caught_in_both_formats(self) -> None:
        for fmt in (1, 2):
            rows = _chain([(fmt, True, True), (fmt, False, False)])
            rows[0] = StoredRecord(*[*rows[0].__dict__.values()][:6], False, fmt)
            broken = _walk(rows)
            assert broken is not None
            self.assertEqual((broken["seq"], broken["reason"]), (1, "modified"))

    def test_a_format_downgrade_is_caught(self) -> None:
        rows = _chain([(2, False, False), (1, False, False)])
        broken = _walk(rows)
        assert broken is not None
        self.assertEqual((broken["seq"], broken["reason"]), (2, "modified"))


class EventTests(unittest.TestCase):
    def test_message_recipients_exclude_sender(self) -> None:
        event = {
            "event_id": "$1",
            "room_id": "!r",
            "sender": "@a:x",
            "type": "m.room.message",
            "content": {"msgtype": "m.text", "body": "hi"},
        }
        body = message_body(event, ["@a:x", "@b:x"], False, [])
        self.assertEqual(body["recipients"], ["@b:x"])

    def test_media_refs(self) -> None:
        event = {
            "type": "m.room.message",
            "content": {
                "msgtype": "m.file",
                "body": "名单.xlsx",
                "url": "mxc://x/abc",
                "info": {"size": 12, "mimetype": "application/x"},
            },
        }
        self.assertEqual(
            media_refs(event),
            [
                {
                    "mxc": "mxc://x/abc",
                    "name": "名单.xlsx",
                    "size": 12,
                    "mimetype": "application/x",
                }
            ],
        )
        self.assertEqual(media_refs({"type": "m.room.message", "content": {}}), [])

    def test_membership_ops(self) -> None:
        def op(sender: str, key: str, membership: str, was_joined: bool) -> str:
            event = {
                "type": "m.room.member",
                "sender": sender,
                "state_key": key,
                "content": {"membership": membership},
            }
            return str(group_body(event, None, was_joined, True)["op"])

        self.assertEqual(op("@a", "@a", "join", False), "join")
        self.assertEqual(op("@a", "@a", "leave", True), "leave")
        self.assertEqual(op("@o", "@a", "leave", True), "kick")
        self.assertEqual(op("@o", "@a", "invite", False), "invite")

    def test_power_level_ops(self) -> None:
        old = {"users": {"@o": 100, "@a": 0}, "events_default": 0}
        new = {"users": {"@o": 50, "@a": 100, "@m": -1}, "events_default": 0}
        event = {"type": "m.room.power_levels", "state_key": "", "content": new}
        body = group_body(event, old, False, True)
        self.assertEqual(body["ops"], ["mute", "owner_transfer"])
        self.assertEqual(body["details"]["changes"]["@a"], [0, 100])
        muted_all = {"users": {}, "events_default": 50}
        event = {"type": "m.room.power_levels", "state_key": "", "content": muted_all}
        self.assertEqual(
            group_body(event, {"users": {}}, False, True)["op"], "mute_all"
        )

    def test_dissolve(self) -> None:
        event = {
            "type": "cn.jwwx.group",
            "state_key": "",
            "content": {"dissolved": True},
        }
        self.assertEqual(group_body(event, {}, False, True)["op"], "dissolve")
        again = group_body(event, {"dissolved": True}, False, True)
        self.assertEqual(again["op"], "group_settings")


class SyslogTests(unittest.TestCase):
    def test_octet_counted_rfc5424(self) -> None:
        record = {
            "seq": 7,
            "kind": "message",
            "ts": 1764428400123,
            "record": {"b": "中"},
        }
        data = frame("im.test", record) + frame("im.test", {**record, "seq": 8})
        frames, rest = parse_frames(data + b"12 <110>1 part")
        self.assertEqual(rest, b"12 <110>1 part")
        self.assertEqual(len(frames), 2)
        head, _, msg = frames[0].partition(b" - message - ")
        self.assertEqual(head, b"<110>1 2025-11-29T15:00:00.123Z im.test jwwx-audit")
        self.assertIn('"b":"中"', msg.decode())

    def test_client_version(self) -> None:
        self.assertEqual(
            client_version("Element/1.11.30 (iPhone; iOS 17)"), "Element/1.11.30"
        )
        self.assertIsNone(client_version(""))


class ConfigTests(unittest.TestCase):
    def test_errors_name_the_key(self) -> None:
        with TemporaryDirectory() as tmp:
            path = Path(tmp) / "k"
            path.write_text("x" * 40)
            short = Path(tmp) / "short"
            short.write_text("tooshort")
            good = {"keys": {"k1": str(path)}, "current_key_id": "k1"}
            self.assertEqual(AuditConfig.parse(good).current_key_id, "k1")
            # The list init rendered before issue 16 is ignored (with a warning).
            obsolete = {**good, "audit_admins": []}
            self.assertEqual(AuditConfig.parse(obsolete).current_key_id, "k1")
            with_consumer = {
                **good,
                "pull_consumers": [{"name": "bureau", "token_file": str(path)}],
            }
            (consumer,) = AuditConfig.parse(with_consumer).pull_consumers
            self.assertEqual(consumer.name, "bureau")
            cases = [
                ({}, "keys"),
                ({**good, "current_key_id": "k9"}, "current_key_id"),
                ({**good, "keys": {"k1": tmp + "/missing"}}, "keys.k1"),
                ({**good, "audit_admins": ["@bob:x"]}, "audit_admins: removed"),
                ({**good, "exporters": [{"name": "x"}]}, "exporters[0]"),
                (
                    {**good, "exporters": [{"name": "x", "http": {"url": "ftp://h"}}]},
                    "http.url",
                ),
                ({**good, "colour": 1}, "unknown key"),
                ({**good, "pull_consumers": [{"name": "b"}]}, "token_file"),
                (
                    {
                        **good,
                        "pull_consumers": [{"name": "b", "token_file": str(short)}],
                    },
                    "at least 32",
                ),
                (
                    {
                        **good,
                        "pull_consumers": [
                            {"name": "b", "token_file": str(path)},
                            {"name": "b", "token_file": str(path)},
                        ],
                    },
                    "used twice",
                ),
                (
                    {
                        **good,
                        "pull_consumers": [
                            {"name": "b", "token_file": str(path)},
                            {"name": "c", "token_file": str(path)},
                        ],
                    },
                    "same token",
                ),
                (
                    {**good, "pull_consumers": [{"name": "b/x", "token_file": "f"}]},
                    "pull_consumers[0].name",
                ),
            ]
            for raw, fragment in cases:
                with self.assertRaises(ConfigError) as caught:
                    AuditConfig.parse(raw)
                self.assertIn(fragment, str(caught.exception))
