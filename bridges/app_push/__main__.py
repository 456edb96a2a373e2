# SPDX-License-Identifier: AGPL-3.0-or-later
"""python -m bridges.app_push check-config --config app_push.yaml
python -m bridges.app_push registration --config app_push.yaml --output data/app_push.yaml
python -m bridges.app_push run --config app_push.yaml   (listens on bridge_url's host:port)

Bad options or config: one line on stderr, exit code 2."""

import argparse
import sys
from pathlib import Path

from bridges.app_push.config import load_config
from bridges.app_push.registration import write_registration
from bridges.app_push.server import serve
from modules.common.synapse.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bridges.app_push")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check-config", help="validate the config")
    check.add_argument("--config", type=Path, required=True)
    reg = commands.add_parser("registration", help="write the appservice registration")
    reg.add_argument("--config", type=Path, required=True)
    reg.add_argument("--output", type=Path, required=True)
    run = commands.add_parser("run", help="receive pushes and deliver them")
    run.add_argument("--config", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        if args.command == "run":
            return serve(config)
        if args.command == "registration":
            write_registration(config, args.output)
            print(f"wrote {args.output}; add it to app_service_config_files")
        else:
            print(f"{args.config}: ok ({len(config.apps)} apps)")
    except (ConfigError, ValueError, OSError) as e:
        print(f"app_push: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
