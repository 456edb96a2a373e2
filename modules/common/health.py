# SPDX-License-Identifier: AGPL-3.0-or-later
"""Module health: each module registers a probe; one endpoint reports them all.

GET /_jwwx/client/v1/health (no auth) answers 200 when every module is "ok" (status
"ok") or some are "degraded" (working, but an operator is needed: status "degraded",
with the module's "alerts"), and 503 otherwise ("unhealthy"), with
{"status": ..., "instance": ..., "modules": {name: {"status": ..., "detail": ...,
"alerts": ..., "runs_jobs": ...}}}: `instance` is the answering process's worker_name
("main" for the main process), `runs_jobs` whether the module's background jobs run on
it (modules/common/jobs.py).
`python -m homeserver check` reads it (and fails on anything but "ok").
"""

from collections.abc import Callable
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.http import register_resource
from modules.common.jobs import instance_name
from modules.common.resource import JsonResource

HEALTH_PATH = "/_jwwx/client/v1/health"

Probe = Callable[[], dict[str, Any]]

# One Synapse process, one registry: modules are instantiated once per process.
_probes: dict[str, Probe] = {}


class HealthResource(JsonResource):
    async def on_GET(self, request: Any) -> tuple[int, Any]:
        modules = {name: probe() for name, probe in sorted(_probes.items())}
        states = {m.get("status") for m in modules.values()}
        if states <= {"ok"}:
            status = "ok"
        elif states <= {"ok", "degraded"}:
            status = "degraded"
        else:
            status = "unhealthy"
        code = 503 if status == "unhealthy" else 200
        return code, {
            "status": status,
            "instance": instance_name(self.api),
            "modules": modules,
        }


def register_probe(api: ModuleApi, name: str, probe: Probe) -> None:
    first = not _probes
    _probes[name] = probe
    if first:
        register_resource(api, HEALTH_PATH, HealthResource(api))
