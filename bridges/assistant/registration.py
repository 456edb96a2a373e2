# SPDX-License-Identifier: AGPL-3.0-or-later
"""The assistant's application-service registration, generated from its config: it
claims only its bot (exclusively), so Synapse sends it the events of the chats the bot
is in, and it is not rate-limited (a streamed answer is several edits)."""

from pathlib import Path
from typing import Any

from bridges.assistant.config import AssistantConfig
from bridges.common.registration import bot_appservice, write_registration


def registration(config: AssistantConfig) -> dict[str, Any]:
    return bot_appservice(config)


def write(config: AssistantConfig, path: Path) -> None:
    write_registration(
        registration(config), path, "python -m bridges.assistant registration"
    )
