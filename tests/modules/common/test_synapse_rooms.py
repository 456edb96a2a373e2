# SPDX-License-Identifier: AGPL-3.0-or-later
"""The adapter's private uses in rooms.py that the module tests cannot pin: the tests'
servers lift Synapse's rate limits, so `join_unlimited` (modules.openapi's broadcast
joins) is pinned here to the keyword arguments it passes, and `join_batch` (which falls
back to one-by-one joins when it fails, so a change would only show as slowness) to
Synapse's batch-sending method."""

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
    def test_create_and_send_new_client_events_takes_what_join_batch_passes(
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
