# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of modules.crossdomain (homeserver.yaml → modules →
modules.crossdomain.CrossDomainModule). The per-domain policies are admin settings
(PUT /_jwwx/admin/v1/crossdomain/peers/{domain}, docs/federation.md), not config.

Keys:
  query_timeout_seconds (number ≥ 1, default 10): how long a directory or app query to
      a peer domain may take before the officer gets 502.
  policy_cache_seconds (number ≥ 1, default 5): how long each process keeps a peer's
      policy before reading it again (a PUT takes effect at once on the process that
      served it).
  bridges (list, default none): application services of ours that bridge another
      IM as a "domain" (bridges/ministry_im), each a mapping:
      appservice_id (string, required): the registration's id; its as_token may ask
          GET /_jwwx/client/v1/crossdomain/bridge/... for that domain.
      domain (string, required): the name its peer policy is kept under (PUT
          /_jwwx/admin/v1/crossdomain/peers/{domain}), e.g. "ministry.example".
      user_prefix (string, required): its puppets are @<prefix>*:server_name;
          inviting one is inviting someone of `domain` (the unit rule applies).
"""

import re
from dataclasses import dataclass
from typing import Any

from modules.common.config import ConfigReader
from modules.common.synapse.errors import ConfigError

MODULE = "modules.crossdomain"


_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_LOCALPART = re.compile(r"^[a-z0-9._=/-]+$")


@dataclass(frozen=True)
class BridgedDomain:
    appservice_id: str
    domain: str
    user_prefix: str


def _bridge(raw: Any, index: int) -> BridgedDomain:
    where = f"{MODULE}.bridges[{index}]"
    reader = ConfigReader(raw, where)
    found = BridgedDomain(
        reader.string("appservice_id", required=True),
        reader.string("domain", required=True),
        reader.string("user_prefix", required=True),
    )
    reader.finish()
    if not _DOMAIN.match(found.domain):
        raise ConfigError(f"{where}.domain: must be a domain name")
    if not _LOCALPART.match(found.user_prefix):
        raise ConfigError(f"{where}.user_prefix: must be a Matrix localpart prefix")
    return found


@dataclass(frozen=True)
class CrossDomainConfig:
    query_timeout_seconds: float = 10.0
    policy_cache_seconds: float = 5.0
    bridges: tuple[BridgedDomain, ...] = ()

    def bridge_of_service(self, appservice_id: str | None) -> BridgedDomain | None:
        return next((b for b in self.bridges if b.appservice_id == appservice_id), None)

    def bridge_of_user(self, localpart: str) -> BridgedDomain | None:
        return next(
            (b for b in self.bridges if localpart.startswith(b.user_prefix)), None
        )

    @staticmethod
    def parse(raw: Any) -> "CrossDomainConfig":
        reader = ConfigReader(raw, MODULE)
        timeout = reader.number("query_timeout_seconds", 10.0, minimum=1.0)
        cache = reader.number("policy_cache_seconds", 5.0, minimum=1.0)
        listed = reader.mapping_list("bridges") if raw and "bridges" in raw else []
        bridges = tuple(_bridge(b, i) for i, b in enumerate(listed))
        reader.finish()
        return CrossDomainConfig(timeout, cache, bridges)
