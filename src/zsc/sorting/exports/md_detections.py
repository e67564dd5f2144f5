"""The applied review as a MegaDetector batch output file with classifications (format 1.4), which
Timelapse and AddaxAI import: ``detections-reviewed.json``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from zsc import layout
from zsc.io import atomic_path
from zsc.sorting.exports import register
from zsc.sorting.exports.base import Export


def reviewed_detections(frames: pd.DataFrame, crops: pd.DataFrame, min_confidence: float) -> dict:
    """The reviewed labels as a MegaDetector batch output file (format 1.4) that Timelapse and AddaxAI
    import: ``classification_categories`` (one id per label) and, on each animal detection that was
    sorted, ``classifications`` = ``[[id, 1.0]]`` for its reviewed label (none when unlabelled).
    Every frame of the season is listed: blank ones with no detections, failed ones with ``failure``."""
    names = sorted({label for label in crops["label"] if label})
    ids = {name: str(number) for number, name in enumerate(names, 1)}
    by_frame = {frame: group for frame, group in crops.groupby("frame")}
    images = []
    for frame in frames.itertuples(index=False):
        entry: dict = {"file": frame.image_id}
        if frame.status == "failure":
            entry["failure"] = frame.reason.removeprefix("detector failure: ")
        else:
            detections = []
            for crop in by_frame.get(frame.image_id, pd.DataFrame()).itertuples(index=False):
                detection = {
                    "category": "1",
                    "conf": round(float(crop.confidence), 4),
                    "bbox": [round(float(v), 4) for v in (crop.bbox_x, crop.bbox_y, crop.bbox_width, crop.bbox_height)],
                }
                if crop.label:
                    detection["classifications"] = [[ids[crop.label], 1.0]]
                detections.append(detection)
            entry["detections"] = detections
        images.append(entry)
    return {
        "info": {
            "format_version": "1.4",
            "detector": "as in the season's detections file",
            "classifier": "human review (zsc review page)",
            "detector_metadata": {"typical_detection_threshold": min_confidence},
        },
        "detection_categories": {"1": "animal", "2": "person", "3": "vehicle"},
        "classification_categories": {number: name for name, number in ids.items()},
        "images": images,
    }


def write(inputs: dict, output: str, context: dict) -> None:
    """From the run's frames, crops and applied labels."""
    from zsc.tables import FRAMES, LABELS

    frames = FRAMES.read(inputs["frames"])
    crops = pd.read_parquet(inputs["crops"])
    labels = LABELS.read(inputs["labels"]).set_index("image_id")["label"]
    crops["label"] = crops["image_id"].map(labels).fillna("")
    document = reviewed_detections(frames, crops, context["min_confidence"])
    with atomic_path(output) as partial:
        Path(partial).write_text(json.dumps(document, indent=1) + "\n")


register(
    Export(
        name="reviewed_detections",
        output=layout.SORT_REVIEWED_DETECTIONS,
        directory=False,
        needs=("detections",),
        inputs=("frames", "crops", "labels"),
        params=("min_confidence",),
        write=write,
        doc="reviewed detections file",
    )
)
