# SPDX-License-Identifier: AGPL-3.0-or-later
"""The assistant's application-service registration, generated from its config: it
claims only its bot (exclusively), so Synapse sends it the events of the chats the bot
is in, and it is not rate-limited (a streamed answer is several edits)."""

import re
from pathlib import Path
from typing import Any

from bridges.assistant.config import AssistantConfig
from bridges.common.registration import appservice, write_registration


def registration(config: AssistantConfig) -> dict[str, Any]:
    return appservice(
        config.registration_id,
        config.bridge_url,
        config.as_token_file,
        config.hs_token_file,
        config.sender_localpart,
        re.escape(config.bot_user_id),
    )


def write(config: AssistantConfig, path: Path) -> None:
    write_registration(
        registration(config), path, "python -m bridges.assistant registration"
    )
