"""A Camtrap DP 1.0.2 package (https://camtrap-dp.tdwg.org) of a sorted camera-trap season:
``datapackage.json``, ``deployments.csv``, ``media.csv`` (one row per frame) and ``observations.csv``
(one row per animal crop, or one per frame without one: blank, human, vehicle, unclassified).

Every table holds every field of the standard's table schema, in its order, empty where this package
knows nothing; ``schemas/`` holds the standard's own 1.0.2 schemas and profile, byte for byte, so a
package is checked offline against exactly what readers (camtraptor, GBIF, Agouti) check it with.
Timestamps carry their offset as ``±hh:mm``.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import pandas as pd

from zsc import layout
from zsc.data.deployments import parse_moment, parse_offset
from zsc.data.deployments import read_deployments as _read_checked
from zsc.io import atomic_path, console
from zsc.sorting.exports import register
from zsc.sorting.exports.base import Export
from zsc.sorting.frames import is_not_animal

VERSION = "1.0.2"
PROFILE = f"https://raw.githubusercontent.com/tdwg/camtrap-dp/{VERSION}/camtrap-dp-profile.json"
SCHEMA_URL = f"https://raw.githubusercontent.com/tdwg/camtrap-dp/{VERSION}/{{table}}-table-schema.json"
TABLES = ("deployments", "media", "observations")
OBSERVATION_TYPE = {"animal": "animal", "person": "human", "vehicle": "vehicle", "blank": "blank"}
MEDIATYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "TIFF": "image/tiff", "WEBP": "image/webp"}


class CamtrapExportError(ValueError):
    """What the package would lack: said before anything is written (never an invalid package)."""


def local_schema(table: str) -> Path:
    """The standard's schema of a table (``profile``: the package profile), as shipped here."""
    name = "camtrap-dp-profile.json" if table == "profile" else f"{table}-table-schema.json"
    return Path(str(resources.files("zsc.sorting.exports.camtrap_dp").joinpath(f"schemas/{name}")))


def read_deployments(path: Path | str | None, cameras: list[str]) -> pd.DataFrame:
    """The user's deployments (camera folder -> latitude, longitude, optional deploymentID,
    deploymentStart, deploymentEnd, locationName, utc_offset and other Camtrap DP deployment fields),
    checked (``zsc.data.deployments``); every camera must be in it."""
    if not path:
        raise CamtrapExportError(
            f"a Camtrap DP package needs each camera's coordinates: give sort.<run>.deployments, a CSV with "
            f"columns camera, latitude, longitude (one row per camera folder: {', '.join(cameras[:5]) or '.'})"
        )
    try:
        return _read_checked(path, cameras)
    except ValueError as error:
        raise CamtrapExportError(str(error)) from None


def _offset(text: str) -> timezone:
    if not (text or "").strip():
        return timezone.utc
    zone = parse_offset(text)
    if zone is None:
        raise CamtrapExportError(f"utc_offset '{text}' is not like +02:00")
    return zone


def _given(table: pd.DataFrame, column: str) -> pd.Series:
    """An optional column of the user's deployments, empty text where the CSV has none."""
    return table[column] if column in table else pd.Series([""] * len(table), index=table.index, dtype=str)


def _zones(deployments: pd.DataFrame) -> dict[str, timezone]:
    """camera -> its clock's offset (``utc_offset``; UTC when not given)."""
    return {camera: _offset(text) for camera, text in zip(deployments["camera"], _given(deployments, "utc_offset"))}


def _stamp(value: datetime) -> str:
    """ISO 8601 with the offset as ±hh:mm (the standard's examples; ``Z`` is UTC)."""
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def _deployments_table(deployments: pd.DataFrame, frames: pd.DataFrame) -> pd.DataFrame:
    """The deployments as the standard names them: given ids, dates (re-stamped) and places kept, the
    rest derived (the camera folder as id and place, the season's first and last frame as the window)."""
    table = deployments.copy()
    given = lambda column: _given(table, column)  # noqa: E731
    table["deploymentID"] = [g or c.replace("/", "_") or "root" for g, c in zip(given("deploymentID"), table["camera"])]
    table["locationName"] = [g or c or "root" for g, c in zip(given("locationName"), table["camera"])]
    spans = frames.groupby("camera")["timestamp"].agg(["min", "max"])
    for column, pick in (("deploymentStart", "min"), ("deploymentEnd", "max")):
        table[column] = [
            _stamp(parse_moment(g)) if g else (_stamp(spans.loc[c, pick]) if c in spans.index else "")
            for g, c in zip(given(column), table["camera"])
        ]
    return table


def outside_windows(frames: pd.DataFrame, deployments: pd.DataFrame) -> list[str]:
    """Frames whose EXIF time (at their camera's utc_offset) lies outside the deploymentStart..deploymentEnd
    given for their camera."""
    zone = _zones(deployments)
    window = {
        c: (parse_moment(start) if start else None, parse_moment(end) if end else None)
        for c, start, end in zip(
            deployments["camera"], _given(deployments, "deploymentStart"), _given(deployments, "deploymentEnd")
        )
    }
    outside = []
    for image_id, camera, time in zip(frames["image_id"], frames["camera"], frames["time"]):
        if not isinstance(time, datetime) or camera not in window:
            continue
        moment, (start, end) = time.replace(tzinfo=zone[camera]), window[camera]
        if (start and moment < start) or (end and moment > end):
            outside.append(image_id)
    return outside


def build_tables(frames: pd.DataFrame, crops: pd.DataFrame, deployments: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The three tables. ``frames``: image_id, camera, time (local, naive; None when unknown),
    file_time, status, sequence_id, format. ``crops``: image_id, frame, bbox_x/y/width/height, label,
    classification (human | machine | ''), confidence; a crop labelled ``not an animal`` is a false
    detection: its frame is blank when no other crop of it is an animal."""
    zone = _zones(deployments)
    frames = frames.copy()
    frames["timestamp"] = [
        time.replace(tzinfo=zone[camera]) if isinstance(time, datetime) else None
        for time, camera in zip(frames["time"], frames["camera"])
    ]
    undated = frames["timestamp"].isna()
    if undated.any():  # Camtrap DP requires a timestamp: the file's time, said in mediaComments
        frames.loc[undated, "timestamp"] = frames.loc[undated, "file_time"]
    deployment_table = _deployments_table(deployments, frames)
    deployment_of = dict(zip(deployment_table["camera"], deployment_table["deploymentID"]))
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
            "mediaComments": [_media_comment(u, s, r) for u, s, r in zip(undated, frames["status"], frames["reason"])],
        }
    )
    animals = crops[~crops["label"].map(is_not_animal)]
    rows = _animal_rows(frames, animals) + _frame_rows(frames, set(animals["frame"]))
    observations = pd.DataFrame(rows)
    frame_of = frames.set_index("image_id")
    observations.insert(0, "observationID", [f"o{number:06d}" for number in range(len(observations))])
    observations.insert(1, "deploymentID", observations["frame"].map(frame_of["camera"]).map(deployment_of))
    observations["eventID"] = observations["frame"].map(frame_of["sequence_id"])
    observations["observationLevel"] = "media"
    observations.loc[observations["observationType"] != "animal", "scientificName"] = ""
    observations = observations.drop(columns="frame")
    return {
        "deployments": schema_columns("deployments", deployment_table),
        "media": schema_columns("media", media),
        "observations": schema_columns("observations", observations),
    }


def _media_comment(undated: bool, status: str, reason: str) -> str:
    notes = ["timestamp from the file's modification time (no EXIF date)"] if undated else []
    if status in ("failure", "unreadable"):
        notes.append(f"{status}: {reason}")
    return "; ".join(notes)


def _events(frames: pd.DataFrame) -> pd.DataFrame:
    return frames.groupby("sequence_id")["timestamp"].agg(["min", "max"])


def _box(x: float, y: float, width: float, height: float) -> dict:
    """A box within the frame, as the standard bounds it (0 <= x, x + width <= 1)."""
    x, y = min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)
    width, height = max(min(width, 1.0 - x), 1e-6), max(min(height, 1.0 - y), 1e-6)
    return {
        "bboxX": round(min(x, 1 - width), 6),
        "bboxY": round(min(y, 1 - height), 6),
        "bboxWidth": round(width, 6),
        "bboxHeight": round(height, 6),
    }


def _animal_rows(frames: pd.DataFrame, crops: pd.DataFrame) -> list[dict]:
    events, frame_of = _events(frames), frames.set_index("image_id")
    rows = []
    for crop in crops.itertuples(index=False):
        frame = frame_of.loc[crop.frame]
        event = events.loc[frame["sequence_id"]]
        rows.append(
            {
                "mediaID": frame["mediaID"],
                "frame": crop.frame,
                "observationType": "animal" if crop.label else "unclassified",
                "scientificName": crop.label,
                "count": "1",
                **_box(crop.bbox_x, crop.bbox_y, crop.bbox_width, crop.bbox_height),
                "classificationMethod": crop.classification if crop.label else "",
                "classifiedBy": "reviewer (zsc review page)"
                if crop.classification == "human"
                else ("zsc nearest reviewed photos" if crop.classification == "machine" else ""),
                "classificationProbability": "" if crop.classification != "machine" else round(crop.confidence, 4),
                "eventStart": _stamp(event["min"]),
                "eventEnd": _stamp(event["max"]),
            }
        )
    return rows


def _frame_rows(frames: pd.DataFrame, with_animals: set) -> list[dict]:
    """One observation per frame without an animal crop: the detector's blank, human or vehicle (a frame
    whose only detections were false: blank, by the reviewer), else unclassified."""
    events = _events(frames)
    rows = []
    for frame in frames.itertuples(index=False):
        if frame.image_id in with_animals:
            continue
        kind = "blank" if frame.status == "animal" else OBSERVATION_TYPE.get(frame.status, "unclassified")
        by = "human" if frame.status == "animal" else ("machine" if frame.status in OBSERVATION_TYPE else "")
        event = events.loc[frame.sequence_id]
        rows.append(
            {
                "mediaID": frame.mediaID,
                "frame": frame.image_id,
                "observationType": kind,
                "classificationMethod": by,
                "classifiedBy": {"human": "reviewer (zsc review page)", "machine": "detector"}.get(by, ""),
                "eventStart": _stamp(event["min"]),
                "eventEnd": _stamp(event["max"]),
            }
        )
    return rows


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
        Path(partial).write_text(json.dumps(descriptor(run, tables, created), indent=2, allow_nan=False) + "\n")
    return out_dir / "datapackage.json"


def _without_remote_refs(node):
    """A schema with its references to the web (the Data Package and GeoJSON schemas) left out."""
    if isinstance(node, dict):
        return {k: _without_remote_refs(v) for k, v in node.items() if not (k == "$ref" and not str(v).startswith("#"))}
    if isinstance(node, list):
        return [_without_remote_refs(v) for v in node]
    return node


def package_problems(package_dir: Path | str) -> list[str]:
    """Everything wrong with a written package, checked offline against the standard's own 1.0.2 files:
    the descriptor against the Camtrap DP profile (its own requirements: the parts that do not refer to
    the general Data Package schema on the web), and each table with frictionless against its table
    schema: header names and order, types and formats, constraints, unique ids and foreign keys."""
    import frictionless
    import jsonschema

    package_dir = Path(package_dir)
    descriptor = json.loads((package_dir / "datapackage.json").read_text())
    profile = _without_remote_refs(json.loads(local_schema("profile").read_text()))
    problems = [
        f"datapackage.json: {error.message} (at {'/'.join(map(str, error.absolute_path)) or 'top'})"
        for error in jsonschema.Draft4Validator(profile).iter_errors(descriptor)
    ]
    offline = json.loads(json.dumps(descriptor))
    offline["profile"] = "tabular-data-package"  # the profile's URL cannot be fetched here: checked above
    for resource in offline["resources"]:
        resource["schema"] = json.loads(local_schema(resource["name"]).read_text())
    report = frictionless.Package(offline, basepath=str(package_dir)).validate()
    problems += [
        f"{task.name}: row {error.get('rowNumber', '-')}, field {error.get('fieldName', '-')}: {error['note'] or error['type']}"
        for task in report.tasks
        for error in (e.to_dict() for e in task.errors)
    ]
    return problems


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
    outside = outside_windows(frames, deployments)
    if outside:
        console(
            f"warning: {len(outside)} frame(s) lie outside their camera's deploymentStart..deploymentEnd in "
            f"{inputs['deployments']}, e.g. {outside[0]} (a wrong camera clock, or a wrong window?)"
        )
    path = write_package(context["run"], tables, output, datetime.now(timezone.utc).replace(microsecond=0))
    problems = package_problems(output)
    if problems:  # never an invalid package: the job fails (Snakemake removes it) saying what is wrong
        raise CamtrapExportError(f"the Camtrap DP package in {output} fails the standard: " + "; ".join(problems[:10]))
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
