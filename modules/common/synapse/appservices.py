# SPDX-License-Identifier: AGPL-3.0-or-later
"""The application services Synapse loaded (app_service_config_files): the URL one
of them registered, for the homeserver's forward of a bridge's officer API
(modules/web_client/forward.py). Pinned by tests.bridges.mail.test_mail (the officer
API reached through the homeserver)."""

from synapse.module_api import ModuleApi

from modules.common.synapse._internal import hs_of


def appservice_url(api: ModuleApi, service_id: str) -> str | None:
    """The `url` of the registration with this id; None without one (or no URL)."""
    for service in hs_of(api).get_datastores().main.get_app_services():
        if service.id == service_id:
            return str(service.url) if service.url else None
    return None
