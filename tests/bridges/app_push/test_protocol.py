# SPDX-License-Identifier: AGPL-3.0-or-later
"""The app push bridge's config, generated registration and signed push protocol: the
reference sender's requests verify, and every bad request is refused with its code
before anything could be delivered (delivery itself is not built yet)."""

import json
import tempfile
from pathlib import Path
from typing import Any

from twisted.trial import unittest

import yaml

from bridges.app_push import config as app_config
from bridges.app_push import protocol
from bridges.app_push.__main__ import main as cli
from bridges.app_push.memory import PushMemory
from bridges.app_push.registration import registration
from homeserver import bridges as launcher_bridges
from homeserver.errors import LauncherError
from modules.common import gm
from modules.common.synapse.errors import ConfigError
from tests.bridges.app_push import sender

SECRET = b"s" * 40
NOW = 1_700_000_000
# The open-API app each source app delivers through.
LINK = {"agentid": 1000001, "corpsecret_file": "corp.secret"}
TEXT = {"touser": "zhangsan|lisi", "msgtype": "text", "text": {"content": "你好"}}


def _raw(base: Path, **override: Any) -> dict[str, Any]:
    (base / "case.secret").write_bytes(SECRET + b"\n")
    (base / "sha.secret").write_bytes(b"h" * 32)
    (base / "corp.secret").write_text("corp-secret-of-the-open-api-app\n")
    raw: dict[str, Any] = {
        "server_name": "police.example",
        "homeserver_url": "http://127.0.0.1:8008",
        "bridge_url": "http://127.0.0.1:9010",
        "corpid": "jwwx-police.example",
        "as_token_file": "keys/as_token",
        "hs_token_file": "keys/hs_token",
        "apps": [
            {
                "app_id": "case",
                "name": "案件系统",
                "secret_file": "case.secret",
                **LINK,
            },
            {
                "app_id": "sha",
                "name": "SHA app",
                "secret_file": "sha.secret",
                **LINK,
                "signature": "hmac-sha256",
                "allow_all": True,
            },
        ],
    }
    raw.update(override)
    return raw


class ProtocolTest(unittest.TestCase):
    def setUp(self) -> None:
        self.base = Path(tempfile.mkdtemp())
        self.config = app_config.parse_config(_raw(self.base), self.base)
        self.nonces = protocol.NonceCache(self.config.clock_skew_seconds)

    def verify(
        self, message: Any, app: str = "case", secret: bytes = SECRET, **kw: Any
    ) -> protocol.Push:
        method = kw.pop("method", "hmac-sm3" if app == "case" else "hmac-sha256")
        stamp, nonce = kw.pop("timestamp", NOW), kw.pop("nonce", None)
        if isinstance(message, bytes):  # sign these bytes as they are
            headers, _ = sender.signed_request(app, secret, {}, method, stamp, nonce)
            headers["X-Jwwx-Signature"] = sender.signature(
                method, secret, app, str(stamp), headers["X-Jwwx-Nonce"], message
            )
            body = message
        else:
            headers, body = sender.signed_request(
                app, secret, message, method, stamp, nonce
            )
        body = kw.pop("tampered", body)
        lower = {k.lower(): v for k, v in headers.items()}
        return protocol.verify_push(self.config, self.nonces, lower, body, now=NOW)

    def refused(self, errcode: int, *args: Any, **kw: Any) -> protocol.PushError:
        with self.assertRaises(protocol.PushError) as caught:
            self.verify(*args, **kw)
        self.assertEqual(caught.exception.errcode, errcode, caught.exception.errmsg)
        return caught.exception

    def test_reference_sender_verifies_with_both_methods(self) -> None:
        push = self.verify(TEXT)
        self.assertEqual(push.touser, ("zhangsan", "lisi"))
        self.assertEqual(push.content, {"msgtype": "m.text", "body": "你好"})
        card = {
            "toparty": "2|3|2",
            "totag": "7",
            "msgid": "order-42",
            "msgtype": "textcard",
            "textcard": {
                "title": "警情",
                "description": "d",
                "url": "https://x.example",
            },
        }
        push = self.verify(card, app="sha", secret=b"h" * 32)
        self.assertEqual(
            (push.toparty, push.totag, push.msgid), ((2, 3), (7,), "order-42")
        )
        self.assertEqual(push.msgtype, "textcard")

    def test_sender_hmac_sm3_agrees_with_ours(self) -> None:
        data = protocol.signed_bytes("case", "1", "nonce-123", b"{}")
        ours = "hmac-sm3=" + gm.hmac_sm3(SECRET, data).hex()
        self.assertEqual(
            sender.signature("hmac-sm3", SECRET, "case", "1", "nonce-123", b"{}"), ours
        )

    def test_authentication_failures(self) -> None:
        self.refused(40056, TEXT, app="nobody")
        self.refused(40001, TEXT, secret=b"x" * 40)
        error = self.refused(40001, TEXT, method="hmac-sha256")  # not this app's method
        self.assertIn("hmac-sm3=", error.errmsg)
        self.refused(40001, TEXT, tampered=json.dumps({**TEXT, "touser": "x"}).encode())
        self.refused(40001, TEXT, timestamp=NOW - 301)
        self.refused(40058, TEXT, nonce="short")
        self.verify(TEXT, nonce="nonce-once-only")
        self.assertEqual(
            self.refused(40001, TEXT, nonce="nonce-once-only").errmsg,
            "nonce already used",
        )

    def test_bad_messages(self) -> None:
        big = {**TEXT, "text": {"content": "x" * 70000}}
        self.assertEqual(self.refused(45002, big).status, 413)
        self.refused(47001, b"not json")
        self.refused(47001, b"[1, 2]")
        self.refused(40058, {"msgtype": "text", "text": {"content": "x"}})
        self.refused(48002, {**TEXT, "touser": "@all"})
        self.verify({**TEXT, "touser": "@all"}, app="sha", secret=b"h" * 32)
        self.refused(40008, {**TEXT, "msgtype": "image", "image": {"media_id": "m"}})
        self.refused(40008, {**TEXT, "msgtype": "nosuch"})
        self.refused(44004, {**TEXT, "text": {"content": " "}})
        self.refused(40068, {**TEXT, "totag": "a"})
        self.refused(40058, {**TEXT, "msgid": "bad id!"})
        # A refused request does not use up its nonce: corrected, it goes through.
        self.refused(44004, {**TEXT, "text": {"content": ""}}, nonce="nonce-retry-1")
        self.verify(TEXT, nonce="nonce-retry-1")


class ConfigAndRegistrationTest(unittest.TestCase):
    def setUp(self) -> None:
        self.base = Path(tempfile.mkdtemp())

    def bad(self, fragment: str, **override: Any) -> None:
        with self.assertRaises(ConfigError) as caught:
            app_config.parse_config(_raw(self.base, **override), self.base)
        self.assertIn(fragment, str(caught.exception))

    def test_bad_configs(self) -> None:
        self.bad("apps", apps=[])
        (self.base / "short.secret").write_bytes(b"x" * 31)
        app = {"app_id": "a", "name": "n", "secret_file": "short.secret", **LINK}
        self.bad("at least 32 bytes", apps=[app])
        self.bad(
            "unique",
            apps=[{"app_id": "a", "name": "n", "secret_file": "case.secret", **LINK}]
            * 2,
        )
        self.bad(
            "app_id",
            apps=[
                {"app_id": "Bad Id", "name": "n", "secret_file": "case.secret", **LINK}
            ],
        )
        self.bad(
            "signature",
            apps=[
                {
                    "app_id": "a",
                    "name": "n",
                    "secret_file": "case.secret",
                    **LINK,
                    "signature": "md5",
                }
            ],
        )
        self.bad(
            "cannot read",
            apps=[{"app_id": "a", "name": "n", "secret_file": "missing", **LINK}],
        )
        self.bad("unknown key", colour="red")
        self.bad("http(s) URL", bridge_url="ftp://x")
        # The workbench entry is checked as the workbench checks an admin's entry.
        base = {"app_id": "a", "name": "n", "secret_file": "case.secret", **LINK}
        for entry, fragment in (
            ({"url": "javascript:alert(1)"}, "url"),
            ({}, "url"),
            ({"url": "jwapp://x", "category": "c" * 17}, "category"),
            ({"url": "jwapp://x", "colour": "red"}, "colour"),
            ("jwapp://x", "mapping"),
        ):
            self.bad(fragment, apps=[{**base, "workbench": entry}])
        good = app_config.parse_config(
            _raw(
                self.base,
                apps=[
                    {**base, "workbench": {"url": "jwapp://open?page=a"}},
                    {**base, "app_id": "b"},
                ],
            ),
            self.base,
        )
        self.assertEqual(
            good.workbench_apps(),
            [{"app_id": "a", "name": "n", "url": "jwapp://open?page=a"}],
        )

    def test_registration_from_config(self) -> None:
        path = self.base / "app_push.yaml"
        path.write_text(yaml.safe_dump(_raw(self.base)), encoding="utf-8")
        output = self.base / "registration.yaml"
        self.assertEqual(
            cli(["registration", "--config", str(path), "--output", str(output)]), 0
        )
        reg = yaml.safe_load(output.read_text(encoding="utf-8"))
        self.assertEqual(output.stat().st_mode & 0o777, 0o600)
        self.assertEqual((self.base / "keys/as_token").stat().st_mode & 0o777, 0o600)
        self.assertEqual(
            reg["as_token"], (self.base / "keys/as_token").read_text().strip()
        )
        self.assertNotEqual(reg["as_token"], reg["hs_token"])
        self.assertEqual(
            (reg["url"], reg["sender_localpart"]),
            ("http://127.0.0.1:9010", "jwwx_app_push"),
        )
        self.assertFalse(reg["receive_ephemeral"])
        self.assertFalse(reg["rate_limited"])
        [users] = reg["namespaces"]["users"]
        self.assertTrue(users["exclusive"])
        config = app_config.load_config(path)
        self.assertRegex(config.app_user_id("case"), "^" + users["regex"] + "$")
        self.assertNotRegex("@zhangsan:police.example", users["regex"])
        self.assertNotRegex("@jwwx_push_case:other.example", users["regex"])
        # The tokens are kept when the registration is written again.
        self.assertEqual(registration(config)["as_token"], reg["as_token"])

    def test_cli_errors_are_one_line(self) -> None:
        path = self.base / "broken.yaml"
        path.write_text("server_name: [", encoding="utf-8")
        self.assertEqual(cli(["check-config", "--config", str(path)]), 2)


class MemoryTest(unittest.TestCase):
    """The journal of nonces and msgid answers (bridges/app_push/memory.py)."""

    def setUp(self) -> None:
        self.path = Path(tempfile.mkdtemp()) / "state" / "journal.jsonl"

    def open(self, now: float) -> PushMemory:
        memory = PushMemory(self.path, 300, 3600, now)
        self.addCleanup(memory.close)
        return memory

    def test_survives_a_restart_within_its_windows(self) -> None:
        first = self.open(NOW)
        self.assertTrue(first.claim("case", "nonce-0001", NOW))
        self.assertFalse(first.claim("case", "nonce-0001", NOW + 1))
        self.assertTrue(first.claim("sha", "nonce-0001", NOW))  # per app
        first.remember("case", "order-42", {"errcode": 0, "msgid": "m1"}, NOW)
        first.close()
        self.assertEqual(self.path.stat().st_mode & 0o777, 0o600)
        again = self.open(NOW + 100)
        self.assertFalse(again.claim("case", "nonce-0001", NOW + 100))
        self.assertEqual(again.answer("case", "order-42", NOW + 100)["msgid"], "m1")
        self.assertIsNone(again.answer("sha", "order-42", NOW + 100))
        again.close()
        # Past the nonce window (2 × skew) but within the msgid window.
        later = self.open(NOW + 700)
        self.assertTrue(later.claim("case", "nonce-0001", NOW + 700))
        self.assertEqual(later.answer("case", "order-42", NOW + 700)["msgid"], "m1")
        later.close()
        last = self.open(NOW + 3700)  # past the msgid window: forgotten
        self.assertIsNone(last.answer("case", "order-42", NOW + 3700))
        # The journal is rewritten with only what is live: nothing left.
        self.assertEqual(self.path.read_text(encoding="utf-8"), "")

    def test_a_torn_last_line_is_skipped(self) -> None:
        memory = self.open(NOW)
        memory.remember("case", "order-1", {"errcode": 0, "msgid": "m1"}, NOW)
        memory.close()
        with self.path.open("a", encoding="utf-8") as out:
            out.write('["m", "case", "order-2", 17000')  # a crash mid-write
        again = self.open(NOW + 1)
        self.assertIsNotNone(again.answer("case", "order-1", NOW + 1))
        self.assertIsNone(again.answer("case", "order-2", NOW + 1))


class LauncherTest(unittest.TestCase):
    """The launcher's side (homeserver/bridges.py): the registration generated and
    listed for Synapse, bad settings refused in one line."""

    def test_prepare_writes_and_removes_the_registration_list(self) -> None:
        base = Path(tempfile.mkdtemp())
        path = base / "app_push.yaml"
        path.write_text(yaml.safe_dump(_raw(base)), encoding="utf-8")
        data = base / "data"
        raw = {
            "jwwx_bridges": {"app_push": {"config": str(path)}},
            "app_service_config_files": ["/etc/other.yaml"],
        }
        [bridge] = launcher_bridges.prepare(raw, data)
        self.assertEqual(bridge.url, "http://127.0.0.1:9010")
        self.assertEqual(bridge.argv()[-3:], ["run", "--config", str(path)])
        listed = yaml.safe_load((data / "run/bridges.yaml").read_text())
        registration_file = data / "run/bridges/app_push.yaml"
        self.assertEqual(
            listed["app_service_config_files"],
            ["/etc/other.yaml", str(registration_file)],
        )
        generated = yaml.safe_load(registration_file.read_text())
        self.assertEqual(
            generated["as_token"], (base / "keys/as_token").read_text().strip()
        )
        self.assertEqual(registration_file.stat().st_mode & 0o777, 0o600)
        self.assertEqual(launcher_bridges.prepare({}, data), [])
        self.assertFalse((data / "run/bridges.yaml").exists())

    def test_both_bridges_listed(self) -> None:
        base = Path(tempfile.mkdtemp())
        (base / "app_push.yaml").write_text(
            yaml.safe_dump(_raw(base)), encoding="utf-8"
        )
        (base / "model.key").write_text("k" * 40)
        assistant = {
            "server_name": "police.example",
            "homeserver_url": "http://127.0.0.1:8008",
            "bridge_url": "http://127.0.0.1:9011",
            "as_token_file": "assistant_as",
            "hs_token_file": "assistant_hs",
            "engine": {
                "base_url": "http://127.0.0.1:9999/v1",
                "model": "police-llm",
                "api_key_file": "model.key",
            },
        }
        (base / "assistant.yaml").write_text(
            yaml.safe_dump(assistant), encoding="utf-8"
        )
        raw = {
            "jwwx_bridges": {
                "app_push": {"config": "app_push.yaml"},  # relative to the data dir
                "assistant": {"config": "assistant.yaml"},
            }
        }
        bridges = launcher_bridges.prepare(raw, base)
        self.assertEqual(
            [(b.name, b.url) for b in bridges],
            [
                ("app_push", "http://127.0.0.1:9010"),
                ("assistant", "http://127.0.0.1:9011"),
            ],
        )
        self.assertEqual(bridges[1].argv()[1:3], ["-m", "bridges.assistant"])
        listed = yaml.safe_load((base / "run/bridges.yaml").read_text())
        self.assertEqual(len(listed["app_service_config_files"]), 2)
        generated = yaml.safe_load((base / "run/bridges/assistant.yaml").read_text())
        self.assertEqual(generated["url"], "http://127.0.0.1:9011")

    def test_bad_settings(self) -> None:
        base = Path(tempfile.mkdtemp())
        for raw, wanted in (
            ({"jwwx_bridges": ["app_push"]}, "must be a mapping"),
            ({"jwwx_bridges": {"fax": {"config": "x"}}}, "unknown bridge"),
            ({"jwwx_bridges": {"app_push": {"config": "x", "y": 1}}}, "only 'config'"),
            ({"jwwx_bridges": {"app_push": {"config": "missing.yaml"}}}, "cannot read"),
        ):
            with self.assertRaises(LauncherError) as caught:
                launcher_bridges.prepare(raw, base)
            self.assertIn(wanted, str(caught.exception))
