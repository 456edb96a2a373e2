# SPDX-License-Identifier: AGPL-3.0-or-later
"""What other modules may use of modules.accounts (its declared surface):

- `classify`: the client platform of a User-Agent, as the device-class limits count it
  (modules.audit records it with every login);
- `SecondFactorService` under `SERVICE`: the TOTP second factor (state, confirming a
  pending enrolment, checking a code), which admin_api asks of every admin session;
- `LOGIN_TYPE`: the login type of a password + second-factor login, and
  `is_device_key` (a `code` that is a device key, not a person's authenticator).
"""

from typing import Protocol

from modules.accounts.mfa import LOGIN_TYPE, TotpState, is_device_key
from modules.accounts.platform import classify
from modules.common import registry

__all__ = [
    "LOGIN_TYPE",
    "SERVICE",
    "SecondFactorService",
    "TotpState",
    "classify",
    "is_device_key",
]


class SecondFactorService(Protocol):
    async def totp_state(self, user_id: str) -> TotpState:
        """unavailable (no mfa.secret_path), none, pending (started, not confirmed) or
        enabled."""

    async def confirm_totp(self, user_id: str, code: str) -> list[str] | None:
        """Turn a pending enrolment on with its first code: the new recovery codes, or
        None (wrong code, nothing pending)."""

    async def check_totp(self, user_id: str, code: str) -> bool:
        """A current TOTP code (each time step once) or an unused recovery code of an
        enabled authenticator; device keys are not accepted here."""


SERVICE: registry.Service[SecondFactorService] = registry.Service("accounts")
