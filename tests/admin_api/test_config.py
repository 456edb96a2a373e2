# SPDX-License-Identifier: AGPL-3.0-or-later
"""admin_api's parse_config: defaults, the new keys, and one clear error per bad value."""

import tempfile
from pathlib import Path
from typing import Any

from twisted.trial import unittest

from admin_api.config import AdminApiConfig
from modules.common.synapse.errors import ConfigError


class ConfigTest(unittest.TestCase):
    def setUp(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="jwwx-admin-config-"))
        self.secret = folder / "secret"
        self.secret.write_text("s3cret\n", encoding="utf-8")

    def _parse(self, **keys: Any) -> AdminApiConfig:
        return AdminApiConfig.parse(
            {"registration_shared_secret_path": str(self.secret), **keys}
        )

    def test_defaults_and_keys(self) -> None:
        config = self._parse()
        self.assertEqual(
            (
                config.allow_combined_roles,
                config.cache_check_ms,
                config.allowed_networks,
                config.allowed_hosts,
            ),
            (False, 1000, (), ()),
        )
        config = self._parse(
            allow_combined_roles=True,
            cache_check_seconds=0,
            allowed_networks=["10.20.0.0/16", "fd00::/8", "192.168.1.7"],
            allowed_hosts=["Admin.Police.example"],
        )
        self.assertTrue(config.allow_combined_roles)
        self.assertEqual(config.cache_check_ms, 0)
        self.assertEqual(
            [str(n) for n in config.allowed_networks],
            ["10.20.0.0/16", "fd00::/8", "192.168.1.7/32"],
        )
        self.assertEqual(config.allowed_hosts, ("admin.police.example",))

    def test_bad_values_name_their_key(self) -> None:
        for keys, where in (
            ({"allowed_networks": ["10.0.0.0/33"]}, "allowed_networks[0]"),
            ({"allowed_networks": ["intranet"]}, "allowed_networks[0]"),
            ({"allowed_networks": "10.0.0.0/8"}, "allowed_networks"),
            ({"allowed_hosts": [""]}, "allowed_hosts[0]"),
            ({"allow_combined_roles": "yes"}, "allow_combined_roles"),
            ({"cache_check_seconds": 61}, "cache_check_seconds"),
            ({"cache_check_seconds": -1}, "cache_check_seconds"),
            ({"allowed_network": []}, "unknown key"),
        ):
            with self.assertRaises(ConfigError) as raised:
                self._parse(**keys)
            self.assertIn(where, str(raised.exception), keys)
