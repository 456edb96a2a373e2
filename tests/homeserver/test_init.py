# SPDX-License-Identifier: AGPL-3.0-or-later
"""`python -m homeserver init` and config validation, run as an operator runs them."""

import os
import shutil
import stat
import tempfile
from pathlib import Path

from twisted.trial import unittest

import yaml

from homeserver.init import InitOptions, template_context
from homeserver.render import render_yaml, template_names
from tests.harness.server import launcher
from tests.harness.tls import TestPki

SECRETS = (
    "registration_shared_secret",
    "macaroon_secret_key",
    "form_secret",
    "signing.key",
)


class InitTest(unittest.TestCase):
    def setUp(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="jwwx-init-"))
        self.data = self.root / "data"

    def tearDown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def init(self, *extra: str, check: bool = True) -> "launcher":  # type: ignore[valid-type]
        return launcher("init", "--data-dir", str(self.data), *extra, check=check)

    def read_keys(self) -> dict[str, str]:
        return {name: (self.data / "keys" / name).read_text() for name in SECRETS}

    def test_creates_config_secrets_and_keys(self) -> None:
        self.init("--server-name", "police.example", "--port", "8448")
        config = yaml.safe_load((self.data / "homeserver.yaml").read_text())
        self.assertEqual(config["server_name"], "police.example")
        self.assertEqual(config["listeners"][0]["port"], 8448)
        self.assertEqual(config["database"]["name"], "sqlite3")
        self.assertFalse(config["enable_registration"])
        self.assertEqual(config["federation_domain_whitelist"], [])
        # Federation off: no federation sender (issue 17, item 8).
        self.assertEqual(config["federation_sender_instances"], [])
        # No presence: no client of ours shows it (issue 17, item 8).
        self.assertEqual(config["presence"], {"enabled": False})
        # Per-user caches hold the bureau's officers (issue 17, item 1).
        factors = config["caches"]["per_cache_factors"]
        self.assertEqual(factors["get_user_by_access_token"], 60.0)
        self.assertEqual(factors["mark_access_token_as_used"], 60.0)
        self.assertEqual(config["encryption_enabled_by_default_for_room_type"], "off")
        modules = [m["module"] for m in config["modules"]]
        self.assertIn("modules.policy.PolicyModule", modules)
        self.assertEqual(config["listeners"][0]["resources"][0]["names"], ["client"])
        for name in SECRETS:
            mode = stat.S_IMODE(os.stat(self.data / "keys" / name).st_mode)
            self.assertEqual(mode, 0o600, name)
            self.assertGreater(len((self.data / "keys" / name).read_text().strip()), 30)
        self.assertTrue(self.read_keys()["signing.key"].startswith("ed25519 a_"))
        self.assertTrue((self.data / "media_store").is_dir())
        self.assertIn(
            "handlers", yaml.safe_load((self.data / "log.config").read_text())
        )

    def test_login_rate_limits_fit_the_bureau(self) -> None:
        """Issue 14: a station behind one NAT address logs in at shift change, and the
        accounts module's lockout answers repeated wrong passwords before Synapse's 429."""
        from modules.accounts.config import LockoutPolicy

        self.init("--server-name", "police.example")
        config = yaml.safe_load((self.data / "homeserver.yaml").read_text())
        limits = config["rc_login"]
        self.assertGreaterEqual(limits["address"]["burst_count"], 100)
        self.assertLessEqual(limits["account"]["burst_count"], 20)
        self.assertGreater(
            limits["failed_attempts"]["burst_count"], LockoutPolicy().max_failures
        )

    def test_second_init_never_overwrites_secrets_or_keys(self) -> None:
        self.init()
        keys = self.read_keys()
        config_text = (self.data / "homeserver.yaml").read_text()
        result = self.init()
        self.assertIn("already initialised", result.stdout)
        self.assertEqual(self.read_keys(), keys)
        self.assertEqual((self.data / "homeserver.yaml").read_text(), config_text)
        # --force-config re-renders the config, still keeping every secret.
        self.init(
            "--force-config",
            "--federation-allow",
            "other.police",
            "--metrics-port",
            "9100",
        )
        self.assertEqual(self.read_keys(), keys)
        config = yaml.safe_load((self.data / "homeserver.yaml").read_text())
        self.assertEqual(config["federation_domain_whitelist"], ["other.police"])
        self.assertNotIn("federation_sender_instances", config)
        self.assertIn("federation", config["listeners"][0]["resources"][0]["names"])
        self.assertEqual(config["listeners"][1]["type"], "metrics")

    def test_postgres_options(self) -> None:
        self.init("--database-url", "postgresql://jw:p%40ss@db.internal:6543/jwwx")
        args = yaml.safe_load((self.data / "homeserver.yaml").read_text())["database"][
            "args"
        ]
        self.assertEqual(
            (
                args["user"],
                args["password"],
                args["host"],
                args["port"],
                args["dbname"],
            ),
            ("jw", "p@ss", "db.internal", 6543, "jwwx"),
        )
        # VACUUM FULL after burns locks the event tables: nightly on PostgreSQL.
        self.assertEqual(self._burn_config().get("scrub_hours"), [3])

    def _burn_config(self) -> dict[str, object]:
        config = yaml.safe_load((self.data / "homeserver.yaml").read_text())
        burn = next(
            m for m in config["modules"] if m["module"] == "modules.burn.BurnModule"
        )
        return dict(burn["config"])

    def test_sqlite_rewrites_after_burns_at_any_hour(self) -> None:
        self.init()
        self.assertNotIn("scrub_hours", self._burn_config())

    def assertOneLineError(self, *args: str, mentions: str) -> None:
        result = self.init(*args, check=False)
        self.assertEqual(result.returncode, 2, result)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertIn(mentions, lines[0])
        self.assertNotIn("Traceback", result.stderr)

    def test_bad_options_give_one_line_and_create_nothing(self) -> None:
        self.assertOneLineError("--port", "0", mentions="--port")
        self.assertOneLineError("--port", "eighty", mentions="--port")
        self.assertOneLineError("--server-name", "bad name!", mentions="--server-name")
        self.assertOneLineError("--bind", "localhost.x", mentions="--bind")
        self.assertOneLineError(
            "--database-url", "mysql://x/y", mentions="--database-url"
        )
        self.assertOneLineError(
            "--database-url", "postgresql://host", mentions="no database"
        )
        self.assertOneLineError("--log-level", "LOUD", mentions="--log-level")
        self.assertOneLineError("--no-such-option", mentions="--no-such-option")
        self.assertFalse(self.data.exists())

    def test_federation_over_synapse_tls(self) -> None:
        """--tls-port: Synapse serves HTTPS itself (client and federation), peers'
        certificates checked against --federation-ca, their networks allowed."""
        pki = TestPki(self.root / "pki")
        cert, key = pki.issue("server")
        self.init(
            "--server-name",
            "localhost:8449",
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
            "--tls-port",
            "8449",
            "--federation-allow",
            "peer.police:8448",
            "--federation-ca",
            str(pki.ca_cert),
            "--federation-network",
            "10.30.0.0/16",
        )
        config = yaml.safe_load((self.data / "homeserver.yaml").read_text())
        plain, https = config["listeners"][0], config["listeners"][1]
        self.assertEqual(plain["resources"][0]["names"], ["client"])
        self.assertEqual((https["port"], https["tls"]), (8449, True))
        self.assertEqual(https["resources"][0]["names"], ["client", "federation"])
        self.assertEqual(config["tls_certificate_path"], str(cert.resolve()))
        self.assertEqual(
            config["federation_custom_ca_list"], [str(pki.ca_cert.resolve())]
        )
        self.assertTrue(config["federation_verify_certificates"])
        self.assertEqual(config["ip_range_whitelist"], ["10.30.0.0/16"])
        self.assertEqual(config["federation_domain_whitelist"], ["peer.police:8448"])
        modules = [m["module"] for m in config["modules"]]
        self.assertIn("modules.crossdomain.CrossDomainModule", modules)

    def test_bad_federation_options(self) -> None:
        pki = TestPki(self.root / "pki")
        cert, key = pki.issue("server")
        self.assertOneLineError("--tls-port", "8449", mentions="--tls-cert")
        tls = ("--tls-cert", str(cert), "--tls-key", str(key))
        self.assertOneLineError(*tls, "--tls-port", "8008", mentions="--tls-port")
        self.assertOneLineError(
            "--federation-ca", str(pki.ca_cert), mentions="--federation-allow"
        )
        allow = ("--federation-allow", "peer.police")
        self.assertOneLineError(
            *allow,
            "--federation-ca",
            str(self.root / "none.pem"),
            mentions="not a file",
        )
        self.assertOneLineError(
            *allow, "--federation-network", "10.300.0.0/16", mentions="--federation"
        )
        self.assertFalse(self.data.exists())

    def test_server_name_cannot_change(self) -> None:
        self.init("--server-name", "one.example")
        self.assertOneLineError(
            "--server-name", "two.example", mentions="cannot change"
        )

    def test_broken_config_gives_one_line(self) -> None:
        self.init()
        (self.data / "conf.d" / "broken.yaml").write_text("modules: [\n")
        result = launcher("check-config", "--data-dir", str(self.data), check=False)
        self.assertEqual(
            (result.returncode, len(result.stderr.strip().splitlines())), (2, 1), result
        )
        self.assertIn("broken.yaml", result.stderr)
        bad_module = {
            "modules": [
                {"module": "modules.policy.PolicyModule", "config": {"keywordz": []}}
            ]
        }
        (self.data / "conf.d" / "broken.yaml").write_text(yaml.safe_dump(bad_module))
        for command in ("check-config", "run"):
            result = launcher(command, "--data-dir", str(self.data), check=False)
            self.assertEqual(result.returncode, 2, result)
            self.assertIn("keywordz", result.stderr)
            self.assertNotIn("Traceback", result.stderr)

    def test_check_fails_when_nothing_answers(self) -> None:
        self.init("--port", "1")
        result = launcher("check", "--data-dir", str(self.data), check=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn("does not answer", result.stderr)

    def test_missing_data_dir(self) -> None:
        result = launcher("run", "--data-dir", str(self.root / "nothing"), check=False)
        self.assertEqual(result.returncode, 2)
        self.assertIn("init", result.stderr)


class TemplatesTest(unittest.TestCase):
    def test_every_template_renders_with_every_option(self) -> None:
        rich = InitOptions(
            data_dir=Path("/srv/jwwx"),
            server_name="police.example",
            database={
                "engine": "psycopg2",
                "user": "u",
                "password": "p",
                "host": "h",
                "port": 5432,
                "dbname": "d",
            },
            federation_allow=["a.police"],
            federation_networks=["10.30.0.0/16"],
            tls_cert=Path("/srv/tls/cert.pem"),
            tls_key=Path("/srv/tls/key.pem"),
            tls_port=8449,
            metrics_port=9100,
            redis_host="127.0.0.1",
            keywords=["词"],
            log_file="/var/log/jwwx.log",
        )
        for options in (InitOptions(data_dir=Path("/srv/jwwx")), rich):
            for name in template_names():
                self.assertTrue(render_yaml(name, template_context(options)), name)
