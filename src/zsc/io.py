"""Parquet and file helpers: outputs appear complete or not at all."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


@contextlib.contextmanager
def atomic_path(path: Path | str):
    """Yield a temporary sibling path; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.partial-*"):  # left by a killed job
        stale.unlink(missing_ok=True)
    temporary = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def write_table(frame: pd.DataFrame, path: Path | str, metadata: dict | None = None) -> None:
    """Write ``frame`` to parquet (or CSV by suffix) atomically."""
    path = Path(path)
    with atomic_path(path) as temporary:
        if path.suffix == ".csv":
            frame.to_csv(temporary, index=False)
            return
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if metadata is not None:
            table = table.replace_schema_metadata(
                {**(table.schema.metadata or {}), b"zsc": json.dumps(metadata, sort_keys=True).encode()}
            )
        pq.write_table(table, temporary)


def write_json(data: dict, path: Path | str) -> None:
    with atomic_path(path) as temporary:
        Path(temporary).write_text(json.dumps(data, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def read_metadata(path: Path | str) -> dict:
    raw = pq.read_schema(path).metadata or {}
    return json.loads(raw.get(b"zsc", b"{}"))


def read_embeddings(path: Path | str) -> tuple[pd.DataFrame, np.ndarray]:
    """Return (image_id/label/group frame, float32 matrix) of an embeddings parquet."""
    table = pq.read_table(path)
    frame = table.select(["image_id", "label", "group"]).to_pandas()
    column = table.column("embedding").combine_chunks()
    dim = column.type.list_size
    if table.num_rows == 0:  # an empty shard
        return frame, np.zeros((0, dim), np.float32)
    matrix = column.flatten().to_numpy(zero_copy_only=False).reshape(-1, dim).astype(np.float32, copy=False)
    return frame, matrix


def select_rows(frame: pd.DataFrame, matrix: np.ndarray, image_ids) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Rows for ``image_ids`` in that order, plus the ids that have no row."""
    position = pd.Series(np.arange(len(frame)), index=frame["image_id"])
    wanted = pd.Index(image_ids)
    present = wanted.isin(position.index)
    rows = position.loc[wanted[present]].to_numpy()
    return frame.iloc[rows].reset_index(drop=True), matrix[rows], wanted[~present].tolist()


def frame_fingerprint(frame: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values.tobytes()).hexdigest()[:16]
