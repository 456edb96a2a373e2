# SPDX-License-Identifier: AGPL-3.0-or-later
"""login: password login of accounts that already have their own password, with the
whole population present. Each login is followed by the new token's first request
(whoami), which on ours also runs the first-login check."""

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass
from functools import partial
from typing import Any

from benchmarks import accounts_db, population
from benchmarks.aclient import CLIENT, Answer, Http, login
from benchmarks.db_counts import DbCounts, scrape_all
from benchmarks.scenario import PASSWORD, Context, Sample
from benchmarks.servers import TEST_BCRYPT_ROUNDS

WARMUP = 20  # first logins fill caches; not counted
# py-spy's rate here (`--profile`): a 1-client login is ~15 ms of a few busy ms; at
# 50 samples/s a phase gave ~200 busy samples, too few to rank our frames.
PROFILE_RATE = 200
TAIL = 0.03  # `--trace`: the slowest 3 % of the 1-client logins against the rest


@dataclass(frozen=True)
class LoginSize:
    population: int  # accounts present
    logins: int  # distinct accounts logging in, one client after the other
    clients: int  # then the same number of other accounts, this many at once


SIZES = {
    "small": LoginSize(5_000, 200, 10),
    "bureau": LoginSize(55_000, 400, 20),
}


class Logins:
    def __init__(self) -> None:
        self.login: list[float] = []
        self.whoami: list[float] = []
        self.errors = 0
        self.first_error = ""

    def failed(self, answer: Answer) -> None:
        self.errors += 1
        self.first_error = self.first_error or answer.error()

    async def one(
        self, http: Http, name: str, counted: bool, trace: "Trace | None" = None
    ) -> None:
        if trace is not None:
            await trace.before()
        answer, token = await login(http, name, PASSWORD)
        if trace is not None:
            await trace.after(answer.seconds if counted else None)
        if not token:
            self.failed(answer)
            return
        who = await http.request("GET", f"{CLIENT}/account/whoami", token=token)
        if not who.ok:
            self.failed(who)
        if counted:
            self.login.append(answer.seconds)
            self.whoami.append(who.seconds)


async def run(ctx: Context) -> None:
    size = SIZES[ctx.size]
    rounds = int(ctx.options.get("bcrypt_rounds") or TEST_BCRYPT_ROUNDS)
    names = population.localparts("pop", size.population)
    seconds = await asyncio.to_thread(
        accounts_db.add_accounts, ctx.server, names, PASSWORD, rounds, not ctx.vanilla
    )
    ctx.notes.append(
        f"{size.population} accounts present (written in {seconds:.1f} s), bcrypt cost "
        f"{rounds} (production: 12, where the hash dominates a login on both servers)"
    )
    picks = random.Random(7).sample(names, WARMUP + 2 * size.logins)
    sequential, parallel = Logins(), Logins()
    # The phone the accounts' earlier logins came from: a known device and network, so
    # ours sends no new-login notice (that path is not what this scenario measures).
    await ctx.settle()
    ports = ctx.server.metrics_ports
    trace = Trace(ports) if ctx.options.get("trace") and ports else None
    async with Http(ctx.server.base_url, user_agent=accounts_db.PHONE) as http:
        with ctx.phase(profile_rate=PROFILE_RATE) as phase:
            for i, name in enumerate(picks[: WARMUP + size.logins]):
                await sequential.one(http, name, counted=i >= WARMUP, trace=trace)
            began = time.perf_counter()
            rest = picks[WARMUP + size.logins :]
            await population.bounded_gather(
                [partial(parallel.one, http, n, True) for n in rest], size.clients
            )
            parallel_wall = time.perf_counter() - began
    ctx.notes.append(phase.note())
    logins = WARMUP + 2 * size.logins
    cpu_per_login(ctx, phase.server_cpu, phase.cpu_by_process, logins)
    if phase.db is not None:
        count_per_login(ctx, phase.db, logins)
    if trace is not None:
        ctx.notes.extend(trace.report())
    for label, logins, wall in (
        ("1 client", sequential, None),
        (f"{size.clients} clients", parallel, parallel_wall),
    ):
        ctx.add(
            Sample(
                f"login ({label})",
                logins.login,
                wall=wall,
                errors=logins.errors,
                note=logins.first_error[:80],
            )
        )
        ctx.add(Sample(f"first request, whoami ({label})", logins.whoami, wall=wall))


def cpu_per_login(
    ctx: Context, cpu: float, by_process: dict[str, float], logins: int
) -> None:
    """Server CPU per login (with its whoami), all and Synapse's main process apart
    from PostgreSQL's backends: load-independent but for contention."""
    per = max(logins, 1)
    ctx.add(
        Sample(
            "server CPU per login",
            value=round(1000 * cpu / per, 2),
            unit="cpu-ms",
            note=", ".join(
                f"{name} {1000 * seconds / per:.2f}"
                for name, seconds in sorted(by_process.items(), key=lambda kv: -kv[1])
                if seconds >= 0.005
            ),
        )
    )


class Trace:
    """`--trace`: the server's counters read before and after each 1-client login, so
    that what the slowest logins had running beside them (collections, long reactor
    turns, transactions of other work) can be told from what the others had. The reads
    themselves sit between logins: these latencies are not the plain run's."""

    def __init__(self, ports: list[int]) -> None:
        self._ports = ports
        self._before: DbCounts | None = None
        self.logins: list[tuple[float, DbCounts]] = []

    async def before(self) -> None:
        self._before = await asyncio.to_thread(scrape_all, self._ports)

    async def after(self, seconds: float | None) -> None:
        after = await asyncio.to_thread(scrape_all, self._ports)
        if seconds is not None and self._before is not None:
            self.logins.append((seconds, after.minus(self._before)))

    def report(self) -> list[str]:
        if len(self.logins) < 10:
            return []
        ranked = sorted(self.logins, key=lambda item: -item[0])
        cut = max(1, round(TAIL * len(ranked)))
        slow, rest = ranked[:cut], ranked[cut:]

        def mean(group: list[tuple[float, DbCounts]], value: Any) -> float:
            return sum(value(c) for _, c in group) / len(group)

        def line(label: str, group: list[tuple[float, DbCounts]]) -> str:
            names: Counter[str] = Counter()
            for _, c in group:
                names.update(c.txns)
            # Per login, and per second of login (a slow login spans more of every
            # periodic job: a job that causes the tail is denser per second there).
            seconds = max(sum(s for s, _ in group), 1e-9)
            txns = ", ".join(
                f"{d} {n / len(group):.2f} ({n / seconds:.1f}/s)"
                for d, n in names.most_common()
                if n / len(group) >= 0.05
            )
            return (
                f"trace, {label} ({len(group)} logins, "
                f"{1000 * sum(s for s, _ in group) / len(group):.1f} ms mean): "
                f"GC collections {mean(group, lambda c: sum(c.gcs.values())):.2f} "
                f"({mean(group, lambda c: sum(c.gc_seconds.values())) * 1000:.2f} ms), "
                f"reactor turns over 5 / 10 / 25 ms "
                f"{mean(group, lambda c: c.slow_turns(0.005)):.2f} / "
                f"{mean(group, lambda c: c.slow_turns(0.01)):.2f} / "
                f"{mean(group, lambda c: c.slow_turns(0.025)):.2f}, "
                f"connection held {1000 * mean(group, lambda c: sum(c.seconds.values())):.1f} ms; "
                f"transactions: {txns}"
            )

        return [line(f"slowest {100 * TAIL:.0f} %", slow), line("the rest", rest)]


def count_per_login(ctx: Context, counts: DbCounts, logins: int) -> None:
    """Database work per login and first request (load-independent but for the
    seconds): transactions, SQL statements, and the time they held a connection, in
    all and for the transaction of ours that holds it longest (issue 17, item 4)."""
    per = max(logins, 1)
    statements = int(sum(counts.verbs.values()))
    ctx.add(
        Sample(
            "database transactions per login",
            value=round(counts.total_txns() / per, 2),
            unit="txn",
            note=f"{counts.total_txns()} over {logins} logins (with whoami)",
        )
    )
    ctx.add(
        Sample(
            "SQL statements per login",
            value=round(statements / per, 2),
            unit="stmt",
            note=", ".join(f"{v} {n / per:.2f}" for v, n in counts.verbs.most_common()),
        )
    )
    ctx.add(
        Sample(
            "connection held per login (all transactions)",
            value=round(1000 * sum(counts.seconds.values()) / per, 2),
            unit="ms",
            note="longest held: " + counts.top(),
        )
    )
    ctx.add(
        Sample(
            "GC collections per login",
            value=round(sum(counts.gcs.values()) / per, 3),
            unit="coll",
            note=f"{counts.gc_text()}; reactor turns over 5 / 10 / 25 ms per 100 logins: "
            + " / ".join(
                f"{100 * counts.slow_turns(b) / per:.1f}" for b in (0.005, 0.01, 0.025)
            ),
        )
    )
    ctx.notes.append(
        "transactions per login by name (>= 0.01): "
        + ", ".join(
            f"{d} {n / per:.2f} ({1000 * counts.seconds[d] / max(n, 1):.2f} ms)"
            for d, n in counts.txns.most_common()
            if n / per >= 0.01
        )
    )
