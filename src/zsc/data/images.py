"""Decoding photos robustly: one function decides what an image file is and how to read it."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageOps

# Files that are never photos, whatever their extension: reported as rejects, not read.
OS_METADATA_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", "Icon\r", ".localized"})
IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".jfif", ".ppm", ".pgm"}
)
EXIF_ORIENTATION = 0x0112
SIDEWAYS_ORIENTATIONS = frozenset({5, 6, 7, 8})  # EXIF orientations that swap width and height
MIN_SIDE_PX = 8  # smaller than this carries no usable content for a network
# Pillow's decompression-bomb limit (Image.MAX_IMAGE_PIXELS, ~89 Mpx warns, 2x errors) applies;
# both the warning and the error become a recorded rejection.


class ImageRejected(ValueError):
    """A file that cannot be used as a photo; ``str(error)`` is the recorded reason."""


def skip_reason(path: Path) -> str | None:
    """Why a path found while scanning is not even tried as an image, or None to try it."""
    name = path.name
    if name in OS_METADATA_NAMES:
        return "os metadata file"
    if name.startswith("._"):
        return "macOS resource fork"
    if name.startswith("."):
        return "hidden file"
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        return f"not an image extension ({path.suffix or 'none'})"
    return None


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB; transparency is composited on white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = array.max() if array.size and array.max() > 0 else 1.0
        image = Image.fromarray((array / peak * 255.0).astype(np.uint8), mode="L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")  # no copy of a 12 MP frame for nothing


def open_rgb(path: Path | str, draft_size: int | tuple[int, int] | None = None) -> Image.Image:
    """Decode ``path`` fully, upright (EXIF orientation applied), as RGB.

    ``draft_size`` lets JPEG decoding downscale by a power of two (1/2, 1/4, 1/8, in the decoder's
    DCT) while keeping both sides >= draft_size (an int: both; a (width, height) of the file as
    stored, before orientation): much faster for large camera images.
    Raises :class:`ImageRejected` with a specific reason for anything unusable.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise ImageRejected("empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if draft_size and image.format == "JPEG":
                    image.draft("RGB", draft_size if isinstance(draft_size, tuple) else (draft_size, draft_size))
                image.seek(0)  # animated images: the first frame
                image.load()
                if image.getexif().get(EXIF_ORIENTATION, 1) != 1:  # exif_transpose copies even an upright image
                    image = ImageOps.exif_transpose(image)
                rgb = _to_rgb(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected(f"decompression bomb limit exceeded: {error}") from None
    except Image.UnidentifiedImageError:
        raise ImageRejected("not a decodable image (unidentified format)") from None
    except OSError as error:
        raise ImageRejected(f"decode failed: {error or type(error).__name__}") from None
    except (ValueError, SyntaxError, EOFError) as error:
        raise ImageRejected(f"decode failed: {type(error).__name__}: {error}") from None
    if min(rgb.size) < MIN_SIDE_PX:
        raise ImageRejected(f"too small: {rgb.size[0]}x{rgb.size[1]} px (minimum side {MIN_SIDE_PX})")
    return rgb


class Header(NamedTuple):
    """What an image's header says, without decoding it."""

    size: tuple[int, int]  # width, height as stored
    sideways: bool  # its EXIF orientation turns it by 90 degrees
    format: str

    @property
    def upright(self) -> tuple[int, int]:
        return (self.size[1], self.size[0]) if self.sideways else self.size


def read_header(path: Path | str) -> Header:
    with Image.open(path) as image:
        return Header(image.size, image.getexif().get(EXIF_ORIENTATION, 1) in SIDEWAYS_ORIENTATIONS, image.format)


def probe(path: Path | str) -> dict:
    """Full decode check plus upright width, height and format, for the manifest."""
    path = Path(path)
    open_rgb(path, draft_size=64)  # reads all the data; JPEGs at reduced resolution
    header = read_header(path)
    width, height = header.upright
    return {"width": width, "height": height, "format": header.format}
