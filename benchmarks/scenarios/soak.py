# SPDX-License-Identifier: AGPL-3.0-or-later
"""soak: a sustained mixed load for --duration seconds: direct messages, group
messages, user searches and logins from every simulated user, all long-polling /sync.
Reports latencies and error counts per operation, delivery checks, and the growth of
the server processes' resident memory (sampled from /proc)."""

import asyncio
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from benchmarks import population, syncer
from benchmarks.aclient import CLIENT, Answer, Http, MatrixUser, login
from benchmarks.delivery import Tracker
from benchmarks.scenario import PASSWORD, Context, Sample
from benchmarks.scenarios.messaging import ROOM_VERSION, Sends, drain, open_dm
from benchmarks.servers import server_rss_mib

RSS_EVERY_S = 5.0
DEFAULT_DURATION_S = 60.0
# Operation mix (weights): what an officer's client mostly does.
MIX = {"dm": 60, "group": 15, "search": 15, "login": 10}


@dataclass(frozen=True)
class SoakSize:
    users: int  # in pairs; the first `group` of them also share one group
    group: int
    rate: float  # operations per second, all users together


SIZES = {"small": SoakSize(40, 20, 10.0), "bureau": SoakSize(200, 100, 30.0)}


@dataclass
class Ops:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    first_error: dict[str, str] = field(default_factory=dict)

    def record(self, op: str, answer: Answer) -> None:
        self.latencies.setdefault(op, []).append(answer.seconds)
        if not answer.ok:
            self.errors[op] = self.errors.get(op, 0) + 1
            self.first_error.setdefault(op, answer.error())


async def _relogin(http: Http, user: MatrixUser, ops: Ops) -> None:
    name = user.user_id[1:].split(":")[0]
    answer, token = await login(http, name, PASSWORD)
    ops.record("login", answer)
    if token:  # log the extra device out again, as a client switching would
        await http.request("POST", f"{CLIENT}/logout", {}, token=token)


async def run(ctx: Context) -> None:
    size = SIZES[ctx.size]
    duration = float(ctx.options.get("duration") or DEFAULT_DURATION_S)
    rng = random.Random(11)
    async with Http(ctx.server.base_url) as http:
        users = await population.users(http, ctx, "soak", size.users)
        pairs = [(users[i], users[i + 1]) for i in range(0, len(users) - 1, 2)]
        dms = await population.bounded_gather([partial(open_dm, *p) for p in pairs])
        group = users[: size.group]
        group_room = await group[0].create_room(
            preset="public_chat", name="压测值班群", room_version=ROOM_VERSION
        )
        await population.bounded_gather(
            [partial(m.join, group_room) for m in group[1:]]
        )
        tracker = Tracker()
        loops = await syncer.start_all(users, tracker.seen)
        sends, group_sends, ops = Sends(tracker), Sends(tracker), Ops()
        seq = {u.user_id: 0 for u in users}
        locks = {u.user_id: asyncio.Lock() for u in users}
        rss: list[float] = [server_rss_mib(ctx.server)]

        def operation() -> Callable[[], Coroutine[Any, Any, None]]:
            kind = rng.choices(list(MIX), weights=list(MIX.values()))[0]
            if kind == "group":
                sender = rng.choice(group)
                kind_sends, room, to = (
                    group_sends,
                    group_room,
                    {m.user_id for m in group},
                )
            else:
                index = rng.randrange(len(pairs))
                a, b = pairs[index] if rng.random() < 0.5 else pairs[index][::-1]
                sender, room, to, kind_sends = (
                    a,
                    dms[index],
                    {a.user_id, b.user_id},
                    sends,
                )
            seq[sender.user_id] += 1
            n = seq[sender.user_id]
            if kind in ("dm", "group"):
                key = f"{sender.user_id}.{n}"

                async def send() -> None:
                    # One message at a time per user, as a client sends.
                    async with locks[sender.user_id]:
                        await kind_sends.send(
                            sender, room, key, n, to - {sender.user_id}
                        )

                return send
            if kind == "search":
                term = rng.choice(("警员", "测试", "soak0", "张"))
                return partial(_search, sender, term, ops)
            return partial(_relogin, http, sender, ops)

        await ctx.settle()
        with ctx.phase() as phase:
            began = time.perf_counter()
            next_rss = began + RSS_EVERY_S
            running: set[asyncio.Task[None]] = set()
            while time.perf_counter() - began < duration:
                task = asyncio.create_task(operation()())
                running.add(task)
                task.add_done_callback(running.discard)
                await asyncio.sleep(rng.expovariate(size.rate))
                if time.perf_counter() >= next_rss:
                    rss.append(server_rss_mib(ctx.server))
                    next_rss += RSS_EVERY_S
            await asyncio.gather(*running)
            await drain(tracker)
            rss.append(server_rss_mib(ctx.server))
        sync_error = syncer.first_sync_error(loops)
        stats = await syncer.stop_all(loops)
    ctx.notes.append(
        f"{size.users} users ({len(pairs)} pairs, a {size.group}-member group), "
        f"{size.rate:g} operations/s for {duration:.0f} s, mix {MIX}; {phase.note()}"
    )
    wall = phase.wall
    ctx.add(
        Sample(
            "dm send",
            sends.latencies,
            wall=wall,
            errors=sends.errors,
            note=sends.first_error[:60],
        )
    )
    ctx.add(
        Sample(
            "group send",
            group_sends.latencies,
            wall=wall,
            errors=group_sends.errors,
            note=group_sends.first_error[:60],
        )
    )
    problems = {
        **tracker.problems(),
        **{k: v for k, v in stats.items() if v and k != "limited timelines"},
    }
    ctx.add(
        Sample(
            "delivery (dm and group)",
            tracker.delivery,
            wall=wall,
            errors=sum(problems.values()),
            note=(
                ", ".join(f"{v} {k}" for k, v in problems.items())
                or "exactly once, in order"
            )
            + (f"; {sync_error[:60]}" if sync_error else ""),
        )
    )
    for op, metric in (("search", "user_directory/search"), ("login", "login")):
        ctx.add(
            Sample(
                metric,
                ops.latencies.get(op, []),
                wall=wall,
                errors=ops.errors.get(op, 0),
                note=ops.first_error.get(op, "")[:60],
            )
        )
    total = (
        sends.errors
        + group_sends.errors
        + sum(ops.errors.values())
        + sum(problems.values())
    )
    ctx.add(
        Sample(
            "errors, all operations",
            value=float(total),
            unit="errors",
            comparable=False,
        )
    )
    ctx.add(
        Sample(
            "server RSS growth",
            value=rss[-1] - rss[0],
            unit="MiB",
            note=f"{rss[0]:.0f} -> {rss[-1]:.0f} MiB (max {max(rss):.0f}), sampled every {RSS_EVERY_S:g} s",
        )
    )


async def _search(user: MatrixUser, term: str, ops: Ops) -> None:
    answer = await user.call(
        "POST", f"{CLIENT}/user_directory/search", {"search_term": term, "limit": 10}
    )
    ops.record("search", answer)
