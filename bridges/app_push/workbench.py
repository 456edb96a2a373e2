# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bridge's apps on the officers' workbench: once the bridge has started it hands
the workbench the apps of its config that have a `workbench` mapping (PUT
/_jwwx/client/v1/workbench/bridged with the application service's token). The workbench
adds the new ones as `zone2_app` entries, updates the listed ones and removes the
entries of apps no longer listed, so an app registered here appears without an admin
typing it again and leaves when it is removed. Tried again with back-off (2 s doubling
to 60 s) while the homeserver cannot be reached or answers 5xx; a refusal (bad entry,
registration not in the workbench's `bridges`, no workbench module) is logged and not
retried. `state` is what GET /health reports."""

import logging
from typing import Any

from twisted.internet import defer, task

from bridges.app_push.config import AppPushConfig
from bridges.common.matrix import BotClient, MatrixError

logger = logging.getLogger(__name__)
PATH = "/_jwwx/client/v1/workbench/bridged"
FIRST_WAIT = 2.0
LONGEST_WAIT = 60.0


class WorkbenchSync:
    def __init__(self, config: AppPushConfig, bot: BotClient, clock: Any) -> None:
        self._config = config
        self._bot = bot
        self._clock = clock
        self.state: dict[str, Any] = {"status": "pending"}

    async def run(self) -> None:
        apps = self._config.workbench_apps()
        wait = FIRST_WAIT
        while True:
            try:
                answer = await self._bot.request("PUT", PATH, {"apps": apps})
            except MatrixError as e:
                if e.status < 500:
                    logger.error("workbench refused the bridge's apps: %s", e)
                    self.state = {"status": "refused", "error": str(e)}
                    return
                problem = str(e)
            except Exception as e:  # noqa: BLE001 - unreachable: try again
                problem = f"{type(e).__name__}: {e}"
            else:
                logger.info("workbench entries of the bridge's apps: %s", answer)
                self.state = {"status": "done", **answer}
                return
            logger.warning("workbench sync failed (%s); again in %.0f s", problem, wait)
            self.state = {"status": "retrying", "error": problem}
            await task.deferLater(self._clock, wait, lambda: None)
            wait = min(LONGEST_WAIT, wait * 2)

    def start(self) -> "defer.Deferred[None]":
        return defer.ensureDeferred(self.run())
