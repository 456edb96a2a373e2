# SPDX-License-Identifier: AGPL-3.0-or-later
"""Synapse's error types that its module API exports publicly (nothing private here).

Code that only needs errors imports them from here, not from the rest of the adapter.
"""

from synapse.module_api.errors import Codes, ConfigError, SynapseError

__all__ = ["Codes", "ConfigError", "SynapseError"]
