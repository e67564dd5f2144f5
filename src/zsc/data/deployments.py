"""A camera-trap season's deployments CSV: one row per camera folder with its coordinates, optional ids,
dates and place. Checked when the config is checked (before any embedding), and read again by the
Camtrap DP export.

Columns: ``camera``, ``latitude``, ``longitude`` (required); ``deploymentID``, ``deploymentStart``,
``deploymentEnd`` (ISO 8601 with an offset: ``2026-05-01T08:00:00+02:00``), ``locationName``,
``locationID``, ``utc_offset`` (``+02:00``: the cameras' clock; EXIF times carry none), and any other
Camtrap DP deployments field (``cameraHeight``, ``habitat``, ...), which is carried into the package.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd

REQUIRED = ("camera", "latitude", "longitude")
RANGES = {"latitude": (-90.0, 90.0), "longitude": (-180.0, 180.0)}
OFFSET = re.compile(r"^(Z|[+-]\d{2}:?\d{2})$")


def parse_offset(text: str) -> timezone | None:
    """``+02:00``, ``-0330`` or ``Z`` as a timezone; None when not one."""
    text = (text or "").strip()
    if not OFFSET.match(text):
        return None
    if text == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def parse_moment(text: str) -> datetime | None:
    """An ISO 8601 date and time with its offset (``2026-05-01T08:00:00+02:00``, ``...Z``); None when the
    text is not one or has no offset."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def read_table(path: Path | str) -> pd.DataFrame:
    """The CSV as text (a UTF-8 BOM allowed), ``camera`` without surrounding slashes."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if "camera" in table:
        table["camera"] = table["camera"].str.strip().str.strip("/")
    return table


def deployment_problems(path: Path | str, cameras: list[str] | None = None) -> list[str]:
    """Everything wrong with a deployments CSV, one line each (empty: usable). ``cameras``: the
    inbox's camera folders, each of which needs a row (None: not known yet)."""
    try:
        table = read_table(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        return [f"cannot be read as a UTF-8 CSV ({str(error).splitlines()[0]})"]
    missing = [column for column in REQUIRED if column not in table.columns]
    if missing:
        return [f"lacks column(s) {missing}; it needs camera,latitude,longitude (one row per camera folder)"]
    problems = []
    for column, (low, high) in RANGES.items():
        values = pd.to_numeric(table[column], errors="coerce").astype(float)
        for row, (text, value) in enumerate(zip(table[column], values), start=2):
            if not (isinstance(value, float) and math.isfinite(value) and low <= value <= high):
                problems.append(f"line {row}: {column} '{text}' is not a number between {low:g} and {high:g}")
    problems += _duplicates(table, "camera", "camera folder")
    if "deploymentID" in table:
        problems += _duplicates(table[table["deploymentID"] != ""], "deploymentID", "deploymentID")
    problems += _dates(table)
    for row, text in enumerate(table.get("utc_offset", pd.Series(dtype=str)), start=2):
        if text and parse_offset(text) is None:
            problems.append(f"line {row}: utc_offset '{text}' is not an offset such as +02:00")
    if cameras is not None:
        absent = sorted(set(cameras) - set(table["camera"]))
        if absent:
            problems.append(
                f"has no row for camera folder(s) {absent[:10]} (the inbox's cameras: {sorted(cameras)[:10]})"
            )
    return problems


def _duplicates(table: pd.DataFrame, column: str, what: str) -> list[str]:
    twice = sorted(set(table[column][table[column].duplicated()]))
    return [f"{what} '{value}' is listed twice" for value in twice[:10]]


def _dates(table: pd.DataFrame) -> list[str]:
    problems = []
    for row, record in enumerate(table.to_dict("records"), start=2):
        moments = {}
        for column in ("deploymentStart", "deploymentEnd"):
            text = record.get(column, "")
            if text:
                moments[column] = parse_moment(text)
                if moments[column] is None:
                    problems.append(
                        f"line {row}: {column} '{text}' is not an ISO 8601 date and time with its offset "
                        f"(e.g. 2026-05-01T08:00:00+02:00)"
                    )
        start, end = moments.get("deploymentStart"), moments.get("deploymentEnd")
        if start and end and start > end:
            problems.append(f"line {row}: deploymentStart {record['deploymentStart']} is after deploymentEnd")
    return problems


def read_deployments(path: Path | str, cameras: list[str]) -> pd.DataFrame:
    """The checked deployments of ``cameras`` (latitude and longitude as numbers); a ValueError
    listing every problem when the CSV is not usable."""
    problems = deployment_problems(path, cameras)
    if problems:
        raise ValueError(f"deployments CSV {path}: " + "; ".join(problems[:10]))
    table = read_table(path)
    for column in ("latitude", "longitude"):
        table[column] = pd.to_numeric(table[column])
    return table[table["camera"].isin(cameras)].reset_index(drop=True)
