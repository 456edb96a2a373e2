# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of admin_api (homeserver.yaml → modules → admin_api.AdminApiModule).

Keys:
  registration_shared_secret_path (string, required): the file holding Synapse's
      registration shared secret; `python -m homeserver create-admin` proves knowledge of
      it to reset the bootstrap admin (see admin_api/bootstrap.py).
  bootstrap_nonce_ttl_seconds (int, default 60): how long a bootstrap nonce is valid.
  allow_combined_roles (bool, default false): let one account hold more than one of the
      separated roles super / audit / security admin (三员分立). Only for a small
      deployment with too few people; 等保 level 2 expects false.
  cache_check_seconds (number 0-60, default 1): how often a process checks whether the
      admin model (groups, members, scopes, roles) changed in another process; changes
      made through the same process apply at once. 0 checks at every request.
  allowed_networks (list of IP networks in CIDR form, default empty: any): the addresses
      admins may use the admin API from (every endpoint that asks modules.common.admin,
      and /_jwwx/admin/v1/admins/…). Others get 403 CN_JWWX_ADMIN_NETWORK and the refusal
      is written to the operation log. The address is the one Synapse sees: behind nginx
      set x_forwarded on the listener (and keep Synapse unreachable from elsewhere).
  allowed_hosts (list of host names, default empty: any): the Host header values (port
      ignored, case-insensitive) under which the admin API answers, e.g. the console's
      own name; others get 403 CN_JWWX_ADMIN_NETWORK as well.
  require_second_factor (bool, default true): admins (super, audit, security, group
      members) use the admin API only from a session that passed TOTP (admin_api/
      sessions.py); others get 403 CN_JWWX_ADMIN_SECOND_FACTOR_REQUIRED. Needs
      modules.accounts with mfa.secret_path (rendered by `init`). false: no second
      factor and no idle expiry (a test bench; 等保 level 2 expects true).
  idle_timeout_seconds (int 1-86400, default 1800): an admin session unused for longer
      must pass TOTP again (403 CN_JWWX_ADMIN_SESSION_EXPIRED); any admin request
      extends it.
"""

from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any

from modules.common.config import ConfigReader
from modules.common.synapse.errors import ConfigError

MODULE = "admin_api"


def _networks(values: list[str]) -> tuple[IPv4Network | IPv6Network, ...]:
    out = []
    for index, value in enumerate(values):
        try:
            out.append(ip_network(value.strip(), strict=False))
        except ValueError as e:
            raise ConfigError(
                f"{MODULE}.allowed_networks[{index}]: {value!r} is not an IP network "
                f"such as 10.1.0.0/16 ({e})"
            ) from None
    return tuple(out)


@dataclass(frozen=True)
class AdminApiConfig:
    registration_shared_secret_path: str
    bootstrap_nonce_ttl_seconds: int = 60
    allow_combined_roles: bool = False
    cache_check_seconds: float = 1.0
    allowed_networks: tuple[IPv4Network | IPv6Network, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    require_second_factor: bool = True
    idle_timeout_seconds: int = 1800

    @staticmethod
    def parse(raw: Any) -> "AdminApiConfig":
        reader = ConfigReader(raw, MODULE)
        config = AdminApiConfig(
            registration_shared_secret_path=reader.string(
                "registration_shared_secret_path", required=True
            ),
            bootstrap_nonce_ttl_seconds=reader.integer(
                "bootstrap_nonce_ttl_seconds", 60, minimum=5, maximum=3600
            ),
            allow_combined_roles=reader.boolean("allow_combined_roles", False),
            cache_check_seconds=reader.number("cache_check_seconds", 1.0),
            allowed_networks=_networks(reader.string_list("allowed_networks")),
            allowed_hosts=tuple(
                h.strip().lower() for h in reader.string_list("allowed_hosts")
            ),
            require_second_factor=reader.boolean("require_second_factor", True),
            idle_timeout_seconds=reader.integer(
                "idle_timeout_seconds", 1800, minimum=1, maximum=86400
            ),
        )
        reader.finish()
        if config.cache_check_seconds > 60:
            raise ConfigError(
                f"{MODULE}.cache_check_seconds: must be at most 60, "
                f"got {config.cache_check_seconds}"
            )
        if not Path(config.registration_shared_secret_path).is_file():
            raise ConfigError(
                f"{MODULE}.registration_shared_secret_path: "
                f"{config.registration_shared_secret_path} is not a readable file"
            )
        return config

    @property
    def cache_check_ms(self) -> int:
        return int(self.cache_check_seconds * 1000)

    def shared_secret(self) -> str:
        return (
            Path(self.registration_shared_secret_path)
            .read_text(encoding="utf-8")
            .strip()
        )
