# SPDX-License-Identifier: AGPL-3.0-or-later
"""The application service registration of the bridge, generated from its config.

Synapse reads it through `app_service_config_files` (put that in data/conf.d/, see
docs/app_push.md; the launcher does it when `jwwx_bridges.app_push` is configured). The
bridge claims exclusively the users of its source apps (@<user_prefix>*, reserved:
delivery goes through each app's open-API app) and is not rate-limited. It receives no
ephemeral events: the read statistics are the open API's (read receipts on its copies).
"""

import re
from pathlib import Path
from typing import Any

from bridges.app_push.config import AppPushConfig
from bridges.common.registration import appservice
from bridges.common.registration import write_registration as write


def registration(config: AppPushConfig) -> dict[str, Any]:
    users = (
        re.escape("@" + config.user_prefix) + ".*" + re.escape(":" + config.server_name)
    )
    return appservice(
        config.registration_id,
        config.bridge_url,
        config.as_token_file,
        config.hs_token_file,
        config.sender_localpart,
        users,
    )


def write_registration(config: AppPushConfig, path: Path) -> None:
    write(registration(config), path, "python -m bridges.app_push registration")
