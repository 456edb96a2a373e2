# SPDX-License-Identifier: AGPL-3.0-or-later
"""The mail bridge's process: one listener for the application-service API (Synapse's
calls, bridges/common/appservice), the officers' mail API (/_jwwx/mail/v1/, api.py) and
GET /metrics (Prometheus text: checks, reminders, reads and replies by result, IDLE
sessions and wake-ups); an IMAP IDLE session per bound mailbox (bridges/mail/idle.py)
and a poll round each `poll_interval_seconds` for the mailboxes without one."""

import logging
from typing import Any
from urllib.parse import urlsplit

from twisted.internet import defer, task

from prometheus_client import generate_latest

from bridges.common.appservice import TransactionHandler, introduce, listen
from bridges.common.matrix import BotClient
from bridges.common.registration import ensure_token
from bridges.mail.api import MailApi
from bridges.mail.bot import MailBot
from bridges.mail.config import MailConfig
from bridges.mail.registration import ensure_seal_key
from bridges.mail.service import MailService
from bridges.mail.storage import MailStore
from modules.common.http import RawBody

logger = logging.getLogger(__name__)


def router(transactions: TransactionHandler, api: MailApi, service: MailService) -> Any:
    async def handle(request: Any) -> tuple[int, Any]:
        path = urlsplit(request.uri.decode("latin-1")).path
        if MailApi.handles(path):
            return await api.handle(request)
        if path == "/metrics" and request.method == b"GET":
            text = generate_latest(service.metrics.registry)
            return 200, RawBody("text/plain; version=0.0.4", text, inline=True)
        return await transactions.handle(request)

    return handle


def serve(config: MailConfig) -> int:
    """Listen on bridge_url's host and port until stopped (SIGTERM/SIGINT)."""
    from twisted.internet import reactor as installed

    reactor: Any = installed
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    bot = BotClient(
        config.homeserver_url, ensure_token(config.as_token_file), config.bot_user_id
    )
    store = MailStore(config.state_database, ensure_seal_key(config.seal_key_file))
    service = MailService(config, bot, store)
    mail_bot = MailBot(config.server_name, bot, service)
    transactions = TransactionHandler(
        ensure_token(config.hs_token_file), mail_bot.on_event
    )
    api = MailApi(config.server_name, bot, service)
    port = listen(config.bridge_url, router(transactions, api, service))

    async def check_all() -> None:
        try:
            await service.check_all()
        except Exception:  # the loop must outlive any one round (a locked file, …)
            logger.exception("mailbox checks failed")

    checks = task.LoopingCall(lambda: defer.ensureDeferred(check_all()))
    reactor.callWhenRunning(
        lambda: defer.ensureDeferred(introduce(bot, config.display_name))
    )
    reactor.callWhenRunning(service.watch_all)
    reactor.callWhenRunning(
        lambda: checks.start(config.poll_interval_seconds, now=False)
    )
    logger.info("mail bridge %s on port %s", config.bot_user_id, port)
    reactor.run()
    store.close()
    return 0
