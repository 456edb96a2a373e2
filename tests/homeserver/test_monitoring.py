# SPDX-License-Identifier: AGPL-3.0-or-later
"""The monitoring files in docker/: the alert rules pass promtool's check and its unit
tests (docker/alerts_test.yml: each alert fires on the series that should raise it and
not on a healthy neighbour), prometheus.yml loads them, and every query of the Grafana
dashboard parses (as a recording rule) and names only metrics that exist. promtool is
Debian's prometheus package (the Makefile installs it as root; elsewhere these skip
with a message)."""

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from twisted.trial import unittest

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
DASHBOARD = DOCKER / "grafana" / "dashboards" / "jwwx.json"
# Metric families the queries may use besides ours (jwwx_*): Synapse's, the process
# collector's, node_exporter's and blackbox_exporter's, and Prometheus's own `up`.
FOREIGN_PREFIXES = ("synapse_", "process_", "node_", "probe_", "up")


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        raise unittest.SkipTest(
            "skipped: promtool is not installed (apt-get install prometheus)"
        )
    return found


def _run(*args: str, cwd: Path = DOCKER) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [_promtool(), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def _our_metric_families() -> set[str]:
    """Every jwwx_ metric our code defines (prometheus_client constructors)."""
    names = set()
    for path in (ROOT / "modules").rglob("*.py"):
        names |= set(re.findall(r'"(jwwx_[a-z_]+)"', path.read_text(encoding="utf-8")))
    return names


def _queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]


def _alert_queries() -> list[str]:
    rules = yaml.safe_load((DOCKER / "alerts.yml").read_text(encoding="utf-8"))
    return [r["expr"] for g in rules["groups"] for r in g["rules"]]


class MonitoringTest(unittest.TestCase):
    def test_alert_rules_pass_promtool_and_their_unit_tests(self) -> None:
        checked = _run("check", "rules", "alerts.yml")
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)
        tested = _run("test", "rules", "alerts_test.yml")
        self.assertEqual(tested.returncode, 0, tested.stdout + tested.stderr)
        config = _run("check", "config", "prometheus.yml")
        self.assertEqual(config.returncode, 0, config.stdout + config.stderr)
        # Every alert named in the issue is there and has a unit test.
        names = {
            r["alert"]
            for g in yaml.safe_load((DOCKER / "alerts.yml").read_text())["groups"]
            for r in g["rules"]
        }
        tested_names = set(
            re.findall(r"alertname: (\w+)", (DOCKER / "alerts_test.yml").read_text())
        )
        self.assertEqual(names, tested_names)

    def test_dashboard_queries_parse_and_name_real_metrics(self) -> None:
        queries = _queries()
        self.assertGreaterEqual(len(queries), 10)
        rules = {
            "groups": [
                {
                    "name": "dashboard",
                    "rules": [
                        {"record": f"jwwx:dashboard_{i}", "expr": q}
                        for i, q in enumerate(queries)
                    ],
                }
            ]
        }
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "dashboard_rules.yml"
            path.write_text(yaml.safe_dump(rules, allow_unicode=True))
            checked = _run("check", "rules", str(path))
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)
        ours = _our_metric_families()
        for query in [*queries, *_alert_queries()]:
            for name in re.findall(r"\b(jwwx_[a-z_]+)", query):
                family = re.sub(r"_(total|bucket|count|sum)$", "", name)
                self.assertIn(family, ours, query)
            stripped = re.sub(r'\{[^}]*\}|"[^"]*"|\[[^]]*\]', "", query)
            for name in re.findall(r"\b([a-z_]+)\b(?=\s*[{\[)/*<>=!-]|\s*$)", stripped):
                if "_" in name and not name.startswith("jwwx_"):
                    self.assertTrue(name.startswith(FOREIGN_PREFIXES), (name, query))
