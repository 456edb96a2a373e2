# SPDX-License-Identifier: AGPL-3.0-or-later
"""Module health: each module registers a probe; one endpoint reports them all.

GET /_jwwx/client/v1/health (no auth) answers 200 when every module is "ok" and 503
otherwise, with {"status": ..., "modules": {name: {"status": ..., "detail": ...}}}.
`python -m homeserver check` reads it.
"""

from collections.abc import Callable
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.http import register_resource
from modules.common.resource import JsonResource

HEALTH_PATH = "/_jwwx/client/v1/health"

Probe = Callable[[], dict[str, Any]]

# One Synapse process, one registry: modules are instantiated once per process.
_probes: dict[str, Probe] = {}


class HealthResource(JsonResource):
    async def on_GET(self, request: Any) -> tuple[int, Any]:
        modules = {name: probe() for name, probe in sorted(_probes.items())}
        healthy = all(m.get("status") == "ok" for m in modules.values())
        status = "ok" if healthy else "unhealthy"
        return (200 if healthy else 503), {"status": status, "modules": modules}


def register_probe(api: ModuleApi, name: str, probe: Probe) -> None:
    first = not _probes
    _probes[name] = probe
    if first:
        register_resource(api, HEALTH_PATH, HealthResource(api))
