"""The content-addressed embedding cache and sharded embedding: real photos, real model, real Snakemake."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import run_snakemake, tiny_config, write_config
from zsc.embedding.cache import EmbeddingCache, cache_key, shard_of
from zsc.io import read_embeddings

TARGET = "results/birds/embeddings/small.parquet"


def _key(**changes) -> dict:
    spec = {"backend": "timm", "id": "mobilenetv2_100", "img_size": 64, "batch_size": 16, **changes}
    return cache_key(spec, "random init", {"size": 64}, "cpu/fp32")


def test_shards_follow_the_content_hash_alone():
    """Balanced, and the same in another process (no salted hash(), no dependence on other files)."""
    hashes = [hashlib.sha256(str(i).encode()).hexdigest()[:24] for i in range(2000)]
    here = [shard_of(h, 4) for h in hashes]
    there = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from zsc.embedding.cache import shard_of; "
            "print(' '.join(str(shard_of(h, 4)) for h in sys.stdin.read().split()))",
        ],
        input=" ".join(reversed(hashes)),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "123"},
    ).stdout.split()
    assert here == [int(s) for s in reversed(there)]
    assert np.bincount(here, minlength=4).min() > 0.2 * len(hashes)
    assert {shard_of(h, 1) for h in hashes} == {0}


def test_cache_key_includes_the_batch_shape_and_the_model(tmp_path):
    # a batch is padded to batch_size: a row is independent of its companions, not of the batch shape
    assert EmbeddingCache(tmp_path, _key(batch_size=64)).folder != EmbeddingCache(tmp_path, _key()).folder
    assert EmbeddingCache(tmp_path, _key(img_size=96)).folder != EmbeddingCache(tmp_path, _key()).folder


def _add_segment(args):
    root, start = args
    cache = EmbeddingCache(root, _key())
    hashes = [f"{i:024x}" for i in range(start, start + 500)]
    cache.add(hashes, np.tile(np.arange(start, start + 500, dtype=np.float32)[:, None], (1, 8)))


def test_concurrent_writers_and_an_interrupted_write_leave_whole_rows(tmp_path):
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        pool.map(_add_segment, [(tmp_path, start) for start in (0, 250, 1000, 1500)])  # 0 and 250 overlap
    cache = EmbeddingCache(tmp_path, _key())
    # a job killed while writing leaves only a hidden partial file, never read
    (cache.folder / ".deadbeef.parquet.partial-123").write_bytes(b"PAR1 torn")
    found = cache.lookup([f"{i:024x}" for i in range(0, 2100)])
    assert len(found) == 750 + 1000
    assert all((row == int(h, 16)).all() for h, row in found.items())  # no row mixes two images


def _photos(root):
    from zsc.data.demo import generate

    generate(str(root), n_species=4, per_species=14, seed=11, size=64, nested=False)
    return root


def _config(root, **embed) -> dict:
    config = tiny_config(
        reducers={"pca": {"method": "pca"}}, clusterers={"ward": {"method": "ward"}}, review={"gallery_top": 0}
    )
    config["datasets"] = {"birds": {"root": str(root)}}
    config["models"] = {"small": config["models"].pop("rand_mnv2")}
    config["embed"] = embed
    return config


def _embed(workdir, config) -> dict:
    run_snakemake(workdir, write_config(workdir, config), TARGET)
    return json.loads((workdir / "results/birds/embeddings/small.stats.json").read_text())


@pytest.mark.slow
def test_added_photos_are_the_only_ones_embedded_renames_and_deletions_embed_nothing(tmp_path, numba_cache):
    root = _photos(tmp_path / "photos")
    config = _config(root)
    first = _embed(tmp_path, config)
    assert (first["images"], first["embedded"], first["from_cache"]) == (56, 56, 0)
    frame, matrix = read_embeddings(tmp_path / TARGET)
    before = dict(zip(frame["image_id"], matrix))

    from zsc.data.demo import generate  # two new photos of a species (other seed: other bytes)

    for path in generate(str(tmp_path / "more"), n_species=2, per_species=1, seed=99, size=64)[:2]:
        shutil.copy(path, root / path.parent.name / f"new_{path.name}")
    added = _embed(tmp_path, config)
    assert (added["images"], added["embedded"], added["from_cache"]) == (58, 2, 56)

    species = sorted(p for p in root.iterdir() if p.is_dir())[0]
    photo = sorted(species.glob("*.jpg"))[0]
    photo.rename(species / f"renamed_{photo.name}")
    sorted(species.glob(f"{species.name}_*.jpg"))[-1].unlink()
    changed = _embed(tmp_path, config)
    assert (changed["images"], changed["embedded"], changed["from_cache"]) == (57, 0, 57)
    frame, matrix = read_embeddings(tmp_path / TARGET)
    assert len(frame) == 57
    renamed = f"{species.name}/renamed_{photo.name}"
    np.testing.assert_array_equal(dict(zip(frame["image_id"], matrix))[renamed], before[f"{species.name}/{photo.name}"])

    config["models"]["small"]["img_size"] = 72  # a changed model spec: that model is embedded again
    respec = _embed(tmp_path, config)
    assert (respec["embedded"], respec["from_cache"]) == (57, 0)


# Sharding (embed.shards) is proven on the local SLURM cluster: tests/test_slurm.py, 4 shards vs one job.
