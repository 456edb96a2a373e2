# SPDX-License-Identifier: AGPL-3.0-or-later
"""wecom-api (ours only: vanilla Synapse has no WeCom-compatible API): officers who
are directory members with ordinary accounts, long-polling /sync; an app whose visible
range is their department.

First, when the pool of spare broadcast rooms is on, it is built (as provisioning
would, before any app) and its time and cost reported apart. Then the app is created
and at once pushes to the whole department (time until
the last officer's /sync has it: its broadcast rooms are still being joined), while
one-officer pushes go on side by side (each waits for its delivery). Second phase, once
the app's conversations are prepared (steady state; how long that took is a metric of
its own): gettoken, user/get, the OAuth2 code flow (authorize → auth/getuserinfo),
message/send to one officer (first message and later ones) and a push to every officer
at once."""

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any

import yaml

from benchmarks import officers as directory_officers
from benchmarks import syncer
from benchmarks.aclient import Http, MatrixUser
from benchmarks.db_counts import DbCounts
from benchmarks.delivery import TAG, Tracker
from benchmarks.scenario import Context, Sample
from benchmarks.scenarios.messaging import drain
from benchmarks.scenarios.wecom_calls import (
    H5,
    Api,
    Pushes,
    oauth_round_trips,
    userid_of,
)

APPS = "/_jwwx/admin/v1/openapi/apps"
POOL = "/_jwwx/admin/v1/openapi/broadcast/pool"
POOL_BUDGET_MAX_S = 3600.0
PREPARE_BUDGET_S = 3600.0
WARMUP_CALLS = 5
FIRST_MESSAGE_COST_S = 1.0  # creating a conversation (see docs/openapi.md)
APP_CREATION_TIMEOUT_S = 600.0
# Synapse's transaction reading a state group's state (walking its delta chain).
STATE_READ = "_get_state_groups_from_groups"
# The push right after creation may take: 120 s plus 250 ms per officer, at most 10 min.
CREATION_BUDGET_S = 120.0
CREATION_PER_OFFICER_S = 0.25
CREATION_BUDGET_MAX_S = 600.0
# One-officer pushes during that push: officers messaged side by side, each again this
# long after its last message arrived (or SINGLE_WAIT_S passed).
SINGLE_LANES = 6
SINGLE_PAUSE_S = 0.5
SINGLE_WAIT_S = 60.0


@dataclass(frozen=True)
class WecomSize:
    recipients: int  # officers in the app's range, all long-polling
    calls: int  # gettoken / user/get / OAuth2 codes, each
    one_user: int  # officers messaged one at a time (first message, then 3 more)


SIZES = {"small": WecomSize(200, 200, 20), "bureau": WecomSize(10_000, 400, 50)}


def corpid(ctx: Context) -> str:
    config = yaml.safe_load((ctx.server.data_dir / "homeserver.yaml").read_text())
    for module in config.get("modules") or []:
        if module.get("module", "").startswith("modules.openapi"):
            return str(module["config"]["corpid"])
    raise RuntimeError("modules.openapi is not configured")


async def _one_user(
    pushes: Pushes, officers: list[MatrixUser], count: int
) -> dict[str, Tracker]:
    """First message to each of `count` officers (its room was prepared), then 3 more
    each; each waits for delivery before the next, so latencies do not queue."""
    trackers = {"first": Tracker(), "later": Tracker()}
    for round_no in range(4):
        phase = "first" if round_no == 0 else "later"
        pushes.tracker = trackers[phase]
        for officer in officers[:count]:
            key = f"one.{round_no}.{userid_of(officer)}"
            await pushes.send(
                f"send {phase}", key, {"touser": userid_of(officer)}, {officer.user_id}
            )
            await drain(pushes.tracker, 10.0)
    return trackers


async def _app(http: Http, ctx: Context, department: int) -> tuple[int, Api, float]:
    """An app seeing the department, trusting the H5 domain: (agentid, its API, the
    creation request's seconds). Created while every officer long-polls: on a busy
    machine the answer can take minutes."""
    made = await http.request(
        "POST",
        APPS,
        {
            "name": "压测应用",
            "visible_range": {"department_ids": [department]},
            "redirect_domain": H5,
        },
        token=ctx.admin_token,
        timeout=APP_CREATION_TIMEOUT_S,
    )
    if not made.ok:
        raise RuntimeError(f"app: {made.error()}")
    api = Api(http, str(made.body["secret"]), corpid(ctx))
    return int(made.body["agentid"]), api, made.seconds


async def _prepared(
    http: Http, ctx: Context, agentid: int, count: int
) -> tuple[int, float]:
    """Wait for the background preparation of the app's conversations (one room per
    officer, started when the app's range is set): (conversations, seconds)."""
    began = time.perf_counter()
    budget = min(PREPARE_BUDGET_S, 60.0 + count)
    conversations = 0
    while time.perf_counter() - began < budget:
        stats = await http.request(
            "GET", f"{APPS}/{agentid}/statistics", token=ctx.admin_token
        )
        if not stats.ok:
            raise RuntimeError(f"statistics: {stats.error()}")
        conversations = int(stats.body.get("conversations", 0))
        if conversations >= count:
            break
        await asyncio.sleep(1.0)
    return conversations, time.perf_counter() - began


async def _push_all(
    pushes: Pushes, name: str, department: int, everyone: set[str], budget_s: float
) -> tuple[Tracker, float]:
    """One message/send to the whole department; (its tracker, time until all had it)."""
    pushes.tracker = tracker = Tracker()
    began = time.perf_counter()
    key = name.replace(" ", "-")  # keys travel in the text: no spaces
    await pushes.send(name, key, {"toparty": str(department)}, everyone)
    await drain(tracker, budget_s)
    return tracker, time.perf_counter() - began


async def _pool_built(http: Http, ctx: Context, count: int) -> str | None:
    """With the pool of spare broadcast rooms on (modules/openapi/pool.py), build it
    now, as a bureau's provisioning would before creating apps, and wait until it
    covers every deliverable officer: a note with its time and cost, or None when the
    pool is off (404)."""
    started = await http.request("POST", POOL, {}, token=ctx.admin_token)
    if started.status == 404:
        return None
    if not started.ok:
        raise RuntimeError(f"pool: {started.error()}")
    budget = min(POOL_BUDGET_MAX_S, 120.0 + 1.0 * count)
    with ctx.phase() as phase:
        began = time.perf_counter()
        body: dict[str, Any] = dict(started.body)
        while time.perf_counter() - began < budget:
            if (
                body["covered"] >= body["deliverable"]
                and not body["joining"]
                and not body["building"]
            ):
                break
            await asyncio.sleep(1.0)
            answer = await http.request("GET", POOL, token=ctx.admin_token)
            if not answer.ok:
                raise RuntimeError(f"pool: {answer.error()}")
            body = dict(answer.body)
    per = max(count, 1)
    note = (
        f"pool of spare rooms built before the app: {body['covered']}/"
        f"{body['deliverable']} officers in {body['spare_rooms']} rooms in"
        f" {phase.wall:.1f} s, server {1000 * phase.server_cpu / per:.0f} cpu-ms"
        f" per officer; {phase.note()}"
    )
    if phase.db is not None:
        note += f"; {phase.db.total_txns() / per:.1f} transactions per officer"
    ctx.add(
        Sample(
            "pool of spare broadcast rooms built (officers long-polling)",
            value=round(phase.wall, 1),
            unit="s",
            throughput=body["covered"] / phase.wall if phase.wall else None,
            errors=max(body["deliverable"] - body["covered"], 0),
            note=note,
        )
    )
    return note


async def _at_creation(
    http: Http,
    ctx: Context,
    department: int,
    officers: list[MatrixUser],
    route: dict[str, Tracker],
) -> tuple[int, Api, Pushes, Tracker, float, Tracker, Tracker]:
    """Create the app and push to the whole department at once, with one-officer
    pushes side by side until it arrived everywhere (or the budget ended)."""
    everyone = {o.user_id for o in officers}
    agentid, api, creation_s = await _app(http, ctx, department)
    api.latencies["create app"] = [creation_s]
    await api.gettoken()
    pushes = Pushes(api, agentid, Tracker())
    route["push"] = pushes.tracker
    began = time.perf_counter()
    await pushes.send(
        "push at creation", "push", {"toparty": str(department)}, everyone
    )
    singles = Pushes(api, agentid, Tracker())
    route["single"] = singles.tracker
    # The first message to a lane's officer creates the app's conversation with them
    # (first contact: conversations are prepared later, after a claim): apart.
    contacts = Pushes(api, agentid, Tracker())
    route["contact"] = contacts.tracker
    budget = min(
        CREATION_BUDGET_MAX_S,
        CREATION_BUDGET_S + CREATION_PER_OFFICER_S * len(officers),
    )
    # SINGLE_LANES officers, each messaged again SINGLE_PAUSE_S after the last
    # message reached them (their own messages do not queue), until the push is
    # everywhere: enough one-officer deliveries for a p99 (issue 17 item 1).
    lanes = random.Random(4).sample(officers, min(SINGLE_LANES, len(officers)))
    sent = 0

    async def lane(officer: MatrixUser) -> None:
        nonlocal sent
        first = True
        while pushes.tracker.outstanding() and time.perf_counter() - began < budget:
            sent += 1
            kind = "contact" if first else "single"
            key = f"{kind}.{sent}"
            via = contacts if first else singles
            first = False
            await via.send(
                f"send during push ({kind})",
                key,
                {"touser": userid_of(officer)},
                {officer.user_id},
            )
            waited = 0.0
            while via.tracker.pending.get(key) and waited < SINGLE_WAIT_S:
                await asyncio.sleep(0.05)
                waited += 0.05
            await asyncio.sleep(SINGLE_PAUSE_S)

    await asyncio.gather(*(lane(o) for o in lanes))
    await drain(pushes.tracker, max(0.0, budget - (time.perf_counter() - began)))
    wall = time.perf_counter() - began
    return agentid, api, pushes, pushes.tracker, wall, singles.tracker, contacts.tracker


async def run(ctx: Context) -> None:
    size = SIZES[ctx.size]
    count = int(ctx.options.get("recipients") or size.recipients)
    async with Http(ctx.server.base_url) as http:
        made = await directory_officers.department(http, ctx, "wx", count)
        officers, department = made.users, made.department
        ctx.notes.append(made.note())
        # Events of the first phase go to the tracker of their key's kind ("push",
        # "single"); later ones to the steady-state phase's current tracker.
        route: dict[str, Tracker] = {}
        steady: list[Pushes] = []

        def seen(
            recipient: str, room_id: str, event: dict[str, Any], at: float
        ) -> None:
            found = TAG.search(str((event.get("content") or {}).get("body", "")))
            kind = found.group(1).split(".")[0] if found else ""
            tracker = route.get(kind) or (steady[0].tracker if steady else None)
            if tracker is not None:
                tracker.seen(recipient, room_id, event, at)

        ctx.notes.append(await directory_officers.device_change_in_a_room(officers[0]))
        loops = await syncer.start_all(officers, seen)
        everyone = {o.user_id for o in officers}
        await ctx.settle()
        pool_note = await _pool_built(http, ctx, count)
        if pool_note is not None:
            ctx.notes.append(pool_note)
            await ctx.settle()
        with ctx.phase() as creation:
            (
                agentid,
                api,
                pushes,
                created,
                created_wall,
                singles,
                contacts,
            ) = await _at_creation(http, ctx, department, officers, route)
        ctx.notes.append(
            f"push right after the app was created: {creation.note()};"
            f" server {1000 * creation.server_cpu / max(count, 1):.0f} cpu-ms per officer"
        )
        if creation.db is not None:
            ctx.notes.append(_state_work(creation.db, count))
        pool_now = await http.request("GET", POOL, token=ctx.admin_token)
        if pool_now.ok and "pacing" in pool_now.body:
            ctx.notes.append(
                f"pacing of the broadcast pushes: {pool_now.body['pacing']}"
            )
        if ctx.options.get("creation_only"):
            await syncer.stop_all(loops)
            _creation_samples(ctx, api, count, created, created_wall, singles, contacts)
            return
        # Then steady state: an app is created once, used for years.
        prepared, prepare_s = await _prepared(http, ctx, agentid, count)
        pushes = Pushes(api, agentid, Tracker())
        steady.append(pushes)
        route.clear()
        await ctx.settle()
        # The first calls pay one-off costs (the token's row written, caches filled):
        # measured apart, so the steady-state percentiles are the API's.
        for _ in range(WARMUP_CALLS):
            await api.gettoken()
        for officer in officers[:WARMUP_CALLS]:
            await api.call(
                "user/get warm-up", "user/get", {"userid": userid_of(officer)}
            )
        api.latencies["gettoken warm-up"] = api.latencies.pop("gettoken", [])
        with ctx.phase() as phase:
            for _ in range(size.calls):
                await api.gettoken()
            for officer in random.Random(2).choices(officers, k=size.calls):
                await api.call("user/get", "user/get", {"userid": userid_of(officer)})
            authorize = await oauth_round_trips(api, officers, agentid, size.calls)
            one = await _one_user(pushes, officers, min(size.one_user, count))
            first_budget = min(1800.0, FIRST_MESSAGE_COST_S * count + 60)
            push_first, first_wall = await _push_all(
                pushes, "push first", department, everyone, first_budget
            )
            push_again, again_wall = await _push_all(
                pushes, "push again", department, everyone, 60.0 + count / 10
            )
        sync_error = syncer.first_sync_error(loops)
        stats = await syncer.stop_all(loops)
    ctx.notes.append(f"{count} officers long-polling /sync; {phase.note()}")
    _creation_samples(ctx, api, count, created, created_wall, singles, contacts)
    ctx.add(
        Sample(
            "conversations prepared in the background (app created → all rooms)",
            value=round(prepare_s, 1),
            unit="s",
            throughput=prepared / prepare_s if prepare_s else None,
            errors=count - prepared,
            note=f"{prepared}/{count} conversations before the measured phase",
        )
    )
    if sync_error or any(stats.values()):
        ctx.notes.append(f"sync: {stats} {sync_error[:80]}")
    ctx.add(
        api.sample(
            "gettoken warm-up", f"gettoken, first {WARMUP_CALLS} calls (warm-up)"
        )
    )
    ctx.add(
        api.sample(
            "user/get warm-up", f"user/get, first {WARMUP_CALLS} calls (warm-up)"
        )
    )
    ctx.add(api.sample("gettoken", "gettoken"))
    ctx.add(api.sample("user/get", "user/get"))
    ctx.add(
        Sample(
            "oauth2/authorize → 302 with code",
            authorize,
            errors=api.errors.get("authorize", 0),
        )
    )
    ctx.add(api.sample("getuserinfo", "auth/getuserinfo"))
    for phase_name, label in (
        ("first", "first message to the officer"),
        ("later", "later messages"),
    ):
        t = one[phase_name]
        ctx.add(api.sample(f"send {phase_name}", f"message/send 1 user, {label}"))
        ctx.add(_delivery(f"delivery 1 user, {label}", t, None))
    for name, t, wall in (
        ("push first", push_first, first_wall),
        ("push again", push_again, again_wall),
    ):
        ctx.add(api.sample(name, f"message/send to {count} ({name}): request → answer"))
        ctx.add(
            _delivery(f"push to {count} ({name}): delivery to each", t, wall, count)
        )


def _state_work(db: DbCounts, count: int) -> str:
    """The database work of the push right after creation, per officer: all
    transactions, Synapse's reads of room state from state groups (walking their delta
    chains: what join_batch's snapshots shorten), rows written."""
    per = max(count, 1)
    walks = db.txns[STATE_READ]
    return (
        f"push at creation, database work per officer: {db.total_txns() / per:.1f}"
        f" transactions, {db.writes() / per:.1f} written rows; state-group reads"
        f" {walks:.0f} ({walks / per:.2f} per officer, {db.seconds[STATE_READ]:.1f} s"
        f" of connection, {100 * db.seconds[STATE_READ] / max(sum(db.seconds.values()), 1e-9):.0f}%"
        f" of all); GC {db.gc_text()}; longest held: {db.top(6)}"
    )


def _creation_samples(
    ctx: Context,
    api: Api,
    count: int,
    created: Tracker,
    created_wall: float,
    singles: Tracker,
    contacts: Tracker,
) -> None:
    ctx.add(
        api.sample(
            "push at creation",
            f"message/send to {count} right after the app was created: request → answer",
        )
    )
    ctx.add(
        _delivery(
            f"push to {count} right after the app was created: delivery to each",
            created,
            created_wall,
            count,
        )
    )
    ctx.add(api.sample("create app", "POST apps (admin API), officers long-polling"))
    for kind, label, tracker in (
        ("single", "", singles),
        ("contact", ", first contact", contacts),
    ):
        ctx.add(
            api.sample(
                f"send during push ({kind})",
                f"message/send 1 user during that push{label}",
            )
        )
        ctx.add(_delivery(f"delivery 1 user during that push{label}", tracker, None))


def _delivery(metric: str, t: Tracker, wall: float | None, count: int = 0) -> Sample:
    problems = t.problems()
    note = (
        ", ".join(f"{v} {k}" for k, v in problems.items()) or "exactly once, in order"
    )
    sample = Sample(
        metric, t.delivery, wall=wall, errors=sum(problems.values()), note=note
    )
    if wall:
        sample.throughput = len(t.delivery) / wall  # recipients reached per second
        sample.note += f"; {len(t.delivery)}/{count} reached in {wall:.1f} s"
    return sample
