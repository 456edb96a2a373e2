"""python -m benchmarks SCENARIO [options]: run one benchmark, print a table."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.directory_data import SIZES


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmarks against a real server (ours and vanilla Synapse).",
    )
    scenarios = parser.add_subparsers(dest="scenario", required=True)
    dir_parser = scenarios.add_parser(
        "directory", help="import, provisioning, search and listing of the directory"
    )
    dir_parser.add_argument("--size", choices=sorted(SIZES), default="small")
    dir_parser.add_argument(
        "--engine", choices=("sqlite", "postgres"), default="sqlite"
    )
    dir_parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)

    if args.engine == "postgres":
        from tests.harness import postgres

        reason = postgres.unavailable_reason()
        if reason:
            print(f"benchmarks: {reason}", file=sys.stderr)
            return 2
    from benchmarks import directory

    return directory.run(args.size, args.engine, args.json)


if __name__ == "__main__":
    sys.exit(main())
