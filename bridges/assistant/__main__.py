# SPDX-License-Identifier: AGPL-3.0-or-later
"""python -m bridges.assistant check-config|registration|run --config assistant.yaml
(bridges/common/cli.py); `run` listens on bridge_url's host:port."""

import sys

from bridges.assistant.config import load_config
from bridges.assistant.registration import write
from bridges.assistant.server import serve
from bridges.common.cli import bridge_main


def main(argv: list[str] | None = None) -> int:
    return bridge_main(
        "assistant",
        argv,
        load_config,
        write,
        serve,
        lambda c: f"{c.bot_user_id}, {c.engine.model}",
        "answer officers",
    )


if __name__ == "__main__":
    sys.exit(main())
