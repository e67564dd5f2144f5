"""Steps of workflow/rules/camera_trap.smk: a sort run of a camera-trap season (``sort.<run>.detections``):
the frames' detections, bursts and animal crops (what is sorted). Its exports: ``zsc.sorting.exports``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from zsc.io import InputError, console, log, write_table
from zsc.tables import FRAMES


def frames(
    root: str,
    manifest_path: str,
    rejects_path: str,
    detections_path: str,
    min_confidence: float,
    sequence_gap_s: float,
    frames_path: str,
    crops_dir: str,
    crops_manifest_path: str,
    camera_level: int | None = None,
    workers: int = 1,
) -> None:
    """Every frame's status, camera, EXIF time and sequence (``frames.csv``; unreadable frames too), and
    the animal crops with their manifest (the run's photos from here on)."""
    from zsc.data.detections import read_detections
    from zsc.data.sequences import camera_of, exif_time, sequence_ids
    from zsc.sorting.frames import frame_statuses, write_crops

    manifest = pd.read_parquet(manifest_path)
    rejects = pd.read_csv(rejects_path, dtype=str, keep_default_na=False)
    detections = read_detections(detections_path, set(manifest["image_id"]) | set(rejects["image_id"]))
    table, animals = frame_statuses(manifest, detections, min_confidence, rejects)
    table["camera"] = table["image_id"].map(lambda image_id: camera_of(image_id, camera_level))
    table["time"] = [exif_time(Path(root) / image_id) for image_id in table["image_id"]]
    table["sequence_id"] = sequence_ids(table, sequence_gap_s)
    table["format"] = table["image_id"].map(manifest.set_index("image_id")["format"]).fillna("")
    crops = write_crops(root, animals, crops_dir, workers)
    crops["sequence_id"] = crops["frame"].map(table.set_index("image_id")["sequence_id"])
    crops["camera"] = crops["frame"].map(table.set_index("image_id")["camera"])
    crops["label"], crops["group"] = "", ""
    FRAMES.write(table.assign(time=table["time"].map(_text)), frames_path)
    write_table(crops, crops_manifest_path)
    report_frames(table, crops, detections, set(manifest["image_id"]) | set(rejects["image_id"]), min_confidence)
    if crops.empty:
        raise InputError(
            f"no animal detection at or above min_confidence={min_confidence} in {detections_path}: nothing to "
            f"sort (frames.csv lists every frame's status); lower sort.<run>.min_confidence"
        )


def report_frames(table: pd.DataFrame, crops: pd.DataFrame, detections, inbox: set[str], min_confidence: float) -> None:
    """The season's frames on the console: statuses, cameras, crops, what reading the detector's file decided."""
    unknown = sorted(detections.listed - inbox)
    for frame in unknown[:50]:
        log(f"in the detections file but not a photo of the inbox (gone, or a scan reject): {frame}")
    for note in detections.notes:
        console(f"note: {note}")
    cameras = sorted(table["camera"].unique())
    counts = table["status"].value_counts().to_dict()
    console(
        f"frames: {len(table)} ({', '.join(f'{n} {s}' for s, n in sorted(counts.items()))}) from {len(cameras)} "
        f"camera(s) ({', '.join(c or '.' for c in cameras[:8])}{', ...' if len(cameras) > 8 else ''}); {len(crops)} "
        f"animal crop(s) at confidence >= {min_confidence}; {table['sequence_id'].nunique()} sequence(s) "
        f"({detections.format}){f'; {len(unknown)} listed frame(s) not in the inbox' if unknown else ''}"
    )


def _text(value) -> str:
    return "" if pd.isna(value) else value.strftime("%Y-%m-%dT%H:%M:%S")
