# SPDX-License-Identifier: AGPL-3.0-or-later
"""Services one module offers to others in the same Synapse process, typed.

A package that offers a service declares, in its `public.py`, a Protocol of what others
may call and a `Service` key naming it; the registry hands out that Protocol, never Any:

    # modules/directory/public.py
    class DirectoryService(Protocol): ...
    SERVICE: registry.Service[DirectoryService] = registry.Service("directory")

    registry.publish(api, public.SERVICE, self)   # in DirectoryModule.__init__ (checked
                                                  # by mypy against the Protocol)
    directory = registry.lookup(api, directory_public.SERVICE)  # in another module's
                                                  # handler: a DirectoryService

Modules are instantiated in the order of homeserver.yaml's `modules:` list; a module that
needs another's service looks it up when it handles a request (not in __init__), so the
order does not matter. docs/architecture.md ("Surfaces between modules").
"""

from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from synapse.module_api import ModuleApi

T = TypeVar("T")

_services: dict[tuple[int, str], object] = {}


class ServiceMissingError(LookupError):
    pass


@dataclass(frozen=True)
class Service(Generic[T]):
    """The typed name of a module service; `T` is the Protocol its users see."""

    name: str


def publish(api: ModuleApi, key: Service[T], service: T) -> None:
    _services[(id(api), key.name)] = service


def lookup(api: ModuleApi, key: Service[T]) -> T:
    try:
        return cast(T, _services[(id(api), key.name)])
    except KeyError:
        raise ServiceMissingError(
            f"module service {key.name!r} is not loaded"
        ) from None
