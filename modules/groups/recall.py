# SPDX-License-Identifier: AGPL-3.0-or-later
"""The officers' recall window (撤回), enforced on every redaction a local user sends.

A recall is a standard Matrix redaction. An officer may recall his own message within
the `recall_window_seconds` setting (default 24 hours; 0: no limit); after it the
redaction he asks for (his own HTTP request) is refused with 403 CN_JWWX_RECALL_EXPIRED
and nothing is sent. Redactions made in his name by others are not his recall: a server
admin puppeting him (Synapse's admin API redacting a user's events), background jobs. A redaction
of someone else's message is not ours to judge: the room's power levels decide (group
owners and admins recall members' messages at any time, as WeChat's 群主/管理员 do).
Not subject to the window: burn-after-read messages (modules.burn redacts them as their
sender when their time is up), public-account and app cards (withdrawn under their own
rules), and server admins (Synapse's admin redaction APIs). Other servers' users are
judged by their own server. docs/groups.md, "Recall window".
"""

from collections.abc import Mapping
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.errors import RECALL_EXPIRED, error
from modules.common.markers import BURN_FIELDS, SERVICE_CARD_FIELDS
from modules.common.synapse.errors import SynapseError
from modules.common.synapse.events import get_event_with_position
from modules.common.synapse.http import requested_by_self
from modules.groups.settings import SettingsCache

REDACTION = "m.room.redaction"
_EXEMPT_FIELDS = BURN_FIELDS + SERVICE_CARD_FIELDS


def window_text(seconds: int) -> str:
    """24小时, 2分钟, 90秒: the window as the refusal words it."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600}小时"
    if seconds % 60 == 0:
        return f"{seconds // 60}分钟"
    return f"{seconds}秒"


def recall_expired(seconds: int) -> SynapseError:
    return error(
        403,
        RECALL_EXPIRED,
        f"消息发送已超过{window_text(seconds)}，不能撤回",
        **{"cn.jwwx.recall_window_seconds": seconds},
    )


def _exempt(content: Any) -> bool:
    # Synapse's event content is an immutable mapping, not a dict.
    if not isinstance(content, Mapping):
        return False
    new_content = content.get("m.new_content")
    return any(field in content for field in _EXEMPT_FIELDS) or (
        isinstance(new_content, Mapping)
        and any(field in new_content for field in BURN_FIELDS)
    )


class RecallWindow:
    def __init__(self, api: ModuleApi, settings: SettingsCache) -> None:
        self._api = api
        self._settings = settings

    async def check(self, event: Any) -> None:
        """Raise 403 CN_JWWX_RECALL_EXPIRED for a local user's redaction of his own
        message older than the window."""
        window = self._settings.current.recall_window_seconds
        redacts = event.redacts
        if not window or not redacts or not self._api.is_mine(event.sender):
            return
        # Only the officer's own request: not a server admin puppeting him, not our
        # modules' or Synapse's background redactions (burn, withdrawals, the admin
        # API's "redact a user's events" task).
        if not requested_by_self(event.sender):
            return
        found = await get_event_with_position(self._api, redacts)
        if found is None:
            return  # unknown here: Synapse's own rules apply
        target = found[0]
        if target.sender != event.sender or target.internal_metadata.is_redacted():
            return
        age_ms = self._api.get_current_time_msec() - int(target.origin_server_ts)
        if age_ms <= window * 1000 or _exempt(target.content):
            return
        if await self._api.is_user_admin(event.sender):
            return
        raise recall_expired(window)
