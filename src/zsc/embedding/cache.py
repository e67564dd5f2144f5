"""Content-addressed embedding cache, and the stable shard rule.

An image's embedding is stored under its content hash, inside a folder named by everything that
decides the numbers (the model's spec, batch size included: a batch is padded to it, so on the CPU a
photo's embedding does not depend on its batch companions, but it does on the batch shape; its
weights source, the preprocessing, the numerics: device kind and precision, and library versions). Adding photos embeds only the new ones; renaming or
moving a file embeds nothing; a changed model spec gets a new folder.

Each embed job adds one immutable segment file, written under a temporary name and renamed, so
concurrent jobs and killed jobs never leave torn or mixed rows: a reader sees whole segments only.
Each segment records its key's digest; a segment that cannot be read, or was made under another
key (copied from another model's folder), is set aside (renamed ``*.bad-<why>``, reported) and its
photos are embedded again.
The per-dataset embedding parquet files stay the interface the rest of the workflow reads.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from zsc.io import atomic_path, log

CACHE_FORMAT = 2  # 2: batch_size is part of the key, segments record the key digest
# Spec keys that change how fast, not what: a cache hit across them is exact. (batch_size is not
# one: padded batches make a row independent of its companions, not of the batch shape.)
SPEC_KEYS_WITHOUT_EFFECT: frozenset[str] = frozenset()
KEY_METADATA = b"zsc_cache_key"


def shard_of(content_hash: str, n_shards: int) -> int:
    """The shard an image belongs to: from its own content only, never from the other files."""
    return int(content_hash[:12], 16) % n_shards


def cache_key(
    spec: dict, weights_source: str, preprocessing: dict, numerics: str, versions: dict | None = None
) -> dict:
    """What decides an embedding's numbers, as a JSON-able dict (its hash names the cache folder).

    ``versions`` (zsc, torch, timm...) are part of it: an upgrade may change the numbers, so it
    starts a new cache rather than mixing old and new embeddings in one file."""
    return {
        "format": CACHE_FORMAT,
        "model_spec": {k: v for k, v in sorted(spec.items()) if k not in SPEC_KEYS_WITHOUT_EFFECT},
        "weights_source": weights_source,
        "preprocessing": preprocessing,
        "numerics": numerics,
        "versions": versions or {},
    }


def key_digest(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:20]


class EmbeddingCache:
    """Embeddings of one model setting, by image content hash, under ``root/<digest of key>/``."""

    def __init__(self, root: Path | str, key: dict):
        self.key = key
        self.folder = Path(root) / key_digest(key)

    def segments(self) -> list[Path]:
        return sorted(self.folder.glob("*.parquet")) if self.folder.is_dir() else []

    def set_aside(self, segment: Path, why: str) -> None:
        """Rename a segment that must not be used, so it is read never again (and can be inspected)."""
        aside = segment.with_name(f"{segment.name}.bad-{why}")
        try:
            os.replace(segment, aside)
        except OSError:
            return  # another job set it aside first
        log(f"embedding cache: set aside {segment} ({why}; renamed to {aside.name}); its photos are embedded again")

    def read_segment(self, segment: Path, wanted: pa.Array) -> pa.Table | None:
        """The rows of one segment for ``wanted`` hashes, or None when it is unreadable or another key's."""
        digest = key_digest(self.key)
        try:
            recorded = (pq.read_schema(segment).metadata or {}).get(KEY_METADATA, b"").decode()
            if recorded != digest:
                self.set_aside(segment, "other-key" if recorded else "no-key")
                return None
            return pq.read_table(
                segment, columns=["content_hash", "embedding"], filters=pc.field("content_hash").isin(wanted)
            )
        except (pa.ArrowException, OSError) as error:
            if isinstance(error, FileNotFoundError):
                return None  # set aside or replaced by a concurrent job
            self.set_aside(segment, "unreadable")
            return None

    def lookup(self, content_hashes) -> dict[str, np.ndarray]:
        """content hash -> embedding, for the hashes the cache holds in readable segments of this key."""
        wanted = pa.array(sorted(set(content_hashes)), pa.string())
        found: dict[str, np.ndarray] = {}
        if len(wanted) == 0:
            return found
        for segment in self.segments():
            table = self.read_segment(segment, wanted)
            if table is None or table.num_rows == 0:
                continue
            column = table.column("embedding").combine_chunks()
            matrix = column.flatten().to_numpy(zero_copy_only=False).reshape(-1, column.type.list_size)
            for content_hash, row in zip(
                table.column("content_hash").to_pylist(), matrix.astype(np.float32, copy=False)
            ):
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
        table = pa.table(
            {
                "content_hash": pa.array(content_hashes, pa.string()),
                "embedding": pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1)), matrix.shape[1]),
            }
        ).replace_schema_metadata({KEY_METADATA: key_digest(self.key).encode()})
        path = self.folder / name
        with atomic_path(path) as temporary:
            pq.write_table(table, temporary)
        return path
