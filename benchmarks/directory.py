# SPDX-License-Identifier: AGPL-3.0-or-later
"""`python -m benchmarks directory`: import a realistic directory, provision its
accounts, search and list it; vanilla Synapse alongside for account creation and
user search. See benchmarks/README.md for what each number means."""

import os
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks import directory_ours as ours
from benchmarks import load
from benchmarks.directory_data import (
    KINDS,
    SIZES,
    department_visible,
    pick_officer,
    queries,
)
from benchmarks.directory_vanilla import VanillaResult, run_vanilla
from benchmarks.report import Report, Row
from benchmarks.servers import (
    OVERLAY_NOTE,
    load_average,
    machine_info,
    pg_last_analyzed,
    running,
)
from benchmarks.stats import Stopwatch
from modules.directory.records import DepartmentRecord, MemberRecord
from modules.directory.sample import big_department_id, generate_directory, write_csv

DURING_QUERIES_PER_KIND = 40
BUSY_LOAD = 0.5
STAT_TABLES = (
    "jwwx_dir_members",
    "jwwx_dir_memberships",
    "jwwx_dir_departments",
    "jwwx_dir_search_terms",
)


def run(size_name: str, engine: str, json_out: Path | None) -> int:
    size = SIZES[size_name]
    report = Report(
        "directory",
        params={
            "size": size_name,
            "departments": size.departments,
            "members": size.members,
            "big_department_members": size.big_department,
            "vanilla_accounts_per_mode": size.vanilla_accounts,
            "queries_per_kind": size.queries_per_kind,
            "provision_budget_s": size.provision_budget_s,
        },
        machine=machine_info(engine),
    )
    report.notes.append(OVERLAY_NOTE)
    if os.getloadavg()[0] > BUSY_LOAD:
        print(
            f"warning: load average {load_average()}: other work will skew the numbers"
        )
    print(f"generating {size.departments} departments, {size.members} members …")
    folder = Path(tempfile.mkdtemp(prefix="jwwx-bench-dir-"))
    try:
        with Stopwatch() as sw:
            departments, members = generate_directory(
                size.departments, size.members, 1, size.big_department
            )
            files = write_csv(departments, members, folder)
        report.add(
            Row(
                "generate",
                "generate_directory + write_csv",
                value=sw.seconds,
                unit="s",
                n=len(members),
                note=f"{len(departments)} departments",
            )
        )
        print("vanilla Synapse …", flush=True)
        vanilla = run_vanilla(size, engine, members, report)
        print("ours …", flush=True)
        run_ours(size_name, engine, departments, members, files, vanilla, report)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report.machine["loadavg_end"] = load_average()
    print()
    print(report.text())
    if json_out is not None:
        report.write_json(json_out)
        print(f"JSON written to {json_out}")
    return 0


def run_ours(
    size_name: str,
    engine: str,
    departments: list[DepartmentRecord],
    members: list[MemberRecord],
    files: tuple[Path, Path],
    vanilla: VanillaResult,
    report: Report,
) -> None:
    size = SIZES[size_name]
    big = big_department_id(departments)
    officer = pick_officer(departments, members, size.big_department)
    with running(engine) as server:
        _, admin_token = server.register("benchadmin", admin=True)
        # Registered before the import: the member with this userid is then linked.
        _, officer_token = server.register(officer.userid)
        report.machine["ours_server_version"] = server.server_version(admin_token)
        actors = ours.Actors(server, admin_token, officer_token, officer.userid)
        job_id = ours.import_phase(actors, files, officer.name, report)
        import_end = time.perf_counter()
        ours.login_readiness_phase(
            actors, job_id, import_end, members, size.provision_budget_s, report
        )
        if not department_visible(departments, big):
            report.notes.append(f"big department {big} is hidden: officers get 404")

        # While the accounts are being created: a short sample, as officers see it.
        during = [
            r
            for kind in KINDS
            for r in ours.search_requests(
                queries(kind, members, DURING_QUERIES_PER_KIND, seed=5)
            )
        ]
        client = actors.officer()
        r = load.sequential(client, during, size.loop_budget_s, ours.count_members)
        client.close()
        progress = ours.job(actors, job_id)
        ours.add_load_row(
            report,
            "ours search, during provisioning",
            "all kinds mixed (officer)",
            r,
            f"{progress['pending']} accounts pending after",
        )

        progress = ours.provisioning_phase(
            actors, job_id, import_end, size.provision_budget_s, vanilla, report
        )
        extra = (
            ""
            if progress["finished"]
            else (f"provisioning running ({progress['pending']} pending at budget end)")
        )
        ours.search_suite(actors, members, size, report, extra)
        ours.listing_suite(actors, big, size, report, extra)
        population = ours.job(actors, job_id)["created"] + 2
        ours.matrix_search_suite(actors, members, size, population, report)
        report.notes.append(
            "search populations differ: ours searches the whole directory "
            f"({len(members)} members), vanilla user_directory/search only the "
            f"{vanilla.population} accounts it has; compare latencies with care. "
            "The ratio column is only given for account creation (ours/vanilla "
            "accounts per second, >1 = ours faster)."
        )
        if server.pg_database:
            analyzed = pg_last_analyzed(server.pg_database, STAT_TABLES)
            report.notes.append(
                "PostgreSQL statistics of the directory tables at the end (last "
                f"ANALYZE): {analyzed}; autovacuum="
                f"{report.machine.get('postgres_autovacuum')}"
            )
        report.notes.append(
            f"officer: {officer.userid} ({officer.name}); big department id {big}"
        )
