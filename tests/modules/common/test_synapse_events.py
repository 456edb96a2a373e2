# SPDX-License-Identifier: AGPL-3.0-or-later
"""The private parts of Synapse that modules/common/synapse/events.py reads, pinned to
the installed Synapse: an upgrade that renames or reshapes them fails here."""

import inspect
from types import SimpleNamespace

from twisted.trial import unittest

from synapse.storage.databases.main import DataStore
from synapse.storage.databases.main.events import PersistEventsStore
from synapse.storage.databases.main.stream import StreamWorkerStore
from synapse.util.caches.stream_change_cache import StreamChangeCache

from modules.common.synapse.events import rooms_changed_after


def api_with(cache: StreamChangeCache) -> object:
    store = SimpleNamespace(_events_stream_cache=cache)
    hs = SimpleNamespace(get_datastores=lambda: SimpleNamespace(main=store))
    return SimpleNamespace(_hs=hs)


class RoomsChangedAfterTest(unittest.TestCase):
    def test_the_change_cache_answers_which_rooms_changed(self) -> None:
        cache = StreamChangeCache(
            name="test", server_name="x", current_stream_pos=10, max_size=3
        )
        api = api_with(cache)
        for position, room in ((11, "!a:x"), (12, "!b:x"), (13, "!a:x")):
            cache.entity_has_changed(room, position)
        self.assertEqual(rooms_changed_after(api, 10), {"!a:x", "!b:x"})  # type: ignore[arg-type]
        self.assertEqual(rooms_changed_after(api, 12), {"!a:x"})  # type: ignore[arg-type]
        self.assertEqual(rooms_changed_after(api, 13), set())  # type: ignore[arg-type]
        # Before what the cache remembers: unknown, never "nothing changed".
        self.assertIsNone(rooms_changed_after(api, 9))  # type: ignore[arg-type]
        for position, room in ((14, "!c:x"), (15, "!d:x"), (16, "!e:x")):
            cache.entity_has_changed(room, position)
        self.assertIsNone(rooms_changed_after(api, 11))  # type: ignore[arg-type]

    def test_the_main_store_keeps_it_and_persisting_fills_it(self) -> None:
        self.assertTrue(issubclass(DataStore, StreamWorkerStore))
        init = inspect.getsource(StreamWorkerStore.__init__)
        self.assertIn("self._events_stream_cache: StreamChangeCache", init)
        # Filled after the persisting transaction's commit (call_after), i.e. before
        # the stream position that makes the event visible moves past it.
        persist = inspect.getsource(PersistEventsStore)
        self.assertIn(
            "txn.call_after(\n                self.store._events_stream_cache"
            ".entity_has_changed,",
            persist,
        )
