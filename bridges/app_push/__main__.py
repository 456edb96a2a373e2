# SPDX-License-Identifier: AGPL-3.0-or-later
"""python -m bridges.app_push check-config|registration|run --config app_push.yaml
(bridges/common/cli.py); `run` listens on bridge_url's host:port."""

import sys

from bridges.app_push.config import load_config
from bridges.app_push.registration import write_registration
from bridges.app_push.server import serve
from bridges.common.cli import bridge_main


def main(argv: list[str] | None = None) -> int:
    return bridge_main(
        "app_push",
        argv,
        load_config,
        write_registration,
        serve,
        lambda c: f"{len(c.apps)} apps",
        "receive pushes and deliver them",
    )


if __name__ == "__main__":
    sys.exit(main())
