# SPDX-License-Identifier: AGPL-3.0-or-later
"""The mail bridge's config: defaults, each bad value named by its key, the seal key
created once (0600) and a bad one refused, the launcher knowing the bridge; its store:
the password sealed at rest, a row sealed with another key skipped (bind again)."""

import os
import tempfile
from pathlib import Path
from typing import Any

from twisted.trial import unittest

from bridges.mail.config import parse_config
from bridges.mail.registration import ensure_seal_key, registration
from bridges.mail.storage import Account, MailStore
from homeserver.bridges import KNOWN
from modules.common.synapse.errors import ConfigError


def raw(**changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "server_name": "gat.example.cn",
        "homeserver_url": "http://127.0.0.1:8008",
        "bridge_url": "http://127.0.0.1:9030",
        "as_token_file": "as_token",
        "hs_token_file": "hs_token",
        "seal_key_file": "seal.key",
        "state_database": "mail.db",
        "imap": {"host": "mail.gat.example.cn"},
        "smtp": {"host": "mail.gat.example.cn"},
    }
    config.update(changes)
    return config


class MailConfigTest(unittest.TestCase):
    def setUp(self) -> None:
        self.base = Path(tempfile.mkdtemp())

    def test_defaults(self) -> None:
        config = parse_config(raw(), self.base)
        self.assertEqual((config.imap.port, config.imap.security), (993, "ssl"))
        self.assertEqual((config.smtp.port, config.smtp.security), (587, "starttls"))
        self.assertEqual(config.reminder, "subject")
        self.assertEqual(config.bot_user_id, "@jwwx_mail:gat.example.cn")
        self.assertEqual(config.state_database, self.base / "mail.db")

    def test_bad_values_name_their_key(self) -> None:
        for changes, key in (
            ({"imap": None}, "imap"),
            ({"imap": {"host": "x", "security": "tls"}}, "imap.security"),
            ({"smtp": {"host": "x", "port": 0}}, "smtp"),
            ({"reminder": "body"}, "reminder"),
            ({"poll_interval_seconds": 1}, "poll_interval_seconds"),
            ({"address_domain": "a@b"}, "address_domain"),
            ({"surprise": 1}, "surprise"),
        ):
            with self.assertRaises(ConfigError) as caught:
                parse_config(raw(**changes), self.base)
            self.assertIn(key, str(caught.exception))

    def test_seal_key(self) -> None:
        path = self.base / "keys" / "seal.key"
        key = ensure_seal_key(path)
        self.assertEqual(len(key), 16)
        self.assertEqual(ensure_seal_key(path), key)  # kept, never replaced
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        path.write_text("not hex")
        with self.assertRaises(ValueError):
            ensure_seal_key(path)

    def test_registration_and_launcher(self) -> None:
        config = parse_config(raw(), self.base)
        generated = registration(config)
        self.assertEqual(generated["sender_localpart"], "jwwx_mail")
        self.assertTrue((self.base / "seal.key").exists())
        self.assertIn("mail", KNOWN)


class MailStoreTest(unittest.TestCase):
    def test_sealed_and_skipped_under_another_key(self) -> None:
        path = Path(tempfile.mkdtemp()) / "state.db"
        store = MailStore(path, bytes(range(16)))
        account = Account("@a:x", "a@x.cn", "Secret-Pass-42", "!r:x", 7, 3)
        store.put(account)
        store.seen("@a:x", 7, 5)
        self.assertEqual(
            store.get("@a:x"), Account("@a:x", "a@x.cn", "Secret-Pass-42", "!r:x", 7, 5)
        )
        store.close()
        self.assertNotIn(b"Secret-Pass-42", path.read_bytes())
        other = MailStore(path, bytes(16))
        self.assertIsNone(other.get("@a:x"))
        self.assertEqual(other.all(), [])
        self.assertTrue(other.delete("@a:x"))
        other.close()
