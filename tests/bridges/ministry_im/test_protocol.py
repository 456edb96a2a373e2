# SPDX-License-Identifier: AGPL-3.0-or-later
"""The ministry bridge without a server: its config (every bad key named), the
protocol framing checked against the reference peer's own implementation (signature,
envelope, refusals), the items' field checks, the queue's order and exactly-once
bookkeeping, and the launcher knowing `jwwx_bridges.ministry_im`."""

import tempfile
from pathlib import Path
from typing import Any

from twisted.trial import unittest

import yaml

from bridges.ministry_im import items, protocol
from bridges.ministry_im.config import load_config, parse_config
from bridges.ministry_im.protocol import RelayError
from bridges.ministry_im.registration import registration
from bridges.ministry_im.storage import BridgeStore
from homeserver import bridges as launcher_bridges
from modules.common.synapse.errors import ConfigError
from modules.crossdomain.config import CrossDomainConfig
from tests.bridges.ministry_im import peer as ref

SM4 = bytes(range(16))


def _base() -> Path:
    base = Path(tempfile.mkdtemp(prefix="jwwx-ministry-"))
    (base / "ours.key").write_bytes(b"o" * 40)
    (base / "theirs.key").write_bytes(b"t" * 40)
    (base / "short.key").write_bytes(b"s" * 8)
    (base / "k1.sm4").write_text(SM4.hex())
    return base


def _raw(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "server_name": "bureau.example",
        "homeserver_url": "http://127.0.0.1:8008",
        "bridge_url": "http://127.0.0.1:9030",
        "as_token_file": "as",
        "hs_token_file": "hs",
        "system_id": "jwwx-bureau",
        "peer_id": "mps-im",
        "peer_url": "https://im.ministry.example",
        "signing_key_file": "ours.key",
        "peer_signing_key_file": "theirs.key",
        "sm4_keys": {"k1": "k1.sm4"},
        "sm4_key_id": "k1",
    }
    raw.update(changes)
    return {k: v for k, v in raw.items() if v is not None}


class ConfigTests(unittest.TestCase):
    def test_good(self) -> None:
        base = _base()
        config = parse_config(_raw(), base)
        self.assertEqual(config.puppet("zhangsan"), "@ministry_zhangsan:bureau.example")
        self.assertEqual(config.ministry_user("@ministry_x:bureau.example"), "x")
        self.assertIsNone(config.ministry_user("@mj:bureau.example"))
        reg = registration(config)
        self.assertTrue(reg["namespaces"]["users"][0]["exclusive"])
        self.assertTrue(reg["receive_ephemeral"])

    def test_bad(self) -> None:
        base = _base()
        for changes, named in (
            ({"peer_url": "ftp://x"}, "peer_url"),
            ({"signing_key_file": "short.key"}, "signing_key_file"),
            ({"sm4_key_id": "k2"}, "sm4_key_id"),
            ({"sm4_keys": {"k1": "ours.key"}}, "sm4_keys.k1"),
            ({"peer_id": "jwwx-bureau"}, "peer_id"),
            ({"system_id": "a b"}, "system_id"),
            ({"chunk_bytes": 524288, "max_body_bytes": 65536}, "chunk_bytes"),
            ({"surprise": 1}, "surprise"),
            ({"sender_localpart": "ministry_bot"}, "sender_localpart"),
        ):
            with self.assertRaises(ConfigError) as caught:
                parse_config(_raw(**changes), base)
            self.assertIn(named, str(caught.exception))

    def test_launcher_knows_it(self) -> None:
        base = _base()
        path = base / "ministry_im.yaml"
        path.write_text(yaml.safe_dump(_raw()))
        found = launcher_bridges.configured(
            {"jwwx_bridges": {"ministry_im": {"config": str(path)}}}, base
        )
        self.assertEqual([b.name for b in found], ["ministry_im"])
        self.assertEqual(load_config(path).bridge_url, "http://127.0.0.1:9030")

    def test_crossdomain_bridges_key(self) -> None:
        config = CrossDomainConfig.parse(
            {
                "bridges": [
                    {"appservice_id": "a", "domain": "m.example", "user_prefix": "m_"}
                ]
            }
        )
        self.assertEqual(config.bridge_of_user("m_zhang").domain, "m.example")  # type: ignore[union-attr]
        self.assertIsNone(config.bridge_of_user("mj"))
        with self.assertRaises(ConfigError):
            CrossDomainConfig.parse(
                {"bridges": [{"appservice_id": "a", "domain": "x y"}]}
            )


class FramingTests(unittest.TestCase):
    """Our framing against the reference peer's, which follows only the document."""

    def setUp(self) -> None:
        self.theirs = protocol.Keys("mps-im", b"t" * 40, {"k1": SM4}, "k1")
        self.ours = protocol.Keys("jwwx-bureau", b"o" * 40, {"k1": SM4}, "k1")
        self.peer = ref.ReferencePeer(
            "mps-im", b"t" * 40, "jwwx-bureau", b"o" * 40, {"k1": SM4}, "k1"
        )

    def tearDown(self) -> None:
        self.peer.stop()

    def _verify(self, headers: dict[str, str], body: bytes) -> protocol.Verified:
        lower = {k.lower(): v for k, v in headers.items()}
        return protocol.verify(
            self.theirs, "POST", "/relay/v1/message", lower, body, 300
        )

    def test_peer_request_verifies_and_opens(self) -> None:
        body = ref.seal(SM4, {"x": "中文"})
        headers = self.peer.headers("/relay/v1/message", body)
        checked = self._verify(headers, body)
        self.assertEqual(checked.key_id, "k1")
        self.assertEqual(protocol.open_envelope(SM4, body), {"x": "中文"})

    def test_our_request_passes_the_peer(self) -> None:
        headers, body = protocol.request(
            self.ours, "/relay/v1/receipt", {"relay_id": "r1"}
        )
        status, answer = self.peer.receive("/relay/v1/receipt", headers, body)
        self.assertEqual(status, 200)
        self.assertEqual(ref.unseal(SM4, answer)["accepted"], ["r1"])

    def test_refusals(self) -> None:
        body = ref.seal(SM4, {})
        for override, errcode in (
            ({"signature": "0" * 64}, "RELAY_BAD_SIGNATURE"),
            ({"timestamp": "1000"}, "RELAY_STALE"),
            ({"key_id": "k9"}, "RELAY_UNKNOWN_KEY"),
            ({"id": "other"}, "RELAY_UNKNOWN_SYSTEM"),
            ({"nonce": "xyz"}, "RELAY_BAD_SIGNATURE"),
        ):
            headers = self.peer.headers("/relay/v1/message", body, **override)
            with self.assertRaises(RelayError) as caught:
                self._verify(headers, body)
            self.assertEqual(
                (caught.exception.status, caught.exception.errcode), (401, errcode)
            )
        headers = self.peer.headers("/relay/v1/message", body)
        with self.assertRaises(RelayError):  # the body changed after signing
            self._verify(headers, ref.seal(SM4, {"other": 1}))

    def test_items(self) -> None:
        good = {
            "relay_id": "r" * 16,
            "conversation": "direct/zhang/mj1",
            "seq": 1,
            "sender": "zhang",
            "type": "text",
            "text": "hi",
        }
        items.message(good, 1000)
        for bad, field in (
            ({"sender": "li"}, "sender"),
            ({"conversation": "direct/Zhang/mj1"}, "conversation"),
            ({"seq": 0}, "seq"),
            ({"type": "video"}, "type"),
            (
                {
                    "type": "file",
                    "file_id": "f" * 16,
                    "name": "a",
                    "sm3": "0" * 64,
                    "size": 5000,
                },
                "size",
            ),
        ):
            with self.assertRaises(RelayError) as caught:
                items.message({**good, **bad}, 1000)
            self.assertIn(field, caught.exception.error)

    def test_edits_recalls_and_burn(self) -> None:
        text = {
            "relay_id": "r" * 16,
            "conversation": "direct/zhang/mj1",
            "seq": 1,
            "sender": "zhang",
            "type": "text",
            "text": "hi",
            "burn_after_read_ms": 0,
        }
        edit = {
            **text,
            "relay_id": "e" * 16,
            "seq": 2,
            "type": "edit",
            "target": "r" * 16,
        }
        recall = {**edit, "type": "recall"}
        del recall["text"], recall["burn_after_read_ms"]
        for good in (text, edit, recall):
            items.message(good, 1000)
        items.check_target(edit, text)
        items.check_target(recall, text)
        for bad, field in (
            ({**text, "burn_after_read_ms": -1}, "burn_after_read_ms"),
            ({**text, "burn_after_read_ms": True}, "burn_after_read_ms"),
            ({**recall, "burn_after_read_ms": 5}, "burn_after_read_ms"),
            ({**edit, "target": "短"}, "target"),
            ({**edit, "text": ""}, "text"),
        ):
            with self.assertRaises(RelayError) as caught:
                items.message(bad, 1000)
            self.assertIn(field, caught.exception.error)
        for target in (
            None,
            {**text, "conversation": "group/x"},
            recall,
            {**text, "type": "file"},  # an edit replaces texts only
            {**text, "sender": "li"},
        ):
            with self.assertRaises(RelayError) as caught:
                items.check_target(edit, target)
            self.assertIn("target", caught.exception.error)
        self.assertEqual(
            items.pruned(text),
            {k: text[k] for k in text if k != "text"} | {"burned": True},
        )


class StoreTests(unittest.TestCase):
    def test_in_order_and_once(self) -> None:
        store = BridgeStore(Path(tempfile.mkdtemp()) / "s.sqlite3")
        self.assertEqual(store.accept_in("r3", "c", 3, "{}", "queued"), 1)
        self.assertEqual(store.accept_in("r1", "c", 1, "{}", "queued"), 2)
        self.assertEqual([r["relay_id"] for r in store.due_in(1e12)], ["r1"])
        self.assertEqual(store.accept_in("r2", "c", 2, "{}", "queued"), 4)
        store.in_update("r1", state="done")
        self.assertEqual([r["relay_id"] for r in store.due_in(1e12)], ["r2"])
        self.assertTrue(store.enqueue_out("o1", "c", "message", {}, "$e1"))
        self.assertFalse(store.enqueue_out("o1", "c", "message", {}, "$e1"))
        self.assertTrue(store.enqueue_out("o2", "c", "message", {}, "$e2"))
        due = store.due_out(1e12)
        self.assertEqual([(r["relay_id"], r["seq"]) for r in due], [("o1", 1)])
        self.assertTrue(store.claim_nonce("n", 100.0, 600))
        self.assertFalse(store.claim_nonce("n", 200.0, 600))
        store.close()
