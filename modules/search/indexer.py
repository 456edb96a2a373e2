# SPDX-License-Identifier: AGPL-3.0-or-later
"""The indexer: Synapse's event stream → the message index, after a durable cursor.

A StreamFollower (modules/common/stream_follower.py: woken by Synapse's notifier, never
on_new_event, only where the module's jobs run). Each batch is ONE transaction that
reads the events after the cursor (never past the position up to which everything is
persisted), applies them to the index and moves the cursor: a crash repeats a batch,
never loses one. While catching up (a first start on a large history), it pauses
between batches so that SQLite's single writer serves everybody else too.
"""

import logging
import time

from prometheus_client import Gauge, Histogram
from synapse.module_api import ModuleApi

from modules.common.jobs import Jobs
from modules.common.storage import Txn
from modules.common.stream_follower import StreamFollower
from modules.common.synapse.events import persisted_stream_ordering
from modules.common.synapse.tables import stream_events_after_txn
from modules.search import storage
from modules.search.config import SearchConfig
from modules.search.extract import Action, action_of

logger = logging.getLogger(__name__)

BEHIND = Gauge(
    "jwwx_search_index_behind_events",
    "Stream positions between the search index cursor and the persisted stream",
)
BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13, 30, 60, 300)
LAG = Histogram(
    "jwwx_search_index_lag_seconds",
    "Time from an indexed message's origin_server_ts to its indexing (includes the"
    " time Synapse took to persist it)",
    buckets=BUCKETS,
)
STREAM_LAG = Histogram(
    "jwwx_search_index_stream_lag_seconds",
    "Time from an indexed message entering the event stream (persisted; the moment"
    " /sync listeners are woken) to its indexing",
    buckets=BUCKETS,
)


class Indexer(StreamFollower):
    def __init__(self, api: ModuleApi, config: SearchConfig, jobs: Jobs) -> None:
        super().__init__(
            api,
            jobs,
            "jwwx_search_index",
            config.poll_interval_ms,
            config.batch_pause_ms,
            config.wake_delay_ms,
        )
        self._config = config
        self.moved_ms = 0  # when the cursor last moved (events were indexed)

    async def step(self) -> bool:
        """One batch; True when it was full (more is waiting)."""
        upto = persisted_stream_ordering(self._api)
        if self._position is not None and upto <= self._position:
            return False  # the safety-net poll found nothing new: no transaction
        limit = self._config.batch_size
        start_at = 0 if self._config.index_history else upto

        def step_txn(txn: Txn) -> tuple[int, int, list[tuple[int, int]]]:
            # Read the persisted position again now that the transaction runs: what
            # was persisted while it waited for a connection (SQLite has one, busy
            # under load) comes in this batch instead of the next one. Before the
            # first statement: PostgreSQL's snapshot (REPEATABLE READ) is taken there,
            # so it holds everything persisted up to this position.
            upto_now = max(upto, persisted_stream_ordering(self._api))
            after = storage.cursor_txn(txn, start_at)
            if upto_now <= after:
                return after, upto_now, []
            batch = stream_events_after_txn(txn, after, upto_now, limit)
            actions: list[tuple[int, Action]] = []
            for item in batch:
                action = action_of(item.event_id, item.room_id, item.event)
                if action is not None:
                    actions.append((item.stream_ordering, action))
            storage.apply_txn(txn, actions)
            position = batch[-1].stream_ordering if len(batch) >= limit else upto_now
            storage.move_cursor_txn(txn, position)
            stamps = [
                (item.stream_ordering, item.event.get("origin_server_ts"))
                for item in batch
                if item.event.get("type") == "m.room.message"
            ]
            return (
                position,
                upto_now,
                [(o, ts) for o, ts in stamps if isinstance(ts, int)],
            )

        position, upto, stamps = await self._api.run_db_interaction(
            "jwwx_search_index", step_txn
        )
        if self._position is not None and position > self._position:
            self.moved_ms = int(self._api.get_current_time_msec())
        self._position = position
        BEHIND.set(max(0, upto - position))
        now_ms, now = time.time() * 1000, time.monotonic()
        for ordering, stamp in stamps:
            if 0 < stamp <= now_ms:
                LAG.observe((now_ms - stamp) / 1000)
            seen = self.seen_at(ordering)
            if seen is not None:
                STREAM_LAG.observe(now - seen)
        return position < upto
