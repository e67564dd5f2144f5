"""Camera-trap bursts: a trigger fires 3-10 frames of one animal. Frames of one camera whose EXIF
``DateTimeOriginal`` lie within a gap of each other form a sequence.

A camera is the photo's folder, with the SD card's overflow folders (DCF names such as ``100RECNX``,
``101RECNX``, ``100_BTCF``, ``100MEDIA``) taken as the same camera; a frame without a readable date
is a sequence of its own.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pandas as pd

DCF_FOLDER = re.compile(r"^\d{3}[A-Za-z0-9_]{5}$")  # DCF: 3 digits + 5 characters (100RECNX, 100_BTCF)
EXIF_IFD = 0x8769
DATE_TIME_ORIGINAL = 36867
DATE_TIME = 306
DEFAULT_GAP_S = 60


def camera_of(image_id: str) -> str:
    """The camera a frame belongs to: its folder without trailing DCF overflow folders ('' at the root)."""
    folders = image_id.split("/")[:-1]
    while folders and DCF_FOLDER.match(folders[-1]):
        folders.pop()
    return "/".join(folders)


def exif_time(path: Path | str) -> datetime | None:
    """The frame's ``DateTimeOriginal`` (else its EXIF ``DateTime``), or None when unreadable."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            exif = image.getexif()
            text = exif.get_ifd(EXIF_IFD).get(DATE_TIME_ORIGINAL) or exif.get(DATE_TIME)
    except (OSError, ValueError, SyntaxError):
        return None
    if not isinstance(text, str):
        return None
    try:
        return datetime.strptime(text.strip().rstrip("\x00")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def sequence_ids(frames: pd.DataFrame, gap_s: float = DEFAULT_GAP_S) -> pd.Series:
    """Per frame (columns ``image_id``, ``camera``, ``time``; index kept): ``<camera>#<n>`` for a burst
    whose consecutive frames are at most ``gap_s`` apart, ``<image_id>`` alone without a time."""
    ids = pd.Series(frames["image_id"].to_numpy(), index=frames.index, dtype=object)
    dated = frames[frames["time"].notna()].sort_values(["camera", "time", "image_id"])
    for camera, group in dated.groupby("camera", sort=False):
        gaps = group["time"].diff().dt.total_seconds()
        number = (gaps.isna() | (gaps > gap_s)).cumsum()
        ids.loc[group.index] = [f"{camera or '.'}#{n:05d}" for n in number]
    return ids
