# SPDX-License-Identifier: AGPL-3.0-or-later
"""`init --workers`: what it renders, checked by Synapse's own config parser and nginx
(when installed), and what it refuses. No server runs here; the running deployment is
tests/homeserver/test_workers.py."""

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from twisted.trial import unittest

import yaml

from homeserver.routing import (
    CLIENT_UPSTREAM,
    MEDIA_UPSTREAM,
    ROOM_UPSTREAM,
    STREAMS_UPSTREAM,
    SYNC_UPSTREAM,
    routes,
)
from tests.harness.server import launcher


def _upstream(path: str) -> str:
    """Where nginx sends path: the first matching regex location, else main."""
    for route in routes(federation=True):
        if re.search(route.pattern, path):
            return route.upstream
    return "main"


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
        data = self.root / "bureau"
        shared = ["-c", str(data / "homeserver.yaml"), "-c", str(data / "conf.d")]
        main = HomeServerConfig.load_config("test", shared)
        self.assertIsNone(main.worker.worker_app)
        self.assertFalse(main.media.can_load_media_repo)
        self.assertFalse(main.worker.run_background_tasks)
        self.assertEqual(main.worker.writers.events, ["persister1", "persister2"])
        self.assertEqual(main.worker.writers.typing, ["stream1"])
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
            "/_synapse/admin/v2/users/@u:x": "main",
            "/_matrix/client/v3/keys/upload": "main",
        }
        for path, upstream in expected.items():
            self.assertEqual(_upstream(path), upstream, path)

    def test_nginx_accepts_the_rendered_config(self) -> None:
        nginx = shutil.which("nginx") or (
            "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
        )
        result = self.init(
            "small", "--workers", "small", "--pg-db", "jwwx", "--nginx-listen", "18480"
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        conf = self.root / "small" / "nginx" / "jwwx.conf"
        text = conf.read_text()
        self.assertIn("upstream jwwx_sync", text)
        if nginx is None:
            raise unittest.SkipTest("skipped: nginx is not installed (nginx -t)")
        wrapper = self.root / "nginx.conf"
        wrapper.write_text(
            f"error_log {self.root}/error.log;\npid {self.root}/nginx.pid;\n"
            f"events {{}}\nhttp {{ access_log off; include {conf}; }}\n"
        )
        checked = subprocess.run(
            [nginx, "-t", "-c", str(wrapper), "-p", str(self.root)],
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual(checked.returncode, 0, checked.stderr)
