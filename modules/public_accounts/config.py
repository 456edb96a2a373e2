# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of modules.public_accounts (homeserver.yaml → modules →
modules.public_accounts.PublicAccountsModule). docs/pubaccounts.md.

Keys:
  bot_localpart_prefix (string, default "jwwx_pubacct_"): each account's bot is
      @<prefix><id>:server.
  room_size (int 2..100000, default 500): subscribers per room of an account (the open
      API's broadcast rooms: one card event per room per push). Each join wakes the
      /sync of every member already in the room, so bigger rooms cost more to fill;
      keep it at or below modules.groups' `max_members`. A subscriber reads the
      account's history of the room it is placed in.
  history_pushes (int 0..1000, default 20): a new room of an account gets the cards
      of its latest this many pushes (not withdrawn) before anyone joins it: the
      account's history for subscribers placed there.
  join_concurrency (int 1..64, default 4): rooms whose members are joined at once.
  send_concurrency (int 1..64, default 8): rooms a push, edit or withdraw writes to at
      the same time.
  schedule_poll_seconds (number ≥ 0.1, default 5): how often scheduled pushes are
      looked for (a push goes out at most this late).
  sweep_interval_seconds (int, default 300; 0 = off): how often every account's rooms
      are brought up to date with directory changes (officers who entered or left a
      subscribed department or tag).
  page_base_url (string, optional): the base of article URLs in cards, e.g.
      "https://im.example.cn"; default Synapse's public_baseurl.
  view_token_seconds (int 60..86400, default 7200): how long an opened page's media
      and reading-time report links stay valid.
  page_cache_seconds (number 0..60, default 2; 0 = off): how long a process reuses what
      an article page read (the article, its account, whether the viewer subscribes,
      the viewer's watermark tile) for the next page of the same article and viewer,
      and the article and image metadata the page's images need.
      This process's own writes (edit, publish, withdraw, account changes, follow and
      unfollow) are seen at once; another worker's within this time.
  purge_withdrawn (bool, default true): a withdrawn push's cards and edits are purged
      from the database after their redaction, like burn-after-read.
  jobs_instance (string, optional): the process that runs the scheduler and the sweep
      (modules/common/jobs.py).
"""

from dataclasses import dataclass
from typing import Any

from modules.common.config import ConfigReader
from modules.common.jobs import read_jobs_instance
from modules.common.synapse.errors import ConfigError

MODULE = "modules.public_accounts"


@dataclass(frozen=True)
class PublicAccountsConfig:
    bot_localpart_prefix: str = "jwwx_pubacct_"
    room_size: int = 500
    history_pushes: int = 20
    join_concurrency: int = 4
    send_concurrency: int = 8
    schedule_poll_seconds: float = 5.0
    sweep_interval_seconds: int = 300
    page_base_url: str | None = None
    view_token_seconds: int = 7200
    page_cache_seconds: float = 2.0
    purge_withdrawn: bool = True
    jobs_instance: str | None = None

    @staticmethod
    def parse(raw: Any) -> "PublicAccountsConfig":
        reader = ConfigReader(raw, MODULE)
        d = PublicAccountsConfig()
        config = PublicAccountsConfig(
            bot_localpart_prefix=reader.string(
                "bot_localpart_prefix", d.bot_localpart_prefix
            ),
            room_size=reader.integer(
                "room_size", d.room_size, minimum=2, maximum=100000
            ),
            history_pushes=reader.integer(
                "history_pushes", d.history_pushes, minimum=0, maximum=1000
            ),
            join_concurrency=reader.integer(
                "join_concurrency", d.join_concurrency, minimum=1, maximum=64
            ),
            send_concurrency=reader.integer(
                "send_concurrency", d.send_concurrency, minimum=1, maximum=64
            ),
            schedule_poll_seconds=reader.number(
                "schedule_poll_seconds", d.schedule_poll_seconds, minimum=0.1
            ),
            sweep_interval_seconds=reader.integer(
                "sweep_interval_seconds",
                d.sweep_interval_seconds,
                minimum=0,
                maximum=86400,
            ),
            page_base_url=reader.optional_string("page_base_url"),
            view_token_seconds=reader.integer(
                "view_token_seconds", d.view_token_seconds, minimum=60, maximum=86400
            ),
            page_cache_seconds=reader.number(
                "page_cache_seconds", d.page_cache_seconds, minimum=0.0
            ),
            purge_withdrawn=reader.boolean("purge_withdrawn", d.purge_withdrawn),
            jobs_instance=read_jobs_instance(reader),
        )
        reader.finish()
        if config.page_cache_seconds > 60:
            raise ConfigError(f"{MODULE}.page_cache_seconds must be at most 60")
        return config
