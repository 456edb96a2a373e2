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

    def test_media_download_servlets(self) -> None:
        # route_local_media_downloads wraps on_GET(request, server_name, media_id
        # [, file_name]) of these four servlets, which tell local media apart with
        # _is_mine_server_name.
        from modules.common.synapse.patches import media_servlets

        servlets = media_servlets()
        self.assertEqual(len(servlets), 4)
        for servlet, kind in servlets:
            self.assertIn(kind, ("media", "thumbnail"))
            on_get = getattr(servlet.on_GET, "_jwwx_original", servlet.on_GET)
            self.assertTrue(inspect.iscoroutinefunction(on_get), servlet)
            self.assertEqual(
                self._parameters(on_get)[:4],
                ["self", "request", "server_name", "media_id"],
                servlet,
            )
            source = inspect.getsource(servlet.__init__)
            self.assertIn("_is_mine_server_name", source, servlet)
            patterns = [p.pattern for p in servlet.PATTERNS]
            self.assertTrue(
                any(
                    f"/{'download' if kind == 'media' else kind}/" in p
                    for p in patterns
                ),
                patterns,
            )
