# SPDX-License-Identifier: AGPL-3.0-or-later
"""search: message search as an officer over generated Chinese chat history.

Setup: officers, rooms (the searching officer is in `officer_rooms` of them), and the
corpus of benchmarks/search_corpus.py sent over HTTP into the rooms; then the server
settles (our indexer catches up). Measured on both servers:
- `search (KIND)`: POST /_matrix/client/v3/search (order_by recent, 20 per page) as the
  officer, for queries cut from the corpus; the note says how many found anything (vanilla
  Synapse's tokenisers find few Chinese substrings, so its latencies are for mostly empty
  answers).
- `index lag`: a message with a unique ASCII word is sent while the officer polls /search
  for it: send → first found (vanilla writes its search row with the event, so its lag is
  about one poll).
- `index lag under dm-latency load`: the same probes while dm-latency's traffic runs
  (its pairs long-polling /sync and exchanging messages at its rate): what the indexer
  keeps up with while the server delivers (/search polled every 100 ms), and the lag of
  every message of that traffic from the server's histogram (search_cost.py). The
  indexer's cost on that delivery: the `search-cost` scenario (ours without the module
  on the other side).
- ours only: `unified search` (GET /_jwwx/client/v1/search, every kind at once).
"""

import asyncio
import time
import uuid
from functools import partial
from typing import Any
from urllib.parse import quote

from benchmarks import population, syncer
from benchmarks.aclient import Http, MatrixUser
from benchmarks.scenario import Context, Sample
from benchmarks.scenarios import dm_latency
from benchmarks.scenarios.messaging import drain, listening, open_dm
from benchmarks.scenarios.search_cost import lag_histograms, lag_samples
from benchmarks.search_corpus import QUERY_KINDS, messages, queries

SEARCH = "/_matrix/client/v3/search"
OURS = "/_jwwx/client/v1/search"
SIZES = {
    # officers, rooms, rooms of the searching officer, messages, queries per kind
    "small": (40, 200, 100, 4_000, 20),
    "bureau": (200, 1_000, 200, 40_000, 40),
}
LAG_PROBES = 30
POLL_S = 0.02
LOADED_POLL_S = 0.1  # under load: fewer searches of our own in the way


def _body(term: str) -> dict[str, Any]:
    return {
        "search_categories": {
            "room_events": {
                "search_term": term,
                "order_by": "recent",
                "filter": {"limit": 20},
            }
        }
    }


async def _setup(
    http: Http, ctx: Context, officers: int, rooms: int, mine: int, count: int
) -> tuple[MatrixUser, list[str]]:
    people = await population.users(http, ctx, "srch", officers)
    officer, others = people[0], people[1:]

    async def room(i: int) -> str:
        owner = others[i % len(others)]
        members = [officer] if i < mine else []
        members.append(others[(i + 1) % len(others)])
        room_id = await owner.create_room(
            preset="private_chat", invite=[m.user_id for m in members]
        )
        for member in members:
            await member.join(room_id)
        return room_id

    room_ids = await population.bounded_gather([partial(room, i) for i in range(rooms)])
    corpus = list(messages(count, rooms, officers))

    async def send(i: int) -> None:
        message = corpus[i]
        sender = others[message.room % len(others)]
        answer = await sender.send_text(room_ids[message.room], message.text, {})
        if not answer.ok:
            raise RuntimeError(f"sending: {answer.error()}")

    await population.bounded_gather([partial(send, i) for i in range(count)])
    return officer, [m.text for m in corpus]


async def _lag_under_load(
    http: Http, ctx: Context, officer: MatrixUser, room_id: str
) -> list[Sample]:
    """The lag probes while dm-latency's conversations run (same pairs and rate), and
    the lag of every message of that traffic (the server's histogram, search_cost.py)."""
    size = dm_latency.SIZES[ctx.size]
    people = await population.users(http, ctx, "srchdm", 2 * size.pairs)
    couples = [(people[2 * i], people[2 * i + 1]) for i in range(size.pairs)]
    rooms = await population.bounded_gather([partial(open_dm, *c) for c in couples])
    loops, tracker, sends = await listening(ctx, people)
    port = ctx.server.metrics_port
    before = lag_histograms(port)
    start = time.perf_counter()
    traffic = asyncio.gather(
        *(
            dm_latency.converse(i, couples[i], rooms[i], size, size.pairs, start, sends)
            for i in range(size.pairs)
        )
    )
    lag = await _lag(
        ctx, officer, room_id, "index lag under dm-latency load", LOADED_POLL_S
    )
    await traffic
    await drain(tracker)
    await syncer.stop_all(loops)
    lag.note = (
        f"{size.pairs} pairs at {size.rate:g} messages/s, {len(sends.latencies)}"
        f" sent meanwhile; /search polled every {LOADED_POLL_S * 1000:.0f} ms"
    )
    return [lag, *lag_samples(before, lag_histograms(port), "under dm-latency load: ")]


async def _lag(
    ctx: Context,
    officer: MatrixUser,
    room_id: str,
    name: str = "index lag (send → found)",
    poll_s: float = POLL_S,
) -> Sample:
    latencies: list[float] = []
    errors = 0
    for _ in range(LAG_PROBES):
        word = "lag" + uuid.uuid4().hex[:10]
        sent = time.perf_counter()
        answer = await officer.send_text(room_id, f"延迟探针 {word}", {})
        if not answer.ok:
            errors += 1
            continue
        while time.perf_counter() - sent < 30:
            found = await officer.call("POST", SEARCH, _body(word))
            if found.ok and found.body["search_categories"]["room_events"]["results"]:
                latencies.append(time.perf_counter() - sent)
                break
            await asyncio.sleep(poll_s)
        else:
            errors += 1
    return Sample(name, latencies, errors=errors)


async def run(ctx: Context) -> None:
    officers, rooms, mine, count, per_kind = SIZES[ctx.size]
    async with Http(ctx.server.base_url) as http:
        officer, texts = await _setup(http, ctx, officers, rooms, mine, count)
        await ctx.settle()
        with ctx.phase() as phase:
            for kind in QUERY_KINDS:
                latencies: list[float] = []
                errors = hits = 0
                for term in queries(texts, kind, per_kind):
                    answer = await officer.call("POST", SEARCH, _body(term))
                    latencies.append(answer.seconds)
                    if not answer.ok:
                        errors += 1
                    elif answer.body["search_categories"]["room_events"]["results"]:
                        hits += 1
                ctx.add(
                    Sample(
                        f"search ({kind})",
                        latencies,
                        errors=errors,
                        note=f"{hits}/{per_kind} queries found something",
                    )
                )
            if not ctx.vanilla:
                latencies, errors = [], 0
                for term in queries(texts, "4 chars", per_kind):
                    answer = await officer.call("GET", f"{OURS}?q={quote(term)}")
                    latencies.append(answer.seconds)
                    errors += 0 if answer.ok else 1
                ctx.add(
                    Sample(
                        "unified search (every kind)",
                        latencies,
                        errors=errors,
                        comparable=False,
                    )
                )
            probe_room = await officer.create_room(preset="private_chat")
            ctx.add(await _lag(ctx, officer, probe_room))
            for sample in await _lag_under_load(http, ctx, officer, probe_room):
                ctx.add(sample)
    ctx.notes.append(
        f"{officers} officers, {rooms} rooms (the searching officer in {mine}), "
        f"{count} messages sent over HTTP; {phase.note()}"
    )
