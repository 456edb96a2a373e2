# SPDX-License-Identifier: AGPL-3.0-or-later
"""dm-sample: the embedded default as a new user tries it (issue 17, item 2). Direct
messages between 100 pairs at 25 messages/s in total, on a server holding the 300-member
sample directory (`load-sample`: 40 departments; on vanilla the same 300 people as plain
accounts with their names), with every background loop of ours enabled (the mailer too,
against a local SMTP server), presence off and Synapse's rate limits lifted on both
servers alike, and only the standard client API in the measured phase. Besides send and
delivery latency it counts the database work per message from Synapse's own counters
(transactions, seconds they held a connection, written rows by statement): on SQLite
every transaction, ours included, queues for the one connection message persistence
needs."""

import asyncio
import time
from typing import Any

from benchmarks import population
from benchmarks.aclient import Http
from benchmarks.scenario import Context
from benchmarks.scenarios.dm_latency import DmSize, run_pairs
from modules.directory.sample import generate_directory, write_csv

# What `python -m homeserver load-sample` imports (its defaults).
SAMPLE_DEPARTMENTS, SAMPLE_MEMBERS, SAMPLE_SEED = 40, 300, 1
PROVISIONING_WAIT_S = 180.0
MAIL_STALL_S = 20.0  # the mailer sends 20 mails every 5 s
# Synapse settings for both servers (the shape of the issue): presence off.
SETTINGS: dict[str, Any] = {"presence": {"enabled": False}}

SIZES = {"small": DmSize(100, 10, 25.0), "bureau": DmSize(100, 24, 25.0)}


def _sample_size(ctx: Context) -> tuple[int, int]:
    """(departments, members): the sample's, or --members (the smoke test's tiny one)."""
    members = int(ctx.options.get("members") or SAMPLE_MEMBERS)
    return min(SAMPLE_DEPARTMENTS, max(1, members // 8)), members


async def _load_sample_ours(ctx: Context, http: Http) -> str:
    departments, members = generate_directory(*_sample_size(ctx), SAMPLE_SEED)
    folder = ctx.server.data_dir / "bench-sample"
    files = await asyncio.to_thread(write_csv, departments, members, folder)
    job = await population.import_directory(http, ctx, files, timeout=600)
    progress, provisioned = await population.wait_for_job(
        http, ctx, job, PROVISIONING_WAIT_S, poll_s=1.0
    )
    began = time.perf_counter() - provisioned
    state = "provisioned" if progress.get("finished") else "still provisioning"
    # The initial-password mails go out 20 per 5 s: measure once they are sent (the
    # steady state), as the runs did.
    mailed, last_change = 0, time.perf_counter()
    while time.perf_counter() - began < 2 * PROVISIONING_WAIT_S:
        now_mailed = ctx.smtp.accepted if ctx.smtp is not None else 0
        if now_mailed != mailed:
            mailed, last_change = now_mailed, time.perf_counter()
        # All sent, or none for longer than the mailer's poll (members without mail).
        if ctx.smtp is None or mailed >= len(members):
            break
        if time.perf_counter() - last_change > MAIL_STALL_S:
            break
        await asyncio.sleep(1.0)
    return (
        f"sample directory ({len(members)} members, {len(departments)} departments)"
        f" imported, {state} after {provisioned:.0f} s, {mailed} initial-password "
        f"mails sent after {time.perf_counter() - began:.0f} s"
    )


async def _load_sample_vanilla(ctx: Context, http: Http) -> str:
    _, members = generate_directory(*_sample_size(ctx), SAMPLE_SEED)
    await population.create_accounts(
        http, ctx, [m.userid for m in members], [m.name for m in members]
    )
    return f"the sample's {len(members)} people as accounts with their names"


async def run(ctx: Context) -> None:
    loader = _load_sample_vanilla if ctx.vanilla else _load_sample_ours
    await run_pairs(ctx, SIZES[ctx.size], setup=loader, shape_note=", presence off")
