"""The applied review written back into the detector's own file (``detections-reviewed.json``), which
Timelapse and AddaxAI import: everything that came in is kept (every frame, every detection, person and
vehicle and those under the threshold, ``info``), and each animal detection that was sorted and named
gains ``classifications`` = ``[[id, 1.0]]`` with the names in ``classification_categories``. ``info``
says what was added. Frames of the season the detector never listed (unreadable or new) are added with a
``failure`` saying why, so the file lists the whole season. A false detection (``not an animal``) gets no
classification."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from zsc import layout
from zsc.io import atomic_path
from zsc.sorting.exports import register
from zsc.sorting.exports.base import Export

CLASSIFIER = "human review (zsc review page)"


def entries_of(document) -> tuple[list, str]:
    """The document's per-frame entries and their path key, whatever the format."""
    if isinstance(document, list):
        return document, "file"  # the MegaDetector CLI's list
    if "predictions" in document:
        return document["predictions"], "filepath"  # SpeciesNet
    return document["images"], "file"  # MegaDetector batch output


def reviewed_detections(
    document, frame_of: dict[str, str], prefix: str, frames: pd.DataFrame, labels: dict[tuple[str, int], str], run: str
):
    """``document`` (the detector's file as read) with the review added. ``frame_of``: a path as the file
    writes it -> the frame; ``labels``: (frame, detection index) -> species name of the sorted crops."""
    from zsc.sorting.frames import is_not_animal

    document = copy.deepcopy(document)
    entries, key = entries_of(document)
    categories = dict(document.get("classification_categories") or {}) if isinstance(document, dict) else {}
    number_of = {name: number for number, name in categories.items()}
    added, listed = 0, set()
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get(key), str):
            continue
        frame = frame_of.get(entry[key].replace("\\", "/"), entry[key])
        listed.add(frame)
        detections = entry.get("detections")
        for index, detection in enumerate(detections if isinstance(detections, list) else []):
            name = labels.get((frame, index), "")
            if not name or is_not_animal(name) or not isinstance(detection, dict):
                continue
            if name not in number_of:
                number_of[name] = str(max([int(n) for n in number_of.values() if str(n).isdigit()] + [0]) + 1)
            detection["classifications"] = [[number_of[name], 1.0]]
            added += 1
    for frame in frames.itertuples(index=False):
        if frame.image_id not in listed:
            why = f"unreadable: {frame.reason}" if frame.status == "unreadable" else "not processed by the detector"
            entries.append({key: prefix + frame.image_id, "failure": why})
    if isinstance(document, dict):
        document["classification_categories"] = {number: name for name, number in number_of.items()}
        info = document.setdefault("info", {})
        previous = info.get("classifier")
        info["classifier"] = CLASSIFIER + (f" (the file's own: {previous})" if previous else "")
        info["classification_completion_time"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        info["zsc_review"] = (
            f"classifications added to {added} animal detection(s) from the review of sort run '{run}'; "
            f"{len(frames) - len(listed & set(frames['image_id']))} frame(s) the file did not list added with a failure"
        )
    return document


def write(inputs: dict, output: str, context: dict) -> None:
    """From the detector's file, the run's frames, crops and applied labels."""
    from zsc.data.detections import load_document, read_detections
    from zsc.tables import FRAMES, LABELS

    frames = FRAMES.read(inputs["frames"])
    crops = pd.read_parquet(inputs["crops"], columns=["image_id", "frame", "detection"])
    named = LABELS.read(inputs["labels"]).set_index("image_id")["label"]
    crops["label"] = crops["image_id"].map(named).fillna("")
    labels = {(f, int(d)): label for f, d, label in zip(crops["frame"], crops["detection"], crops["label"]) if label}
    document = load_document(inputs["detections"])  # parsed once: a season's file can be large
    found = read_detections(inputs["detections"], set(frames["image_id"]), document)
    frame_of = {original.replace("\\", "/"): frame for frame, original in found.original.items()}
    reviewed = reviewed_detections(document, frame_of, found.prefix, frames, labels, context["run"])
    with atomic_path(output) as partial:
        Path(partial).write_text(json.dumps(reviewed, indent=1) + "\n")


register(
    Export(
        name="reviewed_detections",
        output=layout.SORT_REVIEWED_DETECTIONS,
        directory=False,
        needs=("detections",),
        inputs=("frames", "crops", "labels", "detections"),
        write=write,
        doc="reviewed detections file",
    )
)
