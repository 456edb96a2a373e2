# SPDX-License-Identifier: AGPL-3.0-or-later
"""python -m bridges.ministry_im check-config|registration|run --config ministry_im.yaml
(bridges/common/cli.py); `run` listens on bridge_url's host:port."""

import sys

from bridges.common.cli import bridge_main
from bridges.ministry_im.config import load_config
from bridges.ministry_im.registration import write_registration
from bridges.ministry_im.server import serve


def main(argv: list[str] | None = None) -> int:
    return bridge_main(
        "ministry_im",
        argv,
        load_config,
        write_registration,
        serve,
        lambda c: f"{c.system_id} ↔ {c.peer_id} at {c.peer_url}",
        "relay between portal rooms and the ministry IM",
    )


if __name__ == "__main__":
    sys.exit(main())
