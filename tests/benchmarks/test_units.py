# SPDX-License-Identifier: AGPL-3.0-or-later
"""Pieces of the benchmark suite that need no server: the list of our tuned Synapse
settings (`--vanilla-defaults`), the parsing of Synapse's database counters, and the
table of a scenario that starts its own servers (cross-domain). The cross-domain run
itself is not in the smoke test: even its tiniest form starts five servers (two
domains on each side, the bridge's) and took 2 min at load 12-15."""

import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from twisted.trial import unittest

import yaml

from benchmarks.capacity import costs
from benchmarks.db_counts import DbCounts, bucket_quantile, parse, parse_histogram
from benchmarks.profile import output_for, summary
from benchmarks.report import Report
from benchmarks.runner import compare, round_medians, setup_on_monolith
from benchmarks.scenario import Context, Outcome, Sample
from benchmarks.scenarios import SCENARIOS
from benchmarks.scenarios.cross_domain import rate_sample, requirement
from benchmarks.scenarios.pubaccount import CARD, Watch
from benchmarks.scenarios.search_cost import lag_sample
from benchmarks.servers import SYNAPSE_DEFAULTS, BenchServer, synapse_name
from benchmarks.timeline import summary as timeline_summary
from homeserver.config_file import load_server_config
from homeserver.supervisor import has_workers
from tests.harness.server import init_in_process, launcher

METRICS = """\
# HELP synapse_storage_transaction_time_count_total sec
synapse_storage_transaction_time_count_total{desc="persist_events",server_name="a"} 40.0
synapse_storage_transaction_time_count_created{desc="persist_events",server_name="a"} 1.7e9
synapse_storage_transaction_time_sum_total{desc="persist_events",server_name="a"} 0.5
synapse_storage_transaction_time_count_total{desc="jwwx_search_index",server_name="a"} 8.0
synapse_storage_query_time_count{server_name="a",verb="INSERT"} 90.0
synapse_storage_query_time_count{server_name="a",verb="SELECT"} 300.0
synapse_storage_query_time_count{server_name="a",verb="UPDATE"} 10.0
python_gc_time_count{gen="2"} 3.0
python_gc_time_sum{gen="2"} 0.75
"""


class TunedSettingsTest(unittest.TestCase):
    def test_every_tuned_key_is_in_the_rendered_config(self) -> None:
        data = Path(tempfile.mkdtemp(prefix="jwwx-test-bench-units-"))
        self.addCleanup(shutil.rmtree, data, True)
        launcher("init", "--data-dir", str(data / "d"))
        rendered = yaml.safe_load((data / "d" / "homeserver.yaml").read_text())
        for key in SYNAPSE_DEFAULTS:
            self.assertIn(key, rendered)


class SynapseProcessesTest(unittest.TestCase):
    def test_processes_named_from_their_command_line(self) -> None:
        """Per-process CPU and --profile find Synapse's main process (as the launcher
        starts it, or as the supervisor does) and each worker by its config's name."""
        sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
        cases = {
            "main": ["-m", "homeserver.synapse_main", "/d", "-c", "/d/homeserver.yaml"],
            "sync3": [
                *("-m", "synapse.app.generic_worker", "-c", "/d/homeserver.yaml"),
                *("-c", "/d/conf.d", "-c", "/d/workers/sync3.yaml"),
            ],
            "": ["-m", "homeserver", "run", "--data-dir", "/d"],
        }
        for expected, args in cases.items():
            process = subprocess.Popen([*sleeper, *args])
            try:
                # The kernel lets the parent go on a moment before the new command
                # line is readable.
                for _ in range(200):
                    if Path(f"/proc/{process.pid}/cmdline").read_bytes():
                        break
                    time.sleep(0.05)
                self.assertEqual(synapse_name(process.pid) or "", expected, args)
            finally:
                process.kill()
                process.wait()
        out = Path("/tmp/p/pubaccount-ours-1.txt")
        self.assertEqual(output_for(out, "main"), out)
        self.assertEqual(output_for(out, "sync2").name, "pubaccount-ours-1.sync2.txt")


class DbCountsTest(unittest.TestCase):
    def test_counts_transactions_seconds_and_writes(self) -> None:
        counts = parse(METRICS)
        self.assertEqual(counts.txns["persist_events"], 40)
        self.assertEqual(counts.total_txns(), 48)
        self.assertEqual(counts.seconds["persist_events"], 0.5)
        self.assertEqual(counts.writes(), 100)
        self.assertEqual(counts.gc_text(), "gen 2: 3 / 0.75 s")
        later = counts.plus(parse(METRICS))
        self.assertEqual(later.minus(counts).total_txns(), 48)
        self.assertEqual(DbCounts().minus(counts).total_txns(), 0)


class ProfileSummaryTest(unittest.TestCase):
    def test_database_waits_are_set_apart(self) -> None:
        """A database thread inside a statement is waiting, not busy: left out of the
        shares (and counted apart), as idle frames are."""
        stacks = (
            "run (t.py:1);Store.count_txn (s.py:2);LoggingTransaction._do_execute (d.py:3) 70\n"
            "run (t.py:1);Store.count_txn (s.py:2);LoggingDatabaseConnection.commit (d.py:4) 10\n"
            "run (t.py:1);SyncHandler.sync (h.py:5);encode (j.py:6) 15\n"
            "run (t.py:1);Store.count_txn (s.py:2);parse (s.py:7) 5\n"
            "run (t.py:1);Condition.wait (threading.py:8) 50\n"
        )
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "p.txt"
            path.write_text(stacks, encoding="utf-8")
            text = summary(path)
        self.assertIn("20 busy samples", text)
        self.assertIn("80 of database threads waiting", text)
        self.assertIn("SyncHandler.sync 75%", text)
        self.assertIn("Store.count_txn 25%", text)


def _trace(tid: int, root: str, spans: list[tuple[int, list[str]]]) -> list[dict]:
    """py-spy's chrometrace events for one thread: its stack (`function@file` from
    the root) from each time on."""
    events: list[dict] = []
    stack: list[str] = []
    for ts, frames in spans:
        keep = 0
        while keep < min(len(stack), len(frames)) and stack[keep] == frames[keep]:
            keep += 1
        for name in reversed(stack[keep:]):
            events.append(
                {"ph": "E", "name": name.partition("@")[0], "tid": tid, "ts": ts}
            )
        for name in frames[keep:]:
            function, _, filename = name.partition("@")
            events.append(
                {
                    "ph": "B",
                    "name": function,
                    "tid": tid,
                    "ts": ts,
                    "args": {"filename": filename},
                }
            )
        stack = frames
    return [{"ph": "B", "name": root, "tid": tid, "ts": 0}, *events]


class TimelineTest(unittest.TestCase):
    def test_long_turns_with_what_other_threads_ran(self) -> None:
        """A reactor turn is the time between two epoll waits (Synapse's CallWrapper);
        one of 40 ms is listed with its frames and the database thread's meanwhile, a
        10-ms one is not, nor the start-up before the reactor runs."""
        loop = ["run", "EPollReactor.mainLoop"]
        wait = [*loop, "EPollReactor.doPoll", "CallWrapper.__call__"]
        page = [*loop, "runUntilCurrent", "PublicAccountsClientResource.page"]
        gc = [*loop, "runUntilCurrent", "install_gc_manager.<locals>._maybe_gc"]
        main = _trace(
            1,
            "thread (1)",
            [
                (0, ["run", "import_module"]),  # 60 ms of start-up: no turn
                (60_000, wait),
                (100_000, page),
                (110_000, wait),  # a 10-ms turn
                (200_000, gc),
                (240_000, wait),  # a 40-ms turn
                (300_000, wait),
            ],
        )
        idle = ["run", "ThreadWorker.work", "Queue.get"]
        seal = [
            "run",
            "ThreadWorker.work",
            "Archiver._step.read_txn@modules/audit/archiver.py",
            "sm4_seal@/x/modules/common/gm.py",
            "HMAC.finalize@cryptography/hazmat/primitives/hmac.py",
        ]
        db = _trace(2, "thread (2): db", [(0, idle), (210_000, seal), (230_000, idle)])
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "t.json"
            path.write_text(json.dumps(main + db), encoding="utf-8")
            text = timeline_summary(path, over_ms=25)
        lines = text.splitlines()
        self.assertEqual(lines[0], "1 reactor turns >= 25 ms (>= 50 ms: 0)", text)
        self.assertIn("40 ms: main install_gc_manager.<locals>._maybe_gc 40", lines[1])
        # the innermost frame of ours names the other thread's work
        self.assertIn("other threads sm4_seal 20", lines[1])


class CapacityModelTest(unittest.TestCase):
    """benchmarks/capacity.py solves per message and per recipient from dm-latency
    (1 recipient) and group-fanout (members - 1) of one deployment."""

    def _measured(self, dm: float, group: float, members: int) -> dict[str, object]:
        def row(scenario: str, metric: str, value: float) -> dict[str, object]:
            return {
                "scenario": scenario,
                "metric": metric,
                "server": "workers-small",
                "value": value,
            }

        return {
            "params": {},
            "rows": [
                row("dm-latency", "server CPU per message", dm),
                row("group-fanout", "server CPU per message", group),
                row("dm-latency", "server CPU per online user, idle", 90.0),
                row("group-fanout", "server CPU per online user, idle", 30.0),
                row("dm-latency", "server CPU, nobody online", 0.2),
                row("group-fanout", "server CPU, nobody online", 0.4),
                {
                    "scenario": "dm-latency",
                    "metric": "server CPU per message",
                    "server": "monolith",
                    "value": 1.0,
                },
            ],
            "notes": [
                f"group-fanout [workers-small]: {members} members, 20 messages from 5"
                " senders, one every 0.5 s; measured 12.0 s"
            ],
        }

    def test_two_measurements_two_unknowns(self) -> None:
        # 1 recipient: 12 ms; 99 recipients: 12 + 98 x 0.5 = 61 ms.
        c = costs(self._measured(12.0, 61.0, 100), "workers-small")
        self.assertAlmostEqual(c.per_recipient_s, 0.0005)
        self.assertAlmostEqual(c.per_message_s, 0.0115)
        self.assertAlmostEqual(c.idle_s, 0.001)  # mean: 60 cpu-ms a minute
        self.assertAlmostEqual(c.fixed_cores, 0.3)
        self.assertEqual(c.recipients_measured, (1, 99))
        # 1,000 online, 10 messages/s of 10 recipients:
        # 0.3 + 1 + 10 x (0.0115 + 0.005).
        self.assertAlmostEqual(c.cores(1000, 10.0, 10.0), 1.465)

    def test_a_run_without_both_scenarios_is_refused(self) -> None:
        data = self._measured(12.0, 61.0, 100)
        with self.assertRaisesRegex(ValueError, "dm-latency and group-fanout"):
            costs(data, "monolith")


class LagHistogramTest(unittest.TestCase):
    TEXT = "\n".join(
        [
            "# TYPE jwwx_search_index_stream_lag_seconds histogram",
            'jwwx_search_index_stream_lag_seconds_bucket{le="0.5"} 90.0',
            'jwwx_search_index_stream_lag_seconds_bucket{le="1.0"} 98.0',
            'jwwx_search_index_stream_lag_seconds_bucket{le="2.0"} 100.0',
            'jwwx_search_index_stream_lag_seconds_bucket{le="+Inf"} 100.0',
            "jwwx_search_index_stream_lag_seconds_count 100.0",
            'jwwx_search_index_lag_seconds_bucket{le="0.5"} 1.0',
        ]
    )

    def test_percentiles_are_bucket_bounds_of_the_run(self) -> None:
        after = parse_histogram(self.TEXT, "jwwx_search_index_stream_lag_seconds")
        self.assertEqual(after, {0.5: 90.0, 1.0: 98.0, 2.0: 100.0, math.inf: 100.0})
        self.assertEqual(bucket_quantile(after, 0.5), 0.5)
        self.assertEqual(bucket_quantile(after, 0.95), 1.0)
        self.assertEqual(bucket_quantile(after, 0.99), 2.0)
        # Only what the run added: 10 observations, 8 of them between 0.5 and 1 s.
        before = {0.5: 90.0, 1.0: 90.0, 2.0: 90.0, math.inf: 90.0}
        sample = lag_sample(before, after)
        assert sample is not None
        self.assertEqual((sample.n, sample.value), (10, 2.0))
        self.assertIsNone(lag_sample(after, after))


class OwnServersTest(unittest.TestCase):
    """cross-domain's sides are Outcomes: compared like Contexts, bridge rows ours only,
    the requirement checked on the slowest file of every link."""

    def test_outcomes_compared_and_requirement_checked(self) -> None:
        scenario = SCENARIOS["cross-domain"]
        self.assertIsNotNone(scenario.own_servers)
        latency = "federation: message a → b (send → peer's /sync)"
        kib = 1024.0
        vanilla = Outcome(
            "vanilla",
            [
                Sample(latency, latencies=[0.2, 0.3]),
                rate_sample("file", [4000 * kib, 2000 * kib], "x"),
            ],
            [requirement({"federation b → a": [4000 * kib, 2000 * kib]})],
        )
        ours = Outcome(
            "ours",
            [
                Sample(latency, latencies=[0.4, 0.6]),
                rate_sample("file", [1000 * kib, 3000 * kib], "x"),
                rate_sample("bridge: file", [90 * kib, 500 * kib], "y"),
            ],
            [
                requirement(
                    {"federation": [1000 * kib], "bridge": [90 * kib, 500 * kib]}
                )
            ],
        )
        report = Report("run", params={})
        compare(scenario, "", vanilla, ours, report)
        rows = {(r.server, r.metric): r for r in report.rows}
        self.assertAlmostEqual(rows[("ours", latency)].ratio or 0, 2.0, places=3)
        # Median of the files, ratio of the medians.
        self.assertEqual(rows[("vanilla", "file")].value, 3000.0)
        self.assertAlmostEqual(rows[("ours", "file")].ratio or 0, 2000 / 3000, places=3)
        self.assertIn("each file: 1000, 3000 KB/s", rows[("ours", "file")].note)
        self.assertEqual(rows[("ours", "bridge: file")].ratio_text, "ours only")
        self.assertIn(
            "cross-domain [vanilla]: ≥ 100 KB/s on every link: met (lowest file: "
            "2000 KB/s, federation b → a)",
            report.notes,
        )
        self.assertIn(
            "cross-domain [ours]: ≥ 100 KB/s on every link: NOT met (lowest file: "
            "90 KB/s, bridge)",
            report.notes,
        )


class RoundsTest(unittest.TestCase):
    """--rounds N: the median of each round's ratio (a latency's p50 / p99, a value)."""

    def test_median_over_rounds(self) -> None:
        def side(label: str, ms: float, cpu: float) -> Outcome:
            return Outcome(
                label,
                [
                    Sample("login", latencies=[ms / 1000] * 9 + [2 * ms / 1000]),
                    Sample("server CPU", value=cpu, unit="cpu-s"),
                    Sample("ours alone", value=1.0, comparable=False),
                ],
            )

        pairs = [
            (side("vanilla", 10, 1.0), side("ours", 12, 1.5)),
            (side("vanilla", 10, 1.0), side("ours", 30, 1.1)),
            (side("vanilla", 20, 2.0), side("ours", 21, 2.0)),
        ]
        notes = round_medians("login", pairs)
        self.assertEqual(len(notes), 2, notes)
        self.assertIn("login: login: median over 3 rounds 1.20x / 1.20x", notes[0])
        self.assertIn("1.20, 3.00, 1.05", notes[0])
        self.assertIn("server CPU: median over 3 rounds 1.10x (", notes[1])
        self.assertEqual(round_medians("login", pairs[:1]), [])


class PubaccountWatchTest(unittest.TestCase):
    """What the pubaccount scenario counts per officer: the card of the article and the
    redaction of that copy once each; a second, distinct event (the server sent two)
    and the same event in two /sync answers (delivered twice) counted apart."""

    def test_duplicates_and_repeats_counted_apart(self) -> None:
        watch = Watch()
        watch.article_id = 7
        card = {"event_id": "$c", "content": {CARD: {"articles": [{"id": 7}]}}}
        edit = {
            "event_id": "$e",
            "content": {CARD: {"articles": [{"id": 7}]}, "m.relates_to": {}},
        }

        def redaction(event_id: str, target: str = "$c") -> dict[str, object]:
            return {"event_id": event_id, "type": "m.room.redaction", "redacts": target}

        watch.seen("@a", "!r", card, 1.0)
        watch.seen("@a", "!r", edit, 1.5)  # an edit is not a second card
        watch.seen("@a", "!r", card, 2.0)  # one card, two answers
        watch.seen("@a", "!r", {**card, "event_id": "$c2"}, 3.0)
        self.assertEqual(watch.cards["@a"], ("$c", 1.0))
        self.assertEqual((watch.duplicate_cards, watch.repeated_cards), (1, 1))
        watch.seen("@a", "!r", redaction("$x", "$other"), 4.0)  # not its copy
        self.assertNotIn("@a", watch.redacted)
        watch.seen("@a", "!r", redaction("$r1"), 5.0)
        watch.seen("@a", "!r", redaction("$r1"), 6.0)
        watch.seen("@a", "!r", redaction("$r2"), 7.0)
        watch.seen("@a", "!r", redaction("$r2"), 8.0)
        self.assertEqual(watch.redacted["@a"], 5.0)
        self.assertEqual(
            (watch.duplicate_redactions, watch.repeated_redactions), (1, 2)
        )
        self.assertIn("1 duplicate redactions", watch.duplicates_note("redactions"))
        self.assertIn("2 repeated", watch.duplicates_note("redactions"))


class HandOverTest(unittest.TestCase):
    """`--workers` with pubaccount: the officers are set up on one process, then the
    same data directory and database restart as the worker deployment (starting that
    in CI would take minutes: the render and the decisions are checked here, a run at
    100 officers end to end is in benchmarks/RESULTS.md, session 15)."""

    def test_who_sets_up_on_the_monolith(self) -> None:
        pub, dm = SCENARIOS["pubaccount"], SCENARIOS["dm-latency"]
        self.assertTrue(setup_on_monolith(pub, "bureau", {}))
        self.assertTrue(setup_on_monolith(pub, "small", {"setup_on": "monolith"}))
        self.assertFalse(setup_on_monolith(pub, "bureau", {"setup_on": "workers"}))
        self.assertFalse(setup_on_monolith(pub, "monolith", {}))
        self.assertFalse(setup_on_monolith(pub, None, {}))
        # A scenario that never hands over would be measured on the monolith.
        self.assertFalse(setup_on_monolith(dm, "bureau", {}))

    def test_monolith_rendered_then_the_workers_on_the_same_database(self) -> None:
        server = BenchServer(
            "postgres", deployment="bureau", metrics=True, setup_on_monolith=True
        )
        self.addCleanup(shutil.rmtree, server.data_dir, True)
        self.assertIsNone(server.running_workers)
        self.assertEqual(server.label, "workers-bureau")
        self.assertNotIn("--workers", server.init_args)
        assert server.metrics_port is not None
        self.assertEqual(server.metrics_ports, [server.metrics_port])
        # As TestServer.start renders it (no database is needed to render).
        pg = ("--pg-db", "bench_handover", "--pg-host", "127.0.0.1")
        pg += ("--pg-port", "5432", "--pg-user", "postgres")
        init_in_process(
            "init", "--data-dir", str(server.data_dir), "--server-name",
            server.server_name, "--port", str(server.port), *server.init_args, *pg,
        )  # fmt: skip
        keys = {f.name: f.read_bytes() for f in (server.data_dir / "keys").iterdir()}
        self.assertTrue(keys)
        config = load_server_config(server.data_dir)
        self.assertFalse(has_workers(config))
        nginx = server.data_dir / "nginx" / "jwwx.conf"
        self.assertNotIn("upstream jwwx_sync", nginx.read_text(encoding="utf-8"))
        # No measured phase while the users are set up on the monolith.
        ctx = Context(server, "small", "token", {}, "pubaccount")
        with self.assertRaises(RuntimeError), ctx.phase():
            pass
        self.assertEqual(ctx.phases, [])

        server.render_workers()
        server.setting_up = False  # as hand_over does before it starts them
        config = load_server_config(server.data_dir)
        self.assertTrue(has_workers(config))
        self.assertEqual(config.raw["database"]["args"]["dbname"], "bench_handover")
        self.assertTrue(config.raw["redis"]["enabled"])
        after = {f.name: f.read_bytes() for f in (server.data_dir / "keys").iterdir()}
        self.assertEqual(after, keys)  # signing key and secrets: tokens stay valid
        self.assertEqual(server.running_workers, "bureau")
        self.assertEqual(len(server.metrics_ports), 12)
        self.assertEqual(server.metrics_ports[0], server.metrics_port)
        self.assertIn("upstream jwwx_sync", nginx.read_text(encoding="utf-8"))
