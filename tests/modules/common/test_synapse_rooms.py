# SPDX-License-Identifier: AGPL-3.0-or-later
"""The adapter's private uses in rooms.py that the module tests cannot pin: the tests'
servers lift Synapse's rate limits, so `join_unlimited` (modules.openapi's broadcast
joins) is pinned here to the keyword arguments it passes, and `send_batch` (`join_batch`
falls back to one-by-one joins when it fails, so a change would only show as slowness)
to Synapse's batch-sending method; its events of several senders in one batch (a spare
room's claim: the pool bot's state events and the app bot's join) are driven over HTTP
by tests.modules.openapi.test_pool. `unread_counts` (the web client's unread badges under
simplified sliding sync) is driven over HTTP by tests.modules.groups.test_messages; its
store methods and the count types it reads are pinned here too, so an upgrade that moves
them fails by name."""

import importlib
import inspect

from twisted.trial import unittest


class JoinUnlimitedTest(unittest.TestCase):
    def test_update_membership_takes_what_join_unlimited_passes(self) -> None:
        # Synapse's handlers import each other in a cycle that the server breaks.
        importlib.import_module("synapse.server")
        handler = importlib.import_module("synapse.handlers.room_member")
        method = handler.RoomMemberHandler.update_membership
        parameters = inspect.signature(method).parameters
        for name in ("requester", "target", "room_id", "action", "ratelimit"):
            self.assertIn(name, parameters)
        # Rate limiting is on unless asked otherwise: the reason for the function.
        self.assertIs(parameters["ratelimit"].default, True)


class JoinBatchTest(unittest.TestCase):
    def test_create_and_send_new_client_events_takes_what_send_batch_passes(
        self,
    ) -> None:
        importlib.import_module("synapse.server")
        message = importlib.import_module("synapse.handlers.message")
        method = message.EventCreationHandler.create_and_send_new_client_events
        parameters = inspect.signature(method).parameters
        for name in (
            "requester",
            "room_id",
            "prev_event_id",
            "event_dicts",
            "ratelimit",
        ):
            self.assertIn(name, parameters)


class UnreadCountsTest(unittest.TestCase):
    def test_push_action_store_has_what_unread_counts_reads(self) -> None:
        importlib.import_module("synapse.server")
        store = importlib.import_module(
            "synapse.storage.databases.main.event_push_actions"
        )
        worker = store.EventPushActionsWorkerStore
        by_room = inspect.signature(worker.get_unread_counts_by_room_for_user)
        self.assertEqual(list(by_room.parameters), ["self", "user_id"])
        # The per-room counts /sync uses (cached per room and user: a cache
        # descriptor, read from the class without calling it).
        name = "get_unread_event_push_actions_by_room_for_user"
        cached = next(vars(c)[name] for c in worker.__mro__ if name in vars(c))
        per_room = inspect.signature(cached.orig)
        self.assertEqual(list(per_room.parameters)[:3], ["self", "room_id", "user_id"])
        counts = store.RoomNotifCounts(
            store.NotifCounts(notify_count=2, highlight_count=1), {}
        )
        self.assertEqual(counts.main_timeline.notify_count, 2)
        self.assertEqual(counts.main_timeline.highlight_count, 1)
        self.assertEqual(dict(counts.threads), {})
