# SPDX-License-Identifier: AGPL-3.0-or-later
"""Helpers shared by the messaging scenarios: rooms, paced sending, waiting for
deliveries, and turning a Tracker into samples."""

import asyncio
import time
from typing import Any

from benchmarks import syncer
from benchmarks.aclient import MatrixUser
from benchmarks.db_counts import DbCounts
from benchmarks.delivery import Tracker
from benchmarks.scenario import Context, Sample

ROOM_VERSION = "11"  # ours defaults to 11 (owner transfer); asked for on both servers
DRAIN_S = 20.0  # after the last send: how long deliveries may still arrive
WARMUP_S = 1.0  # let every long-poll reach the server before the first send


async def open_dm(a: MatrixUser, b: MatrixUser) -> str:
    room_id = await a.create_room(
        preset="trusted_private_chat",
        is_direct=True,
        invite=[b.user_id],
        room_version=ROOM_VERSION,
    )
    await b.join(room_id)
    return room_id


async def listening(
    ctx: Context, users: list[MatrixUser]
) -> tuple[list[Any], Tracker, "Sends"]:
    """Every user long-polling /sync into one tracker, the server settled, then a short
    warm-up so every long-poll has reached the server: (sync loops, tracker, sends)."""
    tracker = Tracker()
    if ctx.options.get("idle"):
        # The deployment with nobody online first (its fixed cost), then everyone.
        await ctx.settle()
        await ctx.background()
    loops = await syncer.start_all(users, tracker.seen, sliding=ctx.sliding_sync)
    await ctx.settle()
    await asyncio.sleep(WARMUP_S)
    await ctx.idle(len(users))
    return loops, tracker, Sends(tracker)


async def sleep_until(moment: float) -> None:
    delay = moment - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


async def drain(tracker: Tracker, budget_s: float = DRAIN_S) -> float:
    """Wait until every sent message reached every recipient, or the budget ends."""
    started = time.perf_counter()
    while tracker.outstanding() and time.perf_counter() - started < budget_s:
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


class Sends:
    """Send latencies and refusals of one scenario."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        self.latencies: list[float] = []
        self.errors = 0
        self.first_error = ""

    async def send(
        self,
        sender: MatrixUser,
        room_id: str,
        key: str,
        seq: int,
        recipients: set[str],
    ) -> None:
        self.tracker.sending(key, recipients)
        answer = await sender.send_text(
            room_id, f"测试消息 {key}", self.tracker.content(key, seq)
        )
        self.latencies.append(answer.seconds)
        if not answer.ok:
            self.errors += 1
            self.first_error = self.first_error or answer.error()
            self.tracker.failed(key)


def add_samples(
    ctx: Context,
    sends: Sends,
    tracker: Tracker,
    wall: float,
    sync_stats: dict[str, int],
    sync_error: str,
    per_message_all: bool = False,
) -> None:
    ctx.add(
        Sample(
            "send (request → 200)",
            sends.latencies,
            wall=wall,
            errors=sends.errors,
            note=sends.first_error[:80],
        )
    )
    # A limited timeline is only a problem if it made messages go missing (counted).
    errors = {k: v for k, v in sync_stats.items() if v and k != "limited timelines"}
    problems = {**tracker.problems(), **errors}
    note = ", ".join(f"{v} {k}" for k, v in problems.items()) or (
        "every message received exactly once, in order"
    )
    if sync_stats.get("limited timelines"):
        note += f" ({sync_stats['limited timelines']} limited timelines)"
    if sync_error:
        note += f"; first sync error: {sync_error[:60]}"
    ctx.add(
        Sample(
            "delivery (send → recipient /sync)",
            tracker.delivery,
            wall=wall,
            errors=sum(problems.values()),
            note=note,
        )
    )
    if per_message_all:
        ctx.add(
            Sample(
                "delivery to all members (per message)",
                tracker.all_members,
                wall=wall,
                note="time until the last member's /sync had it",
            )
        )
    add_costs(ctx, len(sends.latencies) - sends.errors, len(tracker.delivery))


def add_costs(ctx: Context, messages: int, deliveries: int) -> None:
    """Server CPU per message and per delivery over the measured phase (the capacity
    model's inputs, docs/availability.md); with `--idle`, net of what the online
    users cost anyway over the same time."""
    if not ctx.phases or not messages or not deliveries:
        return
    phase = ctx.phases[-1]
    idle = ctx.idle_cpu_per_s * phase.wall
    busy = max(phase.server_cpu - idle, 0.0)
    net = " net of the idle long-polls" if idle else ""
    ctx.add(
        Sample(
            "server CPU per message",
            value=round(1000 * busy / messages, 2),
            unit="cpu-ms",
            note=f"{messages} messages, {phase.server_cpu:.1f} cpu-s in the phase"
            + (f" − {idle:.1f} idle" if idle else "")
            + net,
        )
    )
    ctx.add(
        Sample(
            "server CPU per delivery",
            value=round(1000 * busy / deliveries, 3),
            unit="cpu-ms",
            note=f"{deliveries} deliveries (a message in one recipient's /sync){net}",
        )
    )


def count_per_message(ctx: Context, counts: DbCounts, messages: int) -> None:
    """Database work per message sent (scenarios with a metrics listener)."""
    per = max(messages, 1)
    ctx.add(
        Sample(
            "database transactions per message",
            value=round(counts.total_txns() / per, 2),
            unit="txn",
            note=f"{counts.total_txns()} over {messages} messages; longest held: "
            + counts.top(),
        )
    )
    ctx.notes.append(
        "transactions per 100 messages by name (>= 1): "
        + ", ".join(
            f"{d} {100 * n / per:.0f}"
            for d, n in counts.txns.most_common()
            if 100 * n / per >= 1
        )
    )
    ctx.add(
        Sample(
            "rows written per message (INSERT/UPDATE/DELETE statements)",
            value=round(counts.writes() / per, 2),
            unit="stmt",
        )
    )
    ctx.add(
        Sample(
            "connection held per message (all transactions)",
            value=round(1000 * sum(counts.seconds.values()) / per, 2),
            unit="ms",
        )
    )
