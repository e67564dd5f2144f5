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
    detections_path: str,
    min_confidence: float,
    sequence_gap_s: float,
    frames_path: str,
    crops_dir: str,
    crops_manifest_path: str,
) -> None:
    """Every frame's status, camera, EXIF time and sequence (``frames.csv``), and the animal crops
    with their manifest (the run's photos from here on)."""
    from zsc.data.detections import read_detections
    from zsc.data.sequences import camera_of, exif_time, sequence_ids
    from zsc.sorting.frames import frame_statuses, write_crops

    manifest = pd.read_parquet(manifest_path)
    detections = read_detections(detections_path, root)
    table, animals = frame_statuses(manifest, detections, min_confidence)
    table["camera"] = table["image_id"].map(camera_of)
    table["time"] = [exif_time(Path(root) / image_id) for image_id in table["image_id"]]
    table["sequence_id"] = sequence_ids(table, sequence_gap_s)
    table["format"] = table["image_id"].map(manifest.set_index("image_id")["format"])
    crops = write_crops(root, animals, crops_dir)
    crops["sequence_id"] = crops["frame"].map(table.set_index("image_id")["sequence_id"])
    crops["label"], crops["group"] = "", ""
    FRAMES.write(table.assign(time=table["time"].map(_text)), frames_path)
    write_table(crops, crops_manifest_path)
    unknown = sorted(detections.listed - set(manifest["image_id"]))
    for frame in unknown[:50]:
        log(f"in the detections file but not a photo of the inbox (gone, or a scan reject): {frame}")
    counts = table["status"].value_counts().to_dict()
    console(
        f"frames: {len(table)} ({', '.join(f'{n} {s}' for s, n in sorted(counts.items()))}); {len(crops)} animal "
        f"crop(s) at confidence >= {min_confidence}; {table['sequence_id'].nunique()} sequence(s) "
        f"({detections.format}){f'; {len(unknown)} listed frame(s) not in the inbox' if unknown else ''}"
    )
    if crops.empty:
        raise InputError(
            f"no animal detection at or above min_confidence={min_confidence} in {detections_path}: nothing to "
            f"sort (frames.csv lists every frame's status); lower sort.<run>.min_confidence"
        )


def _text(value) -> str:
    return "" if pd.isna(value) else value.strftime("%Y-%m-%dT%H:%M:%S")
