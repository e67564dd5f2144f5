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

A file that is not one of these, or whose paths match no photo of the inbox, is an error; one bad entry
(``images[12].detections[0].bbox: ...``: a NaN, a string for a list, a box outside the frame) sets that
frame aside (status failure, the entry named in its reason) and the rest is read.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
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
    listed with a failure; ``absolute`` frames still need their size (the CLI's pixel boxes).
    ``original``: each frame's path as the file wrote it; ``notes``: what reading it decided (a prefix
    stripped, bad entries set aside), for the console."""

    boxes: pd.DataFrame
    failures: dict[str, str] = field(default_factory=dict)
    listed: set[str] = field(default_factory=set)
    format: str = ""
    original: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    prefix: str = ""  # stripped from the file's paths to match the inbox


class BadEntry(DetectionsError):
    """One entry of the file that cannot be used: its frame is set aside (status failure) with the reason."""


BOX_TOLERANCE = 0.01  # a normalised box this far outside the frame is clipped into it; further is an error
FORMAT_VERSION = re.compile(r"^1(\.\d+)*$")  # MegaDetector batch output 1.0 ... 1.6, string or number


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadEntry(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def _box(value, where: str) -> list[float]:
    if not isinstance(value, list) or len(value) != 4:
        raise BadEntry(f"{where}: expected 4 numbers, got {value!r}")
    return [_number(v, where) for v in value]


def _entries(data, key: str, where: str) -> list:
    entries = data.get(key)
    if not isinstance(entries, list):
        raise DetectionsError(f"{where}: '{key}' must be a list of entries")
    return entries


def _detections_of(entry: dict, where: str) -> list[dict]:
    detections = entry.get("detections") or []
    if not isinstance(detections, list):
        raise BadEntry(f"{where}.detections: expected a list of detections, got {type(detections).__name__}")
    for index, detection in enumerate(detections):
        if not isinstance(detection, dict):
            raise BadEntry(f"{where}.detections[{index}]: expected an object, got {type(detection).__name__}")
    return detections


def _normalised_box(box: list[float], where: str) -> list[float]:
    """[x_min, y_min, width, height] within 0-1; a box up to BOX_TOLERANCE outside is clipped into the frame."""
    x, y, width, height = box
    low, high = -BOX_TOLERANCE, 1 + BOX_TOLERANCE
    if width <= 0 or height <= 0 or x < low or y < low or x + width > high or y + height > high:
        raise BadEntry(f"{where}: box {box} is not [x_min, y_min, width, height] within 0-1")
    if x >= 0 and y >= 0 and x + width <= 1 and y + height <= 1:
        return box
    x1, y1 = min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)
    x2, y2 = min(max(x + width, 0.0), 1.0), min(max(y + height, 0.0), 1.0)
    if x2 - x1 <= 0 or y2 - y1 <= 0:
        raise BadEntry(f"{where}: box {box} has no area inside the frame")
    return [x1, y1, x2 - x1, y2 - y1]


class _Reader:
    """Collects rows, failures and bad entries while a file is read entry by entry."""

    def __init__(self):
        self.rows, self.failures, self.listed, self.original, self.bad = [], {}, set(), {}, []

    def read(self, entries: list, label: str, key: str, read_entry) -> None:
        """Each entry (``{label}[n]``, its frame's path under ``key``) read by ``read_entry(entry, where,
        frame)``; an entry that raises ``BadEntry`` sets its frame aside with the reason."""
        for number, entry in enumerate(entries):
            where = f"{label}[{number}]"
            if not isinstance(entry, dict) or not isinstance(entry.get(key), str):
                self.bad.append(f"{where}: expected an object with a '{key}' path")
                continue
            frame = entry[key].replace("\\", "/")
            self.listed.add(frame)
            self.original[frame] = entry[key]
            try:
                read_entry(entry, where, frame)
            except BadEntry as error:
                self.bad.append(str(error))
                self.failures[frame] = f"bad detector entry: {error}"
                self.rows = [row for row in self.rows if row[0] != frame]

    def result(self, boxes: pd.DataFrame, name: str) -> Detections:
        notes = (
            [f"{len(self.bad)} bad detector entr(ies) set aside (their frames: status failure), e.g. {self.bad[0]}"]
            if self.bad
            else []
        )
        return Detections(boxes, self.failures, self.listed, name, self.original, notes)


def _read_megadetector_batch(data: dict) -> Detections:
    categories = data.get("detection_categories") or DEFAULT_CATEGORIES
    if not isinstance(categories, dict):
        raise DetectionsError('detection_categories: expected an object such as {"1": "animal"}')
    version = (data.get("info") or {}).get("format_version")
    if version is None or isinstance(version, bool) or not FORMAT_VERSION.match(str(version)):
        raise DetectionsError(
            f"info.format_version is {version!r}: not a MegaDetector batch output file of format 1.0 to 1.6?"
        )
    reader = _Reader()

    def read_entry(entry: dict, where: str, frame: str) -> None:
        if entry.get("failure"):
            reader.failures[frame] = str(entry["failure"])
            return
        for index, detection in enumerate(_detections_of(entry, where)):
            at = f"{where}.detections[{index}]"
            category = categories.get(str(detection.get("category")))
            if category is None:
                raise BadEntry(f"{at}.category: {detection.get('category')!r} is not in detection_categories")
            box = _normalised_box(_box(detection.get("bbox"), f"{at}.bbox"), f"{at}.bbox")
            reader.rows.append((frame, index, category, _number(detection.get("conf"), f"{at}.conf"), *box))

    reader.read(_entries(data, "images", "the file"), "images", "file", read_entry)
    return reader.result(pd.DataFrame(reader.rows, columns=DETECTION_COLUMNS), f"MegaDetector {version}")


def _read_megadetector_cli(data: list) -> Detections:
    reader = _Reader()

    def read_entry(entry: dict, where: str, frame: str) -> None:
        for index, detection in enumerate(_detections_of(entry, where)):
            at = f"{where}.detections[{index}]"
            category = str(detection.get("category", "")).lower()
            if category not in DEFAULT_CATEGORIES.values():
                raise BadEntry(f"{at}.category: {detection.get('category')!r} is not animal, person or vehicle")
            x1, y1, x2, y2 = _box(detection.get("bbox"), f"{at}.bbox")
            if x2 <= x1 or y2 <= y1 or min(x1, y1) < 0:
                raise BadEntry(f"{at}.bbox: [{x1}, {y1}, {x2}, {y2}] is not [x1, y1, x2, y2] in pixels")
            confidence = _number(detection.get("confidence"), f"{at}.confidence")
            reader.rows.append((frame, index, category, confidence, x1, y1, x2 - x1, y2 - y1))

    reader.read(data, "", "file", read_entry)
    boxes = pd.DataFrame(reader.rows, columns=DETECTION_COLUMNS).assign(absolute=True)
    return reader.result(boxes, "MegaDetector CLI")


def _read_speciesnet(data: dict) -> Detections:
    reader = _Reader()

    def read_entry(entry: dict, where: str, frame: str) -> None:
        if entry.get("failures"):
            reader.failures[frame] = ", ".join(map(str, entry["failures"]))
            return
        for index, detection in enumerate(_detections_of(entry, where)):
            at = f"{where}.detections[{index}]"
            category = detection.get("label") or DEFAULT_CATEGORIES.get(str(detection.get("category")))
            if category not in DEFAULT_CATEGORIES.values():
                raise BadEntry(f"{at}: label {detection.get('label')!r} is not animal, person or vehicle")
            box = _normalised_box(_box(detection.get("bbox"), f"{at}.bbox"), f"{at}.bbox")
            reader.rows.append((frame, index, category, _number(detection.get("conf"), f"{at}.conf"), *box))

    reader.read(_entries(data, "predictions", "the file"), "predictions", "filepath", read_entry)
    return reader.result(pd.DataFrame(reader.rows, columns=DETECTION_COLUMNS), "SpeciesNet")


def load_document(path: Path | str):
    """A detections file's JSON as it is (a list or an object), or one line saying why not."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise DetectionsError(f"detections file {path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DetectionsError(f"detections file {path} is not JSON: {error}") from None


def read_detections(path: Path | str, inbox: set[str] | None = None, data=None) -> Detections:
    """The detections of ``path`` in any supported format, frame paths matched to the inbox's (``inbox``:
    its photos' relative paths; see ``match_to_inbox``). ``data``: the file's JSON when the caller
    already loaded it (``load_document``), so a season's file is parsed once."""
    path = Path(path)
    data = load_document(path) if data is None else data
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
        if inbox is not None:
            found = match_to_inbox(found, inbox)
    except DetectionsError as error:
        raise DetectionsError(f"detections file {path}: {error}") from None
    if "absolute" not in found.boxes:
        found.boxes["absolute"] = False
    return found


def inbox_paths(listed: set[str], inbox: set[str]) -> tuple[dict[str, str], str]:
    """Detector path -> the inbox photo it names, and the prefix stripped from the paths ('' for none).

    MegaDetector writes absolute paths unless told otherwise, often from another machine (``D:/cameras/
    cam1/IMG_0001.JPG`` for the inbox's ``cam1/IMG_0001.JPG``): each path is matched by its longest
    suffix of whole folders that is an inbox photo, and the prefix most paths share is stripped from
    every path. Paths that match nothing under it stay as they are (listed, not in the inbox)."""
    prefixes: Counter = Counter()
    for path in listed:
        parts = path.split("/")
        for start in range(len(parts)):
            if "/".join(parts[start:]) in inbox:
                prefixes["/".join(parts[:start]) + "/" if start else ""] += 1
                break
    if not prefixes:
        example = sorted(listed)[0] if listed else "(none)"
        shorter = sorted(i for i in inbox if i.endswith("/" + example))[:3]
        if shorter:
            raise DetectionsError(
                f"its paths are shorter than the inbox's and ambiguous: '{example}' could be {shorter}; run the "
                f"detector on the inbox folder itself (sort.<run>.root), or give paths relative to it"
            )
        raise DetectionsError(
            f"none of its {len(listed)} frame path(s) names a photo of the inbox, e.g. '{example}' (the inbox "
            f"has e.g. '{sorted(inbox)[0] if inbox else 'nothing'}'): is it the detector's output for this folder?"
        )
    (prefix, count), *others = prefixes.most_common()
    if others and count < 0.5 * sum(prefixes.values()):
        shown = ", ".join(f"'{p or '(none)'}' ({n})" for p, n in prefixes.most_common(3))
        raise DetectionsError(f"its paths match the inbox under different prefixes ({shown}); it is ambiguous")
    mapping = {}
    for path in listed:
        if path in inbox:
            mapping[path] = path
        elif prefix and path.startswith(prefix):
            mapping[path] = path[len(prefix) :]
        else:
            mapping[path] = path
    return mapping, prefix


def match_to_inbox(found: Detections, inbox: set[str]) -> Detections:
    """``found`` with its frame paths as the inbox's (see ``inbox_paths``); the prefix stripped is a note."""
    mapping, prefix = inbox_paths(found.listed, inbox)
    found.prefix = prefix
    if prefix:
        found.notes.append(f"detector paths matched to the inbox by stripping '{prefix}'")
    found.boxes["frame"] = found.boxes["frame"].map(mapping)
    found.failures = {mapping[frame]: reason for frame, reason in found.failures.items()}
    found.listed = set(mapping.values())
    found.original = {mapping[frame]: original for frame, original in found.original.items()}
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
