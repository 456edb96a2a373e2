# SPDX-License-Identifier: AGPL-3.0-or-later
"""Officers of one department, made the way a bureau gets them (docs/directory.md):
the department's members imported from one CSV file (the directory's bulk import), then
each officer's first login with an initial password (the admin API's reset stands for
the e-mail; the login creates the Matrix account if provisioning has not yet) and the
password change a first login requires. Minutes for 10,000 officers, where creating
members one by one through the admin API took about an hour."""

import asyncio
import csv
import io
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from benchmarks import population
from benchmarks.aclient import CLIENT, Http, MatrixUser, login
from benchmarks.scenario import PASSWORD, Context
from modules.directory.records import MEMBER_COLUMNS

DIRECTORY = "/_jwwx/admin/v1/directory"
READY_BUDGET_S = 600.0  # import → every member able to log in (≈ 1 min for 55,000)
LOGIN_CONCURRENCY = 8  # first logins in flight (each may create an account)


@dataclass
class Officers:
    users: list[MatrixUser]
    department: int
    timings: dict[str, float]  # set-up steps → seconds
    refused: list[str]  # first logins refused once (then tried again): why

    def note(self) -> str:
        steps = ", ".join(f"{k} {v:.0f} s" for k, v in self.timings.items())
        text = f"{len(self.users)} officers set up by directory import ({steps})"
        if self.refused:
            text += (
                f"; {len(self.refused)} first logins refused and tried again "
                f"(first: {self.refused[0]})"
            )
        return text


def members_csv(names: list[str], department: int) -> bytes:
    """账号, 姓名, 部门: one row per officer, all in `department`."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([MEMBER_COLUMNS[f][0] for f in ("userid", "name", "departments")])
    writer.writerows([n, f"警员{n[-5:]}", department] for n in names)
    return out.getvalue().encode("utf-8")


async def _ok(http: Http, ctx: Context, method: str, path: str, **kw: Any) -> Any:
    answer = await http.request(method, path, token=ctx.admin_token, **kw)
    if answer.status not in (200, 201):
        raise RuntimeError(f"{method} {path}: {answer.error()}")
    return answer.body


async def _job_until(
    http: Http, ctx: Context, job: int, field: str, budget_s: float
) -> dict[str, Any]:
    """Poll the provisioning job until `field` reaches its total."""
    deadline = time.perf_counter() + budget_s
    while True:
        progress = await _ok(http, ctx, "GET", f"{DIRECTORY}/jobs/{job}")
        if int(progress[field]) >= int(progress["total"]):
            return dict(progress)
        if time.perf_counter() > deadline:
            raise RuntimeError(f"job {job}: {field} not complete: {progress}")
        await asyncio.sleep(1.0)


async def first_login(
    http: Http, ctx: Context, name: str, refused: list[str]
) -> MatrixUser:
    """An initial password from the admin (as the e-mail would bring), the first
    login with it, and the password change the first login requires (the session
    stays: logout_devices false). A refused login is tried once more with a new
    initial password, as an officer would; `refused` says why it was refused (the
    member's account state then)."""
    for attempt in range(2):
        reset = await _ok(
            http, ctx, "POST", f"{DIRECTORY}/members/{name}/initial_password", body={}
        )
        initial = str(reset["initial_password"])
        answer, token = await login(http, name, initial)
        if token:
            break
        member = await http.request(
            "GET", f"{DIRECTORY}/members/{name}", token=ctx.admin_token
        )
        failures = await http.request(
            "GET", f"{DIRECTORY}/failures", token=ctx.admin_token
        )
        state = member.body.get("account_state") if member.ok else None
        why = str(failures.body)[:300] if failures.ok else ""
        refused.append(f"{name}: {answer.error()[:60]}; account {state}; {why}")
        if attempt:
            raise RuntimeError(f"first login of {name}: {refused[-1]}")
    user = MatrixUser(http, str(answer.body["user_id"]), token)
    changed = await user.call(
        "POST",
        f"{CLIENT}/account/password",
        {
            "new_password": PASSWORD,
            "logout_devices": False,
            "auth": {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": name},
                "password": initial,
            },
        },
    )
    if not changed.ok:
        raise RuntimeError(f"password change of {name}: {changed.error()}")
    return user


async def department(
    http: Http, ctx: Context, prefix: str, count: int, name: str = "压测大队"
) -> Officers:
    """`count` officers (`prefix` + 5 digits), members of one new department, logged in
    with passwords of their own and their Matrix accounts created."""
    timings: dict[str, float] = {}
    began = time.perf_counter()
    made = await _ok(
        http,
        ctx,
        "POST",
        f"{DIRECTORY}/departments",
        body={"name": name, "parent_id": None},
    )
    department_id = int(made["id"])
    names = population.localparts(prefix, count)
    imported = await _ok(
        http,
        ctx,
        "POST",
        f"{DIRECTORY}/import/members?filename=members.csv",
        raw=members_csv(names, department_id),
        timeout=900,
    )
    job = int(imported["job_id"])
    timings["import"] = time.perf_counter() - began
    await _job_until(http, ctx, job, "login_ready", READY_BUDGET_S)
    timings["able to log in"] = time.perf_counter() - began

    refused: list[str] = []

    def one(n: str) -> Callable[[], Awaitable[MatrixUser]]:
        return lambda: first_login(http, ctx, n, refused)

    users = await population.bounded_gather(
        [one(n) for n in names], concurrency=LOGIN_CONCURRENCY
    )
    timings["first logins"] = time.perf_counter() - began
    # The logins created the accounts they needed; the job marks the rest.
    await _job_until(http, ctx, job, "created", READY_BUDGET_S)
    timings["accounts created"] = time.perf_counter() - began
    return Officers(users, department_id, timings, refused)


async def device_change_in_a_room(officer: MatrixUser) -> str:
    """One device change of an officer who is in a room (a room of their own, made
    here): what a running bureau always has. Synapse's per-room device-list change
    cache answers "every room changed" while it is empty, so on a fresh server each
    incremental /sync of every officer runs one more transaction (reading
    device_lists_changes_in_room) until some device changes in some room; in
    production any officer's login does that within seconds of a start. Both kinds of
    the benchmark's /sync cost would otherwise be a fresh server's. Returns the note."""
    await officer.create_room(preset="private_chat", name="压测设备")
    devices = await officer.call("GET", f"{CLIENT}/devices")
    if not devices.ok or not devices.body.get("devices"):
        raise RuntimeError(f"devices of {officer.user_id}: {devices.error()}")
    device = str(devices.body["devices"][0]["device_id"])
    renamed = await officer.call(
        "PUT", f"{CLIENT}/devices/{device}", {"display_name": "压测终端"}
    )
    if not renamed.ok:
        raise RuntimeError(f"device rename of {officer.user_id}: {renamed.error()}")
    return (
        "one officer's device renamed in a room before the measured phases (Synapse's "
        "device-list change cache not empty, as on a running server)"
    )
