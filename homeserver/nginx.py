# SPDX-License-Identifier: AGPL-3.0-or-later
"""nginx/jwwx.conf, rendered by `init` for every deployment: the worker routing
(homeserver/routing.py) or, for one process, everything to it; Synapse's admin API
only from the admin networks; with `--tls-cert/--tls-key`, TLS on the client listener
and, when federation is on, the federation port; the officers' web client
(clients/web/dist/) served by nginx itself at /_jwwx/web/. docs/deployment.md, "nginx
routing"; docs/security.md, "TLS"; docs/web_client.md, "Serving"."""

from typing import Any

from homeserver.render import render_text
from homeserver.routing import (
    MAIN_UPSTREAM,
    MODULE_MAIN_PREFIXES,
    Upstream,
    admin_allow_list,
    admin_routes,
    routes,
    upstreams,
)
from homeserver.workers import Deployment

NGINX_FILE = "nginx/jwwx.conf"


def render_nginx(
    deployment: Deployment | None,
    context: dict[str, Any],
    main_port: int,
    nginx_listen: str,
    admin_networks: list[str],
) -> str:
    if deployment is None:
        host = context["upstream_host"]
        table = [Upstream(MAIN_UPSTREAM, (f"{host}:{main_port}",))]
        locations = admin_routes(MAIN_UPSTREAM)
        profile = None
    else:
        table = upstreams(deployment, main_port)
        locations = routes(context["federation_enabled"])
        profile = deployment.profile
    return render_text(
        "nginx/jwwx.conf.j2",
        {
            "profile": profile,
            "listen": nginx_listen,
            "server_name": context["server_name"],
            "upstreams": table,
            "routes": locations,
            "admin_allow": admin_allow_list(admin_networks),
            "tls": context["tls"],
            "federation": context["federation_enabled"],
            "main_upstream": MAIN_UPSTREAM,
            "module_prefixes": MODULE_MAIN_PREFIXES,
            "web": web_client_context(),
        },
    )


def web_client_context() -> dict[str, Any]:
    """Where the built web client is and the security headers the homeserver sends with
    it (modules/web_client/resources.py): nginx sends the same. Imported here: those
    modules import Synapse, which the launcher's `run` leaves to Synapse's process."""
    from modules.common.static import security_headers  # noqa: PLC0415
    from modules.web_client.config import DEFAULT_DIST  # noqa: PLC0415
    from modules.web_client.resources import CSP  # noqa: PLC0415

    return {
        "dist": str(DEFAULT_DIST),
        "headers": [
            (name.decode("ascii"), value.decode("ascii"))
            for name, value in security_headers(CSP)
        ],
    }
