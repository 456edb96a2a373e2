# SPDX-License-Identifier: AGPL-3.0-or-later
"""Text in an image: rapidocr (PP-OCR detection, direction and recognition models that
ship inside its wheel) on onnxruntime, run in Synapse's thread pool so the reactor keeps
serving while an image is read. Images are checked (size, format, pixels) before the
engine sees them."""

import io
import math
import statistics
from dataclasses import dataclass
from typing import Any

from twisted.internet.defer import DeferredSemaphore

from synapse.module_api import ModuleApi

from modules.common.errors import error
from modules.ocr.config import OcrConfig

IMAGE_TOO_LARGE = "CN_JWWX_OCR_IMAGE_TOO_LARGE"
NOT_AN_IMAGE = "CN_JWWX_OCR_NOT_AN_IMAGE"
FORMATS = ("JPEG", "PNG", "BMP", "WEBP", "GIF", "TIFF")


@dataclass(frozen=True)
class Line:
    text: str
    score: float
    box: tuple[tuple[int, int], ...]  # corners, clockwise from top-left

    @property
    def top(self) -> int:
        return min(y for _x, y in self.box)

    @property
    def left(self) -> int:
        return min(x for x, _y in self.box)

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "score": round(self.score, 4), "box": self.box}


def decode(data: bytes, config: OcrConfig) -> Any:
    """An RGB numpy array of the image, or a 400 naming what is wrong with it."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > config.max_image_bytes:
        raise error(
            400,
            IMAGE_TOO_LARGE,
            f"图片超过 {config.max_image_bytes // (1024 * 1024)} MB，无法识别",
        )
    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in FORMATS:
            raise error(400, NOT_AN_IMAGE, f"不支持的图片格式 {image.format}")
        if image.width * image.height > config.max_pixels:
            raise error(400, IMAGE_TOO_LARGE, "图片像素过多，无法识别")
        rgb = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise error(400, NOT_AN_IMAGE, "不是可识别的图片") from None
    import numpy

    return numpy.asarray(rgb)[:, :, ::-1]  # the engine wants BGR, as OpenCV reads


class OcrEngine:
    def __init__(self, api: ModuleApi, config: OcrConfig) -> None:
        self._api = api
        self._config = config
        self._engine: Any = None
        self._turns = DeferredSemaphore(config.concurrency)

    def _load(self) -> Any:
        if self._engine is None:
            from rapidocr import RapidOCR

            self._engine = RapidOCR(
                params={
                    "Global.log_level": "warning",
                    "EngineConfig.onnxruntime.intra_op_num_threads": self._config.threads,
                    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                }
            )
        return self._engine

    def _recognise(self, data: bytes) -> list[Line]:
        pixels = decode(data, self._config)
        result = self._load()(pixels)
        if result.txts is None:
            return []
        lines = []
        for text, score, box in zip(
            result.txts, result.scores, result.boxes, strict=True
        ):
            corners = tuple((int(x), int(y)) for x, y in box)
            lines.append(Line(str(text), float(score), corners))
        return lines

    async def recognise(self, data: bytes) -> list[Line]:
        """The lines of text in reading order (top to bottom, left to right)."""
        await self._turns.acquire()
        try:
            lines = await self._api.defer_to_thread(self._recognise, data)
        finally:
            self._turns.release()
        return reading_order(lines)


def _skew(lines: list[Line]) -> float:
    """The page's tilt in radians: the median slope of the wide boxes' top edges
    (the detector's boxes follow the text's direction)."""
    slopes = []
    for line in lines:
        (x0, y0), (x1, y1) = line.box[0], line.box[1]
        ys = [y for _x, y in line.box]
        if x1 - x0 > 2 * (max(ys) - min(ys)):
            slopes.append(math.atan2(y1 - y0, x1 - x0))
    return statistics.median(slopes) if slopes else 0.0


def reading_order(lines: list[Line]) -> list[Line]:
    """Rows by vertical centre (a line joins the row when its centre lies within half
    the smaller height of the row's first line: a long, slightly tilted value and its
    short label share a centre, not a top edge), each row left to right. Centres are
    taken on the page turned straight first (its tilt from the boxes): on a photo
    tilted 3°, a label 500 px left of its row's end sits 26 px lower than it."""
    if not lines:
        return []
    angle = _skew(lines)
    cos, sin = math.cos(angle), math.sin(angle)

    def straight(line: Line) -> tuple[float, float]:
        xs = [x for x, _y in line.box]
        ys = [y for _x, y in line.box]
        x, y = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
        return x * cos + y * sin, y * cos - x * sin

    def centre(line: Line) -> float:
        return straight(line)[1]

    def height(line: Line) -> float:
        (x0, y0), (x3, y3) = line.box[0], line.box[3]
        return max(1.0, math.hypot(x3 - x0, y3 - y0))

    ordered = sorted(lines, key=centre)
    rows: list[list[Line]] = [[ordered[0]]]
    for line in ordered[1:]:
        first = rows[-1][0]
        if abs(centre(line) - centre(first)) <= min(height(line), height(first)) / 2:
            rows[-1].append(line)
        else:
            rows.append([line])
    return [
        line
        for row in rows
        for line in sorted(row, key=lambda x: straight(x)[0] - _half_width(x))
    ]


def _half_width(line: Line) -> float:
    (x0, y0), (x1, y1) = line.box[0], line.box[1]
    return math.hypot(x1 - x0, y1 - y0) / 2


def plain_text(lines: list[Line]) -> str:
    return "\n".join(line.text for line in lines)
