# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the assistant and speech benchmarks share: a homeserver run against a stand-in
engine (`run_against_engine`, the options every such run takes), ours' overhead on top
of an engine whose own time the stand-in records, as rows of the usual table
(benchmarks/report.py), and the CPU of the processes involved (from /proc, as
benchmarks/servers.py reads it)."""

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.report import Report, Row
from benchmarks.servers import _proc_cpu, server_cpu_seconds
from benchmarks.stats import Summary, percentile
from tests.harness.server import TestServer


def engine_arguments(parser: argparse.ArgumentParser, think_ms: float) -> None:
    """The options of every run against a stand-in engine."""
    parser.add_argument("--think-ms", type=float, default=think_ms)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--json", type=Path)


def run_against_engine(
    server: TestServer,
    measure: Callable[[], Report],
    json_path: Path | None,
    *stops: Callable[[], None],
) -> Report:
    """Start the homeserver (the stand-in engine already listening), measure, stop the
    server and then `stops` (the stand-in, temporary folders) whatever happened, and
    print the report (and write it as JSON to `json_path`)."""
    try:
        server.start()
        report = measure()
    finally:
        server.stop()
        for stop in stops:
            stop()
    print()
    print(report.text())
    if json_path:
        report.write_json(json_path)
    return report


def machine() -> dict[str, str]:
    load = os.getloadavg()
    return {
        "nproc": str(os.cpu_count()),
        "load at start": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    }


def end(report: Report) -> None:
    load = os.getloadavg()
    report.machine["load at end"] = f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"


def overhead_rows(
    report: Report,
    scenario: str,
    round_trips: list[float],
    engine: list[float],
    wall: float,
    what: str,
) -> None:
    """Rows for one kind of request: the round trip, the engine's own time and the
    difference (ours' overhead) per request, in seconds, paired by index."""
    overhead = [r - e for r, e in zip(round_trips, engine, strict=True)]
    ratios = [r / e for r, e in zip(round_trips, engine, strict=True) if e > 0]
    report.add(Row(scenario, f"{what}: round trip", Summary.of(round_trips, wall)))
    report.add(Row(scenario, "engine's own time (stand-in)", Summary.of(engine, wall)))
    report.add(
        Row(
            scenario,
            "ours' overhead (round trip − engine)",
            Summary.of(overhead, wall),
            note=(
                f"round trip ÷ engine: p50 {percentile(ratios, 0.5):.2f}x,"
                f" p99 {percentile(ratios, 0.99):.2f}x"
            ),
        )
    )


def cpu_rows(
    report: Report,
    scenario: str,
    server_seconds: float,
    bridge_seconds: float | None,
    requests: int,
    unit: str,
) -> None:
    """Server (and bridge) CPU per request over the measured phase."""
    per = max(requests, 1)
    report.add(
        Row(
            scenario,
            f"homeserver CPU per {unit}",
            value=server_seconds * 1000 / per,
            unit="ms",
            n=requests,
            note="launcher + Synapse (+ its PostgreSQL backends)"
            + (", the bridge left out" if bridge_seconds is not None else ""),
        )
    )
    if bridge_seconds is not None:
        report.add(
            Row(
                scenario,
                f"bridge CPU per {unit}",
                value=bridge_seconds * 1000 / per,
                unit="ms",
                n=requests,
            )
        )


def bridge_pid(server: TestServer, name: str, url: str, timeout: float = 120) -> int:
    """The supervised bridge's pid once it answers its /health."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = json.loads(
                (Path(server.data_dir) / "run" / "supervisor.json").read_text()
            )
            pid = int(status[f"bridge-{name}"]["pid"] or 0)
            with urllib.request.urlopen(url + "/health", timeout=2) as answer:  # noqa: S310 - loopback
                if answer.status == 200 and pid:
                    return pid
        except (OSError, KeyError, ValueError, TypeError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the launcher's {name} bridge did not come up")


class Cpu:
    """CPU seconds of the homeserver (its bridge left out) and of the bridge."""

    def __init__(self, server: TestServer, bridge: int | None = None) -> None:
        self.server = server
        self.bridge = bridge

    def now(self) -> tuple[float, float]:
        bridge = _proc_cpu(self.bridge)[0] if self.bridge else 0.0
        # The bridge runs under the launcher: its CPU is in the tree's.
        return server_cpu_seconds(self.server) - bridge, bridge
