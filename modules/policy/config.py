# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of modules.policy (homeserver.yaml → modules → modules.policy.PolicyModule).

Keys:
  keywords (list of strings, default []): keywords always filtered, on top of the list
      admins edit through /_jwwx/admin/v1/policy/keywords (stored in the database).
  blocked_message (string, default "消息包含敏感词，无法发送"): the `error` text a sender
      sees when a message is refused for a keyword.
  refuse_encryption (bool, default true): refuse m.room.encryption (DESIGN.md: no E2EE,
      the server must read content for audit and filtering).
  encryption_message (string): the `error` text when encryption is refused.
  reload_interval_seconds (number, default 5): how often each process checks whether
      the stored keyword list changed (matters with several workers).
  max_keywords (int, default 100000) and max_keyword_length (int, default 100): limits
      on the admin-edited list.
"""

from dataclasses import dataclass
from typing import Any

from modules.common.config import ConfigReader
from modules.common.synapse.errors import ConfigError
from modules.policy.matcher import normalise

MODULE = "modules.policy"


@dataclass(frozen=True)
class PolicyConfig:
    keywords: tuple[str, ...] = ()
    blocked_message: str = "消息包含敏感词，无法发送"
    refuse_encryption: bool = True
    encryption_message: str = "本系统不允许开启端到端加密"
    reload_interval_seconds: float = 5.0
    max_keywords: int = 100_000
    max_keyword_length: int = 100

    @staticmethod
    def parse(raw: Any) -> "PolicyConfig":
        reader = ConfigReader(raw, MODULE)
        defaults = PolicyConfig()
        config = PolicyConfig(
            keywords=tuple(reader.string_list("keywords")),
            blocked_message=reader.string("blocked_message", defaults.blocked_message),
            refuse_encryption=reader.boolean("refuse_encryption", True),
            encryption_message=reader.string(
                "encryption_message", defaults.encryption_message
            ),
            reload_interval_seconds=reader.number(
                "reload_interval_seconds", defaults.reload_interval_seconds, minimum=0.5
            ),
            max_keywords=reader.integer(
                "max_keywords", defaults.max_keywords, minimum=1
            ),
            max_keyword_length=reader.integer(
                "max_keyword_length",
                defaults.max_keyword_length,
                minimum=1,
                maximum=10_000,
            ),
        )
        reader.finish()
        for index, keyword in enumerate(config.keywords):
            if not normalise(keyword):
                raise ConfigError(
                    f"{MODULE}.keywords[{index}]: {keyword!r} is only spaces or invisible characters"
                )
        return config
