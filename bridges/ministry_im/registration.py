# SPDX-License-Identifier: AGPL-3.0-or-later
"""The application-service registration of the ministry bridge, generated from its
config: the puppets @<user_prefix>* exclusively, not rate-limited, with ephemeral
events (read receipts in portal rooms are relayed to the ministry), and the portal rooms'
aliases #<user_prefix>portal.* exclusively (worker.py: a portal is found again after
a crash by its alias)."""

import re
from pathlib import Path
from typing import Any

from bridges.common.registration import puppet_appservice
from bridges.common.registration import write_registration as write
from bridges.ministry_im.config import MinistryConfig


def registration(config: MinistryConfig) -> dict[str, Any]:
    found = puppet_appservice(config)
    found["receive_ephemeral"] = True
    # Portal rooms are created under #<prefix>portal.<key>: nobody else may take one.
    alias = (
        re.escape(f"#{config.user_prefix}portal.")
        + ".*"
        + re.escape(":" + config.server_name)
    )
    found["namespaces"]["aliases"] = [{"exclusive": True, "regex": alias}]
    return found


def write_registration(config: MinistryConfig, path: Path) -> None:
    write(registration(config), path, "python -m bridges.ministry_im registration")
