"""Steps of workflow/rules/camera_trap.smk: a sort run of a camera-trap season (``sort.<run>.detections``):
the frames' detections, bursts and animal crops (what is sorted), and the Camtrap DP export."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from zsc.io import write_table

FRAME_COLUMNS = ["image_id", "status", "reason", "animals", "camera", "time", "sequence_id", "format"]


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
    write_table(table[FRAME_COLUMNS].assign(time=table["time"].map(_text)), frames_path)
    write_table(crops, crops_manifest_path)
    unknown = sorted(detections.listed - set(manifest["image_id"]))
    for frame in unknown[:50]:
        print(f"in the detections file but not a photo of the inbox (gone, or a scan reject): {frame}", file=sys.stderr)
    counts = table["status"].value_counts().to_dict()
    print(
        f"frames: {len(table)} ({', '.join(f'{n} {s}' for s, n in sorted(counts.items()))}); {len(crops)} animal "
        f"crop(s) at confidence >= {min_confidence}; {table['sequence_id'].nunique()} sequence(s) "
        f"({detections.format}){f'; {len(unknown)} listed frame(s) not in the inbox' if unknown else ''}",
        file=sys.__stderr__,
        flush=True,
    )
    if crops.empty:
        raise ValueError(
            f"no animal detection at or above min_confidence={min_confidence} in {detections_path}: nothing to "
            f"sort (frames.csv lists every frame's status); lower sort.<run>.min_confidence"
        )


def _text(value) -> str:
    return "" if pd.isna(value) else value.strftime("%Y-%m-%dT%H:%M:%S")


def read_frames(frames_path: str) -> pd.DataFrame:
    table = pd.read_csv(frames_path, dtype=str, keep_default_na=False)
    table["animals"] = table["animals"].astype(int)
    table["time"] = [datetime.fromisoformat(t) if t else None for t in table["time"]]
    return table


def frame_labels_table(frames_path: str, labels_path: str, output_path: str) -> None:
    """Per frame of the season, once: its status, its label (the set of its crops' labels, ';'-joined),
    its sequence and where it is in final/ (the apply's placement, ';'-joined)."""
    from zsc.sorting.frames import frame_labels, frame_plan

    frames = pd.read_csv(frames_path, dtype=str, keep_default_na=False)
    crops = pd.read_csv(labels_path, dtype=str, keep_default_na=False)
    table = frames[["image_id", "status", "reason", "camera", "time", "sequence_id"]].copy()
    table.insert(2, "label", frame_labels(frames, crops[["frame", "label"]]).to_numpy())
    files = frame_plan(frames, crops[["frame", "label"]]).groupby("image_id")["file"].agg(";".join)
    table["final"] = table["image_id"].map(files).fillna("")
    write_table(table, output_path)


def write_reviewed_detections(
    frames_path: str, crops_manifest_path: str, labels_path: str, min_confidence: float, output_path: str
) -> None:
    """The applied review as a MegaDetector-format file with classifications (Timelapse, AddaxAI)."""
    import json

    from zsc.io import atomic_path
    from zsc.sorting.frames import reviewed_detections

    frames = pd.read_csv(frames_path, dtype=str, keep_default_na=False)
    crops = pd.read_parquet(crops_manifest_path)
    labels = pd.read_csv(labels_path, dtype=str, keep_default_na=False).set_index("image_id")["label"]
    crops["label"] = crops["image_id"].map(labels).fillna("")
    with atomic_path(output_path) as partial:
        Path(partial).write_text(json.dumps(reviewed_detections(frames, crops, min_confidence), indent=1) + "\n")


def camtrap_export(
    run: str,
    frames_path: str,
    crops_manifest_path: str,
    root: str,
    labels_path: str,
    assignments_path: str,
    deployments_path: str | None,
    out_dir: str,
) -> None:
    """The Camtrap DP package of the applied review (reviewed labels: human; assigned to a reviewed
    species by the neighbours: machine)."""
    from zsc.sorting.camtrap import build_tables, read_deployments, write_package

    table = read_frames(frames_path)
    crops = pd.read_parquet(crops_manifest_path)
    labels = pd.read_csv(labels_path, dtype=str, keep_default_na=False).set_index("image_id")["label"]
    assignments = pd.read_csv(assignments_path, dtype=str, keep_default_na=False).set_index("image_id")
    crops["label"] = crops["image_id"].map(labels).fillna("")
    status = crops["image_id"].map(assignments.get("status", pd.Series(dtype=str))).fillna("")
    crops["classification"] = ["human" if label else "" for label in crops["label"]]
    machine = (crops["label"] == "") & (status == "assigned")
    crops.loc[machine, "label"] = crops.loc[machine, "image_id"].map(assignments["label"])
    crops.loc[machine, "classification"] = "machine"
    support = crops["image_id"].map(pd.to_numeric(assignments.get("support", pd.Series(dtype=str)), errors="coerce"))
    crops["confidence"] = support.fillna(0.0)
    table["file_time"] = [
        datetime.fromtimestamp((Path(root) / image_id).stat().st_mtime, tz=timezone.utc)
        for image_id in table["image_id"]
    ]
    deployments = read_deployments(deployments_path, sorted(table["camera"].unique()))
    tables = build_tables(table, crops, deployments)
    path = write_package(run, tables, out_dir, datetime.now(timezone.utc).replace(microsecond=0))
    print(
        f"Camtrap DP: {path} ({len(tables['media'])} media, {len(tables['observations'])} observations, "
        f"{len(tables['deployments'])} deployments)",
        file=sys.__stderr__,
        flush=True,
    )
