# SPDX-License-Identifier: AGPL-3.0-or-later
"""The vanilla half of the directory benchmark: Synapse 1.163.2 without our modules,
same launcher config and engine. Account creation through Synapse's admin API (the
comparable part), then Synapse's user-directory search over the accounts it has."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from benchmarks import load
from benchmarks.client import Client
from benchmarks.directory_data import KINDS, Size, queries
from benchmarks.report import Report, Row
from benchmarks.servers import CPU_NOTE, CpuMeter, running
from benchmarks.stats import Summary
from modules.directory.records import MemberRecord

USER_SEARCH = "/_matrix/client/v3/user_directory/search"
WORKERS = 4


@dataclass
class VanillaResult:
    accounts_per_s: float = 0.0  # sequential, one client
    accounts_per_s_concurrent: float = 0.0
    accounts_per_cpu_s: float = 0.0  # per CPU-second of the server, 1 client
    population: int = 0
    search: dict[str, Summary] = field(default_factory=dict)


def _create_requests(
    members: Sequence[MemberRecord], server_name: str
) -> list[load.Request]:
    return [
        (
            "PUT",
            "/_synapse/admin/v2/users/" + quote(f"@{m.userid}:{server_name}"),
            {"displayname": m.name},
        )
        for m in members
    ]


def count_user_results(body: Any) -> int:
    return len(body.get("results", [])) if isinstance(body, dict) else 0


def user_search_requests(names: Sequence[str]) -> list[load.Request]:
    return [("POST", USER_SEARCH, {"search_term": q, "limit": 20}) for q in names]


def run_vanilla(
    size: Size, engine: str, members: Sequence[MemberRecord], report: Report
) -> VanillaResult:
    out = VanillaResult()
    n = size.vanilla_accounts
    with running(engine, vanilla=True) as server:
        _, admin_token = server.register("benchadmin", admin=True)
        _, user_token = server.register("benchuser")
        report.machine["vanilla_server_version"] = server.server_version(admin_token)
        admin = Client(server.base_url, admin_token)
        with CpuMeter(server) as cpu:
            seq = load.sequential(
                admin,
                _create_requests(members[:n], server.server_name),
                size.loop_budget_s * 2,
                ok=(200, 201),
            )
        admin.close()
        out.accounts_per_s = seq.summary().throughput
        report.add(
            Row(
                "vanilla provisioning",
                "PUT /_synapse/admin/v2/users, 1 client",
                seq.summary(),
                note=seq.note() or "no password, displayname only",
            )
        )
        out.accounts_per_cpu_s = len(seq.latencies) / max(cpu.seconds, 1e-9)
        report.add(
            Row(
                "vanilla provisioning",
                "accounts per server CPU-second, 1 client",
                value=cpu.seconds,
                unit="cpu-s",
                n=len(seq.latencies),
                throughput=out.accounts_per_cpu_s,
                note=CPU_NOTE,
            )
        )
        con = load.concurrent(
            lambda: Client(server.base_url, admin_token),
            _create_requests(members[n : 2 * n], server.server_name),
            WORKERS,
            size.loop_budget_s * 2,
            ok=(200, 201),
        )
        out.accounts_per_s_concurrent = con.summary().throughput
        report.add(
            Row(
                "vanilla provisioning",
                f"PUT /_synapse/admin/v2/users, {WORKERS} clients",
                con.summary(),
                note=con.note(),
            )
        )
        created = members[: len(seq.latencies) + len(con.latencies)]
        out.population = len(created) + 2
        user = Client(server.base_url, user_token)
        for kind in KINDS:
            asked = queries(kind, created, size.queries_per_kind, seed=7)
            result = load.sequential(
                user,
                user_search_requests(asked),
                size.loop_budget_s,
                count_user_results,
            )
            out.search[kind] = result.summary()
            report.add(
                Row(
                    "vanilla user_directory/search",
                    f"{kind} (over {out.population} accounts)",
                    result.summary(),
                    note=result.note(),
                )
            )
        user.close()
    return out
