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

from pathlib import Path

import pandas as pd

from zsc.data.detections import Detections, normalise_boxes, square_crop
from zsc.data.images import open_rgb
from zsc.io import atomic_path, content_hash

# final/<folder>/ of frames that are not reviewed: the detector's verdict, or a frame that cannot be decoded
STATUS_FOLDERS = {"blank": "blank", "person": "person", "vehicle": "vehicle", "unreadable": "_unreadable"}
CROP_LONG_SIDE = 512  # px: enough for any backbone's input, small beside the frames
CROP_PAD = 0.1


def crop_id(frame: str, detection: int) -> str:
    """A crop's id (its path under the run's crops folder): the frame's path plus its detection."""
    return f"{frame}~d{detection}.jpg"


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif", ".heic")


def unreadable_frames(rejects: pd.DataFrame | None) -> pd.DataFrame:
    """The scan's rejects that are frames (an image's name), as frames of status ``unreadable``."""
    if rejects is None or rejects.empty:
        return pd.DataFrame(columns=["image_id", "status", "reason"])
    frames = rejects[rejects["image_id"].str.lower().str.endswith(IMAGE_SUFFIXES)]
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


def write_crops(root: Path | str, animals: pd.DataFrame, crops_dir: Path | str) -> pd.DataFrame:
    """The crops of ``animals`` as JPEGs under ``crops_dir``; return their manifest (image_id = the
    crop's path there, frame, detection, confidence, the normalised box, width, height, format,
    size_bytes, content_hash). A crop already there with its frame unchanged is not written again."""
    from PIL import Image

    root, crops_dir = Path(root), Path(crops_dir)
    rows = []
    for frame, group in animals.groupby("frame", sort=True):
        image = None
        for detection in group.itertuples(index=False):
            name = crop_id(frame, int(detection.detection))
            target = crops_dir / name
            if not target.exists():
                if image is None:
                    image = open_rgb(root / frame)
                box = square_crop((detection.x, detection.y, detection.width, detection.height), *image.size, CROP_PAD)
                crop = image.crop(box)
                crop.thumbnail((CROP_LONG_SIDE, CROP_LONG_SIDE))
                target.parent.mkdir(parents=True, exist_ok=True)
                with atomic_path(target) as partial:
                    crop.save(partial, format="JPEG", quality=90)
            with Image.open(target) as saved:
                width, height = saved.size
            rows.append(
                {
                    "image_id": name,
                    "frame": frame,
                    "detection": int(detection.detection),
                    "confidence": float(detection.confidence),
                    "bbox_x": float(detection.x),
                    "bbox_y": float(detection.y),
                    "bbox_width": float(detection.width),
                    "bbox_height": float(detection.height),
                    "width": width,
                    "height": height,
                    "format": "JPEG",
                    "size_bytes": target.stat().st_size,
                    "content_hash": content_hash(target),
                }
            )
    columns = [
        "image_id", "frame", "detection", "confidence", "bbox_x", "bbox_y", "bbox_width", "bbox_height",
        "width", "height", "format", "size_bytes", "content_hash",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns).astype({"width": "int32", "height": "int32", "size_bytes": "int64"})


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
