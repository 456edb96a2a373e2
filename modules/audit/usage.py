# SPDX-License-Identifier: AGPL-3.0-or-later
"""Usage records: every login (and failed attempt) with platform and client version,
observed through the shared login hooks (patches.add_login_hooks)."""

import logging
import re
from typing import Any

from modules.accounts.public import classify
from modules.audit.service import usage_body
from modules.common.synapse.patches import LoginAttempt

logger = logging.getLogger(__name__)

# The first product token of a User-Agent, e.g. "Element/1.11.30" or "Riot.im/1.4".
_PRODUCT = re.compile(r"^\s*([A-Za-z][\w.\- ]{0,40}?/[\w.\-+]{1,40})")


def client_version(user_agent: str | None) -> str | None:
    match = _PRODUCT.match(user_agent or "")
    return match.group(1) if match else None


class UsageRecorder:
    """Implements patches.LoginHooks; records through the audit service."""

    def __init__(self, service: Any) -> None:
        self._service = service

    async def before_login(self, attempt: LoginAttempt) -> None:
        return None

    async def login_verified(self, attempt: LoginAttempt, user_id: str) -> None:
        return None

    async def login_failed(self, attempt: LoginAttempt, exc: Exception) -> None:
        identifier = attempt.submission.get("identifier")
        user = identifier.get("user") if isinstance(identifier, dict) else None
        if not isinstance(user, str):
            user = attempt.submission.get("user")
        await self._record(
            str(user) if user else "",
            attempt,
            None,
            "reauth" if attempt.reauth else "login",
            "failed",
        )

    async def session_created(
        self, attempt: LoginAttempt, user_id: str, device_id: str | None
    ) -> None:
        await self._record(user_id, attempt, device_id, "login", "ok")

    async def _record(
        self,
        user_id: str,
        attempt: LoginAttempt,
        device_id: str | None,
        action: str,
        result: str,
    ) -> None:
        request = attempt.request
        agent = request.user_agent if request else None
        try:
            # Queued: the login does not wait for its record's commit (service.py).
            self._service.queue_usage(
                usage_body(
                    user_id,
                    action,
                    platform=attempt.state.get("platform") or classify(agent),
                    client_version=client_version(agent),
                    device_id=device_id,
                    ip=request.ip if request else None,
                    user_agent=agent,
                    result=result,
                )
            )
        except Exception:
            # A login is never refused because its audit record failed; logged loudly.
            logger.exception("audit: usage record of %s lost", user_id)
