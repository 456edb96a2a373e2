# SPDX-License-Identifier: AGPL-3.0-or-later
"""`init --workers`: what it renders, checked by Synapse's own config parser and nginx
(when installed), and what it refuses. No server runs here; the running deployment is
tests/homeserver/test_workers.py."""

import configparser
import gzip
import re
import shutil
import ssl
import subprocess
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from twisted.trial import unittest

import yaml

from homeserver.config_file import load_server_config
from homeserver.errors import LauncherError
from homeserver.routing import (
    CLIENT_UPSTREAM,
    MAIN_UPSTREAM,
    MEDIA_UPSTREAM,
    ROOM_UPSTREAM,
    STREAMS_UPSTREAM,
    SYNC_UPSTREAM,
    routes,
)
from homeserver.runner import synapse_command
from homeserver.supervisor import hung_after, start_timeout, worker_processes
from modules.common.synapse.media import runs_media_background_jobs
from tests.harness.server import free_port, launcher
from tests.harness.tls import make_test_ca
from tests.homeserver import nginx


def _route(path: str) -> tuple[str, bool]:
    """Where nginx sends path (the first matching regex location, else main) and
    whether only the admin networks may ask."""
    for route in routes(federation=True):
        if re.search(route.pattern, path):
            return route.upstream, route.admin_only
    return "main", False


def _upstream(path: str) -> str:
    return _route(path)[0]


class WorkerConfigTest(unittest.TestCase):
    def setUp(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="jwwx-workers-"))

    def tearDown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def init(self, name: str, *extra: str) -> "subprocess.CompletedProcess[str]":
        return launcher(
            "init", "--data-dir", str(self.root / name), *extra, check=False
        )

    def test_refusals(self) -> None:
        """SQLite cannot serve workers; an unknown profile or clashing ports neither.
        Nothing is written."""
        cases = [
            (("--workers", "small"), "--workers needs PostgreSQL"),
            (("--workers", "huge", "--pg-db", "x"), "choose one of bureau, small"),
            (
                ("--workers", "small", "--pg-db", "x", "--worker-base-port", "8000"),
                "port 8008 is used twice",
            ),
            (
                ("--workers", "small", "--pg-db", "x", "--worker-base-port", "65530"),
                "within 1024..65535",
            ),
            (("--workers", "small", "--pg-db", "x", "--nginx-listen", "a:b"), "PORT"),
        ]
        for index, (args, message) in enumerate(cases):
            result = self.init(f"refused{index}", *args)
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn(message, result.stderr)
            self.assertFalse((self.root / f"refused{index}").exists())

    def test_bureau_profile_is_valid_for_synapse(self) -> None:
        """Every rendered process config loads in Synapse's own parser, with the
        writers, background tasks and media repository where the profile puts them."""
        from synapse.config.homeserver import HomeServerConfig

        result = self.init(
            "bureau",
            "--workers",
            "bureau",
            "--pg-db",
            "jwwx",
            "--federation-allow",
            "other.police.example",
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.init("single").returncode, 0)
        data = self.root / "bureau"
        shared = ["-c", str(data / "homeserver.yaml"), "-c", str(data / "conf.d")]
        main = HomeServerConfig.load_config("test", shared)
        self.assertIsNone(main.worker.worker_app)
        self.assertFalse(main.media.can_load_media_repo)
        self.assertFalse(main.worker.run_background_tasks)
        monolith = HomeServerConfig.load_config(
            "test", ["-c", str(self.root / "single" / "homeserver.yaml")]
        )
        self.assertTrue(
            runs_media_background_jobs(
                SimpleNamespace(config=monolith, get_instance_name=lambda: "master")
            )
        )
        self.assertEqual(main.worker.writers.events, ["persister1", "persister2"])
        self.assertEqual(main.worker.writers.typing, ["stream1"])
        # Presence is off as shipped (issue 17, item 8); its stream writer stays
        # configured, which Synapse accepts with presence off.
        self.assertFalse(main.server.presence_enabled)
        self.assertEqual(main.worker.writers.presence, ["stream1"])
        seen: dict[str, Any] = {}
        for path in sorted((data / "workers").glob("*.yaml")):
            config = HomeServerConfig.load_config("test", [*shared, "-c", str(path)])
            name = config.worker.worker_name
            seen[name] = config
            self.assertEqual(path.stem, name)
            self.assertEqual(
                config.worker.run_background_tasks, name == "background1", name
            )
            self.assertEqual(
                config.media.can_load_media_repo,
                name in ("media1", "background1"),
                name,
            )
            self.assertEqual(config.worker.send_federation, name == "background1", name)
            self.assertFalse(config.server.presence_enabled, name)
            # media_crypto's walk of the whole store: on the media worker only.
            if config.media.can_load_media_repo:
                hs = SimpleNamespace(
                    config=config,
                    get_instance_name=lambda c=config: c.worker.instance_name,
                )
                walks = runs_media_background_jobs(hs)
                self.assertEqual(walks, name == "media1", name)
        self.assertEqual(len(seen), 11)
        ports = [
            listener.port
            for config in seen.values()
            for listener in config.worker.worker_listeners
        ]
        self.assertEqual(len(ports), len(set(ports)))
        rendered = yaml.safe_load((data / "homeserver.yaml").read_text())
        for entry in rendered["modules"]:
            jobs = entry.get("config", {}).get("jobs_instance")
            if entry["module"].split(".")[1] in (
                "audit",
                "burn",
                "directory",
                "openapi",
                "accounts",
                "groups",
                "search",
            ):
                self.assertEqual(jobs, "background1", entry["module"])

    def test_routing(self) -> None:
        """Synapse's documented worker endpoints and our modules' media endpoints go
        to their workers; the rest of our modules and the admin APIs to main."""
        expected = {
            "/_matrix/client/v3/sync": SYNC_UPSTREAM,
            "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync": SYNC_UPSTREAM,
            "/_matrix/client/r0/initialSync": SYNC_UPSTREAM,
            "/_matrix/client/v3/rooms/!a:x/send/m.room.message/t1": CLIENT_UPSTREAM,
            "/_matrix/client/v3/login": CLIENT_UPSTREAM,
            "/_matrix/client/v3/rooms/!a:x/messages": ROOM_UPSTREAM,
            "/_matrix/client/v3/rooms/!a:x/typing/@u:x": STREAMS_UPSTREAM,
            "/_matrix/client/v3/user/@u:x/account_data/m.direct": STREAMS_UPSTREAM,
            "/_matrix/client/v3/rooms/!a:x/receipt/m.read/$e": STREAMS_UPSTREAM,
            "/_matrix/client/v3/sendToDevice/m.x/t": STREAMS_UPSTREAM,
            "/_matrix/client/v1/media/download/x/abc": MEDIA_UPSTREAM,
            "/_matrix/media/v3/upload": MEDIA_UPSTREAM,
            "/_jwwx/client/v1/watermark/media/x/abc": MEDIA_UPSTREAM,
            "/cgi-bin/media/upload": MEDIA_UPSTREAM,
            "/_matrix/federation/v1/send/123": CLIENT_UPSTREAM,
            "/cgi-bin/message/send": "main",
            "/_jwwx/admin/v1/directory/members": "main",
            "/_jwwx/client/v1/health": "main",
            "/connect/oauth2/authorize": "main",
            "/_synapse/admin/v2/users/@u:x": MAIN_UPSTREAM,
            "/_synapse/admin/v1/media/x/abc": MEDIA_UPSTREAM,
            "/_matrix/client/v3/keys/upload": "main",
        }
        for path, upstream in expected.items():
            self.assertEqual(_upstream(path), upstream, path)

    def test_synapse_admin_api_only_from_admin_networks(self) -> None:
        """Synapse's own admin API, wherever it is routed, is admin-networks-only;
        nothing else is."""
        admin = [
            "/_synapse/admin/v2/users/@u:x",
            "/_synapse/admin/v1/register",
            "/_synapse/admin/v1/rooms/!a:x/messages",
            "/_synapse/admin/v1/media/x/abc",
            "/_synapse/admin/v1/users/@u:x/media",
            "/_synapse/admin/v1/purge_media_cache",
        ]
        others = [
            "/_matrix/client/v3/sync",
            "/_matrix/client/v1/media/download/x/abc",
            "/_jwwx/admin/v1/directory/members",
            "/_synapse/client/password_reset/email/submit_token",
            "/_matrix/client/v3/rooms/!a:x/send/m.room.message/t1",
        ]
        for path in admin:
            self.assertTrue(_route(path)[1], path)
        for path in others:
            self.assertFalse(_route(path)[1], path)
        result = self.init(
            "admins",
            "--workers",
            "small",
            "--pg-db",
            "jwwx",
            "--admin-network",
            "10.20.0.0/16",
            "--admin-network",
            "fd00::/8",
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        text = (self.root / "admins" / "nginx" / "jwwx.conf").read_text()
        # Every admin-only location, and only those, carries the same allow-list.
        blocks = re.findall(r'location ~ "([^"]+)" \{([^}]*)\}', text)
        self.assertTrue(blocks)
        allow = [
            ("allow", "127.0.0.1"),
            ("allow", "::1"),
            ("allow", "10.20.0.0/16"),
            ("allow", "fd00::/8"),
            ("deny", "all"),
        ]
        for pattern, body in blocks:
            rules = re.findall(r"(allow|deny) ([^;]+);", body)
            expected = allow if pattern.startswith("^/_synapse/admin/") else []
            self.assertEqual(rules, expected, pattern)
        config = yaml.safe_load((self.root / "admins" / "homeserver.yaml").read_text())
        admin_api = next(
            m for m in config["modules"] if m["module"] == "admin_api.AdminApiModule"
        )
        self.assertEqual(
            admin_api["config"]["allowed_networks"], ["10.20.0.0/16", "fd00::/8"]
        )
        refused = self.init("badnet", "--admin-network", "10.0.0.300/8")
        self.assertEqual(refused.returncode, 2, refused.stderr)
        self.assertIn("--admin-network", refused.stderr)
        self.assertFalse((self.root / "badnet").exists())

    def test_nginx_accepts_the_rendered_config(self) -> None:
        """nginx -t on both kinds of file; nginx run with them refuses Synapse's admin
        API to an address outside the admin networks and passes it from inside."""
        port = free_port()
        for name, extra in (
            ("small", ("--workers", "small", "--pg-db", "jwwx")),
            ("single", ()),
        ):
            result = self.init(
                name,
                *extra,
                "--nginx-listen",
                f"127.0.0.1:{port}",
                "--admin-network",
                "127.0.0.3/32",
            )
            self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(
            "upstream jwwx_sync", (self.root / "small/nginx/jwwx.conf").read_text()
        )
        for name in ("small", "single"):
            conf = self.root / name / "nginx" / "jwwx.conf"
            checked = nginx.check(self.root, conf)
            self.assertEqual(checked.returncode, 0, checked.stderr)
            # No Synapse behind it: an allowed request gets nginx's 502.
            with nginx.running(self.root, conf, port):
                for path in (
                    "/_synapse/admin/v1/server_version",
                    "/_synapse/admin/v1/media/x/abc",
                ):
                    for source, status in (
                        ("127.0.0.1", 502),
                        ("127.0.0.3", 502),
                        ("127.0.0.2", 403),
                    ):
                        got = nginx.get_status(port, path, source)
                        self.assertEqual(got, status, (name, path, source))
                got = nginx.get_status(port, "/_matrix/client/versions", "127.0.0.2")
                self.assertEqual(got, 502, name)
                self._check_web_client(port)

    def _check_web_client(self, port: int) -> None:
        """nginx serves the built web client itself, with the homeserver's headers."""
        dist = Path(__file__).resolve().parents[2] / "clients" / "web" / "dist"
        script = next(p.name for p in (dist / "assets").glob("index-*.js"))
        status, headers, body = nginx.get(port, "/_jwwx/web/")
        self.assertEqual(status, 200)
        self.assertEqual(body, (dist / "index.html").read_bytes())
        self.assertEqual(headers["cache-control"], "no-cache")
        self.assertIn("script-src 'self'", headers["content-security-policy"])
        self.assertEqual(headers["x-frame-options"], "DENY")
        self.assertTrue(headers["content-type"].startswith("text/html"))
        status, headers, body = nginx.get(
            port, f"/_jwwx/web/assets/{script}", gzip=True
        )
        self.assertEqual(status, 200)
        self.assertEqual(gzip.decompress(body), (dist / "assets" / script).read_bytes())
        self.assertEqual(
            headers["cache-control"], "public, max-age=31536000, immutable"
        )
        self.assertTrue(headers["content-type"].startswith("text/javascript"))
        self.assertEqual(headers["x-content-type-options"], "nosniff")
        self.assertIn("etag", headers)
        for path in ("/_jwwx/web/assets/nothing.js", "/_jwwx/web/index.html"):
            self.assertEqual(nginx.get(port, path)[0], 404, path)

    def test_nginx_serves_tls_with_the_rendered_config(self) -> None:
        """init --tls-cert/--tls-key: nginx terminates TLS 1.2+ on the client and the
        federation port with a certificate of a test CA; a client trusting that CA
        connects, one that does not is refused; TLS 1.1 is refused."""
        ca = make_test_ca(self.root / "ca")
        client_port, federation_port = free_port(), free_port()
        result = self.init(
            "tls",
            "--nginx-listen",
            f"127.0.0.1:{client_port}",
            "--federation-listen",
            f"127.0.0.1:{federation_port}",
            "--federation-allow",
            "other.police.example",
            "--tls-cert",
            str(ca.server_cert),
            "--tls-key",
            str(ca.server_key),
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        refused = self.init("tls-half", "--tls-cert", str(ca.server_cert))
        self.assertEqual(refused.returncode, 2)
        self.assertIn("--tls-cert and --tls-key go together", refused.stderr)
        conf = self.root / "tls" / "nginx" / "jwwx.conf"
        checked = nginx.check(self.root, conf)
        self.assertEqual(checked.returncode, 0, checked.stderr)
        trusting = ssl.create_default_context(cafile=str(ca.ca_cert))
        with nginx.running(self.root, conf, client_port):
            for port in (client_port, federation_port):
                # No Synapse behind it: through TLS, nginx's 502.
                status = nginx.get_status(
                    port, "/_matrix/client/versions", tls=trusting
                )
                self.assertEqual(status, 502, port)
            with self.assertRaises(ssl.SSLCertVerificationError):
                nginx.get_status(client_port, "/", tls=ssl.create_default_context())
            old = ssl.create_default_context(cafile=str(ca.ca_cert))
            old.minimum_version = ssl.TLSVersion.TLSv1
            old.maximum_version = ssl.TLSVersion.TLSv1_1
            with self.assertRaises(ssl.SSLError):
                nginx.get_status(client_port, "/", tls=old)

    def test_systemd_units_run_what_the_supervisor_runs(self) -> None:
        """init renders one unit per process with the supervisor's command line, in
        its start order, restarted on any exit, and a target wanting them all."""
        result = self.init("units", "--workers", "small", "--pg-db", "jwwx")
        self.assertEqual(result.returncode, 0, result.stderr)
        data = self.root / "units"
        config = load_server_config(data)
        expected = {"main": synapse_command(config)}
        groups = {"main": 0}
        for process in worker_processes(config):
            expected[process.name] = process.argv
            groups[process.name] = process.group
        units: dict[str, configparser.ConfigParser] = {}
        for name in expected:
            parser = configparser.ConfigParser(interpolation=None, strict=False)
            parser.optionxform = str  # type: ignore[assignment,method-assign]
            parser.read(data / "systemd" / f"jwwx-{name}.service", encoding="utf-8")
            units[name] = parser
            service = parser["Service"]
            self.assertEqual(service["ExecStart"].split(" "), expected[name], name)
            self.assertEqual(service["Restart"], "always")
            self.assertEqual(parser["Install"]["WantedBy"], "jwwx.target")
        for name, unit in units.items():
            after = set(unit["Unit"]["After"].split())
            earlier = {n for n, g in groups.items() if g < groups[name]}
            self.assertEqual(
                {a for a in after if a.startswith("jwwx-")},
                {f"jwwx-{n}.service" for n in earlier},
                name,
            )
        self.assertIn("check-config", units["main"]["Service"]["ExecStartPre"])
        target = configparser.ConfigParser(interpolation=None)
        target.read(data / "systemd" / "jwwx.target", encoding="utf-8")
        self.assertEqual(
            set(target["Unit"]["Wants"].split()),
            {f"jwwx-{n}.service" for n in expected},
        )

    def test_hung_after_seconds_is_checked(self) -> None:
        """jwwx_supervisor.hung_after_seconds: 60 by default, 0 or >= 5, a number."""
        self.assertEqual(self.init("hung").returncode, 0)
        data = self.root / "hung"
        self.assertEqual(hung_after(load_server_config(data)), 60.0)
        override = data / "conf.d" / "supervisor.yaml"
        for value, ok in (
            (0, True),
            (12.5, True),
            (3, False),
            ("x", False),
            (True, False),
        ):
            override.write_text(
                yaml.safe_dump({"jwwx_supervisor": {"hung_after_seconds": value}})
            )
            config = load_server_config(data)
            if ok:
                self.assertEqual(hung_after(config), float(value))
            else:
                with self.assertRaises(LauncherError):
                    hung_after(config)
        # jwwx_supervisor.start_timeout_seconds: 180 by default, a number > 0.
        override.unlink()
        self.assertEqual(start_timeout(load_server_config(data)), 180.0)
        for value, ok in ((600, True), (0, False), ("x", False), (True, False)):
            override.write_text(
                yaml.safe_dump({"jwwx_supervisor": {"start_timeout_seconds": value}})
            )
            config = load_server_config(data)
            if ok:
                self.assertEqual(start_timeout(config), float(value))
            else:
                with self.assertRaises(LauncherError):
                    start_timeout(config)
