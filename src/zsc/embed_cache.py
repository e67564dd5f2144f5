"""Content-addressed embedding cache, and the stable shard rule.

An image's embedding is stored under its content hash, inside a folder named by everything that
decides the numbers (the model's spec without batch size, its weights source, the preprocessing,
and the numerics: device kind and precision). Adding photos embeds only the new ones; renaming or
moving a file embeds nothing; a changed model spec gets a new folder.

Each embed job adds one immutable segment file, written under a temporary name and renamed, so
concurrent jobs and killed jobs never leave torn or mixed rows: a reader sees whole segments only.
The per-dataset embedding parquet files stay the interface the rest of the workflow reads.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from zsc.io import atomic_path

CACHE_FORMAT = 1
# Spec keys that change how fast, not what: a cache hit across them is exact.
SPEC_KEYS_WITHOUT_EFFECT = frozenset({"batch_size"})


def shard_of(content_hash: str, n_shards: int) -> int:
    """The shard an image belongs to: from its own content only, never from the other files."""
    return int(content_hash[:12], 16) % n_shards


def cache_key(spec: dict, weights_source: str, preprocessing: dict, numerics: str, versions: dict | None = None) -> dict:
    """What decides an embedding's numbers, as a JSON-able dict (its hash names the cache folder).

    ``versions`` (zsc, torch, timm...) are part of it: an upgrade may change the numbers, so it
    starts a new cache rather than mixing old and new embeddings in one file."""
    return {"format": CACHE_FORMAT,
            "model_spec": {k: v for k, v in sorted(spec.items()) if k not in SPEC_KEYS_WITHOUT_EFFECT},
            "weights_source": weights_source, "preprocessing": preprocessing, "numerics": numerics,
            "versions": versions or {}}


def key_digest(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:20]


class EmbeddingCache:
    """Embeddings of one model setting, by image content hash, under ``root/<digest of key>/``."""

    def __init__(self, root: Path | str, key: dict):
        self.key = key
        self.folder = Path(root) / key_digest(key)

    def segments(self) -> list[Path]:
        return sorted(self.folder.glob("*.parquet")) if self.folder.is_dir() else []

    def lookup(self, content_hashes) -> dict[str, np.ndarray]:
        """content hash -> embedding, for the hashes the cache holds."""
        wanted = pa.array(sorted(set(content_hashes)), pa.string())
        segments = self.segments()
        if not segments or len(wanted) == 0:
            return {}
        table = ds.dataset([str(s) for s in segments], format="parquet").to_table(
            filter=pc.field("content_hash").isin(wanted))
        if table.num_rows == 0:
            return {}
        column = table.column("embedding").combine_chunks()
        matrix = column.flatten().to_numpy(zero_copy_only=False).reshape(-1, column.type.list_size)
        found: dict[str, np.ndarray] = {}
        for content_hash, row in zip(table.column("content_hash").to_pylist(), matrix.astype(np.float32, copy=False)):
            found.setdefault(content_hash, row)  # two jobs may have embedded the same new photo
        return found

    def add(self, content_hashes: list[str], matrix: np.ndarray) -> Path | None:
        """Store new embeddings as one segment (atomic: it appears whole or not at all)."""
        if not content_hashes:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        key_file = self.folder / "key.json"
        if not key_file.exists():
            with atomic_path(key_file) as temporary:
                Path(temporary).write_text(json.dumps(self.key, indent=2, sort_keys=True, default=str) + "\n")
        name = hashlib.sha256("\n".join(sorted(content_hashes)).encode()).hexdigest()[:24] + ".parquet"
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        table = pa.table({
            "content_hash": pa.array(content_hashes, pa.string()),
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1)), matrix.shape[1]),
        })
        path = self.folder / name
        with atomic_path(path) as temporary:
            pq.write_table(table, temporary)
        return path
