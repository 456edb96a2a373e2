# SPDX-License-Identifier: AGPL-3.0-or-later
"""login: password login of accounts that already have their own password, with the
whole population present. Each login is followed by the new token's first request
(whoami), which on ours also runs the first-login check."""

import asyncio
import random
import time
from dataclasses import dataclass
from functools import partial

from benchmarks import accounts_db, population
from benchmarks.aclient import CLIENT, Answer, Http, login
from benchmarks.db_counts import DbCounts
from benchmarks.scenario import PASSWORD, Context, Sample
from benchmarks.servers import TEST_BCRYPT_ROUNDS

WARMUP = 20  # first logins fill caches; not counted


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

    async def one(self, http: Http, name: str, counted: bool) -> None:
        answer, token = await login(http, name, PASSWORD)
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
    async with Http(ctx.server.base_url, user_agent=accounts_db.PHONE) as http:
        with ctx.phase() as phase:
            for i, name in enumerate(picks[: WARMUP + size.logins]):
                await sequential.one(http, name, counted=i >= WARMUP)
            began = time.perf_counter()
            rest = picks[WARMUP + size.logins :]
            await population.bounded_gather(
                [partial(parallel.one, http, n, True) for n in rest], size.clients
            )
            parallel_wall = time.perf_counter() - began
    ctx.notes.append(phase.note())
    if phase.db is not None:
        count_per_login(ctx, phase.db, WARMUP + 2 * size.logins)
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
    ctx.notes.append(
        "transactions per login by name (>= 0.01): "
        + ", ".join(
            f"{d} {n / per:.2f} ({1000 * counts.seconds[d] / max(n, 1):.2f} ms)"
            for d, n in counts.txns.most_common()
            if n / per >= 0.01
        )
    )
