# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of admin_api (homeserver.yaml → modules → admin_api.AdminApiModule).

Keys:
  registration_shared_secret_path (string, required): the file holding Synapse's
      registration shared secret; `python -m homeserver create-admin` proves knowledge of
      it to reset the bootstrap admin (see admin_api/bootstrap.py).
  bootstrap_nonce_ttl_seconds (int, default 60): how long a bootstrap nonce is valid.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modules.common.config import ConfigReader
from modules.common.synapse_compat import ConfigError

MODULE = "admin_api"


@dataclass(frozen=True)
class AdminApiConfig:
    registration_shared_secret_path: str
    bootstrap_nonce_ttl_seconds: int = 60

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
        )
        reader.finish()
        if not Path(config.registration_shared_secret_path).is_file():
            raise ConfigError(
                f"{MODULE}.registration_shared_secret_path: "
                f"{config.registration_shared_secret_path} is not a readable file"
            )
        return config

    def shared_secret(self) -> str:
        return (
            Path(self.registration_shared_secret_path)
            .read_text(encoding="utf-8")
            .strip()
        )
