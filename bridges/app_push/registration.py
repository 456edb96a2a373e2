# SPDX-License-Identifier: AGPL-3.0-or-later
"""The application service registration of the bridge, generated from its config.

Synapse reads it through `app_service_config_files` (put that in data/conf.d/, see
docs/app_push.md; the launcher does it when `jwwx_bridges.app_push` is configured). The
bridge claims exclusively the users of its source apps (@<user_prefix>*, reserved:
delivery goes through each app's open-API app) and is not rate-limited. It receives no
ephemeral events: the read statistics are the open API's (read receipts on its copies).
"""

from pathlib import Path
from typing import Any

from bridges.app_push.config import AppPushConfig
from bridges.common.registration import puppet_appservice
from bridges.common.registration import write_registration as write


def registration(config: AppPushConfig) -> dict[str, Any]:
    return puppet_appservice(config)


def write_registration(config: AppPushConfig, path: Path) -> None:
    write(registration(config), path, "python -m bridges.app_push registration")
