# SPDX-License-Identifier: AGPL-3.0-or-later
"""Accounts for scenarios: created through Synapse's admin API with a password of their
own (so on ours they are ordinary accounts, not in the first-login "initial password"
state), then logged in with m.login.password like a client."""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from benchmarks.aclient import Http, MatrixUser, login
from benchmarks.scenario import PASSWORD, Context

T = TypeVar("T")
SETUP_CONCURRENCY = 4  # setup requests in flight: enough to keep 2 cores busy


async def bounded_gather(
    jobs: Sequence[Callable[[], Awaitable[T]]], concurrency: int = SETUP_CONCURRENCY
) -> list[T]:
    """Run the jobs with at most `concurrency` at once; results in order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


def localparts(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i:05d}" for i in range(count)]


async def create_accounts(
    http: Http,
    ctx: Context,
    names: Sequence[str],
    displaynames: Sequence[str] | None = None,
) -> None:
    """PUT /_synapse/admin/v2/users/@name:server with a password, for each name
    (display names: the given ones, or 测试警员 and the name's number)."""
    server_name = ctx.server.server_name
    shown = displaynames or [f"测试警员{n[-5:]}" for n in names]

    def job(name: str, displayname: str) -> Callable[[], Awaitable[None]]:
        async def create() -> None:
            answer = await http.request(
                "PUT",
                "/_synapse/admin/v2/users/" + quote(f"@{name}:{server_name}"),
                {"password": PASSWORD, "displayname": displayname},
                token=ctx.admin_token,
            )
            if answer.status not in (200, 201):
                raise RuntimeError(f"creating {name}: {answer.error()}")

        return create

    await bounded_gather([job(n, d) for n, d in zip(names, shown, strict=True)])


async def log_in(http: Http, names: Sequence[str]) -> list[MatrixUser]:
    def job(name: str) -> Callable[[], Awaitable[MatrixUser]]:
        async def one() -> MatrixUser:
            answer, token = await login(http, name, PASSWORD)
            if not token:
                raise RuntimeError(f"login {name}: {answer.error()}")
            return MatrixUser(http, str(answer.body["user_id"]), token)

        return one

    return await bounded_gather([job(n) for n in names])


async def users(http: Http, ctx: Context, prefix: str, count: int) -> list[MatrixUser]:
    """`count` fresh accounts, created and logged in."""
    names = localparts(prefix, count)
    await create_accounts(http, ctx, names)
    return await log_in(http, names)


DIRECTORY_ADMIN = "/_jwwx/admin/v1/directory"


async def import_directory(
    http: Http, ctx: Context, files: Sequence[Path], timeout: float
) -> int:
    """Import the departments and members CSV files (ours only) as the admin; the id
    of the members' job (which provisions their accounts)."""
    job = 0
    for kind, path in zip(("departments", "members"), files, strict=True):
        answer = await http.request(
            "POST",
            f"{DIRECTORY_ADMIN}/import/{kind}?filename={kind}.csv",
            raw=path.read_bytes(),
            token=ctx.admin_token,
            timeout=timeout,
        )
        if not answer.ok:
            raise RuntimeError(f"import {kind}: {answer.error()}")
        job = int(answer.body.get("job_id") or job)
    return job


async def wait_for_job(
    http: Http, ctx: Context, job: int, wait_s: float, poll_s: float
) -> tuple[dict[str, Any], float]:
    """Poll an import job until it has finished or `wait_s` passed: its last progress
    and the seconds waited."""
    began, progress = time.perf_counter(), dict[str, Any]()
    while time.perf_counter() - began < wait_s:
        progress = (
            await http.request(
                "GET", f"{DIRECTORY_ADMIN}/jobs/{job}", token=ctx.admin_token
            )
        ).body or {}
        if progress.get("finished"):
            break
        await asyncio.sleep(poll_s)
    return progress, time.perf_counter() - began
