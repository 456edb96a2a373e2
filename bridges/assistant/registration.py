# SPDX-License-Identifier: AGPL-3.0-or-later
"""The assistant's application-service registration, generated from its config: it
claims only its bot (exclusively), so Synapse sends it the events of the chats the bot
is in, and it is not rate-limited (a streamed answer is several edits)."""

import re
from pathlib import Path
from typing import Any

from bridges.assistant.config import AssistantConfig
from bridges.common.registration import ensure_token, write_registration


def registration(config: AssistantConfig) -> dict[str, Any]:
    return {
        "id": config.registration_id,
        "url": config.bridge_url,
        "as_token": ensure_token(config.as_token_file),
        "hs_token": ensure_token(config.hs_token_file),
        "sender_localpart": config.sender_localpart,
        "namespaces": {
            "users": [{"exclusive": True, "regex": re.escape(config.bot_user_id)}],
            "aliases": [],
            "rooms": [],
        },
        "rate_limited": False,
    }


def write(config: AssistantConfig, path: Path) -> None:
    write_registration(
        registration(config), path, "python -m bridges.assistant registration"
    )
