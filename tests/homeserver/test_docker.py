# SPDX-License-Identifier: AGPL-3.0-or-later
"""docker/: the compose file fits what the launcher renders (the entrypoint's `init`
succeeds with the compose environment; Prometheus scrapes every process's metrics
port), and `docker compose config` (or docker-compose) accepts it where installed.
Docker itself does not run here."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from twisted.trial import unittest

import yaml

from homeserver.config_file import load_server_config
from homeserver.supervisor import worker_processes

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"


class DockerTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="jwwx-docker-"))
        self.compose = yaml.safe_load((DOCKER / "docker-compose.yml").read_text())

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _image_tree(self) -> Path:
        """/app as the Dockerfile lays it out: only what its COPY lines bring (the
        image itself cannot be built here: no Docker engine, no image registry)."""
        app = self.tmp / "app"
        app.mkdir()
        ignored = shutil.ignore_patterns("__pycache__", "node_modules")
        for line in (DOCKER / "Dockerfile").read_text().splitlines():
            words = line.split()
            if not words or words[0] != "COPY":
                continue
            *sources, dest = words[1:]
            if dest.startswith("/"):  # the entrypoint, outside /app
                continue
            for source in sources:
                path = ROOT / source
                self.assertTrue(path.exists(), f"the Dockerfile copies {source}")
                target = app / dest / path.name if dest.endswith("/") else app / dest
                if path.is_dir():
                    shutil.copytree(path, target, ignore=ignored)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target)
        return app

    def _entrypoint_init(self) -> Path:
        """docker/entrypoint.sh init, with the synapse service's environment, in the
        image's /app tree."""
        service = self.compose["services"]["synapse"]
        env = dict(os.environ)
        for key, value in service["environment"].items():
            # Compose's ${VAR:-default} / ${VAR} substitution, with a test password.
            value = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: m.group(2), str(value))
            env[key] = value.replace("${JWWX_DB_PASSWORD}", "pw")
        env["JWWX_DATA"] = str(self.tmp / "data")
        env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
        self.app = self._image_tree()
        result = subprocess.run(
            ["sh", str(DOCKER / "entrypoint.sh"), "init"],
            env=env,
            cwd=self.app,
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        return self.tmp / "data"

    def test_the_image_holds_every_page_the_modules_serve(self) -> None:
        """The folders the web client, the document editor and the form page are
        served from (modules.web_client, modules.docs page.py and form_page.py)."""
        from modules.docs import form_page, page
        from modules.web_client import config as web_config

        app = self._image_tree()
        for folder in (
            web_config.DEFAULT_DIST,
            page.DEFAULT_DIST,
            form_page.DEFAULT_FOLDER,
        ):
            inside = app / folder.relative_to(ROOT)
            self.assertTrue((inside / "index.html").is_file(), f"{inside} in the image")

    def test_compose_fits_the_rendered_deployment(self) -> None:
        services = self.compose["services"]
        self.assertEqual(
            set(services),
            {
                "postgres",
                "redis",
                "synapse",
                "nginx",
                "prometheus",
                "node-exporter",
                "blackbox",
                "grafana",
            },
        )
        build = services["synapse"]["build"]
        self.assertTrue((DOCKER / build["context"] / build["dockerfile"]).is_file())
        for shared in ("nginx", "prometheus", "node-exporter", "blackbox", "grafana"):
            self.assertEqual(services[shared]["network_mode"], "service:synapse")
        data = self._entrypoint_init()
        config = load_server_config(data)
        self.assertEqual(config.raw["database"]["args"]["host"], "postgres")
        self.assertEqual(config.raw["redis"]["host"], "redis")
        self.assertTrue((data / "nginx" / "jwwx.conf").is_file())
        # Prometheus scrapes the main process and every worker, at their ports.
        metrics = {
            "main": next(
                listener["port"]
                for listener in config.raw["listeners"]
                if listener["type"] == "metrics"
            )
        }
        for process in worker_processes(config):
            worker = yaml.safe_load(
                (data / "workers" / f"{process.name}.yaml").read_text()
            )
            ports = [
                listener["port"]
                for listener in worker["worker_listeners"]
                if listener["type"] == "metrics"
            ]
            metrics[process.name] = ports[0]
        prometheus = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
        scraped = {
            target["labels"]["instance"]: int(target["targets"][0].rsplit(":", 1)[1])
            for target in prometheus["scrape_configs"][0]["static_configs"]
        }
        self.assertEqual(scraped, metrics)
        # The rendered files load, with every module's config, from the image's tree
        # alone (the templates and modules it copies are enough).
        checked = subprocess.run(
            [
                sys.executable,
                "-m",
                "homeserver",
                "check-config",
                "--data-dir",
                str(data),
            ],
            cwd=self.app,
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)

    def test_docker_compose_accepts_the_file(self) -> None:
        command = None
        if shutil.which("docker") and (
            subprocess.run(
                ["docker", "compose", "version"], capture_output=True, check=False
            ).returncode
            == 0
        ):
            command = ["docker", "compose"]
        elif shutil.which("docker-compose"):
            command = ["docker-compose"]
        if command is None:
            raise unittest.SkipTest(
                "skipped: neither `docker compose` nor docker-compose is installed"
            )
        result = subprocess.run(
            [*command, "-f", str(DOCKER / "docker-compose.yml"), "config", "-q"],
            env={**os.environ, "JWWX_DB_PASSWORD": "pw"},
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
