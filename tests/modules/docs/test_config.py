# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.docs' config: every bad value is one ConfigError naming its key."""

import tempfile
from pathlib import Path
from typing import Any

from twisted.trial import unittest

from modules.common.synapse.errors import ConfigError
from modules.docs.config import DocsConfig
from modules.web_client.bundle import built_hash, source_hash

EDITOR = Path(__file__).resolve().parents[3] / "clients" / "docs"


class DocsConfigTest(unittest.TestCase):
    def setUp(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="jwwx-docs-config-"))
        self.key = folder / "docs_key"
        self.key.write_text("x" * 32, encoding="utf-8")
        self.short = folder / "short_key"
        self.short.write_text("short", encoding="utf-8")

    def raw(self, **changes: Any) -> dict[str, Any]:
        raw: dict[str, Any] = {"keys": {"k1": str(self.key)}, "current_key_id": "k1"}
        raw.update(changes)
        return raw

    def test_defaults(self) -> None:
        config = DocsConfig.parse(self.raw(websocket={"port": 8010}))
        self.assertEqual(len(config.current_key), 16)
        assert config.websocket is not None
        self.assertEqual(config.websocket.public_url, "ws://127.0.0.1:8010")
        self.assertEqual(config.websocket.instance, "main")
        self.assertEqual((config.snapshot_every, config.token_cache_seconds), (200, 60))
        self.assertIsNone(DocsConfig.parse(self.raw()).websocket)

    def test_websocket_on_synapses_listener(self) -> None:
        """What init renders: no port; clients are told public_baseurl as ws(s)."""
        config = DocsConfig.parse(self.raw(websocket={"instance": "main"}))
        ws = config.websocket
        assert ws is not None
        self.assertEqual((ws.port, ws.public_url), (None, None))
        resolved = ws.resolved("https://im.police.example/")
        self.assertEqual(resolved.public_url, "wss://im.police.example")
        given = DocsConfig.parse(self.raw(websocket={"public_url": "wss://d.example/"}))
        assert given.websocket is not None
        self.assertEqual(
            given.websocket.resolved("http://x/").public_url, "wss://d.example"
        )

    def test_editor_bundle_is_built_from_its_sources(self) -> None:
        # `make web` rebuilds clients/docs/dist; a source change committed without its
        # new dist/ would serve an old editor.
        self.assertEqual(
            built_hash(EDITOR),
            source_hash(EDITOR),
            "clients/docs/dist is older than its sources: run `make web`, commit dist/",
        )

    def test_bad_values_name_their_key(self) -> None:
        for raw, key in (
            ({"current_key_id": "k1"}, "modules.docs.keys"),
            (self.raw(current_key_id="k2"), "modules.docs.current_key_id"),
            (self.raw(keys={"k1": str(self.short)}), "modules.docs.keys.k1"),
            (self.raw(websocket={"port": 0}), "modules.docs.websocket"),
            (
                self.raw(websocket={"port": 80, "public_url": "http://x"}),
                "modules.docs.websocket.public_url",
            ),
            (self.raw(snapshot_every=1), "modules.docs"),
            (self.raw(homeserver_url="ftp://x"), "modules.docs.homeserver_url"),
            (self.raw(surprise=1), "modules.docs"),
            (self.raw(websocket={"port": "8010"}), "modules.docs.websocket.port"),
            (self.raw(bot_localpart="Docs Bot"), "modules.docs.bot_localpart"),
            (self.raw(convert_timeout_seconds=1), "modules.docs"),
        ):
            with self.assertRaises(ConfigError) as caught:
                DocsConfig.parse(raw)
            self.assertIn(key, str(caught.exception))
