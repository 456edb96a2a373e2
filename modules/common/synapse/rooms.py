# SPDX-License-Identifier: AGPL-3.0-or-later
"""Rooms, receipts, read markers and server notices (modules.groups, modules.accounts).

The ModuleApi offers no room list of a user, no "forget" on a user's behalf, no receipts
and no server-notices room; these mirror what Synapse's own client endpoints (/forget,
/read_markers, /receipt) and its server-notices manager do for the same user."""

from typing import Any

from synapse.module_api import ModuleApi
from synapse.types import UserID, create_requester

from modules.common.synapse._internal import hs_of


async def forget_room(api: ModuleApi, user_id: str, room_id: str) -> None:
    """Forget a room the user has left (it leaves their room list; history is kept)."""
    await (
        hs_of(api)
        .get_room_member_handler()
        .forget(UserID.from_string(user_id), room_id, do_not_schedule_purge=True)
    )


async def join_unlimited(api: ModuleApi, user_id: str, room_id: str) -> str:
    """Join a local user to a room as the user's own /join does, without Synapse's join
    rate limits (ModuleApi.update_room_membership applies them: `rc_joins_per_room`
    allows one join per second per room, and an app's broadcast room takes hundreds at
    once, modules.openapi). Joining again when joined is a no-op. The event id."""
    event_id, _ = await (
        hs_of(api)
        .get_room_member_handler()
        .update_membership(
            requester=create_requester(user_id),
            target=UserID.from_string(user_id),
            room_id=room_id,
            action="join",
            ratelimit=False,
        )
    )
    return str(event_id)


async def send_batch(
    api: ModuleApi, requester_id: str, room_id: str, events: list[dict[str, Any]]
) -> None:
    """Send events (dicts with type, sender, content and, for state, state_key; any
    senders) into a room as one batch persisted together, each event on top of the
    previous one's state: what Synapse's room upgrade does to copy state and members.
    Sent one by one, each event wakes the /sync of every member of the room; as a
    batch the members are woken once for all of it. Checked: the room's auth rules
    and the modules' event callbacks; not checked: the spam checker's join callback,
    rate limits (the module decides itself). All or nothing: one refused event
    refuses the batch. Membership only for what needs no other server (local joins
    to a room whose join rule lets them in)."""
    await (
        hs_of(api)
        .get_event_creation_handler()
        .create_and_send_new_client_events(
            requester=create_requester(requester_id),
            room_id=room_id,
            prev_event_id=None,
            event_dicts=[{**event, "room_id": room_id} for event in events],
            ratelimit=False,
        )
    )


async def join_batch(
    api: ModuleApi, requester_id: str, room_id: str, user_ids: list[str]
) -> None:
    """Join local users to a room whose join rule lets them in, as one batch of join
    events persisted together (send_batch): the members already there are woken once
    for all of it, not once per join. For modules.openapi's broadcast rooms, whose
    members it decides itself."""
    await send_batch(
        api,
        requester_id,
        room_id,
        [
            {
                "type": "m.room.member",
                "state_key": user_id,
                "sender": user_id,
                "content": {"membership": "join"},
            }
            for user_id in user_ids
        ],
    )


async def joined_rooms(api: ModuleApi, user_id: str) -> list[str]:
    """The rooms a local user is joined to."""
    return sorted(await hs_of(api).get_datastores().main.get_rooms_for_user(user_id))


async def unread_counts(api: ModuleApi, user_id: str) -> dict[str, tuple[int, int]]:
    """{room_id: (notifications, highlights)} of the joined rooms where the user has
    unread notifications: the numbers /sync v2 reports as `unread_notifications` (its
    `notification_count` and `highlight_count`, threads added to the room as for a client
    without thread notifications). Simplified sliding sync (MSC4186) answers 0 for them.
    One query over the user's push summary finds the rooms with any count (what Synapse's
    push badge uses); then each such room's counts from Synapse's per-room cache (the
    one /sync uses). Rooms the user left keep summary rows: only joined rooms count."""
    store = hs_of(api).get_datastores().main
    by_room = await store.get_unread_counts_by_room_for_user(user_id)
    joined = await store.get_rooms_for_user(user_id)
    counts: dict[str, tuple[int, int]] = {}
    for room_id in sorted(r for r, n in by_room.items() if n > 0 and r in joined):
        found = await store.get_unread_event_push_actions_by_room_for_user(
            room_id, user_id
        )
        notify = found.main_timeline.notify_count
        highlight = found.main_timeline.highlight_count
        for thread in found.threads.values():
            notify += thread.notify_count
            highlight += thread.highlight_count
        if notify > 0 or highlight > 0:
            counts[room_id] = (notify, highlight)
    return counts


async def latest_event_id(api: ModuleApi, room_id: str) -> str | None:
    """The newest event of a room (highest stream position among its extremities)."""
    store = hs_of(api).get_datastores().main
    ids = await store.get_latest_event_ids_in_room(room_id)
    events = await store.get_events(list(ids), allow_rejected=False)
    best: tuple[int, str] | None = None
    for event in events.values():
        position = event.internal_metadata.stream_ordering or 0
        if best is None or position > best[0]:
            best = (position, event.event_id)
    return best[1] if best else None


async def mark_room_read(
    api: ModuleApi, user_id: str, room_id: str, event_id: str
) -> None:
    """What a client's POST /rooms/{room}/read_markers does: the fully-read marker and a
    public m.read receipt (which also clears the room's notification counts)."""
    await (
        hs_of(api)
        .get_read_marker_handler()
        .received_client_read_marker(room_id, user_id, event_id)
    )
    await (
        hs_of(api)
        .get_receipts_handler()
        .received_client_receipt(
            room_id, "m.read", UserID.from_string(user_id), event_id, None
        )
    )


def room_version_has_creator_power(version: str) -> bool:
    """True for room versions (12 on) whose creators hold unlimited, permanent power."""
    from synapse.api.room_versions import KNOWN_ROOM_VERSIONS

    known = KNOWN_ROOM_VERSIONS.get(version)
    return bool(known is not None and known.msc4289_creator_power_enabled)


async def send_server_notice(api: ModuleApi, user_id: str, text: str) -> bool:
    """A text message to the user's server-notices room (config `server_notices`);
    False when server notices are not configured. The ModuleApi has no access to the
    server-notices room (created on demand, one per user)."""
    manager = hs_of(api).get_server_notices_manager()
    if not manager.is_enabled():
        return False
    await manager.send_notice(user_id, {"msgtype": "m.notice", "body": text})
    return True
