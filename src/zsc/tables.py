"""The sort run's tables, declared once: their columns, each column's kind, one reader and one writer.

Steps, the report, the bench and the tests read and write a sort run's CSV tables through these
declarations, so a column is added in one place and every reader parses it the same way. A plain
declaration (a frozen dataclass of columns) rather than a DataFrame-schema library such as pandera:
the tables are small and flat, their checks are one kind per column and a fixed order, which a
dataclass says in a few lines, and every job that reads a table would otherwise import one more
dependency (with its own dependencies) for checks this project does not need.

CSV cells are text: ``str`` columns keep empty cells as ``""``, ``float`` columns read an empty
cell as NaN, ``int`` columns must be whole numbers, ``bool`` columns are ``True``/``False``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from zsc.io import write_json, write_table

KINDS = ("str", "int", "float", "bool")


@dataclass(frozen=True)
class Table:
    """A CSV table: ``columns`` (name -> kind) in the order written; ``optional`` columns (name ->
    kind) follow when a run has them (a camera-trap run's frames, say)."""

    name: str
    columns: dict[str, str]
    optional: dict[str, str] = field(default_factory=dict)
    doc: str = ""

    def kinds(self) -> dict[str, str]:
        return {**self.columns, **self.optional}

    def read(self, path: Path | str) -> pd.DataFrame:
        """The table as written, each column parsed by its kind (unknown columns kept as text)."""
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        missing = [name for name in self.columns if name not in frame.columns]
        if missing:
            raise ValueError(f"{path}: not a {self.name} table, it lacks column(s) {missing}")
        return self.parse(frame)

    def parse(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Text cells to each declared column's kind."""
        frame = frame.copy()
        for name, kind in self.kinds().items():
            if name in frame.columns:
                frame[name] = _PARSE[kind](frame[name])
        return frame

    def select(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The declared columns in their order (the optional ones where present); a missing one is a bug."""
        missing = [name for name in self.columns if name not in frame.columns]
        if missing:
            raise KeyError(f"{self.name} table lacks column(s) {missing}")
        return frame[[*self.columns, *(name for name in self.optional if name in frame.columns)]]

    def write(self, frame: pd.DataFrame, path: Path | str) -> None:
        write_table(self.select(frame), path)

    def empty(self) -> pd.DataFrame:
        return self.parse(pd.DataFrame({name: pd.Series(dtype=str) for name in self.columns}))


def _text(values: pd.Series) -> pd.Series:
    return values.astype(str)


def _integer(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="raise").astype(int)


def _number(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.replace("", float("nan")), errors="coerce").astype(float)


def _flag(values: pd.Series) -> pd.Series:
    return values.astype(str).str.lower() == "true"


_PARSE = {"str": _text, "int": _integer, "float": _number, "bool": _flag}

ASSIGNMENTS = Table(
    "assignments",
    {
        "image_id": "str",
        "cluster": "int",
        "folder": "str",
        "file": "str",
        "doubtful": "bool",
        "reason": "str",
        "nearest_cluster": "int",
        "distance_to_cluster": "float",
        "map_x": "float",
        "map_y": "float",
        "duplicate_of": "str",
        "status": "str",
        "label": "str",
        "support": "float",
        "centre_distance": "float",
        "neighbour_distance": "float",
        "threshold": "float",
        "problem": "str",
    },
    doc="one row per photo the run sorts: its cluster (-1 noise), folder, doubt, map position, status "
    "(known | assigned | new), reviewed or assigned label with its support, and a placement problem",
)
REVIEW_LIST = Table(
    "review list",
    {"image_id": "str", "reason": "str", "nearest_cluster": "int", "distance_to_cluster": "float"},
    doc="the doubtful photos, farthest from any cluster first",
)
LABELS = Table(
    "labels",
    {"image_id": "str", "label": "str", "folder": "str", "cluster": "int", "file": "str", "problem": "str"},
    optional={"frame": "str", "sequence_id": "str", "sequence_disagrees": "bool"},
    doc="the applied review: per photo (a camera-trap run: per crop, with its frame) its label and place in final/",
)
LABEL_FOLDERS = Table(
    "label folders", {"label": "str", "folder": "str", "changed": "bool"}, doc="label -> its folder in final/"
)
FRAMES = Table(
    "frames",
    {
        "image_id": "str",
        "status": "str",
        "reason": "str",
        "animals": "int",
        "camera": "str",
        "time": "str",
        "sequence_id": "str",
        "format": "str",
    },
    doc="a camera-trap run's frames: detector status, animal crops, camera, EXIF time (local, no offset), burst",
)
FRAME_LABELS = Table(
    "frame labels",
    {
        "image_id": "str",
        "status": "str",
        "label": "str",
        "reason": "str",
        "camera": "str",
        "time": "str",
        "sequence_id": "str",
        "final": "str",
    },
    doc="per frame once: its label (its crops' labels, ';'-joined) and its files in final/",
)
SORT_TABLES = {table.name: table for table in (ASSIGNMENTS, REVIEW_LIST, LABELS, LABEL_FOLDERS, FRAMES, FRAME_LABELS)}


# ------------------------------------------------------------------ the run's JSON records
def read_setting(path: Path | str) -> dict:
    """``setting.json``: the names of the model, reducer and clusterer, their entries, where they came from."""
    return json.loads(Path(path).read_text())


def write_setting(setting: dict, path: Path | str) -> None:
    write_json(setting, path)


def read_run_summary(path: Path | str) -> dict:
    """``assign.json``: the parameters as used, photo counts and, for a weekly run, the reviewed set's summary."""
    return json.loads(Path(path).read_text())


def write_run_summary(summary: dict, path: Path | str) -> None:
    write_json(summary, path)
