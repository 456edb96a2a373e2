# SPDX-License-Identifier: AGPL-3.0-or-later
"""dm-latency: N pairs of logged-in users, each user long-polling /sync, exchanging
texts in their direct rooms at a steady total rate. Measures send latency (request →
200) and delivery latency (send → the recipient's /sync answer containing it), and
checks that every message arrives exactly once, in order."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from benchmarks import population, syncer
from benchmarks.aclient import Http, MatrixUser
from benchmarks.scenario import Context
from benchmarks.scenarios.messaging import (
    Sends,
    add_samples,
    count_per_message,
    drain,
    listening,
    open_dm,
    sleep_until,
)


@dataclass(frozen=True)
class DmSize:
    pairs: int
    messages_per_pair: int  # alternating between the two users
    rate: float  # messages per second, all pairs together


# Each pair sends one message every 5 s (small) / 10 s (bureau): people chatting, not a
# flood. --rate raises it to find where the server saturates.
SIZES = {"small": DmSize(50, 10, 10.0), "bureau": DmSize(200, 20, 20.0)}


async def converse(
    index: int,
    pair: tuple[MatrixUser, MatrixUser],
    room_id: str,
    size: DmSize,
    pairs: int,
    start: float,
    sends: Sends,
) -> None:
    """This pair's messages, evenly spaced; pairs are offset so sends spread out."""
    interval = pairs / size.rate
    for k in range(size.messages_per_pair):
        await sleep_until(start + index / size.rate + k * interval)
        sender, recipient = pair if k % 2 == 0 else pair[::-1]
        await sends.send(sender, room_id, f"dm{index}.{k}", k, {recipient.user_id})


async def run(ctx: Context) -> None:
    await run_pairs(ctx, SIZES[ctx.size])


async def run_pairs(
    ctx: Context,
    size: DmSize,
    setup: Callable[[Context, Http], Awaitable[str]] | None = None,
    shape_note: str = "",
) -> None:
    """The pairs conversing (dm-latency's measured phase); `setup` prepares the server
    first and says how (dm-sample's directory), `shape_note` is added to the note."""
    pairs = int(ctx.options.get("pairs") or size.pairs)
    if ctx.options.get("rate"):
        size = DmSize(pairs, size.messages_per_pair, float(ctx.options["rate"]))
    async with Http(ctx.server.base_url) as http:
        if setup is not None:
            ctx.notes.append(await setup(ctx, http))
        people = await population.users(http, ctx, "dm", 2 * pairs)
        couples = [(people[2 * i], people[2 * i + 1]) for i in range(pairs)]
        rooms = await population.bounded_gather([partial(open_dm, *c) for c in couples])
        loops, tracker, sends = await listening(ctx, people)
        with ctx.phase() as phase:
            start = time.perf_counter()
            await asyncio.gather(
                *(
                    converse(i, couples[i], rooms[i], size, pairs, start, sends)
                    for i in range(pairs)
                )
            )
            await drain(tracker)
        if phase.db is not None:
            count_per_message(ctx, phase.db, len(sends.latencies))
        sync_error = syncer.first_sync_error(loops)
        stats = await syncer.stop_all(loops)
    ctx.notes.append(
        f"{pairs} pairs, {size.messages_per_pair} messages per pair, "
        f"{size.rate:g} messages/s in total{shape_note}; {phase.note()}"
    )
    add_samples(ctx, sends, tracker, phase.wall, stats, sync_error)
