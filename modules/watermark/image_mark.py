# SPDX-License-Identifier: AGPL-3.0-or-later
"""Watermarking images: the viewer's text tiled diagonally, semi-transparent.

Every raster format Pillow reads is marked (identify() says which file is one): JPEG and
WebP come back in their own format, AVIF as JPEG (PNG when it has transparency; encoding
AVIF takes ~0.8 s a photo), everything else (PNG, GIF, BMP, TIFF, ICO, ...) as PNG. A
GIF or multi-page TIFF comes back as its first frame (an animation cannot be marked frame
by frame cheaply, and passing it through would leak it unmarked).
"""

import io
import math
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

# Rows of text are drawn at this angle (degrees, counter-clockwise).
ANGLE = 30
FILL = (64, 64, 64)  # visible on light images
OUTLINE = (255, 255, 255)  # visible on dark ones


# Pillow identifies these but they are not pictures: video (MPEG) and data containers
# its plug-ins only name (BUFR, GRIB, HDF5). They pass as ordinary files.
NOT_PICTURES = frozenset({"MPEG", "BUFR", "GRIB", "HDF5"})
# Pictures Pillow can only draw with an outside program (Ghostscript for EPS/PostScript)
# or on Windows (WMF/EMF): never drawn here, refused while marks are required.
UNDRAWABLE = frozenset({"EPS", "WMF"})


def identify(data: bytes, claimed_image: bool) -> str | None:
    """Pillow's name for the format of `data` (its headers are parsed, nothing decoded),
    or None. Plug-ins without a magic-byte check (TGA, IM, SPIDER, ...) would take
    arbitrary bytes for a picture: they are tried only when the upload claims to be one."""
    Image.init()
    formats = None if claimed_image else [f for f in Image.ID if Image.OPEN[f][1]]
    try:
        with Image.open(io.BytesIO(data), formats=formats) as image:
            return str(image.format)
    except Exception:  # noqa: BLE001 - any plug-in error means "not this format"
        return None


class ImageTooLargeError(ValueError):
    pass


class ImageUnreadableError(ValueError):
    pass


@lru_cache(maxsize=32)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=0)


def font_size_for(width: int, height: int) -> int:
    """About 1/20 of the shorter side, legible on thumbnails and photos alike."""
    return max(12, min(64, min(width, height) // 20))


def _text_tile(
    text: str, font_size: int, opacity: float, font_path: str
) -> Image.Image:
    """The text once, rotated: the stamp that is repeated over the image."""
    font = _font(font_path, font_size)
    left, top, right, bottom = (int(v) for v in font.getbbox(text))
    alpha = max(1, round(255 * opacity))
    stroke = max(1, font_size // 16)
    tile = Image.new(
        "RGBA", (right - left + 2 * stroke, bottom - top + 2 * stroke), (0, 0, 0, 0)
    )
    ImageDraw.Draw(tile).text(
        (stroke - left, stroke - top),
        text,
        font=font,
        fill=(*FILL, alpha),
        stroke_width=stroke,
        stroke_fill=(*OUTLINE, alpha // 2),
    )
    return tile.rotate(ANGLE, resample=Image.Resampling.BICUBIC, expand=True)


def tiled_layer(
    size: tuple[int, int], text: str, opacity: float, font_path: str
) -> Image.Image:
    """A transparent RGBA layer of `size` with `text` tiled diagonally over all of it:
    copies of one rotated stamp on a rotated brick lattice (rasterising the text once
    and never rotating the whole layer keeps a 12-megapixel photo well under a second)."""
    width, height = size
    font_size = font_size_for(width, height)
    text_width = _font(font_path, font_size).getlength(text)
    stamp = _text_tile(text, font_size, opacity, font_path)
    step_u = text_width + font_size * 3  # along the text direction
    step_v = font_size * 4  # between rows
    pad_x, pad_y = stamp.size
    canvas = Image.new("RGBA", (width + 2 * pad_x, height + 2 * pad_y), (0, 0, 0, 0))
    cos_a = math.cos(math.radians(ANGLE))
    sin_a = math.sin(math.radians(ANGLE))
    reach = math.hypot(width, height) / 2 + max(pad_x, pad_y)
    rows = int(reach / step_v) + 1
    columns = int(reach / step_u) + 2
    center_x, center_y = pad_x + width / 2, pad_y + height / 2
    for row in range(-rows, rows + 1):
        shift = (row % 2) * step_u / 2  # brick pattern: no empty diagonal lanes
        for column in range(-columns, columns + 1):
            u, v = column * step_u + shift, row * step_v
            # Image y grows downwards, so a counter-clockwise turn flips sin's sign.
            x = center_x + u * cos_a + v * sin_a - pad_x / 2
            y = center_y - u * sin_a + v * cos_a - pad_y / 2
            if -pad_x < x < canvas.width and -pad_y < y < canvas.height:
                x_i, y_i = int(x), int(y)
                if (
                    0 <= x_i <= canvas.width - pad_x
                    and 0 <= y_i <= canvas.height - pad_y
                ):
                    canvas.alpha_composite(stamp, (x_i, y_i))
    return canvas.crop((pad_x, pad_y, pad_x + width, pad_y + height))


def open_image(data: bytes, max_pixels: int) -> Image.Image:
    """The first frame, upright (EXIF orientation applied), size-checked before decoding."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > max_pixels:
            raise ImageTooLargeError(f"{image.width}x{image.height}")
        image.seek(0)
        image.load()
        return ImageOps.exif_transpose(image)
    except ImageTooLargeError:
        raise
    except Exception as e:  # noqa: BLE001 - plug-ins raise SyntaxError, EOFError, …
        raise ImageUnreadableError(str(e) or type(e).__name__) from e


def encode(
    image: Image.Image, source_format: str, has_alpha: bool = True
) -> tuple[bytes, str]:
    out = io.BytesIO()
    if source_format == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=90)
        return out.getvalue(), "image/jpeg"
    if source_format == "WEBP":
        image.save(out, "WEBP", quality=90)
        return out.getvalue(), "image/webp"
    if source_format == "AVIF" and not has_alpha:
        image.convert("RGB").save(out, "JPEG", quality=90)
        return out.getvalue(), "image/jpeg"
    image.save(out, "PNG")
    return out.getvalue(), "image/png"


def watermark_image(
    data: bytes,
    text: str,
    opacity: float,
    font_path: str,
    max_pixels: int,
    fit: tuple[int, int, str] | None = None,
) -> tuple[bytes, str]:
    """(image bytes, content type) of the watermarked image. `fit` = (width, height,
    "scale"|"crop") first makes a thumbnail, as Synapse's thumbnail endpoint would."""
    source_format = str(identify(data, claimed_image=True))
    if source_format in UNDRAWABLE:
        # Checked before open_image: loading EPS would run Ghostscript.
        raise ImageUnreadableError(f"{source_format} 图像无法在服务器上绘制")
    image = open_image(data, max_pixels)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    base = image.convert("RGBA")
    if fit is not None:
        width, height, method = fit
        if method == "crop":
            base = ImageOps.fit(base, (width, height), Image.Resampling.LANCZOS)
        else:
            base.thumbnail((width, height), Image.Resampling.LANCZOS)
    marked = Image.alpha_composite(
        base, tiled_layer(base.size, text, opacity, font_path)
    )
    return encode(marked, source_format, has_alpha)
