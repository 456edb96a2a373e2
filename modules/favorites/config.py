# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of modules.favorites (homeserver.yaml → modules → modules.favorites.FavoritesModule).

Keys:
  max_favorites (int, default 10000): how many favourites one officer may keep.
  default_page_size (int, default 50) and max_page_size (int, default 200): listing.
"""

from dataclasses import dataclass
from typing import Any

from modules.common.config import ConfigReader
from modules.common.synapse.errors import ConfigError

MODULE = "modules.favorites"


@dataclass(frozen=True)
class FavoritesConfig:
    max_favorites: int = 10000
    default_page_size: int = 50
    max_page_size: int = 200

    @staticmethod
    def parse(raw: Any) -> "FavoritesConfig":
        reader = ConfigReader(raw, MODULE)
        d = FavoritesConfig()
        config = FavoritesConfig(
            max_favorites=reader.integer("max_favorites", d.max_favorites, minimum=1),
            default_page_size=reader.integer(
                "default_page_size", d.default_page_size, minimum=1, maximum=1000
            ),
            max_page_size=reader.integer(
                "max_page_size", d.max_page_size, minimum=1, maximum=1000
            ),
        )
        reader.finish()
        if config.default_page_size > config.max_page_size:
            raise ConfigError(
                f"{MODULE}.default_page_size must not exceed max_page_size"
            )
        return config
