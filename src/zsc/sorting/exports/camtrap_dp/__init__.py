"""A Camtrap DP 1.0 package (https://camtrap-dp.tdwg.org) of a sorted camera-trap season:
``datapackage.json``, ``deployments.csv``, ``media.csv`` (one row per frame) and ``observations.csv``
(one row per animal crop, or one per frame without one: blank, human, vehicle, unclassified).

The table schemas in ``schemas/`` were written for this project from the standard's field
definitions (the fields this package fills, with the standard's types and constraints); the
package names the standard's own schema URLs, as readers (camtraptor, GBIF, Agouti) expect.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import pandas as pd

from zsc import layout
from zsc.io import atomic_path, console
from zsc.sorting.exports import register
from zsc.sorting.exports.base import Export

PROFILE = "https://raw.githubusercontent.com/tdwg/camtrap-dp/1.0/camtrap-dp-profile.json"
SCHEMA_URL = "https://raw.githubusercontent.com/tdwg/camtrap-dp/1.0/{table}-table-schema.json"
TABLES = ("deployments", "media", "observations")
DEPLOYMENT_COLUMNS = ("camera", "latitude", "longitude")  # required in the user's deployments CSV
OBSERVATION_TYPE = {"animal": "animal", "person": "human", "vehicle": "vehicle", "blank": "blank"}
MEDIATYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "TIFF": "image/tiff", "WEBP": "image/webp"}


class CamtrapExportError(ValueError):
    """What the package would lack: said before anything is written (never an invalid package)."""


def local_schema(table: str) -> Path:
    """This project's copy of a table's schema (for validating a package offline)."""
    return Path(str(resources.files("zsc.sorting.exports.camtrap_dp").joinpath(f"schemas/{table}-table-schema.json")))


def read_deployments(path: Path | str | None, cameras: list[str]) -> pd.DataFrame:
    """The user's deployments (camera folder -> latitude, longitude, optional deploymentID,
    deploymentStart, deploymentEnd, locationName, utc_offset); every camera must be in it."""
    if not path:
        raise CamtrapExportError(
            f"a Camtrap DP package needs each camera's coordinates: give sort.<run>.deployments, a CSV with "
            f"columns {', '.join(DEPLOYMENT_COLUMNS)} (one row per camera folder: {', '.join(cameras[:5]) or '.'})"
        )
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in DEPLOYMENT_COLUMNS if c not in table.columns]
    if missing:
        raise CamtrapExportError(f"deployments CSV {path} lacks column(s) {missing}")
    table["camera"] = table["camera"].str.strip().str.strip("/")
    absent = sorted(set(cameras) - set(table["camera"]))
    if absent:
        raise CamtrapExportError(f"deployments CSV {path} has no row for camera folder(s) {absent[:10]}")
    for column in ("latitude", "longitude"):
        values = pd.to_numeric(table[column], errors="coerce")
        if values.isna().any():
            raise CamtrapExportError(f"deployments CSV {path}: column {column} must be numbers (decimal degrees)")
        table[column] = values
    return table[table["camera"].isin(cameras)].reset_index(drop=True)


def _offset(text: str) -> timezone:
    text = (text or "+00:00").strip()
    try:
        return datetime.strptime(text.replace("Z", "+00:00"), "%z").tzinfo
    except ValueError:
        raise CamtrapExportError(f"utc_offset '{text}' is not like +02:00") from None


def _stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S%z")


def build_tables(frames: pd.DataFrame, crops: pd.DataFrame, deployments: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The three tables. ``frames``: image_id, camera, time (local, naive; None when unknown),
    status, sequence_id, format. ``crops``: image_id, frame, bbox_x/y/width/height, label,
    classification (human | machine | ''), confidence."""
    deployments = deployments.copy()
    deployments["deploymentID"] = [
        given or camera.replace("/", "_") or "root"
        for given, camera in zip(deployments.get("deploymentID", [""] * len(deployments)), deployments["camera"])
    ]
    zone = {
        c: _offset(o) for c, o in zip(deployments["camera"], deployments.get("utc_offset", [""] * len(deployments)))
    }
    deployment_of = dict(zip(deployments["camera"], deployments["deploymentID"]))
    frames = frames.copy()
    frames["timestamp"] = [
        time.replace(tzinfo=zone[camera]) if isinstance(time, datetime) else None
        for time, camera in zip(frames["time"], frames["camera"])
    ]
    undated = frames["timestamp"].isna()
    if undated.any():  # Camtrap DP requires a timestamp: the file's time, said in mediaComments
        frames.loc[undated, "timestamp"] = frames.loc[undated, "file_time"]
    frames["mediaID"] = [f"m{number:06d}" for number in range(len(frames))]
    media = pd.DataFrame(
        {
            "mediaID": frames["mediaID"],
            "deploymentID": frames["camera"].map(deployment_of),
            "captureMethod": "activityDetection",
            "timestamp": frames["timestamp"].map(_stamp),
            "filePath": frames["image_id"],
            "filePublic": "false",
            "fileName": frames["image_id"].str.rsplit("/", n=1).str[-1],
            "fileMediatype": frames["format"].map(MEDIATYPES).fillna("image/jpeg"),
            "mediaComments": [
                "timestamp from the file's modification time (no EXIF date)" if u else "" for u in undated
            ],
        }
    )
    events = frames.groupby("sequence_id")["timestamp"].agg(["min", "max"])
    media_of = dict(zip(frames["image_id"], frames["mediaID"]))
    frame_of = frames.set_index("image_id")
    rows = []
    for crop in crops.itertuples(index=False):
        frame = frame_of.loc[crop.frame]
        event = events.loc[frame["sequence_id"]]
        rows.append(
            {
                "mediaID": media_of[crop.frame],
                "frame": crop.frame,
                "observationType": "animal",
                "scientificName": crop.label,
                "count": "1",
                "bboxX": round(crop.bbox_x, 6),
                "bboxY": round(crop.bbox_y, 6),
                "bboxWidth": round(min(crop.bbox_width, 1 - crop.bbox_x), 6),
                "bboxHeight": round(min(crop.bbox_height, 1 - crop.bbox_y), 6),
                "classificationMethod": crop.classification,
                "classifiedBy": "reviewer (zsc review page)"
                if crop.classification == "human"
                else ("zsc nearest reviewed photos" if crop.classification == "machine" else ""),
                "classificationProbability": "" if crop.classification != "machine" else round(crop.confidence, 4),
                "eventStart": _stamp(event["min"]),
                "eventEnd": _stamp(event["max"]),
            }
        )
    with_crops = set(crops["frame"])
    for frame in frames.itertuples(index=False):
        if frame.image_id in with_crops:
            continue
        event = events.loc[frame.sequence_id]
        rows.append(
            {
                "mediaID": frame.mediaID,
                "frame": frame.image_id,
                "observationType": OBSERVATION_TYPE.get(frame.status, "unclassified"),
                "classificationMethod": "machine" if frame.status in OBSERVATION_TYPE else "",
                "classifiedBy": "detector" if frame.status in OBSERVATION_TYPE else "",
                "eventStart": _stamp(event["min"]),
                "eventEnd": _stamp(event["max"]),
            }
        )
    observations = pd.DataFrame(rows)
    observations.insert(0, "observationID", [f"o{number:06d}" for number in range(len(observations))])
    observations.insert(1, "deploymentID", observations["frame"].map(frame_of["camera"]).map(deployment_of))
    observations["eventID"] = observations["frame"].map(frame_of["sequence_id"])
    observations["observationLevel"] = "media"
    observations.loc[observations["observationType"] != "animal", "scientificName"] = ""
    observations = observations.drop(columns="frame")
    spans = frames.groupby("camera")["timestamp"].agg(["min", "max"])
    for column, pick in (("deploymentStart", "min"), ("deploymentEnd", "max")):
        given = deployments.get(column, pd.Series([""] * len(deployments)))
        deployments[column] = [g or _stamp(spans.loc[c, pick]) for g, c in zip(given, deployments["camera"])]
    deployment_table = deployments.rename(columns={"camera": "locationName"})
    if "locationName" in deployments.columns and "locationName" not in deployment_table:
        deployment_table["locationName"] = deployments["locationName"]
    return {
        "deployments": schema_columns("deployments", deployment_table),
        "media": schema_columns("media", media),
        "observations": schema_columns("observations", observations),
    }


def schema_columns(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Every field of the table's schema, in its order (empty where this package has nothing)."""
    fields = [f["name"] for f in json.loads(local_schema(table).read_text())["fields"]]
    return frame.reindex(columns=fields).astype(object).fillna("")


def descriptor(run: str, tables: dict[str, pd.DataFrame], created: datetime) -> dict:
    deployments, media, observations = (tables[t] for t in TABLES)
    names = sorted(n for n in observations["scientificName"].unique() if n)
    stamps = pd.to_datetime(media["timestamp"], utc=True)
    return {
        "profile": PROFILE,
        "name": run.lower().replace(" ", "-"),
        "created": _stamp(created),
        "contributors": [{"title": f"zsc sort run {run}", "role": "contributor"}],
        "project": {
            "title": f"Camera-trap season sorted with zsc ({run})",
            "samplingDesign": "opportunistic",
            "captureMethod": ["activityDetection"],
            "individualAnimals": False,
            "observationLevel": ["media"],
        },
        "spatial": {
            "type": "Polygon",
            "bbox": [
                float(deployments["longitude"].min()),
                float(deployments["latitude"].min()),
                float(deployments["longitude"].max()),
                float(deployments["latitude"].max()),
            ],
            "coordinates": [
                [
                    [float(deployments["longitude"].min()), float(deployments["latitude"].min())],
                    [float(deployments["longitude"].max()), float(deployments["latitude"].min())],
                    [float(deployments["longitude"].max()), float(deployments["latitude"].max())],
                    [float(deployments["longitude"].min()), float(deployments["latitude"].max())],
                    [float(deployments["longitude"].min()), float(deployments["latitude"].min())],
                ]
            ],
        },  # fmt: skip
        "temporal": {"start": stamps.min().date().isoformat(), "end": stamps.max().date().isoformat()},
        "taxonomic": [{"scientificName": name} for name in names],
        "resources": [
            {
                "name": table,
                "path": f"{table}.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": SCHEMA_URL.format(table=table),
            }
            for table in TABLES
        ],
    }


def write_package(run: str, tables: dict[str, pd.DataFrame], out_dir: Path | str, created: datetime) -> Path:
    """The package's files, each written under a temporary name and renamed when complete."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for table, frame in tables.items():
        with atomic_path(out_dir / f"{table}.csv") as partial:
            frame.to_csv(partial, index=False)
    with atomic_path(out_dir / "datapackage.json") as partial:
        Path(partial).write_text(json.dumps(descriptor(run, tables, created), indent=2) + "\n")
    return out_dir / "datapackage.json"


# ------------------------------------------------------------------ from the run's tables
def classified_crops(crops: pd.DataFrame, labels: pd.Series, assignments: pd.DataFrame) -> pd.DataFrame:
    """Each crop's label and how it was classified: ``human`` where the reviewer named it, ``machine``
    where the run assigned it to a reviewed species by its neighbours (their support as the
    probability), none otherwise. ``labels``: image_id -> reviewed label; ``assignments`` indexed by image_id."""
    crops = crops.copy()
    crops["label"] = crops["image_id"].map(labels).fillna("")
    status = crops["image_id"].map(assignments["status"]).fillna("")
    crops["classification"] = ["human" if label else "" for label in crops["label"]]
    machine = (crops["label"] == "") & (status == "assigned")
    crops.loc[machine, "label"] = crops.loc[machine, "image_id"].map(assignments["label"])
    crops.loc[machine, "classification"] = "machine"
    crops["confidence"] = crops["image_id"].map(assignments["support"]).fillna(0.0)
    return crops


def file_times(root: Path | str, image_ids) -> list[datetime]:
    """Each frame's modification time (UTC): its timestamp where EXIF has none."""
    return [datetime.fromtimestamp((Path(root) / i).stat().st_mtime, tz=timezone.utc) for i in image_ids]


def write(inputs: dict, output: str, context: dict) -> None:
    """The package of the applied review, from the run's frames, crops, labels and assignments."""
    from zsc.tables import ASSIGNMENTS, FRAMES, LABELS

    frames = FRAMES.read(inputs["frames"])
    frames["time"] = [datetime.fromisoformat(t) if t else None for t in frames["time"]]
    frames["file_time"] = file_times(context["root"], frames["image_id"])
    labels = LABELS.read(inputs["labels"]).set_index("image_id")["label"]
    assignments = ASSIGNMENTS.read(inputs["assignments"]).set_index("image_id")
    crops = classified_crops(pd.read_parquet(inputs["crops"]), labels, assignments)
    deployments = read_deployments(inputs["deployments"], sorted(frames["camera"].unique()))
    tables = build_tables(frames, crops, deployments)
    path = write_package(context["run"], tables, output, datetime.now(timezone.utc).replace(microsecond=0))
    console(
        f"Camtrap DP: {path} ({len(tables['media'])} media, {len(tables['observations'])} observations, "
        f"{len(tables['deployments'])} deployments)"
    )


register(
    Export(
        name="camtrap_dp",
        output=layout.SORT_CAMTRAP,
        directory=True,
        needs=("detections", "deployments"),
        inputs=("frames", "crops", "labels", "assignments", "deployments"),
        write=write,
        missing="it needs each camera's coordinates; give sort.{run}.deployments, a CSV with columns "
        "camera,latitude,longitude (one row per camera folder)",
        doc="Camtrap DP package",
    )
)
