# SPDX-License-Identifier: AGPL-3.0-or-later
"""The SMS gateway adapter: one HTTP POST per message (docs/accounts.md, "SMS gateway").

    POST {url}
    Authorization: Bearer {token}            (when token_path is configured)
    Content-Type: application/json
    {"request_id": "…", "mobile": "13800138000", "sign": "警务微信", "content": "…"}

    200 {"code": 0, "message": "ok"}          sent; anything else is a failure

The bureau's gateway (or a small proxy in front of it) speaks this shape.
"""

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.config import ConfigReader
from modules.common.synapse.errors import ConfigError


class SmsError(Exception):
    pass


@dataclass(frozen=True)
class SmsConfig:
    url: str
    token_path: str | None = None
    sign: str = "警务微信"

    @staticmethod
    def parse(raw: Any, module: str) -> "SmsConfig | None":
        if raw is None:
            return None
        r = ConfigReader(raw, f"{module}.sms")
        config = SmsConfig(
            url=r.string("url", required=True),
            token_path=r.optional_string("token_path"),
            sign=r.string("sign", "警务微信"),
        )
        r.finish()
        if not config.url.startswith(("http://", "https://")):
            raise ConfigError(
                f"{module}.sms.url: must be an http(s) URL, got {config.url!r}"
            )
        if config.token_path is not None and not Path(config.token_path).is_file():
            raise ConfigError(
                f"{module}.sms.token_path: no such file {config.token_path}"
            )
        return config

    def token(self) -> str | None:
        if self.token_path is None:
            return None
        return Path(self.token_path).read_text(encoding="utf-8").strip() or None


async def send_sms(api: ModuleApi, config: SmsConfig, mobile: str, content: str) -> str:
    """Send one message; the request id, or SmsError with the gateway's reason."""
    request_id = uuid.uuid4().hex
    headers: dict[bytes, list[bytes]] = {}
    token = config.token()
    if token:
        headers[b"Authorization"] = [f"Bearer {token}".encode("ascii")]
    body = {
        "request_id": request_id,
        "mobile": mobile,
        "sign": config.sign,
        "content": content,
    }
    try:
        answer = await api.http_client.post_json_get_json(
            config.url, body, headers=headers
        )
    except Exception as e:  # connection refused, timeout, non-2xx status
        raise SmsError(f"{type(e).__name__}: {e}") from e
    if not isinstance(answer, dict) or answer.get("code") != 0:
        message = answer.get("message") if isinstance(answer, dict) else answer
        raise SmsError(f"gateway refused: {message!r}")
    return request_id
