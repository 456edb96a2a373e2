# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of modules.search (homeserver.yaml → modules → modules.search.SearchModule).

Keys:
  serve_matrix_search (bool, default true): POST /_matrix/client/v3/search (what Element
      and every Matrix client call) answers its message search from this index, and
      Synapse no longer writes its own index of message bodies (event_search rows of
      content.body; room names and topics still); false leaves Synapse's own search
      (which cannot find Chinese substrings). Turning it off later: messages sent
      while it was on are missing from Synapse's index (docs/search.md).
  index_history (bool, default true): on the first start, index the history already in
      the database (from the start of the event stream); false: only what comes after.
  batch_size (int 1..5000, default 200): events read and indexed per transaction.
  batch_pause_ms (int 0..10000, default 50): pause between two batches while catching
      up, so that SQLite's one writer (and PostgreSQL's clients) serve others meanwhile.
  poll_interval_ms (int 100..600000, default 5000): safety-net poll of the event stream
      (the indexer is otherwise woken by Synapse's notifier on new events).
  wake_delay_ms (int 0..5000, default 500): after the notifier wakes the indexer, it
      waits this long so that the messages of that time are indexed in one transaction
      (fewer transactions on the database messages are persisted through; the index
      lag behind the stream is about this plus one transaction).
  sweep_interval_seconds (int 0..86400, default 5; 0 = off): how often indexed events
      are checked against Synapse, so that the index forgets what Synapse purged
      (retention, purge history, deleted rooms) even if nobody searches for it.
  sweep_batch (int 1..10000, default 1000): indexed events checked per sweep.
  max_query_length (int 1..1000, default 200): longer search terms are refused (400).
  count_limit (int 1..1000000, default 1000): results are counted up to this many
      (the "count" of /search is approximate above it).
  jobs_instance (string, optional): the worker_name of the process that runs the indexer
      and the sweep, "main" for the main process (modules/common/jobs.py).
"""

from dataclasses import dataclass
from typing import Any

from modules.common.config import ConfigReader
from modules.common.jobs import read_jobs_instance

MODULE = "modules.search"


@dataclass(frozen=True)
class SearchConfig:
    serve_matrix_search: bool = True
    index_history: bool = True
    batch_size: int = 200
    batch_pause_ms: int = 50
    poll_interval_ms: int = 5000
    wake_delay_ms: int = 500
    sweep_interval_seconds: int = 5
    sweep_batch: int = 1000
    max_query_length: int = 200
    count_limit: int = 1000
    jobs_instance: str | None = None  # modules/common/jobs.py

    @staticmethod
    def parse(raw: Any) -> "SearchConfig":
        reader = ConfigReader(raw, MODULE)
        config = SearchConfig(
            serve_matrix_search=reader.boolean("serve_matrix_search", True),
            index_history=reader.boolean("index_history", True),
            batch_size=reader.integer("batch_size", 200, minimum=1, maximum=5000),
            batch_pause_ms=reader.integer(
                "batch_pause_ms", 50, minimum=0, maximum=10000
            ),
            poll_interval_ms=reader.integer(
                "poll_interval_ms", 5000, minimum=100, maximum=600000
            ),
            wake_delay_ms=reader.integer("wake_delay_ms", 500, minimum=0, maximum=5000),
            sweep_interval_seconds=reader.integer(
                "sweep_interval_seconds", 5, minimum=0, maximum=86400
            ),
            sweep_batch=reader.integer("sweep_batch", 1000, minimum=1, maximum=10000),
            max_query_length=reader.integer(
                "max_query_length", 200, minimum=1, maximum=1000
            ),
            count_limit=reader.integer("count_limit", 1000, minimum=1, maximum=1000000),
            jobs_instance=read_jobs_instance(reader),
        )
        reader.finish()
        return config
