# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the adapter's files share: the HomeServer behind a ModuleApi. Never imported
from outside modules/common/synapse/."""

from typing import Any

from synapse.module_api import ModuleApi


def hs_of(api: ModuleApi) -> Any:
    """The HomeServer a ModuleApi was built for (Synapse keeps it private)."""
    return api._hs
