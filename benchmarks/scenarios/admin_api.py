# SPDX-License-Identifier: AGPL-3.0-or-later
"""admin-api: what scope checking costs (docs/admin.md). A generated directory, admin
groups nested 5 deep over it with their admins, then an admin of a mid-level unit reads
members, lists departments and updates members in its subtree, and the super admin does
exactly the same requests, interleaved. Ours only: vanilla Synapse has neither the
directory nor admin groups. The ratio scoped ÷ super admin is the cost of the check
(target: < 2 ms added at p99)."""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pyotp

from benchmarks import population
from benchmarks.aclient import Answer, Http, MatrixUser
from benchmarks.scenario import Context, Sample
from benchmarks.servers import pg_table_reads
from homeserver.admin import bootstrap_grant
from homeserver.config_file import load_server_config
from modules.directory.records import DepartmentRecord, MemberRecord
from modules.directory.sample import generate_directory, write_csv

DIRECTORY = "/_jwwx/admin/v1/directory"
ADMINS = "/_jwwx/admin/v1/admins"
RUNNER_ADMIN = "benchadmin"  # the super admin benchmarks/runner.py registers
LEVELS = 5
STATS_LAG_S = 11.0  # PostgreSQL's statistics of an idle backend arrive within 10 s
MEASURED_LEVEL = 3  # the mid-level unit whose admin is measured
RIGHTS = [
    "directory.view",
    "directory.edit_structure",
    "directory.edit_members",
    "groups.create_subgroups",
]


# The import's accounts are not provisioned (55,000 at ~30/s would load the server for
# half an hour, through the measured phase): directory jobs run on no process. The
# admins' accounts are created directly; members need none to be read or updated.
MODULE_CONFIG = {
    "modules.directory.DirectoryModule": {"jobs_instance": "admin-api-benchmark-none"}
}


@dataclass(frozen=True)
class AdminSize:
    departments: int
    members: int
    groups: int
    admins: int
    requests: int  # of each kind, per admin


SIZES = {
    "small": AdminSize(2_000, 5_000, 100, 500, 200),
    "bureau": AdminSize(30_000, 55_000, 1_000, 5_000, 500),
}


def _depths(departments: list[DepartmentRecord]) -> dict[int, int]:
    parent = {d.id: d.parent_id for d in departments if d.id is not None}
    depth: dict[int, int] = {}

    def of(department_id: int) -> int:
        if department_id not in depth:
            up = parent.get(department_id)
            depth[department_id] = 0 if up is None else of(up) + 1
        return depth[department_id]

    for department_id in parent:
        of(department_id)
    return depth


def _plan_groups(
    departments: list[DepartmentRecord], total: int, rng: random.Random
) -> list[tuple[int, int, int | None]]:
    """(index, department, parent index) of `total` groups, LEVELS deep: a group of
    level k is scoped to a department strictly below its parent group's department
    (depth k + 1 or deeper), each department scoped by one group at most. The levels
    get 1:2:4:8:16 of the groups; what the tree cannot hold at the deepest levels goes
    to the levels above (the generated trees of both sizes reach `total`)."""
    depth = _depths(departments)
    parent = {d.id: d.parent_id for d in departments if d.id is not None}
    per_level = [max(1, total * share // 31) for share in (1, 2, 4, 8, 16)]
    per_level[-1] += total - sum(per_level)
    height = dict.fromkeys(depth, 0)  # levels of departments below each one
    for department_id in sorted(depth, key=lambda d: -depth[d]):
        up = parent.get(department_id)
        if up is not None:
            height[up] = max(height[up], height[department_id] + 1)
    plan: list[tuple[int, int, int | None]] = []
    used: set[int] = set()
    group_at: dict[int, int] = {}  # department → group index
    level_of: dict[int, int] = {}  # group index → level

    def nearest_group(department_id: int, level: int) -> int | None:
        """The group of `level` scoped to the nearest ancestor of this department."""
        up = parent.get(department_id)
        while up is not None:
            found = group_at.get(up)
            if found is not None and level_of[found] == level:
                return found
            up = parent.get(up)
        return None

    def candidates(level: int) -> list[tuple[int, int | None]]:
        out: list[tuple[int, int | None]] = []
        for department_id in sorted(depth):
            if department_id in used or depth[department_id] < level + 1:
                continue
            if level == 0:
                if depth[department_id] == 1:
                    out.append((department_id, None))
                continue
            up = nearest_group(department_id, level - 1)
            if up is not None:
                out.append((department_id, up))
        return out

    def add(level: int, count: int) -> None:
        # The shallowest first, then the tallest subtree: room for the levels below.
        pool = candidates(level)
        rng.shuffle(pool)
        pool.sort(key=lambda c: (depth[c[0]], -height[c[0]]))
        for department_id, up in pool[:count]:
            index = len(plan)
            plan.append((index, department_id, up))
            used.add(department_id)
            group_at[department_id] = index
            level_of[index] = level

    for level in range(LEVELS):
        add(level, per_level[level])
    for level in range(LEVELS - 1, 0, -1):  # the rest where the tree has room
        if len(plan) < total:
            add(level, total - len(plan))
    return plan


def _fresh_super_token(ctx: Context) -> str:
    """A new verified session of the runner's super admin (the bootstrap endpoint):
    a long import may outlast the admin API's idle timeout."""
    config = load_server_config(ctx.server.data_dir)
    return bootstrap_grant(config, RUNNER_ADMIN)["access_token"]


async def _pass_second_factor(admin: MatrixUser) -> None:
    """Enrol an authenticator and pass TOTP for this session (admin_api/sessions.py),
    as every admin does before the admin API answers it."""
    enrol = await admin.call("POST", "/_jwwx/client/v1/accounts/mfa/totp")
    if not enrol.ok:
        raise RuntimeError(f"TOTP enrolment: {enrol.error()}")
    code = pyotp.TOTP(enrol.body["secret"]).now()
    verify = await admin.call("POST", f"{ADMINS}/session/verify", {"code": code})
    if not verify.ok:
        raise RuntimeError(f"TOTP verification: {verify.error()}")


async def _create_plain_accounts(
    http: Http, ctx: Context, names: list[str], token: str
) -> None:
    """Accounts without a password (no bcrypt): admins that never log in here."""
    server_name = ctx.server.server_name

    def job(name: str) -> Callable[[], Awaitable[None]]:
        async def create() -> None:
            answer = await http.request(
                "PUT",
                "/_synapse/admin/v2/users/" + quote(f"@{name}:{server_name}"),
                {"displayname": name},
                token=token,
            )
            if answer.status not in (200, 201):
                raise RuntimeError(f"creating {name}: {answer.error()}")

        return create

    await population.bounded_gather([job(n) for n in names])


async def _setup(
    ctx: Context, http: Http, size: AdminSize
) -> tuple[MatrixUser, int, list[str], list[int], list[str]]:
    """(the measured admin, its unit, members in scope, departments in scope, members
    out of scope)."""
    rng = random.Random(5)
    departments, members = generate_directory(size.departments, size.members, 1, 0)
    folder = ctx.server.data_dir / "bench-admin-directory"
    files = write_csv(departments, members, folder)
    steps: list[str] = []
    step = time.perf_counter()

    def took(what: str) -> None:
        nonlocal step
        now = time.perf_counter()
        steps.append(f"{what} {now - step:.0f} s")
        print(f"  [admin-api] {what} in {now - step:.0f} s", flush=True)
        step = now

    for kind, path in zip(("departments", "members"), files, strict=True):
        answer = await http.request(
            "POST",
            f"{DIRECTORY}/import/{kind}?filename={kind}.csv",
            raw=path.read_bytes(),
            token=ctx.admin_token,
            timeout=900,
        )
        if not answer.ok:
            raise RuntimeError(f"import {kind}: {answer.error()}")
        took(f"import {kind}")
    token = _fresh_super_token(ctx)
    plan = _plan_groups(departments, size.groups, rng)
    names = population.localparts("groupadmin", size.admins)
    await _create_plain_accounts(http, ctx, names[1:], token)
    measured_name = names[0]
    await population.create_accounts(http, ctx, [measured_name])
    took(f"{size.admins} admin accounts")
    mid = [p for p in plan if _level(plan, p[0]) == MEASURED_LEVEL - 1]
    measured_group = mid[0][0] if mid else plan[-1][0]
    members_of: dict[int, list[str]] = {i: [] for i, _, _ in plan}
    members_of[measured_group].append(f"@{measured_name}:{ctx.server.server_name}")
    for name in names[1:]:
        members_of[rng.randrange(len(plan))].append(f"@{name}:{ctx.server.server_name}")
    ids: dict[int, int] = {}
    for index, department_id, up in plan:
        body: dict[str, Any] = {
            "name": f"管理组{index}",
            "scope": [department_id],
            "rights": RIGHTS,
            "members": members_of[index],
        }
        if up is not None:
            body["parent_id"] = ids[up]
        answer = await http.request("POST", f"{ADMINS}/groups", body, token=token)
        if not answer.ok:
            raise RuntimeError(f"admin group {index}: {answer.error()}")
        ids[index] = int(answer.body["id"])
    took(f"{len(plan)} admin groups")
    levels = [sum(1 for p in plan if _level(plan, p[0]) == k) for k in range(LEVELS)]
    ctx.notes.append(
        f"{len(departments)} departments, {len(members)} members; {len(plan)} admin "
        f"groups {LEVELS} levels deep ({'/'.join(map(str, levels))} per level) with "
        f"{size.admins} admins; set-up: {', '.join(steps)}"
    )
    (admin,) = await population.log_in(http, [measured_name])
    await _pass_second_factor(admin)
    unit = next(d for i, d, _ in plan if i == measured_group)
    inside, outside = _split(departments, members, unit)
    in_scope_departments = sorted(
        {d for d in _subtree(departments, unit)}, key=lambda d: (d != unit, d)
    )
    return admin, unit, inside, in_scope_departments, outside


def _level(plan: list[tuple[int, int, int | None]], index: int) -> int:
    up = plan[index][2]
    return 0 if up is None else _level(plan, up) + 1


def _subtree(departments: list[DepartmentRecord], top: int) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for d in departments:
        if d.id is not None:
            children.setdefault(d.parent_id, []).append(d.id)
    out, stack = set(), [top]
    while stack:
        current = stack.pop()
        out.add(current)
        stack.extend(children.get(current, []))
    return out


def _split(
    departments: list[DepartmentRecord], members: list[MemberRecord], unit: int
) -> tuple[list[str], list[str]]:
    subtree = _subtree(departments, unit)
    inside, outside = [], []
    for m in members:
        ids = {ms.department.department_id for ms in m.memberships}
        (inside if ids & subtree else outside).append(m.userid)
    return inside, outside


async def run(ctx: Context) -> None:
    size = SIZES[ctx.size]
    async with Http(ctx.server.base_url) as http:
        admin, unit, inside, departments, outside = await _setup(ctx, http, size)
        boss = MatrixUser(http, "super", _fresh_super_token(ctx))
        rng = random.Random(9)
        if not inside:
            raise RuntimeError(f"no member in the measured unit {unit}")
        # Warm: the first decision loads the directory view (one read of every
        # department and membership), not one of the measured requests.
        for who in (admin, boss):
            for userid in inside[:3]:
                await who.call("GET", f"{DIRECTORY}/members/{userid}")
        await ctx.settle()
        kinds: list[tuple[str, Callable[[int], tuple[str, str, Any]]]] = [
            (
                "GET member",
                lambda i: ("GET", f"{DIRECTORY}/members/{rng.choice(inside)}", None),
            ),
            (
                "GET department children",
                lambda i: (
                    "GET",
                    f"{DIRECTORY}/departments/{rng.choice(departments)}/children"
                    "?limit=50",
                    None,
                ),
            ),
            (
                "PUT member",
                lambda i: (
                    "PUT",
                    f"{DIRECTORY}/members/{rng.choice(inside)}",
                    {"position": f"民警{i % 7}"},
                ),
            ),
        ]
        with ctx.phase() as phase:
            for kind, make in kinds:
                reads_before = await _table_reads(ctx)
                scoped: list[float] = []
                plain: list[float] = []
                errors = {"mid-level admin": 0, "super admin": 0}
                first = ""
                for i in range(size.requests):
                    method, path, body = make(i)
                    for label, who, into in (
                        ("mid-level admin", admin, scoped),
                        ("super admin", boss, plain),
                    ):
                        answer: Answer = await who.call(method, path, body)
                        into.append(answer.seconds)
                        if not answer.ok:
                            errors[label] += 1
                            first = first or answer.error()
                for label, latencies in (
                    ("mid-level admin", scoped),
                    ("super admin", plain),
                ):
                    ctx.add(
                        Sample(
                            f"{kind} ({label})",
                            latencies,
                            errors=errors[label],
                            note=first[:60],
                            comparable=False,
                        )
                    )
                ctx.notes.append(_ratio(kind, scoped, plain))
                if reads_before is not None:
                    ctx.notes.append(
                        _reads_note(
                            kind, reads_before, await _table_reads(ctx), size.requests
                        )
                    )
            refused = 0
            for userid in rng.sample(outside, min(50, len(outside))):
                answer = await admin.call("GET", f"{DIRECTORY}/members/{userid}")
                refused += answer.status == 403
            ctx.notes.append(
                f"out of scope: {refused} of {min(50, len(outside))} reads refused "
                "with 403 (all expected)"
            )
        ctx.notes.append(phase.note())


async def _table_reads(ctx: Context) -> dict[str, tuple[int, int]] | None:
    """PostgreSQL's rows read per table (None on SQLite), after waiting out the
    statistics' reporting lag (benchmarks.servers.pg_table_reads)."""
    dbname = getattr(ctx.server, "pg_database", None)
    if not dbname:
        return None
    await asyncio.sleep(STATS_LAG_S)
    return await asyncio.to_thread(pg_table_reads, dbname)


def _reads_note(
    kind: str,
    before: dict[str, tuple[int, int]],
    after: dict[str, tuple[int, int]],
    requests: int,
) -> str:
    """Rows read per request during one kind's requests (both admins', and whatever
    the server did meanwhile): sequential-scan rows show work that grows with the
    directory, whatever the machine's load."""
    per = 2 * requests
    seq = {
        t: (after[t][0] - before.get(t, (0, 0))[0]) / per
        for t in after
        if after[t][0] > before.get(t, (0, 0))[0]
    }
    index = sum(a[1] - before.get(t, (0, 0))[1] for t, a in after.items()) / per
    top = ", ".join(
        f"{t} {n:.0f}" for t, n in sorted(seq.items(), key=lambda x: -x[1])[:4]
    )
    return (
        f"{kind}: rows read per request (PostgreSQL statistics): by sequential scans "
        f"{sum(seq.values()):.0f} ({top or 'none'}), through indexes {index:.0f}"
    )


def _ratio(kind: str, scoped: list[float], plain: list[float]) -> str:
    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    p50 = (pct(scoped, 0.5), pct(plain, 0.5))
    p99 = (pct(scoped, 0.99), pct(plain, 0.99))
    return (
        f"{kind}: mid-level admin ÷ super admin p50 {p50[0]:.1f}/{p50[1]:.1f} ms "
        f"(×{p50[0] / max(p50[1], 1e-9):.2f}), p99 {p99[0]:.1f}/{p99[1]:.1f} ms "
        f"(+{p99[0] - p99[1]:.1f} ms)"
    )
