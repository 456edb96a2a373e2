# SPDX-License-Identifier: AGPL-3.0-or-later
"""The keyword filter and the encryption refusal, as Synapse spam-checker and
third-party-rules callbacks.

Where each text is checked (docs/policy.md has the field list):
- check_event_for_spam: every non-membership event, local (messages, reactions,
  redactions, state events, custom types) or received over federation. It gets no room
  state, and the tuple it returns becomes the client's error body.
- check_state_event (the adapter's state event rule; Synapse's check_event_allowed
  would load the room's whole state for every message): membership events (Synapse
  does not spam-check them: per-room nicknames, invite/kick/ban/leave/knock reasons,
  third-party invites) and every local state event, which covers the initial state of
  a server admin's /createRoom (Synapse skips user_may_create_room for admins). A local
  refusal is raised as a SynapseError, which Synapse passes to the client unchanged; a
  remote event is refused with False.
- user_may_create_room / user_may_create_room_alias: the whole /createRoom request and
  every new alias (PUT /directory/room, room_alias_name).
Requests that carry text without an event (to-device, presence, profile) are checked in
modules/policy/requests.py.
"""

import logging
from collections.abc import Iterable
from typing import Any, Literal

from prometheus_client import Counter
from synapse.module_api import ModuleApi

from modules.common.errors import ENCRYPTION_FORBIDDEN, KEYWORD_BLOCKED, error
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.errors import Codes, SynapseError
from modules.policy.config import PolicyConfig
from modules.policy.extract import Text, create_room_texts, event_texts
from modules.policy.matcher import KeywordMatcher
from modules.policy.storage import get_keyword_version_txn, get_keywords_txn

logger = logging.getLogger(__name__)

KEYWORD_BLOCKS = Counter(
    "jwwx_policy_keyword_blocks",
    "Messages, names and module content refused for a filtered keyword",
)
NOT_SPAM: Literal["NOT_SPAM"] = "NOT_SPAM"
SpamResult = Literal["NOT_SPAM"] | tuple[Codes, dict[str, Any]]


class KeywordFilter:
    """Holds the current matcher: config keywords plus the stored list."""

    def __init__(
        self, api: ModuleApi, config: PolicyConfig, runtime: ModuleRuntime
    ) -> None:
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

    def _fields(self) -> dict[str, Any]:
        return {
            "errcode": KEYWORD_BLOCKED,
            "error": self._config.blocked_message,
            "cn.jwwx.reason": "keyword",
        }

    def _refusal(self) -> tuple[Codes, dict[str, Any]]:
        # Synapse fixes the HTTP status (403) and merges these fields into the error body,
        # so the client sees errcode CN_JWWX_KEYWORD_BLOCKED and the Chinese text.
        return Codes.FORBIDDEN, self._fields()

    def refusal_error(self) -> SynapseError:
        """The same answer, as an exception (for callbacks that raise)."""
        return error(
            403,
            KEYWORD_BLOCKED,
            self._config.blocked_message,
            **{"cn.jwwx.reason": "keyword"},
        )

    async def blocked(self, texts: Iterable[Text]) -> bool:
        # Never let a message through unfiltered while the stored list is loading.
        await self._runtime.ready()
        if self._matcher.first_match(texts) is None:
            return False
        KEYWORD_BLOCKS.inc()
        return True

    async def explain(self, text: str, as_html: bool) -> list[str]:
        """The keywords a message with this text would be refused for (none: sent),
        by the same matcher and views as real messages; counts no block."""
        await self._runtime.ready()
        return self._matcher.all_in([(text, as_html)])

    async def check_texts(self, texts: Iterable[Text]) -> SpamResult:
        if await self.blocked(texts):
            return self._refusal()
        return NOT_SPAM

    async def require_clean(self, texts: Iterable[Text]) -> None:
        """Raise the keyword refusal if any text hits a keyword."""
        if await self.blocked(texts):
            raise self.refusal_error()


def _texts_of(event: Any) -> Iterable[Text]:
    return event_texts(event.type, event.get_state_key(), event.content)


class PolicyCallbacks:
    def __init__(
        self, api: ModuleApi, config: PolicyConfig, keywords: KeywordFilter
    ) -> None:
        self._api = api
        self._config = config
        self._keywords = keywords

    async def check_event_for_spam(self, event: Any) -> SpamResult:
        if event.type == "m.room.member":
            return NOT_SPAM  # checked in check_state_event (and not called for it)
        return await self._keywords.check_texts(_texts_of(event))

    async def check_state_event(self, event: Any, _state: Any) -> bool:
        """Refuse m.room.encryption wherever it comes from: this rule also sees server
        admins' /createRoom (which skips the spam checker) and federated events.
        Synapse passes a raised SynapseError through to the client unchanged.

        Keywords: membership events and local state events (see the module docstring).
        """
        if event.type == "m.room.encryption" and self._config.refuse_encryption:
            raise error(403, ENCRYPTION_FORBIDDEN, self._config.encryption_message)
        local = self._api.is_mine(event.sender)
        if not local and event.type != "m.room.member":
            return True  # remote state events: check_event_for_spam sees them
        if await self._keywords.blocked(_texts_of(event)):
            if local:
                raise self._keywords.refusal_error()
            return False
        return True

    async def user_may_create_room(
        self, user_id: str, room_config: dict[str, Any]
    ) -> SpamResult:
        return await self._keywords.check_texts(create_room_texts(room_config))

    async def user_may_create_room_alias(
        self, user_id: str, room_alias: Any
    ) -> SpamResult:
        return await self._keywords.check_texts([(room_alias.to_string(), False)])
