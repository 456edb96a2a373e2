# SPDX-License-Identifier: AGPL-3.0-or-later
"""Retention (聊天记录保存期限): the admin setting "keep chat records N days or forever",
mapped onto Synapse's own message retention.

Synapse purges events older than a room's `m.room.retention` `max_lifetime` (its purge
jobs; `retention.enabled` in homeserver.yaml). This module makes every room carry the
admin's policy: new rooms get it in their initial state, existing rooms get it sent by a
local member allowed to (owner or admin) whenever the setting changes, and nobody may set
another policy (403 CN_JWWX_RETENTION_FIXED, in rules.py). Media: local media older than
the same limit are deleted by Synapse's media repository (avatars kept), except those a
favourite (modules.favorites) still references.
"""

import json
import logging

from synapse.module_api import ModuleApi

from modules.common.synapse.errors import SynapseError
from modules.common.synapse.media import delete_local_media, old_local_media_ids
from modules.common.synapse.tables import all_room_ids_txn
from modules.favorites.public import favourited_local_media
from modules.groups import storage
from modules.groups.config import GroupsConfig
from modules.groups.settings import SettingsCache
from modules.groups.state import CREATE, GROUP_TYPE, MEMBER, POWER_LEVELS, RoomView

logger = logging.getLogger(__name__)

RETENTION_TYPE = "m.room.retention"
UNREACHABLE = "unreachable:"
ROOMS_PER_TICK = 200


def policy_key(policy: dict[str, int]) -> str:
    return json.dumps(policy, sort_keys=True)


class RetentionApplier:
    def __init__(
        self, api: ModuleApi, config: GroupsConfig, settings: SettingsCache
    ) -> None:
        self._api = api
        self._config = config
        self._settings = settings
        self._last_sweep = 0
        # The policy every room was found to carry in the last full pass, and when: a
        # pass (which reads the whole room list) runs when the policy changes, and
        # otherwise once per media sweep interval to catch stragglers.
        self._done: tuple[str, int] | None = None

    async def tick(self) -> None:
        policy = self._settings.current.retention_policy()
        key = policy_key(policy)
        now = self._api.get_current_time_msec()
        recheck_ms = self._config.media_sweep_seconds * 1000
        if (
            self._done is not None
            and self._done[0] == key
            and now - self._done[1] < recheck_ms
        ):
            await self._sweep_media()
            return
        applied = await self._api.run_db_interaction(
            "jwwx_groups_retention_applied", storage.retention_applied_txn
        )
        rooms = await self._api.run_db_interaction(
            "jwwx_groups_all_rooms", all_room_ids_txn
        )
        todo = [r for r in rooms if applied.get(r) not in (key, UNREACHABLE + key)]
        for room_id in todo[:ROOMS_PER_TICK]:
            if not policy and room_id not in applied:
                # Never stamped and the policy is "forever": nothing to send.
                await self._record(room_id, key)
                continue
            await self._record(room_id, await self._apply(room_id, policy, key))
        if len(todo) <= ROOMS_PER_TICK:
            self._done = (key, now)
        await self._sweep_media()

    async def _record(self, room_id: str, value: str) -> None:
        await self._api.run_db_interaction(
            "jwwx_groups_retention_record",
            storage.set_retention_applied_txn,
            room_id,
            value,
            self._api.get_current_time_msec(),
        )

    async def _apply(self, room_id: str, policy: dict[str, int], key: str) -> str:
        state = await self._api.get_room_state(
            room_id,
            [
                (CREATE, ""),
                (POWER_LEVELS, ""),
                (GROUP_TYPE, ""),
                (RETENTION_TYPE, ""),
                (MEMBER, None),
            ],
        )
        view = RoomView(state, self._config)
        if view.content(RETENTION_TYPE) == policy:
            return key
        if view.dissolved:
            return UNREACHABLE + key
        needed = view.required_level(RETENTION_TYPE)
        senders = sorted(
            (
                u
                for u in view.members("join")
                if self._api.is_mine(u) and view.level(u) >= needed
            ),
            key=lambda u: (-view.level(u), u),
        )
        for sender in senders:
            try:
                await self._api.create_and_send_event_into_room(
                    {
                        "type": RETENTION_TYPE,
                        "room_id": room_id,
                        "sender": sender,
                        "state_key": "",
                        "content": policy,
                    }
                )
                return key
            except SynapseError as e:
                logger.info("retention of %s as %s refused: %s", room_id, sender, e)
        logger.warning("no local member can set the retention policy of %s", room_id)
        return UNREACHABLE + key

    async def _sweep_media(self) -> None:
        days = self._settings.current.retention_days
        now = self._api.get_current_time_msec()
        if (
            days is None
            or now - self._last_sweep < self._config.media_sweep_seconds * 1000
        ):
            return
        self._last_sweep = now
        old = await old_local_media_ids(self._api, now - int(days * 86_400_000))
        kept = await favourited_local_media(self._api, old)
        deleted = await delete_local_media(self._api, [m for m in old if m not in kept])
        if kept:
            logger.info("retention: kept %d old media that favourites hold", len(kept))
        if deleted:
            logger.info(
                "retention: deleted %d local media older than %s days", deleted, days
            )
