# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.favorites: an officer's favourite messages (收藏).

    modules:
      - module: modules.favorites.FavoritesModule
        config: {}

HTTP: modules/favorites/resources.py. Config keys: modules/favorites/config.py.
docs/favorites.md.
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.http import register_resource
from modules.common.runtime import ModuleRuntime
from modules.favorites import public
from modules.favorites.config import FavoritesConfig
from modules.favorites.resources import CLIENT_PREFIX, FavoritesResource
from modules.favorites.service import FavoritesService


class FavoritesModule:
    def __init__(self, config: FavoritesConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self.runtime = ModuleRuntime(api, "favorites", __name__)
        self.service = FavoritesService(api, config)
        registry.publish(api, public.SERVICE, self)
        register_resource(
            api,
            CLIENT_PREFIX,
            FavoritesResource(api, config, self.runtime, self.service),
        )

    @staticmethod
    def parse_config(config: Any) -> FavoritesConfig:
        return FavoritesConfig.parse(config)
