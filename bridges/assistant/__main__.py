# SPDX-License-Identifier: AGPL-3.0-or-later
"""python -m bridges.assistant check-config --config assistant.yaml
python -m bridges.assistant registration --config assistant.yaml --output data/assistant.yaml
python -m bridges.assistant run --config assistant.yaml   (listens on bridge_url's host:port)

Bad options or config: one line on stderr, exit code 2."""

import argparse
import sys
from pathlib import Path

from bridges.assistant.config import load_config
from bridges.assistant.registration import write
from bridges.assistant.server import serve
from modules.common.synapse.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bridges.assistant")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("check-config", "validate the config"),
        ("registration", "write the application service registration"),
        ("run", "answer officers"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--config", type=Path, required=True)
        if name == "registration":
            command.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        if args.command == "run":
            return serve(config)
        if args.command == "registration":
            write(config, args.output)
            print(f"wrote {args.output}; add it to app_service_config_files")
        else:
            print(f"{args.config}: ok ({config.bot_user_id}, {config.engine.model})")
    except (ConfigError, ValueError, OSError) as e:
        print(f"assistant: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
