# SPDX-License-Identifier: AGPL-3.0-or-later
"""The mail bridge's application-service registration, generated from its config: it
claims only its bot (exclusively). Writing it also creates the seal key when missing."""

import os
import re
import secrets
from pathlib import Path
from typing import Any

from bridges.common.registration import appservice, write_registration
from bridges.mail.config import MailConfig


def ensure_seal_key(path: Path) -> bytes:
    """The SM4 key in `path` (32 hex digits), created (random, 0600) when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(16) + "\n")
    text = path.read_text(encoding="ascii").strip()
    if not re.fullmatch(r"[0-9a-fA-F]{32}", text):
        raise ValueError(f"{path}: the seal key must be 32 hex digits")
    return bytes.fromhex(text)


def registration(config: MailConfig) -> dict[str, Any]:
    ensure_seal_key(config.seal_key_file)
    return appservice(
        config.registration_id,
        config.bridge_url,
        config.as_token_file,
        config.hs_token_file,
        config.sender_localpart,
        re.escape(config.bot_user_id),
    )


def write(config: MailConfig, path: Path) -> None:
    write_registration(
        registration(config), path, "python -m bridges.mail registration"
    )
