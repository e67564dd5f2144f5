"""Camera-trap frames: what the detector saw in each, and the animal crops that are sorted instead
of whole frames (an animal is often a small part of the frame: a whole-frame embedding clusters the
camera sites, not the species).

Every frame of the inbox gets one ``status``: ``animal`` (at least one animal detection at or above
``min_confidence``: its crops are sorted), ``person`` or ``vehicle`` (no animal, a person or vehicle
detection), ``blank`` (none), ``failure`` (the detector listed it with a failure, or its entry in the
detections file is unusable), ``unlisted`` (the detections file does not list it) or ``unreadable``
(the scan could not decode it: it is still a frame of the season, filed under ``final/_unreadable/``). A crop is the box padded and squared, clipped to the frame,
written as a JPEG beside the run: its content hash (frame bytes + box) is its embedding cache key, so
another threshold embeds only the crops it adds.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from zsc.data.detections import Detections, normalise_boxes, square_crop
from zsc.data.images import IMAGE_EXTENSIONS, open_rgb, read_header
from zsc.io import atomic_path, content_hash

# final/<folder>/ of frames that are not reviewed: the detector's verdict, or a frame that cannot be decoded
STATUS_FOLDERS = {"blank": "blank", "person": "person", "vehicle": "vehicle", "unreadable": "_unreadable"}
CROP_LONG_SIDE = 512  # px: enough for any backbone's input, small beside the frames
CROP_PAD = 0.1


def crop_id(frame: str, detection: int) -> str:
    """A crop's id (its path under the run's crops folder): the frame's path plus its detection."""
    return f"{frame}~d{detection}.jpg"


# a frame's name: what the scan takes for an image, and a camera's HEIC, which it cannot decode
FRAME_SUFFIXES = tuple(IMAGE_EXTENSIONS | {".heic"})


def unreadable_frames(rejects: pd.DataFrame | None) -> pd.DataFrame:
    """The scan's rejects that are frames (an image's name), as frames of status ``unreadable``."""
    if rejects is None or rejects.empty:
        return pd.DataFrame(columns=["image_id", "status", "reason"])
    frames = rejects[rejects["image_id"].str.lower().str.endswith(FRAME_SUFFIXES)]
    return pd.DataFrame({"image_id": frames["image_id"], "status": "unreadable", "reason": frames["reason"]})


def frame_statuses(
    frames: pd.DataFrame, detections: Detections, min_confidence: float, unreadable: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per frame of the inbox (``frames``: image_id, width, height; ``unreadable``: the scan's rejects):
    status, reason, animals, and the animal boxes to crop (a second frame: frame, detection, confidence,
    x, y, width, height)."""
    sizes = frames.rename(columns={"image_id": "frame"})[["frame", "width", "height"]]
    boxes = normalise_boxes(detections.boxes, sizes)
    kept = boxes[(boxes["confidence"] >= min_confidence) & boxes["frame"].isin(set(frames["image_id"]))]
    categories = kept.groupby("frame")["category"].agg(set)
    statuses, reasons = [], []
    for frame in frames["image_id"]:
        found = categories.get(frame, set())
        if frame in detections.failures:
            statuses.append("failure")
            reasons.append(f"detector failure: {detections.failures[frame]}")
        elif frame not in detections.listed:
            statuses.append("unlisted")
            reasons.append("not in the detections file")
        else:
            status = next((c for c in ("animal", "person", "vehicle") if c in found), "blank")
            statuses.append(status)
            reasons.append("" if status == "animal" else f"no animal detection at or above {min_confidence}")
    table = frames[["image_id"]].assign(status=statuses, reason=reasons)
    table = pd.concat([table, unreadable_frames(unreadable)], ignore_index=True).sort_values(
        "image_id", ignore_index=True
    )
    animals = kept[kept["category"] == "animal"]
    table["animals"] = table["image_id"].map(animals.groupby("frame").size()).fillna(0).astype(int)
    return table, animals.reset_index(drop=True)


CROP_COLUMNS = [
    "image_id", "frame", "detection", "confidence", "bbox_x", "bbox_y", "bbox_width", "bbox_height",
    "width", "height", "format", "size_bytes", "content_hash",
]  # fmt: skip
FRAMES_PER_BATCH = 512  # frames handed to the worker processes at a time: the job's memory does not grow


def decode_scale(width: int, height: int, boxes: list[tuple[float, float, float, float]], long_side: int) -> float:
    """The fraction of full resolution at which every box of an upright ``width`` x ``height`` frame still
    gives a square crop of at least ``long_side`` px (1.0: a small box needs full resolution)."""
    sides = [square_crop(box, width, height, CROP_PAD) for box in boxes]
    smallest = min(min(right - left, bottom - top) for left, top, right, bottom in sides)
    return 1.0 if smallest <= long_side else long_side / smallest


def crop_frame(task: tuple) -> list[dict]:
    """One frame's crops (a worker's task): decoded once, at the largest DCT reduction its smallest box
    allows (``decode_scale``), each box padded, squared, shrunk to ``CROP_LONG_SIDE`` and written as a
    JPEG. A crop already written is not written again (its frame unchanged: the run's manifests say so)."""
    root, frame, detections, crops_dir = task
    image, rows = None, []
    for detection, confidence, x, y, width, height in detections:
        name = crop_id(frame, int(detection))
        target = Path(crops_dir) / name
        if not target.exists():
            if image is None:
                image, upright = open_frame(Path(root) / frame, [d[2:] for d in detections])
            crop = cut(image, upright, square_crop((x, y, width, height), *upright, CROP_PAD))
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as partial:
                crop.save(partial, format="JPEG", quality=90)
        rows.append(crop_row(target, name, frame, detection, confidence, (x, y, width, height)))
    return rows


def open_frame(path: Path, boxes: list[tuple[float, float, float, float]]):
    """(the frame decoded upright at the scale its boxes need for ``CROP_LONG_SIDE`` crops, its full upright size)."""
    header = read_header(path)
    scale = decode_scale(*header.upright, boxes, CROP_LONG_SIDE)
    if scale >= 1.0:
        return open_rgb(path), header.upright
    width, height = header.size
    return open_rgb(path, draft_size=(math.ceil(width * scale), math.ceil(height * scale))), header.upright


def cut(image, upright: tuple[int, int], square: tuple[int, int, int, int]):
    """The square (pixels of the full-resolution frame, as ``square_crop`` gives it) from ``image``, which
    may be the frame decoded smaller: resampled straight to the stored crop size, so a crop is the same
    region at the same size whatever the decoding scale (as a full decode, crop and thumbnail gives)."""
    from PIL import Image

    left, top, right, bottom = square
    side = right - left
    size = min(side, CROP_LONG_SIDE)
    sx, sy = image.size[0] / upright[0], image.size[1] / upright[1]
    if sx == 1.0 and sy == 1.0:
        crop = image.crop(square)
        crop.thumbnail((CROP_LONG_SIDE, CROP_LONG_SIDE))
        return crop
    return image.resize((size, size), Image.Resampling.BICUBIC, box=(left * sx, top * sy, right * sx, bottom * sy))


def crop_row(target: Path, name: str, frame: str, detection, confidence, box) -> dict:
    from PIL import Image

    with Image.open(target) as saved:
        width, height = saved.size
    return {
        "image_id": name,
        "frame": frame,
        "detection": int(detection),
        "confidence": float(confidence),
        "bbox_x": float(box[0]),
        "bbox_y": float(box[1]),
        "bbox_width": float(box[2]),
        "bbox_height": float(box[3]),
        "width": width,
        "height": height,
        "format": "JPEG",
        "size_bytes": target.stat().st_size,
        "content_hash": content_hash(target),
    }


def write_crops(root: Path | str, animals: pd.DataFrame, crops_dir: Path | str, workers: int = 1) -> pd.DataFrame:
    """The crops of ``animals`` as JPEGs under ``crops_dir``; return their manifest (image_id = the
    crop's path there, frame, detection, confidence, the normalised box, width, height, format,
    size_bytes, content_hash). Each frame is decoded once, at the scale its boxes need (``crop_frame``),
    by ``workers`` processes, ``FRAMES_PER_BATCH`` frames at a time."""
    from concurrent.futures import ProcessPoolExecutor

    columns = ["detection", "confidence", "x", "y", "width", "height"]
    tasks = [
        (str(root), frame, [tuple(row) for row in group[columns].itertuples(index=False)], str(crops_dir))
        for frame, group in animals.groupby("frame", sort=True)
    ]
    rows: list[dict] = []
    if workers <= 1 or len(tasks) < 2:
        for task in tasks:
            rows += crop_frame(task)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for start in range(0, len(tasks), FRAMES_PER_BATCH):
                for frame_rows in pool.map(crop_frame, tasks[start : start + FRAMES_PER_BATCH], chunksize=4):
                    rows += frame_rows
    return pd.DataFrame(rows, columns=CROP_COLUMNS).astype({"width": "int32", "height": "int32", "size_bytes": "int64"})


NOT_AN_ANIMAL = "not an animal"  # the review page's name for a false detection (key x): never a species


def is_not_animal(label: str) -> bool:
    return " ".join(str(label).split()).casefold() == NOT_AN_ANIMAL


def frame_labels(frames: pd.DataFrame, crop_labels: pd.DataFrame) -> pd.Series:
    """A frame's label set (sorted, ``;``-joined) from its crops' species labels; '' when none is
    labelled; ``not an animal`` when every labelled crop was a false detection."""
    named = crop_labels[crop_labels["label"] != ""]
    false = named["label"].map(is_not_animal)
    sets = named[~false].groupby("frame")["label"].agg(lambda labels: ";".join(sorted(set(labels))))
    only_false = set(named.loc[false, "frame"]) - set(sets.index)
    labels = frames["image_id"].map(sets).fillna("")
    return labels.where(~frames["image_id"].isin(only_false), NOT_AN_ANIMAL)


def frame_plan(table: pd.DataFrame, crop_labels: pd.DataFrame) -> pd.DataFrame:
    """Where each frame goes in ``final/``, mirroring the inbox: one row per (frame, folder); a frame
    whose crops carry two species is in both species' folders; one whose crops were all false
    detections (``not an animal``) is blank."""
    from zsc.sorting.apply import UNREVIEWED, label_folders

    labels = frame_labels(table, crop_labels)
    species = [n for names in labels if not is_not_animal(names) for n in names.split(";") if n]
    folder_of = dict(label_folders(species).loc[:, ["label", "folder"]].to_numpy())
    rows = []
    for image_id, status, names in zip(table["image_id"], table["status"], labels):
        if status in STATUS_FOLDERS:
            folders = [STATUS_FOLDERS[status]]
        elif is_not_animal(names):
            folders = [STATUS_FOLDERS["blank"]]
        elif names:
            folders = [folder_of[n] for n in names.split(";")]
        else:
            folders = [UNREVIEWED]
        rows += [(image_id, names, folder, f"{folder}/{image_id}") for folder in folders]
    return pd.DataFrame(rows, columns=["image_id", "label", "folder", "file"])


def sequence_disagreements(labels: pd.DataFrame) -> dict[str, list[str]]:
    """Bursts whose crops were given different names: sequence_id -> the names (sorted)."""
    named = labels[labels["label"] != ""]
    names = named.groupby("sequence_id")["label"].agg(lambda values: sorted(set(values)))
    return {sequence: value for sequence, value in names.items() if len(value) > 1}


def crop_labels_with_frames(labels: pd.DataFrame, crops: pd.DataFrame) -> pd.DataFrame:
    """The applied review's rows (one per crop) with their frame, burst and whether the burst disagrees.
    ``crops``: the crops' manifest indexed by image_id."""
    labels = labels.copy()
    labels["frame"] = labels["image_id"].map(crops["frame"])
    labels["sequence_id"] = labels["image_id"].map(crops["sequence_id"])
    labels["sequence_disagrees"] = labels["sequence_id"].isin(sequence_disagreements(labels))
    return labels
