# SPDX-License-Identifier: AGPL-3.0-or-later
"""group-fanout: one big group (room), every member long-polling /sync; a few members
send texts at a steady pace. Measures send latency, delivery latency to each member and
to all members (per message), with the exactly-once and order checks."""

import time
from dataclasses import dataclass
from functools import partial

from benchmarks import officers, population, syncer
from benchmarks.aclient import Http, MatrixUser
from benchmarks.scenario import Context, Sample
from benchmarks.scenarios.messaging import (
    ROOM_VERSION,
    add_samples,
    count_per_message,
    drain,
    listening,
    sleep_until,
)


@dataclass(frozen=True)
class GroupSize:
    members: int  # including the owner
    messages: int
    senders: int
    interval_s: float  # between two messages (any sender)


SIZES = {
    "small": GroupSize(100, 20, 5, 0.5),
    "bureau": GroupSize(500, 30, 5, 1.0),
}


async def _group(members: list[MatrixUser]) -> str:
    owner = members[0]
    room_id = await owner.create_room(
        preset="public_chat", name="压测群", room_version=ROOM_VERSION
    )
    await population.bounded_gather([partial(m.join, room_id) for m in members[1:]])
    return room_id


GROUP_SETTINGS = "/_jwwx/admin/v1/groups/settings"
# modules.groups' default size cap (its config): a bigger group needs the admin's setting.
OURS_DEFAULT_CAP = 500


async def _allow_size(http: Http, ctx: Context, count: int) -> str | None:
    """On ours, raise the groups module's size cap through its admin API as an admin of
    the bureau would before growing a group past it; the note says so."""
    if ctx.vanilla or count <= OURS_DEFAULT_CAP:
        return None
    answer = await http.request(
        "PUT", GROUP_SETTINGS, {"max_members": count}, token=ctx.admin_token
    )
    if not answer.ok:
        raise RuntimeError(f"raise the group size cap: {answer.error()}")
    return f"group size cap raised to {count} through {GROUP_SETTINGS}"


async def run(ctx: Context) -> None:
    size = SIZES[ctx.size]
    count = int(ctx.options.get("members") or size.members)
    messages = int(ctx.options.get("messages") or size.messages)
    interval = 1.0 / float(ctx.options["rate"]) if ctx.options.get("rate") else None
    size = GroupSize(count, messages, size.senders, interval or size.interval_s)
    async with Http(ctx.server.base_url) as http:
        raised = await _allow_size(http, ctx, count)
        if raised:
            ctx.notes.append(raised)
        members = await population.users(http, ctx, "grp", count)
        room_id = await _group(members)
        # As on a running server: without a device change in some room, each
        # incremental /sync runs one more transaction (officers.py says why).
        ctx.notes.append(await officers.device_change_in_a_room(members[-1]))
        everyone = {m.user_id for m in members}
        loops, tracker, sends = await listening(ctx, members)
        with ctx.phase() as phase:
            polls = sum(loop.polls for loop in loops)
            start = time.perf_counter()
            for k in range(size.messages):
                await sleep_until(start + k * size.interval_s)
                sender = members[k % size.senders]
                await sends.send(
                    sender, room_id, f"g.{k}", k, everyone - {sender.user_id}
                )
            await drain(tracker)
            polls = sum(loop.polls for loop in loops) - polls
        if phase.db is not None:
            count_per_message(ctx, phase.db, size.messages)
        sync_error = syncer.first_sync_error(loops)
        stats = await syncer.stop_all(loops)
    ctx.notes.append(
        f"{count} members, {size.messages} messages from {size.senders} senders, one "
        f"every {size.interval_s:g} s; {phase.note()}"
    )
    add_samples(
        ctx, sends, tracker, phase.wall, stats, sync_error, per_message_all=True
    )
    # Each member's /sync should answer once per message: more answers (a wake-up by
    # something else than the message) cost server CPU per delivery.
    ctx.add(
        Sample(
            "/sync answers per delivery",
            value=round(polls / max(len(tracker.delivery), 1), 3),
            unit="answers",
            note=f"{polls} /sync answers in the measured phase",
        )
    )
