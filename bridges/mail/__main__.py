# SPDX-License-Identifier: AGPL-3.0-or-later
"""python -m bridges.mail check-config|registration|run --config mail.yaml
(bridges/common/cli.py); `run` listens on bridge_url's host:port."""

import sys

from bridges.common.cli import bridge_main
from bridges.mail.config import load_config
from bridges.mail.registration import write
from bridges.mail.server import serve


def main(argv: list[str] | None = None) -> int:
    return bridge_main(
        "mail",
        argv,
        load_config,
        write,
        serve,
        lambda c: f"{c.bot_user_id}, IMAP {c.imap.host}:{c.imap.port}",
        "remind officers of new mail, serve the mail API",
    )


if __name__ == "__main__":
    sys.exit(main())
