"""The crop step as it was before frames were decoded at the scale their boxes need (the baseline of
`bench.py --only season`'s crop rows): each frame decoded at full resolution in one process, each box
cut, shrunk to 512 px and written as a JPEG."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from PIL import Image, ImageOps

from zsc.data.detections import square_crop

CROP_LONG_SIDE, CROP_PAD = 512, 0.1


def open_rgb(path: Path) -> Image.Image:
    """The frame decoding as it was: full resolution, transposed and converted (each a copy)."""
    with Image.open(path) as image:
        image.load()
        return ImageOps.exif_transpose(image).convert("RGB")


def write_crops_full_resolution(root: Path, animals: pd.DataFrame, crops_dir: Path) -> int:
    written = 0
    for frame, group in animals.groupby("frame", sort=True):
        image = open_rgb(root / frame)
        for detection in group.itertuples(index=False):
            crop = image.crop(
                square_crop((detection.x, detection.y, detection.width, detection.height), *image.size, CROP_PAD)
            )
            crop.thumbnail((CROP_LONG_SIDE, CROP_LONG_SIDE))
            target = crops_dir / f"{frame}~d{int(detection.detection)}.jpg"
            target.parent.mkdir(parents=True, exist_ok=True)
            crop.save(target, format="JPEG", quality=90)
            written += 1
    return written
