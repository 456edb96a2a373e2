# SPDX-License-Identifier: AGPL-3.0-or-later
"""The benchmark suite still runs end to end (it is not exercised otherwise): a tiny
dm-latency, the same over MSC4186 sliding sync (dm-sliding) and dm-sample (10-member
sample directory, its mails to a local SMTP server, database counters) against vanilla
Synapse and ours, as `python -m benchmarks run` does it; a tiny group-fanout whose
/sync answers run a running server's transactions (not a fresh server's).
Nothing here asserts a timing; it checks that both servers answered, every message
was delivered exactly once, and the JSON and Markdown outputs are complete."""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from twisted.trial import unittest

REPO = Path(__file__).resolve().parents[2]
PAIRS = 2
MESSAGES_PER_PAIR = 10  # the small size


def run_benchmarks(case: unittest.TestCase, *args: str) -> tuple[Path, dict]:
    """`python -m benchmarks run ARGS --json …` in a fresh folder: (the folder, the
    JSON report); the run must succeed."""
    out = Path(tempfile.mkdtemp(prefix="jwwx-bench-smoke-"))
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "run", *args]
        + ["--json", str(out / "run.json")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    case.assertEqual(result.returncode, 0, result.stdout[-3000:] + result.stderr)
    return out, json.loads((out / "run.json").read_text(encoding="utf-8"))


class BenchmarkSmokeTest(unittest.TestCase):
    def test_dm_latency_on_both_servers(self) -> None:
        out, report = run_benchmarks(
            self,
            "dm-latency",
            "dm-sliding",
            "dm-sample",
            "--members",
            "10",
            "--pairs",
            str(PAIRS),
            "--rate",
            "8",
        )
        rows = {(r["server"], r["metric"], r["scenario"]): r for r in report["rows"]}
        expected = PAIRS * MESSAGES_PER_PAIR
        for server in ("vanilla", "ours"):
            for scenario in ("dm-latency", "dm-sliding"):
                delivery = rows[(server, "delivery (send → recipient /sync)", scenario)]
                self.assertEqual(delivery["summary"]["n"], expected, scenario)
                # Errors would lead the note ("3 errors; …").
                self.assertEqual(
                    delivery["note"],
                    "every message received exactly once, in order",
                    scenario,
                )
            cpu = rows[(server, "server CPU, measured phase", "dm-latency")]
            self.assertGreater(cpu["value"], 0)
            # The capacity model's input (benchmarks/capacity.py).
            per_message = rows[(server, "server CPU per message", "dm-latency")]
            self.assertGreater(per_message["value"], 0)
        for server in ("vanilla", "ours"):
            row = f"{server} dm-sample"
            delivery = rows[(server, "delivery (send → recipient /sync)", "dm-sample")]
            self.assertEqual(delivery["summary"]["n"], expected, row)
            txns = rows[(server, "database transactions per message", "dm-sample")]
            self.assertGreater(txns["value"], 1, row)
            self.assertIn("persist_events", txns["note"], row)
        samples = report["latencies_ms"]["dm-latency"]
        self.assertEqual(
            len(samples["ours"]["delivery (send → recipient /sync)"]), expected
        )
        self.assertIn("| dm-latency |", (out / "run.md").read_text(encoding="utf-8"))

    def test_group_fanout_measures_a_running_servers_sync(self) -> None:
        """group-fanout on both servers, a few members: every /sync answer runs the
        transactions a running server's does. A fresh server's empty device-list
        change cache would add get_device_list_changes_in_rooms to each of them
        (one more transaction per delivery); the scenario makes the device change a
        running server always has, so none is left (counts, not times)."""
        _out, report = run_benchmarks(
            self, "group-fanout", "--members", "6", "--rate", "8"
        )
        for server in ("vanilla", "ours"):
            counts = [
                n
                for n in report["notes"]
                if n.startswith(f"group-fanout [{server}]: transactions per 100")
            ]
            self.assertEqual(len(counts), 1, report["notes"])
            # The /sync answers' own transactions are there (an unread count each).
            self.assertIn("get_unread_event_push_actions_by_room", counts[0])
            self.assertNotIn("get_device_list_changes_in_rooms", counts[0])
