# SPDX-License-Identifier: AGPL-3.0-or-later
"""A real Prometheus (Debian's prometheus package) holding a week of known series,
backfilled with `promtool tsdb create-blocks-from openmetrics`, for the inspection
report's test. Skips with a message where the package is not installed."""

import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from twisted.trial import unittest

from tests.harness.server import free_port

STEP = 300  # seconds between backfilled samples
DAYS = 7
OUTAGE = range(1000, 1040)  # persister1 down for these sample indexes (200 minutes)


def _tools() -> tuple[str, str]:
    promtool, prometheus = shutil.which("promtool"), shutil.which("prometheus")
    if promtool is None or prometheus is None:
        raise unittest.SkipTest(
            "skipped: Prometheus is not installed (apt-get install prometheus)"
        )
    return promtool, prometheus


def week_of_series(end: float) -> tuple[str, int]:
    """OpenMetrics text of DAYS days ending at `end`; and how many samples."""
    count = DAYS * 86400 // STEP
    start = int(end) - count * STEP
    families: dict[str, list[str]] = {
        "up": [],
        "node_load5": [],
        "node_cpu_seconds_total": [],
        "node_filesystem_avail_bytes": [],
        "node_filesystem_size_bytes": [],
        "node_network_receive_bytes_total": [],
        "node_network_transmit_bytes_total": [],
        "jwwx_http_errors_total": [],
        "synapse_http_server_responses_total": [],
    }
    for i in range(count):
        t = start + i * STEP
        families["up"] += [
            f'up{{job="synapse",instance="main"}} 1 {t}',
            f'up{{job="synapse",instance="persister1"}} {0 if i in OUTAGE else 1} {t}',
            f'up{{job="node",instance="host"}} 1 {t}',
        ]
        families["node_load5"].append(f'node_load5{{instance="host"}} 1.2 {t}')
        for cpu in ("0", "1"):
            families["node_cpu_seconds_total"].append(
                f'node_cpu_seconds_total{{instance="host",cpu="{cpu}",mode="idle"}} {i * 100} {t}'
            )
        fs = 'instance="host",mountpoint="/srv",fstype="ext4"'
        families["node_filesystem_avail_bytes"].append(
            f"node_filesystem_avail_bytes{{{fs}}} {60e9 - i * 1e7} {t}"
        )
        families["node_filesystem_size_bytes"].append(
            f"node_filesystem_size_bytes{{{fs}}} 100e9 {t}"
        )
        for direction in ("receive", "transmit"):
            families[f"node_network_{direction}_bytes_total"].append(
                f'node_network_{direction}_bytes_total{{instance="host",device="eth0"}} {i * 3e8} {t}'
            )
        families["jwwx_http_errors_total"].append(
            f'jwwx_http_errors_total{{route="/cgi-bin/gettoken",method="GET",errcode="40001"}} {i} {t}'
        )
        families["synapse_http_server_responses_total"].append(
            f'synapse_http_server_responses_total{{code="500",method="GET"}} {i // 10} {t}'
        )
    lines = []
    for name, samples in families.items():
        lines.append(f"# TYPE {name} gauge")
        lines += samples
    lines.append("# EOF")
    return "\n".join(lines) + "\n", count


@contextmanager
def prometheus_with_a_week(root: Path) -> Iterator[str]:
    """Prometheus serving the backfilled week; yields its base URL."""
    promtool, prometheus = _tools()
    text, _ = week_of_series(time.time() - 60)
    source = root / "week.om"
    source.write_text(text)
    data = root / "tsdb"
    built = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0:
        raise AssertionError(built.stderr[-2000:])
    config = root / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1m\n")
    port = free_port()
    process = subprocess.Popen(
        [
            prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=30d",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("Prometheus did not become ready")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
