# SPDX-License-Identifier: AGPL-3.0-or-later
"""The application service registration of the bridge, generated from its config.

Synapse reads it through `app_service_config_files` (put that in data/conf.d/, see
docs/app_push.md). The bridge claims exclusively the users of its source apps
(@<user_prefix>*), receives ephemeral events (read receipts, for its statistics) and is
not rate-limited (a push to a unit is many sends).
"""

import re
from pathlib import Path
from typing import Any

from bridges.app_push.config import AppPushConfig
from bridges.common.registration import ensure_token
from bridges.common.registration import write_registration as write


def registration(config: AppPushConfig) -> dict[str, Any]:
    users = (
        re.escape("@" + config.user_prefix) + ".*" + re.escape(":" + config.server_name)
    )
    return {
        "id": config.registration_id,
        "url": config.bridge_url,
        "as_token": ensure_token(config.as_token_file),
        "hs_token": ensure_token(config.hs_token_file),
        "sender_localpart": config.sender_localpart,
        "namespaces": {
            "users": [{"exclusive": True, "regex": users}],
            "aliases": [],
            "rooms": [],
        },
        "rate_limited": False,
        "receive_ephemeral": True,
    }


def write_registration(config: AppPushConfig, path: Path) -> None:
    write(registration(config), path, "python -m bridges.app_push registration")
