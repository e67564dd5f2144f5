"""Camera-trap bursts: a trigger fires 3-10 frames of one animal. Frames of one camera whose EXIF
``DateTimeOriginal`` lie within a gap of each other form a sequence.

A camera is the folder above the SD card's own structure: a card copied whole keeps ``DCIM`` and its
DCF folders (``100MEDIA``, ``100RECNX``, ``101RECNX``, ``100_BTCF``: 3 digits and 5 characters), which
are dropped, so ``cam2/DCIM/100MEDIA/IMG_0105.JPG`` and ``cam2/DCIM/101MEDIA/...`` are camera ``cam2``.
``camera_level`` overrides it: the camera is the path's first ``camera_level`` folders. A frame
without a readable date is a sequence of its own.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pandas as pd

DCF_FOLDER = re.compile(r"^\d{3}[A-Za-z0-9_]{5}$")  # DCF: 3 digits + 5 characters (100RECNX, 100_BTCF)
CARD_FOLDERS = {"dcim"}  # a card's root folder of images, case-insensitive
EXIF_IFD = 0x8769
DATE_TIME_ORIGINAL = 36867
DATE_TIME = 306
DEFAULT_GAP_S = 60


def camera_of(image_id: str, camera_level: int | None = None) -> str:
    """The camera a frame belongs to: its folder without the card's ``DCIM`` and DCF folders below it
    ('' at the root), or its first ``camera_level`` folders."""
    folders = image_id.split("/")[:-1]
    if camera_level:
        return "/".join(folders[:camera_level])
    while folders and (DCF_FOLDER.match(folders[-1]) or folders[-1].lower() in CARD_FOLDERS):
        folders.pop()
    return "/".join(folders)


def inbox_cameras(
    root: Path | str, camera_level: int | None = None, folders: dict[str, int] | None = None
) -> list[str]:
    """The cameras of the photos under ``root`` (from names only: cheap enough for a config check), from
    ``folders`` (``zsc.data.folders.image_folders`` of ``root``) when the caller walked it already. Hidden
    folders are left out, as the scan leaves them."""
    from zsc.data.folders import image_folders

    folders = image_folders(Path(root)) if folders is None else folders
    return sorted(
        {
            camera_of(f"{folder}/x" if folder != "." else "x", camera_level)
            for folder in folders
            if not any(part.startswith(".") for part in folder.split("/") if part != ".")
        }
    )


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
