"""One function per workflow step: paths and plain params in, files out.

The Snakemake scripts in workflow/scripts/ only unpack the ``snakemake``
object and call these, so every step is testable without Snakemake.
"""

from __future__ import annotations

import contextlib
import json
import re
import resource
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd

from zsc import metrics as zmetrics
from zsc.clusterers import DENSITY_METHODS, ClustererError, cell_spec, fit_cluster
from zsc.io import atomic_path, frame_fingerprint, read_embeddings, select_rows, write_json, write_table
from zsc.reducers import ReducerError, resolve_reduction
from zsc.sampling import draw_sample
from zsc.scan import Layout, label_from_table, read_label_table, scan_folder



@contextlib.contextmanager
def logged(log_path: str | None):
    """Send stderr (warnings, tqdm, tracebacks) of a job to its Snakemake log file."""
    if not log_path:
        yield
        return
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log, contextlib.redirect_stderr(log):
        try:
            yield
        except Exception as error:
            traceback.print_exc(file=log)
            print(f"error: {one_line(error)} (log: {log_path})", file=sys.__stderr__, flush=True)
            raise


def one_line(error: BaseException) -> str:
    """The error as a person reads it on the console: its first lines joined, or its type."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return " ".join(lines[:4]) if lines else type(error).__name__


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def print_rejects(rejects: pd.DataFrame, limit: int = 200) -> None:
    """The rejects table in the job's log (stderr), which survives a failed job."""
    print(f"{len(rejects)} rejected file(s):", file=sys.stderr)
    print(rejects.head(limit).to_string(index=False), file=sys.stderr)
    if len(rejects) > limit:
        print(f"... and {len(rejects) - limit} more", file=sys.stderr)


def demo_data(output_dir: str, spec: dict) -> None:
    from zsc.demo_data import generate

    generate(output_dir, n_species=spec["n_species"], per_species=spec["per_species"], seed=spec["seed"],
             size=spec["size"], nested=spec["nested"])


def scan(root: str, label_level: int, group_level: int | None, min_images_per_species: int,
         manifest_path: str, rejects_path: str, workers: int = 1, labels_path: str | None = None,
         split_by_group: bool = False) -> None:
    """Manifest + rejects of a dataset; species from folder names, or from a labels CSV when given.

    With ``split_by_group`` every photo needs a group: one without (a blank ``group`` cell) is a reject."""
    if labels_path:
        manifest, rejects = scan_folder(root, Layout(label_level=None), workers=workers)
        try:
            manifest, rejects = label_from_table(manifest, rejects, read_label_table(labels_path))
        except ValueError as error:
            raise ValueError(f"{labels_path}: {error}") from None
    else:
        manifest, rejects = scan_folder(root, Layout(label_level, group_level), workers=workers)
    if split_by_group:
        blank = manifest["group"] == ""
        rejects = pd.concat([rejects, pd.DataFrame({
            "image_id": manifest.loc[blank, "image_id"], "stage": "scan",
            "reason": "no group (split_by: group clusters each group apart; give this photo a group)"})],
            ignore_index=True).sort_values("image_id", ignore_index=True)
        manifest = manifest[~blank].reset_index(drop=True)
    sizes = manifest.groupby("label").size()
    too_small = sizes[sizes < min_images_per_species].index
    if len(too_small):
        small = manifest[manifest["label"].isin(too_small)]
        rejects = pd.concat([rejects, pd.DataFrame({
            "image_id": small["image_id"], "stage": "scan",
            "reason": [f"species '{label}' has {sizes[label]} usable image(s), fewer than "
                       f"scan.min_images_per_species={min_images_per_species}" for label in small["label"]],
        })], ignore_index=True).sort_values("image_id", ignore_index=True)
        manifest = manifest[~manifest["label"].isin(too_small)].reset_index(drop=True)
    n_species = manifest["label"].nunique()
    write_table(rejects, rejects_path)
    if n_species < 2:
        print_rejects(rejects)  # Snakemake deletes a failed job's outputs; its log stays
        raise ValueError(f"{root}: {n_species} usable species after the scan (rejects listed in the job's log); "
                         f"clustering needs at least 2")
    print(f"scan {root}: {len(manifest)} images of {n_species} species, {len(rejects)} rejected", file=sys.stderr)
    write_table(manifest, manifest_path, metadata={"root": str(root), "fingerprint": frame_fingerprint(manifest)})


def sample(manifest_path: str, spec: dict, seed: int, output_path: str, group: str | None = None) -> None:
    """Draw the seed's sample; with ``group``, from that split (taxon group) only, as the reference does."""
    manifest = pd.read_parquet(manifest_path)
    if group is not None:
        if group not in set(manifest["group"]):
            raise ValueError(f"split '{group}': no usable image in that group; groups found: "
                             f"{sorted(set(manifest['group']))}")
        manifest = manifest[manifest["group"] == group].reset_index(drop=True)
    n_species = manifest["label"].nunique()
    if n_species < 2:
        where = f"split '{group}'" if group is not None else "the dataset"
        raise ValueError(f"{where} has {n_species} usable species ({sorted(set(manifest['label']))}); clustering "
                         f"needs at least 2: remove it from the dataset's splits, or unset split_by")
    drawn = draw_sample(manifest, spec, seed)
    write_table(drawn, output_path, metadata={"spec": spec, "seed": seed, "split": group,
                                              "excluded_species": drawn.attrs["excluded"],
                                              "counts_per_species": drawn.attrs["counts"]})


def embed(model_name: str, spec: dict, root: str, manifest_path: str, output_path: str, rejects_path: str,
          stats_path: str, device: str = "auto", workers: int = 2, cache_root: str = "resources/embed-cache",
          shard: int = 0, n_shards: int = 1) -> None:
    """Embeddings of a dataset's photos, or of one shard of them (``shard_of``): taken from the
    content-addressed cache where it has them; only the rest run through the model, then join the cache."""
    from zsc.backbones import build_backbone
    from zsc.embed import embed_manifest, pick_device, run_metadata, write_embedding_file
    from zsc.embed_cache import EmbeddingCache, cache_key, key_digest, shard_of
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
    versions = {name: version for name, version in metadata["versions"].items()
                if name not in ("python", "torchvision_ops_patched")}
    cache = EmbeddingCache(cache_root, cache_key(spec, backbone.weights_source, backbone.preprocessing.as_dict(), numerics,
                                                 versions))
    metadata["cache_key"] = key_digest(cache.key)
    found = cache.lookup(manifest["content_hash"])
    # exact duplicates (kept in a sort run) are embedded once: the cache is keyed by content
    todo = manifest[~manifest["content_hash"].isin(list(found))].drop_duplicates("content_hash").reset_index(drop=True)
    rejects = pd.DataFrame(columns=["image_id", "stage", "reason"])
    if len(todo):
        fresh = Path(output_path).with_name(f".{Path(output_path).name}.new")
        few = len(todo) <= 4 * spec["batch_size"]  # decoding a few photos in-process beats starting workers
        rejects = embed_manifest(backbone, todo, Path(root), fresh, dict(metadata), batch_size=spec["batch_size"],
                                 workers=0 if few else workers, device=device, precision=spec["precision"])
        if fresh.exists():
            frame, matrix = read_embeddings(fresh)
            hashes = frame["image_id"].map(todo.set_index("image_id")["content_hash"]).tolist()
            cache.add(hashes, matrix)
            found.update(zip(hashes, matrix))
            fresh.unlink()
    n_embedded = int(len(todo) - len(rejects))
    if len(rejects):  # a photo that failed takes its exact duplicates with it, each with the reason
        reason_of = dict(zip(todo.set_index("image_id").loc[rejects["image_id"], "content_hash"], rejects["reason"]))
        twins = manifest[manifest["content_hash"].isin(list(reason_of)) & ~manifest["image_id"].isin(rejects["image_id"])]
        rejects = pd.concat([rejects, pd.DataFrame({"image_id": twins["image_id"], "stage": "embed",
                                                    "reason": twins["content_hash"].map(reason_of)})],
                            ignore_index=True).sort_values("image_id", ignore_index=True)
    embedded = manifest[manifest["content_hash"].isin(list(found))].reset_index(drop=True)
    if embedded.empty and n_shards == 1:
        raise RuntimeError(f"no image of {len(manifest)} could be embedded; rejects: {rejects.head(20).values.tolist()}")
    if len(embedded):
        matrix = np.stack([found[h] for h in embedded["content_hash"]])
    else:  # an empty shard (few photos, many shards): an empty file of the right width
        from zsc.embed import embedding_dim

        metadata["embedding_dim"] = embedding_dim(backbone)
        matrix = np.zeros((0, metadata["embedding_dim"]), np.float32)
    write_embedding_file(embedded, matrix, metadata, output_path)
    write_table(rejects, rejects_path)
    stats = {"images": len(manifest), "from_cache": int(len(manifest) - len(todo)),
             "embedded": n_embedded, "rejected": int(len(rejects)), "cache": str(cache.folder),
             "seconds": round(time.perf_counter() - started, 2)}
    write_json(stats, stats_path)
    print(f"embed {model_name}{f' shard {shard}/{n_shards}' if n_shards > 1 else ''}: {stats['images']} images, "
          f"{stats['from_cache']} from the cache ({cache.folder}), {stats['embedded']} embedded, "
          f"{stats['rejected']} rejected", file=sys.stderr)


def embed_merge(manifest_path: str, shard_paths: list[str], shard_rejects: list[str], shard_stats: list[str],
                outputs: dict) -> None:
    """The per-dataset embedding file from its shards, in manifest order: the same bytes as unsharded."""
    from zsc.embed import write_embedding_file
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
    write_embedding_file(frame.iloc[rows].reset_index(drop=True), matrix[rows], metadata, outputs["embeddings"])
    rejects = pd.concat([pd.read_csv(path) for path in shard_rejects], ignore_index=True)
    write_table(rejects.sort_values("image_id", ignore_index=True), outputs["rejects"])
    stats = [json.loads(Path(path).read_text()) for path in shard_stats]
    write_json({key: sum(s[key] for s in stats) for key in ("images", "from_cache", "embedded", "rejected", "seconds")}
               | {"shards": len(stats), "cache": stats[0]["cache"]}, outputs["stats"])
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
            print(f"removed {path} (from an earlier embed.shards)", file=sys.stderr)


def reduced_coordinates(points_frame: pd.DataFrame) -> np.ndarray:
    """The x0, x1, ... columns a reduction wrote, as an (N, n_components) array."""
    return points_frame[[c for c in points_frame.columns if c.startswith("x")]].to_numpy()


RECORDED_PARAMS = ("k", "min_cluster_size", "min_samples", "eps", "density_rule")


def recorded_params(spec: dict, used: dict) -> dict:
    """The values a cell actually ran with: flat columns for the common ones, all of them as JSON."""
    resolved = used or {key: value for key, value in spec.items() if key != "density_rule"}
    # one type per column: a cell that failed before clustering has no resolved k or eps (k may be 'true_k')
    flat = {key: used.get(key, None if key in ("k", "eps") else spec.get(key)) for key in RECORDED_PARAMS}
    if isinstance(flat["eps"], float):
        flat["eps"] = round(flat["eps"], 9)
    return {**flat, "params": json.dumps(resolved, sort_keys=True, default=str)}


def _status(ok: bool, reason: str = "") -> dict:
    return {"status": "ok" if ok else "failed", "reason": reason}


def reduce_job(embeddings_path: str, sample_path: str, spec: dict, seed: int, points_path: str, info_path: str) -> None:
    """Reduce the sampled embeddings; a reducer failure is recorded, not raised."""
    drawn = pd.read_parquet(sample_path)
    frame, matrix, missing = select_rows(*read_embeddings(embeddings_path), drawn["image_id"])
    started = time.perf_counter()
    info = {"n_points": int(len(frame)), "n_missing_embedding": len(missing), "missing_embedding": missing[:50]}
    try:
        reduced, used = resolve_reduction(matrix, spec, seed)
        info.update(_status(True), params=used)
    except (ReducerError, ValueError, np.linalg.LinAlgError) as error:
        reduced = np.zeros((0, spec.get("n_components", 2)), dtype=np.float32)
        frame = frame.iloc[:0]
        info.update(_status(False, f"{type(error).__name__}: {error}"), params=spec)
    info.update(reduce_seconds=round(time.perf_counter() - started, 4), reduce_peak_rss_mb=round(peak_rss_mb(), 1))
    out = frame.copy()
    for axis in range(reduced.shape[1]):
        out[f"x{axis}"] = reduced[:, axis]
    write_table(out, points_path)
    write_json(info, info_path)


def cluster_job(points_path: str, info_path: str, spec: dict, seed: int, cell: dict,
                labels_path: str, metrics_path: str, density_preset: dict | None = None) -> None:
    """Cluster one reduction and score it; any failure becomes a metrics row with a reason.

    ``density_preset``: {"name": preset, "fixed": bool} of the sampling; unless fixed, the preset is
    checked against the sample's median species count. The row records every resolved parameter.
    """
    reduce_info = json.loads(Path(info_path).read_text())
    points_frame = pd.read_parquet(points_path)
    coordinates = reduced_coordinates(points_frame)
    truth = points_frame["label"].to_numpy()
    spec = cell_spec(spec, density_preset, truth)
    row = {**cell, "reduce_seconds": reduce_info["reduce_seconds"],
           "reduce_peak_rss_mb": reduce_info.get("reduce_peak_rss_mb")}
    started = time.perf_counter()
    predicted = np.full(len(points_frame), zmetrics.NOISE, dtype=np.int64)
    used, diagnostics = {}, {}
    if reduce_info["status"] != "ok":
        row.update(status="failed", reason=f"reduce: {reduce_info['reason']}")
    else:
        try:
            predicted, used, diagnostics = fit_cluster(coordinates, spec, true_k=len(np.unique(truth)), seed=seed)
            row.update(status="ok", reason="")
        except (ClustererError, ValueError) as error:
            row.update(status="failed", reason=f"cluster: {type(error).__name__}: {error}")
    row["cluster_seconds"] = round(time.perf_counter() - started, 4)
    row.update(recorded_params(spec, used), **diagnostics,
               reducer_params=json.dumps(reduce_info.get("params", {}), sort_keys=True, default=str))
    if row["status"] == "ok":
        row.update(zmetrics.external_metrics(truth, predicted))
        row["silhouette"] = zmetrics.silhouette(coordinates, predicted, seed=seed)
        row["density_method"] = spec["method"] in DENSITY_METHODS
        row["dbcv"] = zmetrics.dbcv(coordinates, predicted) if row["density_method"] else float("nan")
        row["group_balanced_v_measure"] = zmetrics.group_balanced_v_measure(truth, predicted, points_frame["group"])
    nearest, distance = zmetrics.nearest_clusters(coordinates, predicted)
    labels = points_frame[["image_id", "label", "group"]].assign(cluster=predicted, nearest_cluster=nearest,
                                                                 nearest_distance=distance)
    write_table(labels, labels_path)
    per_species = zmetrics.per_species(truth, predicted) if row["status"] == "ok" and len(truth) else pd.DataFrame()
    row["per_species"] = per_species.to_dict(orient="records")
    write_json(row, metrics_path)


def subcluster_job(points_path: str, info_path: str, spec: dict, attributes_path: str | None, seed: int,
                   labels_path: str, scores_path: str) -> None:
    """Split each species of one reduction into m sub-clusters; score them against the attributes, if any."""
    from zsc.subclusters import SCORE_COLUMNS, read_attributes, score_attributes, subcluster_species

    points_frame = pd.read_parquet(points_path)
    coordinates = reduced_coordinates(points_frame)
    labels = points_frame[["image_id", "label", "group"]].copy()
    labels["subcluster"] = subcluster_species(coordinates, labels["label"], spec["m"], {"method": spec["method"]}, seed)
    write_table(labels, labels_path)
    scores = (score_attributes(labels, read_attributes(attributes_path)) if attributes_path
              else pd.DataFrame(columns=SCORE_COLUMNS))
    write_table(scores, scores_path)


def subcluster_summary_job(score_paths: list[str], output_path: str) -> None:
    """One table: which attributes the sub-clusters recover, per reduction, best first."""
    frames = []
    for path in score_paths:
        model, reducer, sampling, split = Path(path).parts[-5:-1]
        frame = pd.read_csv(path)
        frames.append(frame.assign(model=model, reducer=reducer, sampling=sampling, split=split,
                                   seed=int(Path(path).stem)))
    columns = ["model", "reducer", "sampling", "split", "seed", "attribute", "n_species", "n_images", "v_measure", "ari"]
    table = pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    write_table(table.sort_values(["v_measure", "model", "reducer", "seed"], ascending=[False, True, True, True],
                                  na_position="last", ignore_index=True), output_path)


def thumbnails_job(root: str, manifest_path: str, output_dir: str) -> None:
    from zsc.gallery import make_thumbnails

    manifest = pd.read_parquet(manifest_path)
    made = make_thumbnails(Path(root), manifest["image_id"], Path(output_dir))
    failed = [image_id for image_id, path in made.items() if not path]
    print(f"{len(made) - len(failed)} thumbnails; undecodable now: {failed[:20]}", file=sys.stderr)


def gallery_job(summary_path: str, metrics_path: str, cells_dir: str, thumbs_dir: str, top: int,
                output_dir: str) -> None:
    """Galleries of the best ``top`` settings (their first seed) plus an index page."""
    from zsc.aggregate import KEYS, cell_labels_path, first_ok_cell, usable_settings
    from zsc.gallery import render_index, render_page, thumbnail_name

    summary = pd.read_csv(summary_path)
    metrics = pd.read_csv(metrics_path)
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    thumbs = Path(thumbs_dir)
    relative = f"../{thumbs.name}"
    pages = []
    for _, setting in usable_settings(summary).head(top).iterrows():
        cell = first_ok_cell(metrics, setting)
        labels = pd.read_parquet(cell_labels_path(cells_dir, cell))
        paths = {i: f"{relative}/{thumbnail_name(i)}" for i in labels["image_id"]
                 if (thumbs / thumbnail_name(i)).exists()}
        title = " / ".join(str(cell[k]) for k in KEYS)
        facts = {"rank": setting["rank"], **{k: cell[k] for k in KEYS},
                 **{k: round(float(cell[k]), 4) for k in ("v_measure_retained", "ari_retained", "noise_fraction")
                    if k in cell}, "clusters found": cell.get("clusters_found"), "species": cell.get("true_k")}
        name = "__".join(str(cell[k]) for k in KEYS) + ".html"
        (output / name).write_text(render_page(title, facts, labels, paths))
        pages.append((name, title, f"(rank {setting['rank']}, V-measure {cell['v_measure_retained']:.3f})"))
    (output / "index.html").write_text(render_index(pages))


def sort_scan_job(root: str, manifest_path: str, rejects_path: str, workers: int = 1) -> None:
    """Scan unlabeled photos: any layout, no species folders needed; exact duplicates are kept
    (each must land in a folder; sort_assign clusters one copy and files the others beside it)."""
    manifest, rejects = scan_folder(root, Layout(label_level=None), workers=workers, keep_duplicates=True)
    write_table(rejects, rejects_path)
    if manifest.empty:
        print_rejects(rejects)
        raise ValueError(f"{root}: no usable photos to sort (rejects listed in the job's log)")
    write_table(manifest, manifest_path, metadata={"root": str(root), "fingerprint": frame_fingerprint(manifest)})


def sort_setting_job(run: dict, choices: dict, summary_path: str | None, metrics_path: str | None,
                     output_path: str) -> None:
    """Write the sort run's setting (names and full entries): explicit, or the benchmark's best."""
    from zsc.sorting import choose_setting

    setting = choose_setting(run, choices, summary_path, metrics_path)
    print(f"sort setting: {setting['model']} / {setting['reducer']} / {setting['clusterer']} "
          f"({setting['source']})", file=sys.stderr)
    write_json(setting, output_path)


def distinct_photos(frame: pd.DataFrame, hashes: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Rows to cluster (one per content, the likely original) and, per row, the row it follows."""
    from zsc.scan import original_first

    ids = frame["image_id"].tolist()
    row_of = {image_id: row for row, image_id in enumerate(ids)}
    copies: dict[str, list[str]] = {}
    for image_id, content in zip(ids, hashes):
        copies.setdefault(content, []).append(image_id)
    follows = np.empty(len(ids), dtype=int)
    for group in copies.values():
        group = original_first(group)
        for image_id in group:
            follows[row_of[image_id]] = row_of[group[0]]
    distinct = np.unique(follows)
    return distinct, np.searchsorted(distinct, follows)


def sort_assign_job(manifest_path: str, embeddings_path: str, setting_path: str, run: dict, root: str,
                    outputs: dict) -> None:
    """Cluster unlabeled photos; write per-cluster folders, then the assignments and the review list.

    Exact duplicates are clustered once and filed beside their twin (``duplicate_of``)."""
    from zsc.clusterers import K_GIVEN
    from zsc.placement import write_folder
    from zsc.sorting import SortInputError, assign, folder_name, output_name

    setting = json.loads(Path(setting_path).read_text())
    clusterer_spec = setting["clusterer_spec"]
    if clusterer_spec["method"] in K_GIVEN and "k" not in run:
        raise ValueError(f"clusterer '{setting['clusterer']}' ({clusterer_spec['method']}) needs k: set "
                         f"sort.<run>.k to the number of groups you expect (there are no labels to count)")
    frame, matrix = read_embeddings(embeddings_path)
    manifest = pd.read_parquet(manifest_path, columns=["image_id", "content_hash"])
    hashes = frame["image_id"].map(manifest.set_index("image_id")["content_hash"])
    distinct, position = distinct_photos(frame, hashes)
    group_size = run.get("expected_group_size")
    if group_size and group_size > len(distinct) and clusterer_spec["method"] not in K_GIVEN:
        raise SortInputError(f"sort.<run>.expected_group_size={group_size} is larger than the {len(distinct)} "
                             f"distinct photo(s) in the inbox; give the photos per species you expect")
    k = run["k"] if clusterer_spec["method"] in K_GIVEN else None
    assigned = assign(matrix[distinct], setting["reducer_spec"], clusterer_spec, k, run["seed"], run["min_silhouette"])
    assigned = assigned.iloc[position].reset_index(drop=True)
    assignments = pd.concat([frame[["image_id"]], assigned], axis=1)
    twin = frame["image_id"].to_numpy()[distinct][position]
    assignments["duplicate_of"] = np.where(twin == assignments["image_id"], "", twin)
    assignments.insert(2, "folder", [folder_name(c, d) for c, d in zip(assignments["cluster"], assignments["doubtful"])])
    assignments.insert(3, "file", [f"{folder}/{output_name(i)}" for folder, i in zip(assignments["folder"],
                                                                                     assignments["image_id"])])
    plan = assignments[["image_id", "file"]].assign(content_hash=hashes.to_numpy())
    placed = write_folder(Path(root), plan, Path(outputs["folders"]), run["link"])
    assignments["problem"] = [placed.refused.get(i, "") for i in assignments["image_id"]]
    report_refused(placed.refused)
    write_table(assignments, outputs["assignments"])
    review = assignments[assignments["doubtful"]].sort_values("distance_to_cluster", ascending=False)
    write_table(review[["image_id", "reason", "nearest_cluster", "distance_to_cluster"]], outputs["review"])
    print(f"sorted {len(assignments)} photos ({len(distinct)} distinct) with {setting['model']} / "
          f"{setting['reducer']} / {setting['clusterer']}: {assignments['folder'].nunique()} folders, "
          f"{len(review)} doubtful, {len(placed.refused)} refused", file=sys.stderr)


def report_refused(refused: dict[str, str]) -> None:
    """Photos not placed (changed since the scan, a link leading out of the inbox): log and console."""
    for image_id, reason in list(refused.items())[:50]:
        print(f"not placed: {image_id}: {reason}", file=sys.stderr)
    if refused:
        print(f"warning: {len(refused)} photo(s) not placed, listed with the reason in the run's table "
              f"(column 'problem'), e.g. {next(iter(refused))}: {next(iter(refused.values()))}",
              file=sys.__stderr__, flush=True)


def sort_review_page_job(root: str, assignments_path: str, setting_path: str, run_name: str,
                         page_path: str, thumbs_dir: str) -> None:
    """The run's review page and the thumbnails it shows (written next to it)."""
    from zsc.gallery import make_thumbnails
    from zsc.review import render_review_page

    assignments = pd.read_csv(assignments_path, dtype={"image_id": str}, keep_default_na=False,
                              na_values={"distance_to_cluster": [""]})
    assignments["doubtful"] = assignments["doubtful"].astype(str).str.lower() == "true"
    thumbs = make_thumbnails(Path(root), assignments["image_id"], Path(thumbs_dir))
    setting = json.loads(Path(setting_path).read_text())
    facts = (f"{len(assignments)} photos sorted with {setting['model']} / {setting['reducer']} / "
             f"{setting['clusterer']} ({setting['source']}). Name each cluster, fix what is wrong, then export "
             f"the CSV and set sort.{run_name}.review to it.")
    Path(page_path).write_text(render_review_page(run_name, assignments, thumbs, facts))
    print(f"review page: {len(assignments)} photos, {sum(1 for p in thumbs.values() if not p)} without preview",
          file=sys.stderr)


def sort_apply_review_job(root: str, manifest_path: str, assignments_path: str, review_path: str, mode: str,
                          final_dir: str, outputs: dict) -> None:
    """Named folders from an exported review CSV; photos it does not label go to final/_unreviewed/.

    ``final/`` is shared with the user: only files this step wrote before are replaced or removed."""
    from zsc.review import apply_review, read_review

    assignments = pd.read_csv(assignments_path, dtype={"image_id": str}, keep_default_na=False)
    manifest = pd.read_parquet(manifest_path, columns=["image_id", "content_hash"])
    assignments["content_hash"] = assignments["image_id"].map(manifest.set_index("image_id")["content_hash"]).fillna("")
    review, gone = read_review(review_path, assignments["image_id"])
    for image_id in gone[:50]:
        print(f"in the review CSV but no longer a photo of this run (gone from the inbox, or rejected): {image_id}",
              file=sys.stderr)
    if gone:
        print(f"warning: {len(gone)} reviewed photo(s) are no longer in the inbox and were skipped, e.g. {gone[0]} "
              f"(full list in the log)", file=sys.__stderr__, flush=True)
    labels, folders, placed = apply_review(Path(root), assignments, review, Path(final_dir), mode)
    report_refused(placed.refused)
    for note in placed.notes:
        print(note, file=sys.stderr)
    write_table(labels[["image_id", "label", "folder", "cluster", "file", "problem"]], outputs["labels"])
    write_table(folders, outputs["folders"])
    for _, row in folders[folders["changed"]].iterrows():
        print(f"label '{row['label']}' is not a valid folder name: written to final/{row['folder']}", file=sys.stderr)
    print(f"applied {review_path}: {(labels['label'] != '').sum()} of {len(labels)} photos labelled, "
          f"{len(folders)} labels, {len(gone)} reviewed photo(s) gone", file=sys.stderr)


def plots_job(results_dir: str, outputs: dict) -> None:
    """Heatmap of the grid, per-species bars and the 2-D scatter of the best setting (its first ok seed)."""
    from zsc import plots
    from zsc.aggregate import KEYS, cell_labels_path, first_ok_cell, usable_settings

    results = Path(results_dir)
    summary = pd.read_csv(results / "summary.csv")
    metrics = pd.read_csv(results / "metrics.csv")
    plots.heatmap(summary, Path(outputs["heatmap"]))
    if usable_settings(summary).empty:
        text = f"every cell failed: no setting to draw (reasons in {results / 'metrics.csv'}, column 'reason')"
        for key in ("per_species", "scatter"):
            plots.notice(text, Path(outputs[key]))
        return
    cell = first_ok_cell(metrics, usable_settings(summary).iloc[0])
    keys = {key: cell[key] for key in KEYS}
    plots.per_species_bars(pd.read_csv(results / "per_species.csv"), keys, Path(outputs["per_species"]))
    points = pd.read_parquet(results / "reduced" / cell["model"] / cell["reducer"] / cell["sampling"] / cell["split"]
                             / f"{cell['seed']}.parquet")
    labels = pd.read_parquet(cell_labels_path(results / "cells", cell))
    title = " / ".join(str(v) for v in keys.values()) + f"  (V-measure {cell['v_measure_retained']:.3f})"
    plots.scatter(points, labels, title, Path(outputs["scatter"]))


def aggregate_job(cell_paths: list[str], reject_paths: list[str], outputs: dict, cells_dir: str) -> None:
    from zsc.aggregate import (collect_outliers, collect_rejects, label_free_selection, leaderboard, load_cells,
                               split_costs, summarise)

    metrics, per_species = load_cells(cell_paths)
    if (metrics["status"] != "ok").all():
        print(f"warning: every one of the {len(metrics)} cells failed, e.g. {metrics['reason'].iloc[0]} "
              f"(all reasons in {outputs['csv']})", file=sys.__stderr__, flush=True)
    deterministic, costs = split_costs(metrics)
    summary = summarise(metrics)
    write_table(metrics, outputs["parquet"])
    write_table(deterministic, outputs["csv"])
    write_table(costs, outputs["costs"])
    write_table(summary, outputs["summary"])
    write_table(label_free_selection(summary), outputs["label_free"])
    settings, models = leaderboard(metrics)
    write_table(settings, outputs["leaderboard"])
    write_table(models, outputs["leaderboard_models"])
    write_table(collect_outliers(metrics, Path(cells_dir)), outputs["outliers"])
    write_table(per_species, outputs["per_species"])
    write_table(collect_rejects(reject_paths), outputs["rejects"])


def fetch_weights(model_name: str, spec: dict, output_path: str) -> None:
    """Download hub weights once (on a node with internet) into resources/weights/ as safetensors."""
    from safetensors.torch import save_file

    from zsc.backbones import build_backbone

    if spec.get("weights", "hub") != "hub":
        raise ValueError(f"model '{model_name}' uses weights '{spec['weights']}', not the hub: nothing to fetch")
    backbone = build_backbone(model_name, spec, weights_dir=Path("/nonexistent"))
    state = {key: tensor.contiguous() for key, tensor in backbone.model.state_dict().items()}
    with atomic_path(output_path) as temporary:
        save_file(state, str(temporary), metadata={"source": backbone.weights_source})
