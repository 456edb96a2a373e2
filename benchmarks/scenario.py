# SPDX-License-Identifier: AGPL-3.0-or-later
"""What a `run` scenario is: an async function that gets one running server (ours or
vanilla) and returns named samples. The runner runs it on vanilla, then on ours, and
compares the two."""

import asyncio
import math
import resource
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.db_counts import DbCounts, scrape_all
from benchmarks.profile import RATE as PROFILE_RATE
from benchmarks.profile import Profiler
from benchmarks.profile import summary as profile_summary
from benchmarks.servers import (
    BenchServer,
    server_cpu_by_process,
    server_cpu_seconds,
    server_rss_mib,
)
from benchmarks.stats import Summary

PASSWORD = "Bench-Pass-2026!"
SETTLE_WINDOW_S = 2.0
SETTLE_CORES = 0.5
SETTLE_MAX_S = 180.0


@dataclass
class Sample:
    """One metric on one server: latencies (seconds) and/or a single value."""

    metric: str
    latencies: list[float] = field(default_factory=list)
    wall: float | None = None  # seconds the work took (throughput = n / wall)
    value: float | None = None
    unit: str = ""
    n: int | None = None
    throughput: float | None = None
    errors: int = 0
    note: str = ""
    comparable: bool = True  # a ratio to vanilla makes sense

    def summary(self) -> Summary | None:
        if not self.latencies:
            return None
        return Summary.of(self.latencies, self.wall)

    def rate(self) -> float | None:
        if self.throughput is not None:
            return self.throughput
        s = self.summary()
        return None if s is None or math.isnan(s.throughput) else s.throughput


@dataclass
class Phase:
    """CPU and memory around the measured part of a scenario."""

    wall: float = 0.0
    loadgen_cpu: float = 0.0  # this process (the load generator), user + system
    server_cpu: float = 0.0
    rss_start_mib: float = 0.0
    rss_end_mib: float = 0.0
    db: DbCounts | None = None  # database work, on servers with a metrics listener
    # Server CPU-s by process: Synapse's by name (main, each worker), "postgres" (its
    # database's backends), "other" (launcher, supervisor, nginx, Redis).
    cpu_by_process: dict[str, float] = field(default_factory=dict)

    def by_process(self) -> str:
        """The split of the server's CPU, busiest first ("" if not known)."""
        ranked = sorted(self.cpu_by_process.items(), key=lambda kv: -kv[1])
        return ", ".join(f"{name} {cpu:.1f}" for name, cpu in ranked if cpu >= 0.05)

    def note(self) -> str:
        wall = max(self.wall, 1e-9)
        split = self.by_process()
        return (
            f"measured {self.wall:.1f} s: load generator CPU {self.loadgen_cpu:.1f} s "
            f"({100 * self.loadgen_cpu / wall:.0f}% of one core), server CPU "
            f"{self.server_cpu:.1f} s ({100 * self.server_cpu / wall:.0f}%"
            + (f"; cpu-s by process: {split}" if split else "")
            + f"), server RSS {self.rss_start_mib:.0f} -> {self.rss_end_mib:.0f} MiB"
        )


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Context:
    server: BenchServer
    size: str
    admin_token: str
    options: dict[str, Any] = field(default_factory=dict)
    scenario: str = ""
    samples: list[Sample] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    smtp: Any = None  # the SmtpSink of scenarios with `smtp` (mails accepted so far)
    idle_cpu_per_s: float = 0.0  # server CPU-s per s with everyone idle (`--idle`)
    # Recipients follow MSC4186 sliding sync instead of /sync v2 (Scenario.sliding_sync).
    sliding_sync: bool = False
    background_cpu_per_s: float = 0.0  # the same with nobody online

    @property
    def vanilla(self) -> bool:
        return self.server.vanilla

    @property
    def label(self) -> str:
        return self.server.label

    def db_counts(self) -> DbCounts | None:
        """The database work of all measured phases (None without a metrics listener)."""
        found = [p.db for p in self.phases if p.db is not None]
        if not found:
            return None
        total = DbCounts()
        for counts in found:
            total = total.plus(counts)
        return total

    def add(self, sample: Sample) -> Sample:
        self.samples.append(sample)
        s = sample.summary()
        shown = (
            f"p50 {s.p50:.1f} p99 {s.p99:.1f} ms n={s.n}"
            if s
            else f"{sample.value} {sample.unit}"
        )
        errors = f", {sample.errors} errors" if sample.errors else ""
        print(f"    [{self.server.label}] {sample.metric}: {shown}{errors}", flush=True)
        return sample

    async def settle(self, cores: float = SETTLE_CORES) -> None:
        """Wait (up to SETTLE_MAX_S) until the server's CPU falls below `cores` over
        SETTLE_WINDOW_S: the setup's after-effects (pushes, the audit archive catching up
        on thousands of set-up events, federation-sender queues) finish before the
        measured phase, on both servers alike. Noted with the time it took. A scenario
        whose thousands of idle long-polls alone cost more than SETTLE_CORES passes a
        higher `cores` (their cost added)."""
        began = time.perf_counter()
        busy = 0.0
        under = "" if cores == SETTLE_CORES else f", threshold {100 * cores:.0f}%"
        while time.perf_counter() - began < SETTLE_MAX_S:
            before = server_cpu_seconds(self.server)
            await asyncio.sleep(SETTLE_WINDOW_S)
            busy = (server_cpu_seconds(self.server) - before) / SETTLE_WINDOW_S
            if busy < cores:
                self.notes.append(
                    f"settled {time.perf_counter() - began:.0f} s after the setup "
                    f"(server CPU {100 * busy:.0f}% of one core{under})"
                )
                return
        self.notes.append(
            f"not settled after {SETTLE_MAX_S:.0f} s (server CPU {100 * busy:.0f}% of "
            f"one core{under}): measured anyway"
        )

    async def _cpu_over(self, seconds: float) -> tuple[float, float]:
        """(server CPU-s, wall s) over `seconds` of doing nothing here."""
        before = server_cpu_seconds(self.server)
        began = time.perf_counter()
        await asyncio.sleep(seconds)
        return server_cpu_seconds(self.server) - before, time.perf_counter() - began

    async def background(self) -> None:
        """`--idle S`: the server's CPU over S seconds with nobody online (its own
        loops and ours, in every process): the deployment's fixed cost."""
        seconds = float(self.options.get("idle") or 0)
        if seconds <= 0:
            return
        cpu, wall = await self._cpu_over(seconds)
        self.background_cpu_per_s = cpu / wall
        self.add(
            Sample(
                "server CPU, nobody online",
                value=round(cpu / wall, 4),
                unit="cores",
                note=f"{wall:.0f} s with no client connected: {cpu:.2f} cpu-s",
            )
        )

    async def idle(self, users: int) -> None:
        """`--idle S`: the server's CPU over S seconds with every user long-polling
        and nothing sent (each /sync answers empty after its 30 s timeout and is asked
        again), less the deployment's fixed cost (`background`): the cost of an online
        officer, for the capacity model."""
        seconds = float(self.options.get("idle") or 0)
        if seconds <= 0 or users <= 0:
            return
        cpu, wall = await self._cpu_over(seconds)
        self.idle_cpu_per_s = cpu / wall
        net = max(cpu / wall - self.background_cpu_per_s, 0.0)
        self.add(
            Sample(
                "server CPU per online user, idle",
                value=round(1000 * 60 * net / users, 3),
                unit="cpu-ms/min",
                note=f"{users} users long-polling /sync, nothing sent, {wall:.0f} s: "
                f"{cpu:.2f} cpu-s ({100 * cpu / wall:.0f}% of one core), less "
                f"{100 * self.background_cpu_per_s:.0f}% with nobody online",
            )
        )

    def _scrape(self, ports: list[int]) -> DbCounts | None:
        """Every process's counters summed; None (noted) if one does not answer."""
        if not ports:
            return None
        try:
            return scrape_all(ports)
        except OSError as e:
            self.notes.append(f"metrics not read, database counts left out: {e}")
            return None

    @contextmanager
    def phase(self, profile_rate: int = PROFILE_RATE) -> Iterator[Phase]:
        """`with ctx.phase():` around the measured part (not the setup); a phase of
        a few hundred ms can ask py-spy (`--profile`) for more than 50 samples/s, or
        for none (0: the scenario profiles it itself)."""
        if getattr(self.server, "setting_up", False):
            # Set up on the monolith, never measured there (servers.py, hand_over).
            raise RuntimeError(
                f"{self.scenario}: measured phase before the hand-over to the workers"
            )
        phase = Phase(rss_start_mib=server_rss_mib(self.server))
        folder = self.options.get("profile")
        out = Path(folder or ".") / (
            f"{self.scenario}-{self.server.label}-{len(self.phases)}.txt"
        )
        profiler = (
            Profiler(self.server, out, profile_rate, bool(self.options.get("timeline")))
            if folder and profile_rate > 0
            else nullcontext()
        )
        ports = self.server.metrics_ports
        db_before = self._scrape(ports)
        restarts_before = self.server.restarts()
        wall, own = time.perf_counter(), _own_cpu()
        server = server_cpu_seconds(self.server)
        split = server_cpu_by_process(self.server)
        try:
            with profiler:
                yield phase
        finally:
            phase.wall = time.perf_counter() - wall
            phase.loadgen_cpu = _own_cpu() - own
            phase.server_cpu = server_cpu_seconds(self.server) - server
            phase.cpu_by_process = {
                name: cpu - split.get(name, 0.0)
                for name, cpu in server_cpu_by_process(self.server).items()
            }
            db_after = self._scrape(ports) if db_before is not None else None
            if db_before is not None and db_after is not None:
                phase.db = db_after.minus(db_before)
            restarted = {
                name: count - restarts_before.get(name, 0)
                for name, count in self.server.restarts().items()
                if count > restarts_before.get(name, 0)
            }
            if restarted:
                # Counters start again with a process: the database counts are short.
                self.notes.append(
                    f"restarted by the supervisor during the measured phase: {restarted}"
                )
            phase.rss_end_mib = server_rss_mib(self.server)
            self.phases.append(phase)
            if isinstance(profiler, Profiler):
                if profiler.problem:
                    self.notes.append(f"profile {out}: {profiler.problem}")
                for name, path in profiler.outputs.items():
                    self.notes.append(
                        f"profile {name} {path}: "
                        + profile_summary(path, rate=profile_rate)
                    )


@dataclass
class Outcome:
    """One side (vanilla or ours) of a scenario that starts its own servers
    (`Scenario.own_servers`): its samples and notes, as a Context has them."""

    label: str
    samples: list[Sample] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Scenario:
    name: str
    help: str
    # The scenario on one running server (None: `own_servers` instead).
    run: Callable[[Context], Coroutine[Any, Any, None]] | None
    on_vanilla: bool = True  # False: ours only (no vanilla equivalent)
    why_not_vanilla: str = ""
    # Config of our modules for this scenario's server ({module: {key: value}}).
    module_config: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Synapse settings for both servers of this scenario (conf.d), e.g. presence off.
    settings: dict[str, Any] = field(default_factory=dict)
    metrics: bool = False  # a metrics listener: database work counted (db_counts)
    smtp: bool = False  # a local SMTP server, so that our mailer runs
    # Not vanilla but ours without these modules is the other side of the comparison
    # (same run): what the modules cost, e.g. the search indexer on delivery.
    baseline_without: tuple[str, ...] = ()
    # Recipients long-poll MSC4186 sliding sync, not /sync v2.
    sliding_sync: bool = False
    # The scenario starts its own servers (several domains, a bridge and its peer):
    # called with (engine, vanilla, options) instead of `run` on one server.
    own_servers: Callable[[str, bool, dict[str, Any]], Outcome] | None = None
    # With --workers: the server starts as one process on the deployment's database,
    # the scenario sets its users up there and calls `ctx.server.hand_over()` before
    # its first measured phase (`--setup-on workers`: set up on the workers instead).
    hand_over: bool = False
