"""Step of workflow/rules/reduce.smk: one reduction, shared by every clusterer."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from zsc.io import read_embeddings, select_rows, write_json, write_table
from zsc.methods.reducers import ReducerError, resolve_reduction
from zsc.steps.common import peak_rss_mb


def status(ok: bool, reason: str = "") -> dict:
    return {"status": "ok" if ok else "failed", "reason": reason}


def reduce(embeddings_path: str, sample_path: str, spec: dict, seed: int, points_path: str, info_path: str) -> None:
    """Reduce the sampled embeddings; a reducer failure is recorded, not raised."""
    drawn = pd.read_parquet(sample_path)
    frame, matrix, missing = select_rows(*read_embeddings(embeddings_path), drawn["image_id"])
    started = time.perf_counter()
    info = {"n_points": int(len(frame)), "n_missing_embedding": len(missing), "missing_embedding": missing[:50]}
    try:
        reduced, used = resolve_reduction(matrix, spec, seed, overwrite=True)  # matrix: this job's own rows
        info.update(status(True), params=used)
    except (ReducerError, ValueError, np.linalg.LinAlgError) as error:
        reduced = np.zeros((0, spec.get("n_components", 2)), dtype=np.float32)
        frame = frame.iloc[:0]
        info.update(status(False, f"{type(error).__name__}: {error}"), params=spec)
    info.update(reduce_seconds=round(time.perf_counter() - started, 4), reduce_peak_rss_mb=round(peak_rss_mb(), 1))
    out = frame.copy()
    for axis in range(reduced.shape[1]):
        out[f"x{axis}"] = reduced[:, axis]
    write_table(out, points_path)
    write_json(info, info_path)
