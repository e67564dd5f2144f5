"""What an ecologist looks at after the review: per species and camera, the frames, the independent
detections (a species at a camera again after at least ``independence_interval_min`` minutes: a new
event, as AddaxAI and Timelapse count them) and the first and last date (``season-summary.csv``), and a
figure of independent detections per species by hour of day (``activity.png``, in the report's
"Sort runs")."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from zsc import layout
from zsc.sorting.exports import register
from zsc.sorting.exports.base import Export

SUMMARY_COLUMNS = ["species", "camera", "frames", "independent_detections", "first_date", "last_date"]


def detections_of(frames: pd.DataFrame, interval_min: float) -> pd.DataFrame:
    """One row per independent detection (species, camera, start time): ``frames`` has one row per
    (frame, species) with camera and time (naive local, None when unknown: a detection of its own)."""
    rows = []
    for (species, camera), group in frames.groupby(["species", "camera"], sort=True):
        dated = group[group["time"].notna()].sort_values("time")
        previous = None
        for time in dated["time"]:
            if previous is None or (time - previous).total_seconds() > interval_min * 60:
                rows.append((species, camera, time))
            previous = time
        rows += [(species, camera, None)] * int(group["time"].isna().sum())
    return pd.DataFrame(rows, columns=["species", "camera", "time"])


def season_summary(frames: pd.DataFrame, interval_min: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the summary table, the independent detections); ``frames`` as ``detections_of`` takes them."""
    events = detections_of(frames, interval_min)
    table = frames.groupby(["species", "camera"]).agg(
        frames=("image_id", "nunique"),
        first_date=("time", lambda t: _date(t.min())),
        last_date=("time", lambda t: _date(t.max())),
    )
    table["independent_detections"] = events.groupby(["species", "camera"]).size()
    return table.reset_index()[SUMMARY_COLUMNS], events


def _date(value) -> str:
    return "" if pd.isna(value) else value.date().isoformat()


def species_frames(frame_table: pd.DataFrame, crop_labels: pd.DataFrame) -> pd.DataFrame:
    """One row per (frame, species named on one of its crops), with its camera and time."""
    from zsc.sorting.frames import is_not_animal

    named = crop_labels[(crop_labels["label"] != "") & ~crop_labels["label"].map(is_not_animal)]
    pairs = named[["frame", "label"]].drop_duplicates().rename(columns={"frame": "image_id", "label": "species"})
    table = pairs.merge(frame_table[["image_id", "camera", "time"]], on="image_id", how="inner")
    table["time"] = [datetime.fromisoformat(t) if t else None for t in table["time"]]
    return table


def _read(inputs: dict, context: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    from zsc.tables import FRAMES, LABELS

    frames = species_frames(FRAMES.read(inputs["frames"]), LABELS.read(inputs["labels"]))
    return season_summary(frames, context["independence_interval_min"])


def write_summary(inputs: dict, output: str, context: dict) -> None:
    from zsc.io import console, write_table

    table, events = _read(inputs, context)
    write_table(table, output)
    console(
        f"season summary: {output} ({table['species'].nunique()} species, {len(events)} independent detections "
        f"at {context['independence_interval_min']:g} min)"
    )


def write_activity(inputs: dict, output: str, context: dict) -> None:
    from pathlib import Path

    from zsc.report.plots import activity_figure

    _, events = _read(inputs, context)
    dated = events[events["time"].notna()].assign(hour=lambda t: [time.hour for time in t["time"]])
    activity_figure(dated, f"{context['run']}: independent detections by hour of day", Path(output))


for _export in (
    Export(
        name="season_summary",
        output=layout.SORT_SEASON_SUMMARY,
        directory=False,
        needs=("detections",),
        inputs=("frames", "labels"),
        params=("independence_interval_min",),
        write=write_summary,
        doc="season summary",
    ),
    Export(
        name="activity",
        output=layout.SORT_ACTIVITY,
        directory=False,
        needs=("detections",),
        inputs=("frames", "labels"),
        params=("independence_interval_min",),
        write=write_activity,
        doc="activity figure",
        caption="../report/sort_activity.rst",
    ),
):
    register(_export)
