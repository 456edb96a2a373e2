# SPDX-License-Identifier: AGPL-3.0-or-later
"""Services one module offers to others in the same Synapse process.

Modules are instantiated in the order of homeserver.yaml's `modules:` list; a module that
needs another's service looks it up when it handles a request (not in __init__), so the
order does not matter:

    registry.publish(api, "directory", directory_service)   # in DirectoryModule.__init__
    directory = registry.lookup(api, "directory")            # in a handler of another module
"""

from typing import Any

from synapse.module_api import ModuleApi

_services: dict[tuple[int, str], Any] = {}


class ServiceMissingError(LookupError):
    pass


def publish(api: ModuleApi, name: str, service: Any) -> None:
    _services[(id(api), name)] = service


def lookup(api: ModuleApi, name: str) -> Any:
    try:
        return _services[(id(api), name)]
    except KeyError:
        raise ServiceMissingError(f"module service {name!r} is not loaded") from None
