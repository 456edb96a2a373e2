# SPDX-License-Identifier: AGPL-3.0-or-later
"""The command line every bridge offers:

    python -m bridges.NAME check-config --config NAME.yaml
    python -m bridges.NAME registration --config NAME.yaml --output data/NAME.yaml
    python -m bridges.NAME run --config NAME.yaml

Bad options or config: one line on stderr, exit code 2."""

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from modules.common.synapse.errors import ConfigError

C = TypeVar("C")


def bridge_main(
    name: str,
    argv: list[str] | None,
    load: Callable[[Path], C],
    write_registration: Callable[[C, Path], Any],
    serve: Callable[[C], int],
    describe: Callable[[C], str],
    run_help: str,
) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m bridges.{name}")
    commands = parser.add_subparsers(dest="command", required=True)
    for command, text in (
        ("check-config", "validate the config"),
        ("registration", "write the application service registration"),
        ("run", run_help),
    ):
        sub = commands.add_parser(command, help=text)
        sub.add_argument("--config", type=Path, required=True)
        if command == "registration":
            sub.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        config = load(args.config)
        if args.command == "run":
            return serve(config)
        if args.command == "registration":
            write_registration(config, args.output)
            print(f"wrote {args.output}; add it to app_service_config_files")
        else:
            print(f"{args.config}: ok ({describe(config)})")
    except (ConfigError, ValueError, OSError) as e:
        print(f"{name}: {e}", file=sys.stderr)
        return 2
    return 0
