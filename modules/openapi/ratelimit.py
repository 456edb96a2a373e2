# SPDX-License-Identifier: AGPL-3.0-or-later
"""WeCom's per-app call limit (45009): a fixed one-minute window per app, counted in
Redis when Synapse has it (so every worker shares the count), else in this process."""

import logging
import time

from synapse.module_api import ModuleApi

from modules.common.synapse.runtime import shared_counter
from modules.openapi import errors
from modules.openapi.errors import WeComError

logger = logging.getLogger(__name__)

KEY_PREFIX = "jwwx:openapi:rate"


class RateLimiter:
    def __init__(self, api: ModuleApi, limit_per_minute: int) -> None:
        self._limit = limit_per_minute
        self._shared = shared_counter(api) if limit_per_minute > 0 else None
        self._local: dict[int, tuple[int, int]] = {}  # agentid → (minute, count)

    async def check(self, agentid: int) -> None:
        if self._limit <= 0:
            return
        minute = int(time.time() // 60)
        count = None
        if self._shared is not None:
            try:
                count = await self._shared(f"{KEY_PREFIX}:{agentid}:{minute}", 120)
            except Exception as e:
                # Redis unreachable: count here rather than refuse or stop limiting.
                logger.warning("shared rate counter unavailable: %s", e)
        if count is None:
            start, seen = self._local.get(agentid, (minute, 0))
            count = (seen if start == minute else 0) + 1
            self._local[agentid] = (minute, count)
        if count > self._limit:
            raise WeComError(errors.RATE_LIMITED, f"{self._limit} calls per minute")
