"""A camera-trap detector's output for a season's frames: MegaDetector batch output, the MegaDetector
CLI's list, or SpeciesNet's predictions, read into one table of boxes.

Formats (detected from the file, never guessed per entry):
- *MegaDetector batch output* (https://lila.science/megadetector-output-format): an object with
  ``info.format_version``, ``detection_categories`` (``{"1": "animal", "2": "person", "3": "vehicle"}``)
  and ``images[]`` of ``file`` (relative to the photo root), ``detections[]`` of ``category``, ``conf``,
  ``bbox`` = ``[x_min, y_min, width, height]`` normalised to 0-1 from the top left, or ``failure``.
- *MegaDetector CLI*: a top-level list of ``{file, detections: [{category: "animal", confidence,
  bbox: [x1, y1, x2, y2] in pixels}]}``; boxes are normalised with the frame's size.
- *SpeciesNet*: an object with ``predictions[]`` of ``filepath`` and ``detections[{category, label,
  conf, bbox}]`` (MegaDetector's categories and normalised boxes).

Every problem is an error naming the entry (``images[12].detections[0].bbox: ...``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

DEFAULT_CATEGORIES = {"1": "animal", "2": "person", "3": "vehicle"}
DETECTION_COLUMNS = ["frame", "detection", "category", "confidence", "x", "y", "width", "height"]


class DetectionsError(ValueError):
    """A detections file that cannot be read as one of the supported formats."""


@dataclass
class Detections:
    """Boxes (normalised x, y, width, height from the top left) per frame, and the frames the detector
    listed with a failure; ``absolute`` frames still need their size (the CLI's pixel boxes)."""

    boxes: pd.DataFrame
    failures: dict[str, str] = field(default_factory=dict)
    listed: set[str] = field(default_factory=set)
    format: str = ""


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DetectionsError(f"{where}: expected a number, got {value!r}")
    return float(value)


def _box(value, where: str) -> list[float]:
    if not isinstance(value, list) or len(value) != 4:
        raise DetectionsError(f"{where}: expected 4 numbers, got {value!r}")
    return [_number(v, where) for v in value]


def _entries(data, key: str, where: str) -> list:
    entries = data.get(key)
    if not isinstance(entries, list):
        raise DetectionsError(f"{where}: '{key}' must be a list of entries")
    return entries


def _normalised_box(box: list[float], where: str) -> list[float]:
    x, y, width, height = box
    if width <= 0 or height <= 0 or x < -0.01 or y < -0.01 or x + width > 1.01 or y + height > 1.01:
        raise DetectionsError(f"{where}: box {box} is not [x_min, y_min, width, height] within 0-1")
    return box


def _read_megadetector_batch(data: dict) -> Detections:
    categories = data.get("detection_categories") or DEFAULT_CATEGORIES
    if not isinstance(categories, dict):
        raise DetectionsError('detection_categories: expected an object such as {"1": "animal"}')
    version = (data.get("info") or {}).get("format_version")
    if version is None:
        raise DetectionsError("info.format_version is missing (not a MegaDetector batch output file?)")
    rows, failures, listed = [], {}, set()
    for number, entry in enumerate(_entries(data, "images", "the file")):
        where = f"images[{number}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise DetectionsError(f"{where}: expected an object with a 'file' path")
        frame = entry["file"].replace("\\", "/")
        listed.add(frame)
        if entry.get("failure"):
            failures[frame] = str(entry["failure"])
            continue
        for index, detection in enumerate(entry.get("detections") or []):
            at = f"{where}.detections[{index}]"
            category = categories.get(str(detection.get("category")))
            if category is None:
                raise DetectionsError(f"{at}.category: {detection.get('category')!r} is not in detection_categories")
            box = _normalised_box(_box(detection.get("bbox"), f"{at}.bbox"), f"{at}.bbox")
            rows.append((frame, index, category, _number(detection.get("conf"), f"{at}.conf"), *box))
    return Detections(pd.DataFrame(rows, columns=DETECTION_COLUMNS), failures, listed, f"MegaDetector {version}")


def _read_megadetector_cli(data: list) -> Detections:
    rows, listed = [], set()
    for number, entry in enumerate(data):
        where = f"[{number}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise DetectionsError(f"{where}: expected an object with a 'file' path")
        frame = entry["file"].replace("\\", "/")
        listed.add(frame)
        for index, detection in enumerate(entry.get("detections") or []):
            at = f"{where}.detections[{index}]"
            category = str(detection.get("category", "")).lower()
            if category not in DEFAULT_CATEGORIES.values():
                raise DetectionsError(f"{at}.category: {detection.get('category')!r} is not animal, person or vehicle")
            x1, y1, x2, y2 = _box(detection.get("bbox"), f"{at}.bbox")
            if x2 <= x1 or y2 <= y1:
                raise DetectionsError(f"{at}.bbox: [{x1}, {y1}, {x2}, {y2}] is not [x1, y1, x2, y2] in pixels")
            rows.append(
                (
                    frame,
                    index,
                    category,
                    _number(detection.get("confidence"), f"{at}.confidence"),
                    x1,
                    y1,
                    x2 - x1,
                    y2 - y1,
                )
            )
    boxes = pd.DataFrame(rows, columns=DETECTION_COLUMNS).assign(absolute=True)
    return Detections(boxes, {}, listed, "MegaDetector CLI")


def _read_speciesnet(data: dict) -> Detections:
    rows, failures, listed = [], {}, set()
    for number, entry in enumerate(_entries(data, "predictions", "the file")):
        where = f"predictions[{number}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("filepath"), str):
            raise DetectionsError(f"{where}: expected an object with a 'filepath'")
        frame = entry["filepath"].replace("\\", "/")
        listed.add(frame)
        if entry.get("failures"):
            failures[frame] = ", ".join(map(str, entry["failures"]))
            continue
        for index, detection in enumerate(entry.get("detections") or []):
            at = f"{where}.detections[{index}]"
            category = detection.get("label") or DEFAULT_CATEGORIES.get(str(detection.get("category")))
            if category not in DEFAULT_CATEGORIES.values():
                raise DetectionsError(f"{at}: label {detection.get('label')!r} is not animal, person or vehicle")
            box = _normalised_box(_box(detection.get("bbox"), f"{at}.bbox"), f"{at}.bbox")
            rows.append((frame, index, category, _number(detection.get("conf"), f"{at}.conf"), *box))
    return Detections(pd.DataFrame(rows, columns=DETECTION_COLUMNS), failures, listed, "SpeciesNet")


def read_detections(path: Path | str, root: Path | str | None = None) -> Detections:
    """The detections of ``path`` in any supported format. Frame paths are relative to the photo root;
    absolute paths under ``root`` are made relative to it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise DetectionsError(f"detections file {path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DetectionsError(f"detections file {path} is not JSON: {error}") from None
    try:
        if isinstance(data, list):
            found = _read_megadetector_cli(data)
        elif isinstance(data, dict) and "images" in data:
            found = _read_megadetector_batch(data)
        elif isinstance(data, dict) and "predictions" in data:
            found = _read_speciesnet(data)
        else:
            raise DetectionsError(
                "not a MegaDetector batch output (an object with 'images'), a MegaDetector CLI list, "
                "or SpeciesNet predictions (an object with 'predictions')"
            )
    except DetectionsError as error:
        raise DetectionsError(f"detections file {path}: {error}") from None
    if root is not None:
        found = _relative_to(found, str(Path(root).resolve()).rstrip("/") + "/")
    if "absolute" not in found.boxes:
        found.boxes["absolute"] = False
    return found


def _relative_to(found: Detections, prefix: str) -> Detections:
    def relative(frame: str) -> str:
        return frame[len(prefix) :] if frame.startswith(prefix) else frame

    found.boxes["frame"] = found.boxes["frame"].map(relative)
    found.failures = {relative(frame): reason for frame, reason in found.failures.items()}
    found.listed = {relative(frame) for frame in found.listed}
    return found


def normalise_boxes(boxes: pd.DataFrame, sizes: pd.DataFrame) -> pd.DataFrame:
    """Pixel boxes (the CLI's) as fractions of their frame's width and height (``sizes``: frame,
    width, height); boxes already normalised are kept."""
    boxes = boxes.copy()
    absolute = boxes["absolute"].astype(bool).to_numpy()
    if absolute.any():
        size = boxes.loc[absolute, ["frame"]].merge(sizes, on="frame", how="left")
        for column, extent in (("x", "width"), ("width", "width"), ("y", "height"), ("height", "height")):
            boxes.loc[absolute, column] = boxes.loc[absolute, column].to_numpy() / size[extent].to_numpy()
        boxes.loc[absolute, "absolute"] = False
    boxes[["x", "y"]] = boxes[["x", "y"]].clip(lower=0)
    return boxes.drop(columns="absolute")


def square_crop(box: tuple[float, float, float, float], width: int, height: int, pad: float = 0.1) -> tuple[int, ...]:
    """A detection's crop in pixels: the box padded by ``pad`` of its long side, squared around its
    centre, shifted and clipped into the frame (left, top, right, bottom)."""
    x, y, w, h = box[0] * width, box[1] * height, box[2] * width, box[3] * height
    side = min(max(w, h) * (1 + 2 * pad), width, height)
    centre_x, centre_y = x + w / 2, y + h / 2
    left = min(max(centre_x - side / 2, 0), width - side)
    top = min(max(centre_y - side / 2, 0), height - side)
    return (round(left), round(top), round(left + side), round(top + side))
