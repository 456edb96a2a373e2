# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of the web console (homeserver.yaml → modules → admin_api.console.ConsoleModule).

Keys:
  idle_logout_minutes (int 1-480, default 15): after this long without a key press,
      click or scroll in the console, the page signs the session out (the access token
      is revoked with /logout) and shows the login page again. A warning appears one
      minute before.
  page_size (int 10-500, default 50): members per page in 通讯录 (the directory's own
      max_page_size must allow it).
  title (string, default 警务微信管理后台): the name in the page title and header.
"""

from dataclasses import dataclass
from typing import Any

from modules.common.config import ConfigReader
from modules.common.synapse.errors import ConfigError

MODULE = "admin_api.console"


@dataclass(frozen=True)
class ConsoleConfig:
    idle_logout_minutes: int = 15
    page_size: int = 50
    title: str = "警务微信管理后台"

    @staticmethod
    def parse(raw: Any) -> "ConsoleConfig":
        reader = ConfigReader(raw, MODULE)
        config = ConsoleConfig(
            idle_logout_minutes=reader.integer(
                "idle_logout_minutes", 15, minimum=1, maximum=480
            ),
            page_size=reader.integer("page_size", 50, minimum=10, maximum=500),
            title=reader.string("title", "警务微信管理后台"),
        )
        reader.finish()
        if len(config.title) > 40 or not config.title.strip():
            raise ConfigError(
                f"{MODULE}.title: 1 to 40 characters, got {config.title!r}"
            )
        return config
