# SPDX-License-Identifier: AGPL-3.0-or-later
"""The keyword filter and the encryption refusal, as Synapse spam-checker callbacks."""

import logging
from collections.abc import Iterable
from typing import Any, Literal

from modules.common.errors import ENCRYPTION_FORBIDDEN, KEYWORD_BLOCKED, error
from modules.common.runtime import ModuleRuntime
from modules.common.synapse_compat import Codes
from modules.policy.config import PolicyConfig
from modules.policy.extract import create_room_texts, event_texts
from modules.policy.matcher import KeywordMatcher
from modules.policy.storage import get_keyword_version_txn, get_keywords_txn

logger = logging.getLogger(__name__)

NOT_SPAM: Literal["NOT_SPAM"] = "NOT_SPAM"
SpamResult = Literal["NOT_SPAM"] | tuple[Codes, dict[str, Any]]


class KeywordFilter:
    """Holds the current matcher: config keywords plus the stored list."""

    def __init__(self, api: Any, config: PolicyConfig, runtime: ModuleRuntime) -> None:
        self._api = api
        self._config = config
        self._runtime = runtime
        self.version = -1
        self.stored: list[str] = []
        self._matcher = KeywordMatcher(config.keywords)

    def install(self, version: int, stored: list[str]) -> None:
        self.version, self.stored = version, stored
        self._matcher = KeywordMatcher([*self._config.keywords, *stored])
        logger.info(
            "keyword filter: %d keywords (version %d)", self._matcher.size, version
        )

    async def load(self) -> None:
        version, stored = await self._api.run_db_interaction(
            "jwwx_policy_get_keywords", get_keywords_txn
        )
        self.install(version, stored)

    async def reload_if_changed(self) -> None:
        """Periodic: pick up a list changed by another process (worker)."""
        if not self._runtime.is_ready:
            return
        version, _by, _ts = await self._api.run_db_interaction(
            "jwwx_policy_keyword_version", get_keyword_version_txn
        )
        if version != self.version:
            await self.load()

    def _refusal(self) -> tuple[Codes, dict[str, Any]]:
        # Synapse fixes the HTTP status (403) and merges these fields into the error body,
        # so the client sees errcode CN_JWWX_KEYWORD_BLOCKED and the Chinese text.
        return Codes.FORBIDDEN, {
            "errcode": KEYWORD_BLOCKED,
            "error": self._config.blocked_message,
            "cn.jwwx.reason": "keyword",
        }

    async def check_texts(self, texts: Iterable[str]) -> SpamResult:
        # Never let a message through unfiltered while the stored list is loading.
        await self._runtime.ready()
        if self._matcher.first_match(texts) is not None:
            return self._refusal()
        return NOT_SPAM


class PolicyCallbacks:
    def __init__(self, config: PolicyConfig, keywords: KeywordFilter) -> None:
        self._config = config
        self._keywords = keywords

    async def check_event_for_spam(self, event: Any) -> SpamResult:
        return await self._keywords.check_texts(event_texts(event.type, event.content))

    async def check_event_allowed(
        self, event: Any, _state: Any
    ) -> tuple[bool, dict[str, Any] | None]:
        """Refuse m.room.encryption wherever it comes from: this callback also sees server
        admins' /createRoom (which skips the spam checker) and federated events.
        Synapse passes a raised SynapseError through to the client unchanged."""
        if event.type == "m.room.encryption" and self._config.refuse_encryption:
            raise error(403, ENCRYPTION_FORBIDDEN, self._config.encryption_message)
        return True, None

    async def user_may_create_room(
        self, user_id: str, room_config: dict[str, Any]
    ) -> SpamResult:
        return await self._keywords.check_texts(create_room_texts(room_config))
