"""Per frame of the season, once: its status, its label (the set of its crops' labels, ';'-joined), its
burst and where it is in final/ (``frame_labels.csv``)."""

from __future__ import annotations

from zsc import layout
from zsc.sorting.exports import register
from zsc.sorting.exports.base import Export


def write(inputs: dict, output: str, context: dict) -> None:
    from zsc.sorting.frames import frame_labels, frame_plan
    from zsc.tables import FRAME_LABELS, FRAMES, LABELS

    frames = FRAMES.read(inputs["frames"])
    crops = LABELS.read(inputs["labels"])
    table = frames[["image_id", "status", "reason", "camera", "time", "sequence_id"]].copy()
    table.insert(2, "label", frame_labels(frames, crops[["frame", "label"]]).to_numpy())
    files = frame_plan(frames, crops[["frame", "label"]]).groupby("image_id")["file"].agg(";".join)
    table["final"] = table["image_id"].map(files).fillna("")
    FRAME_LABELS.write(table, output)


register(
    Export(
        name="frame_labels",
        output=layout.SORT_FRAME_LABELS,
        directory=False,
        needs=("detections",),
        inputs=("frames", "labels"),
        write=write,
        doc="frame labels table",
    )
)
