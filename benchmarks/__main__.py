# SPDX-License-Identifier: AGPL-3.0-or-later
"""python -m benchmarks run SCENARIO… | directory: run benchmarks, print a table."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.directory_data import SIZES

QUICK = ("login", "dm-latency", "group-fanout", "directory-search", "wecom-api")
PROVISION_HELP = (
    "provision: directory import and account provisioning (the `directory` benchmark:"
    " its own table, vanilla's account creation alongside)"
)


def _postgres_missing() -> str | None:
    from tests.harness import postgres

    return postgres.unavailable_reason()


def _add_run(scenarios: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    from benchmarks.scenarios import SCENARIOS

    listing = "; ".join(
        [PROVISION_HELP, *(f"{s.name}: {s.help}" for s in SCENARIOS.values())]
    )
    run = scenarios.add_parser(
        "run",
        help="scenarios against vanilla Synapse and ours, one table",
        description=f"Scenarios: {listing}. 'quick' = {' '.join(QUICK)}.",
    )
    run.add_argument(
        "scenario",
        nargs="+",
        choices=["provision", *SCENARIOS, "quick", "all"],
        metavar="SCENARIO",
    )
    run.add_argument("--size", choices=("small", "bureau"), default="small")
    run.add_argument(
        "--engine", choices=("sqlite", "postgres", "both"), default="sqlite"
    )
    run.add_argument("--json", type=Path, help="write the results as JSON")
    run.add_argument("--plot", type=Path, metavar="DIR", help="one PNG per scenario")
    run.add_argument("--duration", type=float, help="soak: seconds (default 60)")
    run.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="py-spy the servers during each measured phase (raw stacks in DIR)",
    )
    run.add_argument(
        "--timeline",
        action="store_true",
        help="with --profile: a time line per phase (py-spy 1,000 Hz with idle"
        " threads, chrometrace) and its reactor turns over 25 ms in the notes",
    )
    run.add_argument("--pairs", type=int, help="dm-latency: pairs (overrides size)")
    run.add_argument(
        "--rate",
        type=float,
        help="messages/s: dm-latency (all pairs), group-fanout (into the group)",
    )
    run.add_argument(
        "--members",
        type=int,
        help="group-fanout: members; dm-sample: sample directory members;"
        " directory-search: the same N members on both (user search comparable)",
    )
    run.add_argument("--recipients", type=int, help="wecom-api: push recipients")
    run.add_argument(
        "--creation-only",
        action="store_true",
        help="wecom-api: only the push right after the app's creation (big sizes)",
    )
    run.add_argument(
        "--poll-timeout",
        type=int,
        metavar="MS",
        help="the simulated clients' /sync long-poll timeout (default 30000, Element's)",
    )
    run.add_argument(
        "--without",
        type=lambda v: tuple(x.strip() for x in v.split(",") if x.strip()),
        metavar="MODULE,…",
        help="ours without these modules (e.g. audit,openapi): what each one costs",
    )
    run.add_argument(
        "--overlay",
        type=Path,
        metavar="FILE",
        help="extra Synapse settings (YAML, conf.d) for both servers alike",
    )
    run.add_argument(
        "--no-vanilla",
        action="store_true",
        help="run ours only (quicker, no ratio); with --workers: the deployment only",
    )
    run.add_argument(
        "--vanilla-defaults",
        action="store_true",
        help="vanilla with Synapse's defaults, not our rendered tuning (issue 17, item 8)",
    )
    run.add_argument(
        "--rounds",
        type=int,
        help="run vanilla then ours N times (alternated), each round its own rows",
    )
    run.add_argument(
        "--workers",
        choices=("small", "bureau"),
        help="ours as one process (monolith) against ours as this worker deployment,"
        " both behind nginx, on PostgreSQL with Redis (no vanilla; --engine postgres)",
    )
    run.add_argument(
        "--setup-on",
        choices=("monolith", "workers"),
        help="with --workers, scenarios that hand over (pubaccount): set the users up"
        " on one process, then restart the same database as the workers (monolith, the"
        " default), or set them up on the workers",
    )
    run.add_argument(
        "--idle",
        type=float,
        metavar="S",
        help="messaging scenarios: measure the server's CPU for S s with everyone"
        " long-polling before sending (the cost of an online user; 30 s covers one"
        " /sync timeout)",
    )
    run.add_argument(
        "--messages",
        type=int,
        help="cross-domain: messages per link; group-fanout: messages (overrides size)",
    )
    run.add_argument("--files", type=int, help="cross-domain: files per link")
    run.add_argument(
        "--file-mib", type=float, help="cross-domain: size of each file (MiB)"
    )
    run.add_argument(
        "--bcrypt-rounds",
        type=int,
        help="login: bcrypt cost of the accounts' hashes (default 4; production 12)",
    )
    run.add_argument(
        "--trace",
        action="store_true",
        help="login: read the server's counters around each 1-client login (GC, "
        "reactor turns, transactions by name) and compare the slowest 3%% with the rest",
    )


def _run(args: argparse.Namespace) -> int:
    from benchmarks import runner
    from benchmarks.scenarios import SCENARIOS

    names: list[str] = []
    for name in args.scenario:
        expanded = {"quick": QUICK, "all": ("provision", *SCENARIOS)}.get(name, (name,))
        names += [n for n in expanded if n not in names]
    engines = ("sqlite", "postgres") if args.engine == "both" else (args.engine,)
    if args.workers and engines != ("postgres",):
        print("benchmarks: --workers needs --engine postgres", file=sys.stderr)
        return 2
    if "postgres" in engines and (reason := _postgres_missing()):
        print(f"benchmarks: {reason}", file=sys.stderr)
        return 2
    status = 0
    if "provision" in names:
        from benchmarks import directory

        names.remove("provision")
        for engine in engines:
            out = None
            if args.json is not None:
                out = args.json.with_name(f"{args.json.stem}-provision-{engine}.json")
            status |= directory.run(args.size, engine, out)
        if not names:
            return status
    options = {
        "duration": args.duration,
        "pairs": args.pairs,
        "rate": args.rate,
        "members": args.members,
        "recipients": args.recipients,
        "creation_only": args.creation_only,
        "bcrypt_rounds": args.bcrypt_rounds,
        "trace": args.trace,
        "profile": args.profile,
        "timeline": args.timeline,
        "without": args.without,
        "no_vanilla": args.no_vanilla,
        "overlay": args.overlay,
        "rounds": args.rounds,
        "vanilla_defaults": args.vanilla_defaults,
        "workers": args.workers,
        "setup_on": args.setup_on,
        "idle": args.idle,
        "messages": args.messages,
        "files": args.files,
        "file_mib": args.file_mib,
        "poll_timeout": args.poll_timeout,
    }
    return status | runner.run(names, args.size, engines, args.json, args.plot, options)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmarks against a real server (ours and vanilla Synapse).",
    )
    scenarios = parser.add_subparsers(dest="command", required=True)
    _add_run(scenarios)
    dir_parser = scenarios.add_parser(
        "directory", help="import, provisioning, search and listing of the directory"
    )
    dir_parser.add_argument("--size", choices=sorted(SIZES), default="small")
    dir_parser.add_argument(
        "--engine", choices=("sqlite", "postgres"), default="sqlite"
    )
    dir_parser.add_argument("--json", type=Path, help="also write the results as JSON")
    capacity = scenarios.add_parser(
        "capacity",
        help="the bureau's CPU from a run's measured costs (docs/availability.md)",
    )
    capacity.add_argument(
        "json_file",
        type=Path,
        help="a `run --json` file with"
        " dm-latency and group-fanout, measured with --idle",
    )
    capacity.add_argument(
        "--server", default="ours", help="ours, monolith, workers-small, workers-bureau"
    )
    capacity.add_argument(
        "--online",
        type=int,
        default=33000,
        help="officers online at the peak (default 60%% of 55,000)",
    )
    capacity.add_argument(
        "--rate",
        type=float,
        action="append",
        help="messages per second at the peak (repeatable; default 50, 100, 200)",
    )
    capacity.add_argument(
        "--recipients",
        type=float,
        default=10.0,
        help="recipients per message on average (default 10)",
    )
    capacity.add_argument("--cores-per-server", type=int, default=16)
    plot_parser = scenarios.add_parser(
        "plot", help="the PNGs of an earlier run, from its --json file (or .json.gz)"
    )
    plot_parser.add_argument("json_file", type=Path)
    plot_parser.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    args = parser.parse_args(argv)

    if args.command == "run":
        return _run(args)
    if args.command == "capacity":
        from benchmarks.capacity import report

        try:
            print(
                report(
                    args.json_file,
                    args.server,
                    args.online,
                    args.rate or [50.0, 100.0, 200.0],
                    args.recipients,
                    args.cores_per_server,
                )
            )
        except (OSError, ValueError) as e:
            print(f"benchmarks capacity: {e}", file=sys.stderr)
            return 2
        return 0
    if args.command == "plot":
        from benchmarks.plot import plot_json

        for path in plot_json(args.json_file, args.out):
            print(f"plot written to {path}")
        return 0
    if args.engine == "postgres" and (reason := _postgres_missing()):
        print(f"benchmarks: {reason}", file=sys.stderr)
        return 2
    from benchmarks import directory

    return directory.run(args.size, args.engine, args.json)


if __name__ == "__main__":
    sys.exit(main())
