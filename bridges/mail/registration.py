# SPDX-License-Identifier: AGPL-3.0-or-later
"""The mail bridge's application-service registration, generated from its config: it
claims only its bot (exclusively). Writing it also creates the seal key when missing."""

import re
import secrets
from pathlib import Path
from typing import Any

from bridges.common.registration import (
    bot_appservice,
    ensure_secret,
    write_registration,
)
from bridges.mail.config import MailConfig


def ensure_seal_key(path: Path) -> bytes:
    """The SM4 key in `path` (32 hex digits), created (random, 0600) when missing."""
    text = ensure_secret(path, lambda: secrets.token_hex(16))
    if not re.fullmatch(r"[0-9a-fA-F]{32}", text):
        raise ValueError(f"{path}: the seal key must be 32 hex digits")
    return bytes.fromhex(text)


def registration(config: MailConfig) -> dict[str, Any]:
    ensure_seal_key(config.seal_key_file)
    return bot_appservice(config)


def write(config: MailConfig, path: Path) -> None:
    write_registration(
        registration(config), path, "python -m bridges.mail registration"
    )
