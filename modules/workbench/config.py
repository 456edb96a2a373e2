# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of modules.workbench (homeserver.yaml → modules → modules.workbench.WorkbenchModule).

Keys:
  risk_prompt (str, default below): the data-security prompt (数据安全风险提示) an
    officer's client shows and has confirmed before it opens an entry in another
    network zone (zone "external"), unless the entry sets its own. 1–500 characters.
  max_entries (int, default 500): how many entries the workbench may hold.
  cache_seconds (int, default 5, 0–300): how long a process keeps the entry list
    before reading it again (each admin write refreshes the writing process at once;
    other workers within this time).
  bridges (list of strings, default ["jwwx_app_push"]): the application services (by
    registration id) that keep entries of their own: the app-push bridge lists its
    zone-II APPs (PUT /_jwwx/client/v1/workbench/bridged, docs/workbench.md); a
    registration not listed here is refused (403).
"""

from dataclasses import dataclass
from typing import Any

from modules.common.config import ConfigReader
from modules.common.synapse.errors import ConfigError

MODULE = "modules.workbench"
DEFAULT_RISK_PROMPT = (
    "您即将离开警务微信所在网络区域，打开其他网络区域的应用。"
    "请勿传输涉密信息，注意数据安全。是否继续？"
)


@dataclass(frozen=True)
class WorkbenchConfig:
    risk_prompt: str = DEFAULT_RISK_PROMPT
    max_entries: int = 500
    cache_seconds: int = 5
    bridges: tuple[str, ...] = ("jwwx_app_push",)

    @staticmethod
    def parse(raw: Any) -> "WorkbenchConfig":
        reader = ConfigReader(raw, MODULE)
        d = WorkbenchConfig()
        config = WorkbenchConfig(
            risk_prompt=reader.string("risk_prompt", d.risk_prompt),
            max_entries=reader.integer(
                "max_entries", d.max_entries, minimum=1, maximum=10000
            ),
            cache_seconds=reader.integer(
                "cache_seconds", d.cache_seconds, minimum=0, maximum=300
            ),
            bridges=tuple(reader.string_list("bridges", d.bridges)),
        )
        reader.finish()
        if not 1 <= len(config.risk_prompt.strip()) <= 500:
            raise ConfigError(f"{MODULE}.risk_prompt must have 1–500 characters")
        return config
