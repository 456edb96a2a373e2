# SPDX-License-Identifier: AGPL-3.0-or-later
"""What other modules may use of modules.accounts (its declared surface): the client
platform of a User-Agent, as the device-class limits count it (modules.audit records it
with every login)."""

from modules.accounts.platform import classify

__all__ = ["classify"]
