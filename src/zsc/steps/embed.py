"""Steps of workflow/rules/embed.smk: embeddings (cached, sharded), the shard merge, weights."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from zsc import layout
from zsc.io import atomic_path, log, read_embeddings, write_json, write_table


def embed(
    model_name: str,
    spec: dict,
    root: str,
    manifest_path: str,
    output_path: str,
    rejects_path: str,
    stats_path: str,
    device: str = "auto",
    workers: int = 2,
    cache_root: str = layout.EMBED_CACHE,
    shard: int = 0,
    n_shards: int = 1,
) -> None:
    """Embeddings of a dataset's photos, or of one shard of them (``shard_of``): taken from the
    content-addressed cache where it has them; only the rest run through the model, then join the cache."""
    from zsc.embedding.backbones import build_backbone
    from zsc.embedding.cache import EmbeddingCache, cache_key, key_digest, shard_of
    from zsc.embedding.embed import embed_with_cache, pick_device, run_metadata, write_embedding_file
    from zsc.io import read_metadata

    started = time.perf_counter()
    manifest = pd.read_parquet(manifest_path)
    fingerprint = read_metadata(manifest_path).get("fingerprint", "")
    if n_shards > 1:
        mine = [shard_of(content_hash, n_shards) == shard for content_hash in manifest["content_hash"]]
        manifest = manifest[mine].reset_index(drop=True)
    backbone = build_backbone(model_name, spec)
    metadata = run_metadata(model_name, spec, backbone, fingerprint)
    kind = pick_device(device).type
    numerics = f"{kind}/{spec['precision'] if kind == 'cuda' else 'fp32'}"
    versions = {
        name: version
        for name, version in metadata["versions"].items()
        if name not in ("python", "torchvision_ops_patched")
    }
    cache = EmbeddingCache(
        cache_root, cache_key(spec, backbone.weights_source, backbone.preprocessing.as_dict(), numerics, versions)
    )
    metadata["cache_key"] = key_digest(cache.key)
    scratch = Path(output_path).with_name(f".{Path(output_path).name}.new")
    found, rejects, n_cached, n_embedded = embed_with_cache(
        backbone, manifest, Path(root), cache, metadata, spec, device, workers, scratch
    )
    embedded = manifest[manifest["content_hash"].isin(list(found))].reset_index(drop=True)
    if embedded.empty and n_shards == 1:
        raise RuntimeError(
            f"no image of {len(manifest)} could be embedded; rejects: {rejects.head(20).values.tolist()}"
        )
    if len(embedded):
        matrix = np.stack([found[h] for h in embedded["content_hash"]])
    else:  # an empty shard (few photos, many shards): an empty file of the right width
        from zsc.embedding.embed import embedding_dim

        metadata["embedding_dim"] = embedding_dim(backbone)
        matrix = np.zeros((0, metadata["embedding_dim"]), np.float32)
    write_embedding_file(embedded, matrix, metadata, output_path)
    write_table(rejects, rejects_path)
    stats = {
        "images": len(manifest),
        "from_cache": n_cached,
        "embedded": n_embedded,
        "rejected": int(len(rejects)),
        "cache": str(cache.folder),
        "seconds": round(time.perf_counter() - started, 2),
    }
    write_json(stats, stats_path)
    log(
        f"embed {model_name}{f' shard {shard}/{n_shards}' if n_shards > 1 else ''}: {stats['images']} images, "
        f"{stats['from_cache']} from the cache ({cache.folder}), {stats['embedded']} embedded, "
        f"{stats['rejected']} rejected"
    )


def merge_shards(
    manifest_path: str,
    shard_paths: list[str],
    shard_rejects: list[str],
    shard_stats: list[str],
    embeddings_path: str,
    rejects_path: str,
    stats_path: str,
) -> None:
    """The per-dataset embedding file from its shards, in manifest order: the same bytes as unsharded."""
    from zsc.embedding.embed import write_embedding_file
    from zsc.io import read_metadata

    order = pd.read_parquet(manifest_path, columns=["image_id"])["image_id"]
    parts = [(path, *read_embeddings(path)) for path in shard_paths]
    parts = [(path, frame, matrix) for path, frame, matrix in parts if len(frame)]
    if not parts:
        raise RuntimeError(f"no image of {len(order)} could be embedded in any shard; see {shard_rejects}")
    frame = pd.concat([frame for _, frame, _ in parts], ignore_index=True)
    matrix = np.concatenate([matrix for _, _, matrix in parts])
    rows = pd.Series(np.arange(len(frame)), index=frame["image_id"]).reindex(order).dropna().astype(int).to_numpy()
    metadata = read_metadata(parts[0][0])  # every shard records the same metadata
    write_embedding_file(frame.iloc[rows].reset_index(drop=True), matrix[rows], metadata, embeddings_path)
    rejects = pd.concat([pd.read_csv(path) for path in shard_rejects], ignore_index=True)
    write_table(rejects.sort_values("image_id", ignore_index=True), rejects_path)
    stats = [json.loads(Path(path).read_text()) for path in shard_stats]
    write_json(
        {key: sum(s[key] for s in stats) for key in ("images", "from_cache", "embedded", "rejected", "seconds")}
        | {"shards": len(stats), "cache": stats[0]["cache"]},
        stats_path,
    )
    remove_stale_shards(shard_paths)


SHARD_FILE = re.compile(r"\d+-of-(\d+)\..+")


def remove_stale_shards(shard_paths: list[str]) -> None:
    """Delete shard files of an earlier shard count (``<i>-of-<m>.*``, m != now): the workflow's own files."""
    folder = Path(shard_paths[0]).parent
    current = SHARD_FILE.fullmatch(Path(shard_paths[0]).name).group(1)
    for path in folder.iterdir():
        match = SHARD_FILE.fullmatch(path.name)
        if match and match.group(1) != current:
            path.unlink()
            log(f"removed {path} (from an earlier embed.shards)")


def fetch_weights(model_name: str, spec: dict, output_path: str) -> None:
    """Download hub weights once (on a node with internet) into resources/weights/ as safetensors."""
    from safetensors.torch import save_file

    from zsc.embedding.backbones import build_backbone

    if spec.get("weights", "hub") != "hub":
        raise ValueError(f"model '{model_name}' uses weights '{spec['weights']}', not the hub: nothing to fetch")
    backbone = build_backbone(model_name, spec, weights_dir=Path("/nonexistent"))
    state = {key: tensor.contiguous() for key, tensor in backbone.model.state_dict().items()}
    with atomic_path(output_path) as temporary:
        save_file(state, str(temporary), metadata={"source": backbone.weights_source})
