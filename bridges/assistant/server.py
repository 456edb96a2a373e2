# SPDX-License-Identifier: AGPL-3.0-or-later
"""The assistant's process: the application-service listener (bridges/common/appservice)
handing each event to the assistant, until stopped (SIGTERM/SIGINT)."""

import logging
from typing import Any

from twisted.internet import defer

from bridges.assistant.bot import Assistant
from bridges.assistant.config import AssistantConfig
from bridges.common.appservice import TransactionHandler, introduce, listen
from bridges.common.matrix import BotClient
from bridges.common.registration import ensure_token

logger = logging.getLogger(__name__)


def serve(config: AssistantConfig) -> int:
    """Listen on bridge_url's host and port until stopped (SIGTERM/SIGINT)."""
    from twisted.internet import reactor as installed

    reactor: Any = installed
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    bot = BotClient(
        config.homeserver_url, ensure_token(config.as_token_file), config.bot_user_id
    )
    assistant = Assistant(config, bot)
    handler = TransactionHandler(ensure_token(config.hs_token_file), assistant.on_event)
    port = listen(config.bridge_url, handler.handle)
    reactor.callWhenRunning(
        lambda: defer.ensureDeferred(introduce(bot, config.display_name))
    )
    logger.info("assistant %s on port %s", config.bot_user_id, port)
    reactor.run()
    return 0
