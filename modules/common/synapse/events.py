# SPDX-License-Identifier: AGPL-3.0-or-later
"""Persisted events and the event stream (modules.burn, modules.audit, modules.openapi,
modules.favorites, modules.groups). Reading the stream's rows is in tables.py."""

from collections.abc import Callable
from typing import Any

from synapse.api.errors import SynapseError
from synapse.module_api import ModuleApi
from synapse.types import UserID

from modules.common.synapse._internal import hs_of


async def get_event_with_position(
    api: ModuleApi, event_id: str
) -> tuple[Any, int] | None:
    """A persisted event and its stream ordering (None if unknown or rejected)."""
    event = await hs_of(api).get_datastores().main.get_event(event_id, allow_none=True)
    if event is None or event.internal_metadata.stream_ordering is None:
        return None
    return event, int(event.internal_metadata.stream_ordering)


async def get_stored_event(api: ModuleApi, event_id: str) -> Any | None:
    """The event as stored, its content kept even when it has been redacted (Synapse
    keeps a redacted event's content until redaction_retention_period)."""
    from synapse.storage.databases.main.events_worker import EventRedactBehaviour

    return (
        await hs_of(api)
        .get_datastores()
        .main.get_event(
            event_id, redact_behaviour=EventRedactBehaviour.as_is, allow_none=True
        )
    )


def event_stream_ordering(event: Any) -> int | None:
    """The stream ordering of an event just sent (None if not persisted)."""
    ordering = event.internal_metadata.stream_ordering
    return None if ordering is None else int(ordering)


async def event_visible_to(
    api: ModuleApi, user_id: str, room_id: str, event_id: str
) -> Any | None:
    """An event as the user may see it (what GET /rooms/{room}/event/{id} answers), or
    None when it does not exist in that room or the user may not see it."""
    try:
        filtered = await (
            hs_of(api)
            .get_event_handler()
            .get_event(UserID.from_string(user_id), room_id, event_id)
        )
    except SynapseError:
        return None
    # Synapse wraps the (possibly redacted) event with per-user data.
    return getattr(filtered, "event", filtered)


def redacted_event_json(event: Any) -> str:
    """The event's JSON as Synapse stores it once censored (content pruned); written
    by tables.censor_event_txn (modules.burn)."""
    from synapse.synapse_rust.events import redact_event
    from synapse.util.json import json_encoder

    return str(json_encoder.encode(redact_event(event).get_pdu_json()))


def persisted_stream_ordering(api: ModuleApi) -> int:
    """The stream position up to which every event has been persisted (events above
    it may still be in flight, so a reader must not go past it)."""
    return int(hs_of(api).get_datastores().main.get_room_max_stream_ordering())


def rooms_changed_after(api: ModuleApi, position: int) -> set[str] | None:
    """The rooms with an event in the stream after `position`, from Synapse's in-memory
    events stream change cache (no database read); None when the cache does not reach
    back that far (then a reader must read the stream itself). Synapse records a room's
    change there before the persisted position moves past it (here: after the
    persisting transaction's commit; on a worker: before the replicated position is
    advanced), so rooms changed up to persisted_stream_ordering() are all in it."""
    cache = hs_of(api).get_datastores().main._events_stream_cache
    changed = cache.get_all_entities_changed(position)
    return set(changed.entities) if changed.hit else None


def on_new_stream_data(api: ModuleApi, callback: Callable[[], None]) -> None:
    """Call `callback()` (synchronous, must be cheap) whenever this process learns of
    new stream data: events persisted here or replicated from a persister, receipts,
    typing... ModuleApi's on_new_event is not used for this: Synapse awaits it, with
    the room's current state loaded, before it wakes any client waiting in /sync, so
    every module callback there delays every message's delivery."""
    hs_of(api).get_notifier().add_replication_callback(callback)


async def visible_events(
    api: ModuleApi, user_id: str, event_ids: list[str]
) -> list[Any]:
    """Of these events, those the user may see now, as the client would get them
    (modules.search): unredacted ones only (a redacted event is never a search hit,
    as in Synapse's own search), then Synapse's visibility rules for this user (history
    visibility, membership at the time, erased senders' content pruned). Input order."""
    from synapse.events.utils import FilteredEvent
    from synapse.storage.databases.main.events_worker import EventRedactBehaviour
    from synapse.visibility import filter_and_transform_events_for_client

    hs = hs_of(api)
    events = await hs.get_datastores().main.get_events_as_list(
        event_ids, redact_behaviour=EventRedactBehaviour.block
    )
    allowed = await filter_and_transform_events_for_client(
        hs.get_storage_controllers(), user_id, events
    )
    return [e.event if isinstance(e, FilteredEvent) else e for e in allowed]


async def unredacted_event_ids(api: ModuleApi, event_ids: list[str]) -> set[str]:
    """Which of these events Synapse still has, accepted and not redacted."""
    from synapse.storage.databases.main.events_worker import EventRedactBehaviour

    events = await (
        hs_of(api)
        .get_datastores()
        .main.get_events_as_list(event_ids, redact_behaviour=EventRedactBehaviour.block)
    )
    return {event.event_id for event in events}
