# SPDX-License-Identifier: AGPL-3.0-or-later
"""directory-search: our directory search (names, pinyin, initials, surnames) over a
generated directory as an ordinary officer, and Synapse's own user search on both
servers. The directory import and its account provisioning are the `directory`
benchmark's subject (python -m benchmarks directory); here they are only setup."""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks import population
from benchmarks.aclient import Http, MatrixUser
from benchmarks.directory_data import (
    KINDS,
    findable,
    pick_officer,
    queries,
    search_path,
    user_queries,
)
from benchmarks.scenario import Context, Sample
from modules.directory.records import MemberRecord
from modules.directory.sample import generate_directory, write_csv

USER_SEARCH = "/_matrix/client/v3/user_directory/search"
CONCURRENT = 4


@dataclass(frozen=True)
class SearchSize:
    departments: int
    members: int
    queries_per_kind: int
    provisioning_wait_s: float  # let the accounts be created before searching
    vanilla_accounts: int  # accounts (with the members' names) on vanilla


SIZES = {
    "small": SearchSize(2_000, 5_000, 100, 180.0, 1_000),
    "bureau": SearchSize(30_000, 55_000, 300, 120.0, 2_000),
}


Search = tuple[str, dict[str, Any] | None]  # (path, POST body or None for GET)


async def _searches(
    user: MatrixUser, paths: Sequence[Search], concurrency: int = 1
) -> tuple[list[float], int, str, float]:
    """(latencies, errors, first error, wall) of GET/POST searches."""
    latencies: list[float] = []
    errors, first = 0, ""

    def job(path: str, body: dict[str, Any] | None) -> Callable[[], Awaitable[None]]:
        async def one() -> None:
            nonlocal errors, first
            answer = await user.call("GET" if body is None else "POST", path, body)
            latencies.append(answer.seconds)
            if not answer.ok:
                errors += 1
                first = first or answer.error()

        return one

    began = time.perf_counter()
    await population.bounded_gather([job(p, b) for p, b in paths], concurrency)
    return latencies, errors, first, time.perf_counter() - began


async def _user_search(
    ctx: Context,
    user: MatrixUser,
    members: list[MemberRecord],
    population_n: int,
    comparable: bool,
) -> None:
    """Synapse's own user search: latency, and how often the member a query was
    drawn for is among the 20 answers (full names, name prefixes and pinyin); the
    server's CPU per search (its own measured phase)."""
    with ctx.phase() as phase:
        searches = await _user_search_kinds(
            ctx, user, members, population_n, comparable
        )
    ctx.notes.append(phase.note())
    ctx.add(
        Sample(
            "server CPU per user_directory/search",
            value=round(1000 * phase.server_cpu / max(searches, 1), 2),
            unit="cpu-ms",
            note=f"{searches} searches",
            comparable=comparable,
        )
    )


async def _user_search_kinds(
    ctx: Context,
    user: MatrixUser,
    members: list[MemberRecord],
    population_n: int,
    comparable: bool,
) -> int:
    searches = 0
    for kind in ("name", "name prefix", "pinyin"):
        asked = user_queries(kind, members, 100, seed=7)
        hits = 0
        latencies: list[float] = []
        errors, first = 0, ""
        began = time.perf_counter()
        for query, userid in asked:
            started = time.perf_counter()
            answer = await user.call(
                "POST", USER_SEARCH, {"search_term": query, "limit": 20}
            )
            latencies.append(time.perf_counter() - started)
            if not answer.ok:
                errors += 1
                first = first or answer.error()
                continue
            found = {
                str(r.get("user_id", "")).split(":")[0][1:].lower()
                for r in (answer.body or {}).get("results", [])
            }
            hits += userid.lower() in found
        searches += len(asked)
        ctx.add(
            Sample(
                f"Synapse user_directory/search, {kind}",
                latencies,
                wall=time.perf_counter() - began,
                errors=errors,
                note=first[:60]
                or f"found {100 * hits / max(len(asked), 1):.0f}% of members asked for,"
                f" over {population_n} accounts",
                comparable=comparable,
            )
        )
    return searches


async def _ours(ctx: Context, http: Http, size: SearchSize) -> None:
    departments, members = generate_directory(size.departments, size.members, 1, 0)
    officer = pick_officer(departments, members, 0)
    # Registered before the import: the member with this userid is linked to it.
    await population.create_accounts(http, ctx, [officer.userid])
    (user,) = await population.log_in(http, [officer.userid])
    folder = ctx.server.data_dir / "bench-directory"
    files = await asyncio.to_thread(write_csv, departments, members, folder)
    job = await population.import_directory(http, ctx, files, timeout=900)
    progress, waited = await population.wait_for_job(
        http, ctx, job, size.provisioning_wait_s, poll_s=2.0
    )
    pending = progress.get("pending", "?")
    ctx.notes.append(
        f"{size.members} members in {size.departments} departments imported; "
        f"provisioning {'finished' if progress.get('finished') else 'still running'} "
        f"after {waited:.0f} s ({pending} accounts pending) when the searches began"
    )
    with ctx.phase() as phase:
        mixed: list[Search] = []
        for kind in KINDS:
            asked = [
                (search_path(q), None)
                for q in queries(kind, members, size.queries_per_kind, seed=3)
            ]
            mixed += asked
            latencies, errors, first, wall = await _searches(user, asked)
            ctx.add(
                Sample(
                    f"directory search, {kind} (officer)",
                    latencies,
                    wall=wall,
                    errors=errors,
                    note=first[:60],
                    comparable=False,
                )
            )
        latencies, errors, first, wall = await _searches(user, mixed, CONCURRENT)
        ctx.add(
            Sample(
                f"directory search, all kinds ({CONCURRENT} concurrent)",
                latencies,
                wall=wall,
                errors=errors,
                note=first[:60],
                comparable=False,
            )
        )
    ctx.notes.append(phase.note())
    created = size.members - (pending if isinstance(pending, int) else 0)
    same = size.vanilla_accounts == size.members
    await _user_search(ctx, user, findable(departments, members), created, same)


async def _vanilla(ctx: Context, http: Http, size: SearchSize) -> None:
    departments, members = generate_directory(size.departments, size.members, 1, 0)
    present = members[: size.vanilla_accounts]
    same = len(present) == len(members)
    names = [m.userid for m in present]
    await population.create_accounts(http, ctx, names, [m.name for m in present])
    (user,) = await population.log_in(http, names[:1])
    ctx.notes.append(
        f"{len(present)} accounts named as the first directory members; vanilla has no "
        "directory search"
    )
    # The members ours lets an officer find, when the populations are the same.
    asked = findable(departments, members) if same else present
    await _user_search(ctx, user, asked, len(present), same)


def _size(ctx: Context) -> SearchSize:
    """The size's, or with `--members N` the same N members on both servers (ours by
    the directory's import, vanilla as accounts): then user search is comparable."""
    size = SIZES[ctx.size]
    members = ctx.options.get("members")
    if not members:
        return size
    return SearchSize(
        max(10, members // 5),
        members,
        size.queries_per_kind,
        size.provisioning_wait_s,
        members,
    )


async def run(ctx: Context) -> None:
    size = _size(ctx)
    async with Http(ctx.server.base_url) as http:
        await (_vanilla if ctx.vanilla else _ours)(ctx, http, size)
