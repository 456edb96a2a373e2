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
"""

from dataclasses import dataclass
from typing import Any

from modules.common.config import ConfigReader

MODULE = "modules.crossdomain"


@dataclass(frozen=True)
class CrossDomainConfig:
    query_timeout_seconds: float = 10.0
    policy_cache_seconds: float = 5.0

    @staticmethod
    def parse(raw: Any) -> "CrossDomainConfig":
        reader = ConfigReader(raw, MODULE)
        timeout = reader.number("query_timeout_seconds", 10.0, minimum=1.0)
        cache = reader.number("policy_cache_seconds", 5.0, minimum=1.0)
        reader.finish()
        return CrossDomainConfig(timeout, cache)
