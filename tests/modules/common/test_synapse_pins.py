# SPDX-License-Identifier: AGPL-3.0-or-later
"""Pins of the Synapse internals the adapter (modules/common) wraps: a Synapse upgrade
that changes one of them fails here, before a behaviour test shows it more obscurely."""

import inspect

from twisted.trial import unittest


class PinnedSynapseSurfaceTests(unittest.TestCase):
    def _parameters(self, function: object) -> list[str]:
        return list(inspect.signature(function).parameters)  # type: ignore[arg-type]

    def test_room_shutdown_handler(self) -> None:
        # rooms_being_shut_down wraps it; v1 passes room_id by keyword, v2 by position.
        from synapse.handlers.room import RoomShutdownHandler

        self.assertEqual(
            self._parameters(RoomShutdownHandler.shutdown_room)[:3],
            ["self", "room_id", "params"],
        )
        self.assertTrue(inspect.iscoroutinefunction(RoomShutdownHandler.shutdown_room))
