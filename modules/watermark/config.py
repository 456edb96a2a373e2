# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of modules.watermark (homeserver.yaml → modules → modules.watermark.WatermarkModule).

Keys:
  font_path (string, optional): a TTF/TTC/OTF font with Chinese glyphs. Default: the
      first of Debian's wqy-microhei and the usual Noto CJK paths that exists
      (modules/watermark/fonts.py). Start-up fails with a ConfigError naming the paths
      when none is found.
  settings_reload_seconds (number ≥ 1, default 10): how often each process re-reads the
      admins' settings (a PUT takes effect at once on the process that served it).
  utc_offset_hours (integer -12..14, default 8): the time zone of the time printed in
      watermarks (Beijing time by default).
  max_media_bytes (integer, default 52428800 = 50 MiB): the largest file the watermarked
      media path reads into memory. Larger files whose stored type is an image or PDF are
      refused (413), never passed on without a watermark; other larger files are streamed
      unchanged.
  max_image_pixels (integer, default 40000000): larger images are refused (413), as
      decoding them would take too much memory.
"""

from dataclasses import dataclass
from typing import Any

from modules.common.config import ConfigReader
from modules.common.synapse.errors import ConfigError
from modules.watermark.fonts import FontError, find_cjk_font

MODULE = "modules.watermark"


@dataclass(frozen=True)
class WatermarkConfig:
    font_path: str
    settings_reload_seconds: float = 10.0
    utc_offset_hours: int = 8
    max_media_bytes: int = 50 * 1024 * 1024
    max_image_pixels: int = 40_000_000

    @staticmethod
    def parse(raw: Any) -> "WatermarkConfig":
        reader = ConfigReader(raw, MODULE)
        configured_font = reader.optional_string("font_path")
        reload_seconds = reader.number("settings_reload_seconds", 10.0, minimum=1.0)
        offset = reader.integer("utc_offset_hours", 8, minimum=-12, maximum=14)
        max_bytes = reader.integer(
            "max_media_bytes", 50 * 1024 * 1024, minimum=1024, maximum=2**31 - 1
        )
        max_pixels = reader.integer(
            "max_image_pixels", 40_000_000, minimum=10_000, maximum=500_000_000
        )
        reader.finish()
        try:
            font = find_cjk_font(configured_font)
        except FontError as e:
            raise ConfigError(f"{MODULE}.font_path: {e}") from e
        return WatermarkConfig(font, reload_seconds, offset, max_bytes, max_pixels)
