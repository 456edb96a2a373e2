# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of the officer's web client (homeserver.yaml → modules →
modules.web_client.WebClientModule).

Keys:
  dist_path (string, default: clients/web/dist of this repository): the folder of the
      built client (index.html and assets/), as `npm run build` in clients/web writes it.
      It must hold index.html; a missing bundle is a config error at start-up.
  mail_registration_id (string, default "jwwx_mail"): the mail bridge's
      application-service id (its `registration_id`); /_jwwx/mail/ of this origin is
      forwarded to the URL that registration gives (modules/web_client/forward.py).
      No such registration (no mail bridge): /_jwwx/mail/ answers 404.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modules.common.config import ConfigReader
from modules.common.synapse.errors import ConfigError

MODULE = "modules.web_client"
# modules/web_client/ → the repository → clients/web/dist (an editable install).
DEFAULT_DIST = Path(__file__).resolve().parents[2] / "clients" / "web" / "dist"


@dataclass(frozen=True)
class WebClientConfig:
    dist_path: Path = DEFAULT_DIST
    mail_registration_id: str = "jwwx_mail"

    @staticmethod
    def parse(raw: Any) -> "WebClientConfig":
        reader = ConfigReader(raw, MODULE)
        given = reader.optional_string("dist_path")
        mail = reader.optional_string("mail_registration_id") or "jwwx_mail"
        reader.finish()
        dist = Path(given) if given else DEFAULT_DIST
        if not (dist / "index.html").is_file():
            raise ConfigError(
                f"{MODULE}.dist_path: no built client at {dist} (index.html missing); "
                "build it with `make web` (docs/web_client.md)"
            )
        return WebClientConfig(dist_path=dist, mail_registration_id=mail)
