# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of modules.openapi (homeserver.yaml → modules → modules.openapi.OpenApiModule).

Keys:
  corpid (string, required): the corp id integrators pass to gettoken (企业ID), e.g. the
      value `init` renders from the server name. Also the receive id of callback crypto.
  access_token_ttl_seconds (int 60..86400, default 7200): lifetime of an access_token
      (gettoken's expires_in).
  token_reuse_margin_seconds (int, default 600): gettoken hands out the app's newest
      token again while it has at least this long to live; otherwise a new one (older
      tokens stay valid until they expire).
  token_cache_seconds (number, default 5): how long a process trusts a token it checked
      in the database; the bound on how long a revoked token (new secret, deleted app)
      still works on other workers.
  bot_localpart_prefix (string, default "jwwx_app_"): each app's Matrix bot account is
      @<prefix><agentid>:server.
  first_agentid (int, default 1000002): agentids are given from here up (WeCom style).
  inline_recipients (int, default 200): message/send delivers up to this many
      recipients before answering; larger pushes continue as a background job.
  push_concurrency (int 1..64, default 8): recipients delivered at the same time.
  broadcast_rooms (bool, default true): a push to parties, tags or @all that reaches
      the app's whole visible range goes into the app's broadcast rooms (one event per
      room, every officer of the range a member of one; broadcast.py); false: one
      event per officer in each one's conversation, as any other push.
  broadcast_min_range (int 1..100000, default 200): only an app whose range has at
      least this many deliverable officers gets broadcast rooms; smaller apps keep
      every push in the officers' conversations (one place per app and officer; a
      push to 200 takes seconds that way).
  broadcast_room_size (int 2..100000, default 100): officers per broadcast room; keep
      it at or below modules.groups' `max_members` (its cap applies to every room).
      Each officer's join wakes the /sync of every member already in the room, so the
      rooms' build-up costs about size/2 /sync answers per officer (docs/openapi.md).
  broadcast_join_concurrency (int 1..64, default 4): broadcast rooms whose members are
      joined at the same time (Synapse joins one member of a room at a time).
  broadcast_pool (bool, default true): the jobs instance keeps a pool of spare
      broadcast rooms holding every deliverable officer of the directory (once the
      directory has `broadcast_min_range` of them), in department order, built in the
      background at start, every `prepare_interval_seconds` and on the admin API's
      POST broadcast/pool; an app's broadcast rooms start by claiming the spare rooms
      that lie wholly in its range (pool.py, docs/openapi.md). false: apps' rooms are
      built from scratch when their range is set (slow right after creation).
  broadcast_pool_concurrency (int 1..64, default 2): spare rooms joined at the same
      time while the pool is built or refilled (low: it runs beside the traffic).
  broadcast_pool_refill_delay_seconds (int 0..86400, default 60): how long after a
      claim the pool refills (new spare rooms for the claimed officers) and the app's
      conversations are prepared, so that the claiming app's first push has the
      machine first.
  broadcast_claim_announce_seconds (int 0..3600, default 45): a claimed spare room's
      claim events (the app's bot joined, its name, avatar, marker) wait this long for
      the app's first push into the room and go with it as one batch, so each officer's
      /sync answers once for both (pool.py); without a push they go alone after it (the
      jobs instance looks every few seconds, after a restart too). 0: sent at the claim.
  broadcast_pace_lag_ms (int 0..10000, default 100): a push into the broadcast rooms
      goes into them one room at a time (one queue per process), each room once a no-op
      database interaction takes at most this long, i.e. once the /sync answers the
      rooms before it woke are nearly done (pacing.py): a one-officer push sent
      meanwhile then reaches its officer behind about one room's answers, not behind
      the whole range's. A room waits at most 25 ms per officer of the room before it.
      0: every room at once (`broadcast_join_concurrency` side by side).
  prepare_conversations (bool, default true): when an app's visible range is set or
      changed, also create its private conversation with every officer in range in
      the background (after the broadcast rooms are joined), so that officers can
      write to the app and a first one-officer push does not pay for room creation
      (see conversations.py).
  prepare_concurrency (int 1..64, default 2): conversations prepared at the same time;
      low, so that preparation leaves room for interactive requests.
  prepare_interval_seconds (int, default 300; 0 = off): how often the background-task
      process also brings the broadcast rooms (and, when prepared, the conversations)
      up to date with directory changes: officers who entered a range are joined, those
      who left it removed.
  rate_limit_per_minute (int, default 12000; 0 = off): API calls one app may make per
      minute (gettoken not counted); beyond it WeCom's 45009. Counted in Synapse's Redis
      when it is configured (all workers together), else per process.
  callback_concurrency (int 1..256, default 16): apps whose callbacks are delivered at
      the same time; each app has its own queue (one slow or misbehaving app server
      delays only its own messages).
  jobs_instance (string, optional): the worker_name of the process that runs this
      module's background jobs, "main" for the main process (modules/common/jobs.py).
"""

from dataclasses import dataclass
from typing import Any

from modules.common.config import ConfigReader
from modules.common.jobs import read_jobs_instance

MODULE = "modules.openapi"


@dataclass(frozen=True)
class OpenApiConfig:
    corpid: str
    access_token_ttl_seconds: int = 7200
    token_reuse_margin_seconds: int = 600
    token_cache_seconds: float = 5.0
    bot_localpart_prefix: str = "jwwx_app_"
    first_agentid: int = 1000002
    inline_recipients: int = 200
    push_concurrency: int = 8
    broadcast_rooms: bool = True
    broadcast_min_range: int = 200
    broadcast_room_size: int = 100
    broadcast_join_concurrency: int = 4
    broadcast_pool: bool = True
    broadcast_pool_concurrency: int = 2
    broadcast_pool_refill_delay_seconds: int = 60
    broadcast_claim_announce_seconds: int = 45
    broadcast_pace_lag_ms: int = 100
    prepare_conversations: bool = True
    prepare_concurrency: int = 2
    prepare_interval_seconds: int = 300
    rate_limit_per_minute: int = 12000
    callback_concurrency: int = 16
    jobs_instance: str | None = None  # modules/common/jobs.py

    @staticmethod
    def parse(raw: Any) -> "OpenApiConfig":
        reader = ConfigReader(raw, MODULE)
        config = OpenApiConfig(
            corpid=reader.string("corpid", required=True),
            access_token_ttl_seconds=reader.integer(
                "access_token_ttl_seconds", 7200, minimum=60, maximum=86400
            ),
            token_reuse_margin_seconds=reader.integer(
                "token_reuse_margin_seconds", 600, minimum=0, maximum=86400
            ),
            token_cache_seconds=reader.number("token_cache_seconds", 5.0),
            bot_localpart_prefix=reader.string("bot_localpart_prefix", "jwwx_app_"),
            first_agentid=reader.integer(
                "first_agentid", 1000002, minimum=1, maximum=2**31 - 1
            ),
            inline_recipients=reader.integer(
                "inline_recipients", 200, minimum=1, maximum=100000
            ),
            push_concurrency=reader.integer(
                "push_concurrency", 8, minimum=1, maximum=64
            ),
            broadcast_rooms=reader.boolean("broadcast_rooms", True),
            broadcast_min_range=reader.integer(
                "broadcast_min_range", 200, minimum=1, maximum=100000
            ),
            broadcast_room_size=reader.integer(
                "broadcast_room_size", 100, minimum=2, maximum=100000
            ),
            broadcast_join_concurrency=reader.integer(
                "broadcast_join_concurrency", 4, minimum=1, maximum=64
            ),
            broadcast_pool=reader.boolean("broadcast_pool", True),
            broadcast_pool_concurrency=reader.integer(
                "broadcast_pool_concurrency", 2, minimum=1, maximum=64
            ),
            broadcast_pool_refill_delay_seconds=reader.integer(
                "broadcast_pool_refill_delay_seconds", 60, minimum=0, maximum=86400
            ),
            broadcast_claim_announce_seconds=reader.integer(
                "broadcast_claim_announce_seconds", 45, minimum=0, maximum=3600
            ),
            broadcast_pace_lag_ms=reader.integer(
                "broadcast_pace_lag_ms", 100, minimum=0, maximum=10000
            ),
            prepare_conversations=reader.boolean("prepare_conversations", True),
            prepare_concurrency=reader.integer(
                "prepare_concurrency", 2, minimum=1, maximum=64
            ),
            prepare_interval_seconds=reader.integer(
                "prepare_interval_seconds", 300, minimum=0, maximum=86400
            ),
            rate_limit_per_minute=reader.integer(
                "rate_limit_per_minute", 12000, minimum=0, maximum=10**7
            ),
            callback_concurrency=reader.integer(
                "callback_concurrency", 16, minimum=1, maximum=256
            ),
            jobs_instance=read_jobs_instance(reader),
        )
        reader.finish()
        return config
