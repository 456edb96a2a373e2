# SPDX-License-Identifier: AGPL-3.0-or-later
"""The files `init --workers PROFILE` renders beside homeserver.yaml:

workers/NAME.yaml         each worker's Synapse config (read after homeserver.yaml)
workers/NAME.log.config   its log config (the worker's name in every line)

nginx/jwwx.conf (every endpoint to its process) is homeserver/nginx.py's.
"""

from pathlib import Path
from typing import Any

from homeserver.render import render_yaml
from homeserver.workers import Deployment

WORKERS_DIR = "workers"


def template_settings(deployment: Deployment | None) -> dict[str, Any] | None:
    """homeserver.yaml.j2's `workers` variable."""
    if deployment is None:
        return None
    return {
        "profile": deployment.profile,
        "host": deployment.host,
        "main_replication_port": deployment.main_replication_port,
        "shared": deployment.shared_settings(),
    }


def render_worker_files(
    deployment: Deployment, context: dict[str, Any]
) -> dict[str, str]:
    """{relative path: text} of every file above; context is init's template context."""
    data_dir = Path(context["data_dir"])
    files: dict[str, str] = {}
    for worker in deployment.workers:
        log_name = f"{WORKERS_DIR}/{worker.name}.log.config"
        files[log_name] = render_yaml(
            "log.config.j2", {**context, "process_name": worker.name}
        )
        files[f"{WORKERS_DIR}/{worker.name}.yaml"] = render_yaml(
            "workers/worker.yaml.j2",
            {
                "profile": deployment.profile,
                "worker": worker,
                "host": deployment.host,
                "log_config": str(data_dir / log_name),
                "resources": worker.listener_resources(context["federation_enabled"]),
                "settings": deployment.worker_settings(worker),
            },
        )
    return files
