# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of modules.ocr (homeserver.yaml → modules → modules.ocr.OcrModule).

Keys:
  max_image_bytes (int, default 10485760): larger images are refused (413-style 400
    CN_JWWX_OCR_IMAGE_TOO_LARGE) before any decoding.
  max_pixels (int, default 40000000): width × height above this is refused (a small
    file can decode into a huge bitmap).
  concurrency (int, default 1, 1–8): images recognised at once by this process; more
    wait their turn (OCR is CPU-bound: on a 2-core server one at a time keeps message
    delivery responsive).
  threads (int, default 1, 1–16): CPU threads of the ONNX runtime per image.
  forward_limit (int, default 10): how many chats one request may forward the text to.
The engine (rapidocr with the PP-OCR models inside its wheel, onnxruntime) is loaded on
the first request, not at start (about 150 MB of memory).
"""

from dataclasses import dataclass
from typing import Any

from modules.common.config import ConfigReader

MODULE = "modules.ocr"


@dataclass(frozen=True)
class OcrConfig:
    max_image_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 40_000_000
    concurrency: int = 1
    threads: int = 1
    forward_limit: int = 10

    @staticmethod
    def parse(raw: Any) -> "OcrConfig":
        reader = ConfigReader(raw, MODULE)
        d = OcrConfig()
        config = OcrConfig(
            max_image_bytes=reader.integer(
                "max_image_bytes", d.max_image_bytes, minimum=1024, maximum=100 << 20
            ),
            max_pixels=reader.integer(
                "max_pixels", d.max_pixels, minimum=10_000, maximum=400_000_000
            ),
            concurrency=reader.integer(
                "concurrency", d.concurrency, minimum=1, maximum=8
            ),
            threads=reader.integer("threads", d.threads, minimum=1, maximum=16),
            forward_limit=reader.integer(
                "forward_limit", d.forward_limit, minimum=1, maximum=100
            ),
        )
        reader.finish()
        return config
