"""`bench.py --only season`: the stages of a 1,000,000-frame season, each measured at its own size.

Each measurement runs in a fresh process (`season_bench.py STAGE METHOD N OUT`, one JSON line on
stdout; its peak = the process's maximum RSS, imports and the generated input included) so that one
stage's memory is not another's:

- scan: hash + decode-validate of generated 4,000 x 3,000 JPEGs (`zsc.data.scan.scan_folder`) with 1
  and 2 workers (the scan job's threads);
- crop: the camera-trap crop step (`zsc.sorting.frames.write_crops`) on 4,000 x 3,000 and 1,920 x 1,080
  frames with 1-3 boxes of 2-20 % of the frame's width (and 4,000 x 3,000 with one box of 22 %, the
  issue's own measurement): today's code (`bench/baseline/crops.py`: full decode with its copies, one
  process) beside the new one (decoded at the scale the boxes need) with 1 and 2 workers;
- assign: a week of N new photos against a reviewed index of N / 5 photos (`zsc.sorting.known`),
  768-d;
- page: the review page's data (neighbours, similarity order, sub-groups, nearest centres) and HTML
  for N photos in N / 100 clusters (`zsc.sorting.page`), 768-d; thumbnails apart (a decode each);
- reduce: every sort-path reducer on N x 768 species-like embeddings (`zsc.methods.reducers`);
- cluster: every sort-path clusterer on N 2-D points (60 species-like blobs: the reductions'
  output has this shape; not a t-SNE run, which would cost as much as the reduce row);
- doubt: a sort run's doubt step on those clusters (silhouettes, nearest clusters: `zsc.sorting.assign`);
- sort: the sort_assign job's step (`zsc.steps.sort.assign`) on a first sort of N x 768 embeddings read
  from parquet (PCA + k-means): what the job holds beside its reduction.

A row whose memory estimate (`zsc.methods.memory`) exceeds the jobs' 8,000 MB is refused before it
starts, as the workflow does; a row past its time limit is `failed` (timeout). The 1,000,000 rows
that are not run are extrapolated from the growth between the two largest measured sizes
(`measured: false`).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench_helpers import SCALE_CLUSTERERS, SCALE_REDUCERS

REPO = Path(__file__).resolve().parents[1]
LIMIT_MB = 8000  # the reduce and cluster jobs' mem_mb (workflow/rules/common.smk)
DIM, N_SPECIES, LATENT = 768, 60, 64
BLOCK = 8_192  # rows generated at a time: the generator's float64 temporaries stay ~150 MB
REDUCERS = {  # the sort path's reducers: the exact ones and the scalable forms of the quadratic ones
    name: SCALE_REDUCERS[name] for name in ("pca", "tsne", "umap", "isomap_landmarks", "kernel_pca_nystroem")
}
CLUSTERERS = {name: SCALE_CLUSTERERS[name] for name in ("hdbscan", "dbscan", "gmm", "kmeans", "ward_knn", "ward")}


def species_labels(n: int, rng) -> np.ndarray:
    weights = 1.0 / np.arange(1, N_SPECIES + 1) ** 0.8  # long-tailed species sizes
    return rng.choice(N_SPECIES, size=n, p=weights / weights.sum())


def species_like(n: int, dim: int = DIM, seed: int = 0) -> np.ndarray:
    """N x dim float32 embeddings: each species a Gaussian around its centre in a 64-d subspace, plus
    isotropic noise; generated block by block (the matrix itself is the only large allocation)."""
    rng = np.random.default_rng(seed)
    labels = species_labels(n, rng)
    centres = rng.normal(scale=3.0, size=(N_SPECIES, LATENT))
    basis = np.linalg.qr(rng.normal(size=(dim, LATENT)))[0].T
    x = np.empty((n, dim), np.float32)
    for start in range(0, n, BLOCK):
        part = labels[start : start + BLOCK]
        latent = centres[part] + rng.normal(size=(len(part), LATENT))
        x[start : start + len(part)] = latent @ basis * 4.0 + rng.normal(scale=0.5, size=(len(part), dim))
    return x


def blobs_2d(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(N 2-D points, their species): what a reduction hands the clusterer."""
    rng = np.random.default_rng(seed)
    labels = species_labels(n, rng)
    points = rng.uniform(-60, 60, size=(N_SPECIES, 2))[labels] + rng.normal(scale=2.0, size=(n, 2))
    return points.astype(np.float32), labels


def write_jpegs(folder: Path, count: int, size=(4000, 3000)) -> None:
    """Camera-sized JPEGs (~2-3 MB each: textured, not flat), written once."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        path = folder / f"IMG_{i:05d}.JPG"
        if path.exists():
            continue
        rng = np.random.default_rng(i)  # each photo its own: never two alike, whatever was written before
        small = rng.integers(0, 255, size=(size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
        image = Image.fromarray(small).resize(size, Image.BILINEAR)
        noise = Image.fromarray(rng.integers(0, 40, size=(size[1], size[0], 3), dtype=np.uint8))
        Image.blend(image, noise, 0.15).save(path, quality=90)


# ------------------------------------------------------------------ one measurement (a child process)
def measure_scan(workers: int, n: int, out: Path) -> dict:
    from zsc.data.scan import Layout, scan_folder

    folder = out / f"jpegs-{n}"
    write_jpegs(folder, n)
    megabytes = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
    started = time.perf_counter()
    manifest, rejects = scan_folder(folder, Layout(label_level=None, group_level=None), workers=workers)
    seconds = time.perf_counter() - started
    assert len(manifest) == n and rejects.empty, (len(manifest), rejects)
    return {"seconds": seconds, "photos_per_s": n / seconds, "mb_per_photo": megabytes / n}


def crop_boxes(n: int, one_box_of: float | None = None, seed: int = 0):
    """1-3 animal boxes per frame, each 2-20 % of the frame's width (camera-trap detections' range), or
    one box of ``one_box_of`` of the width per frame (the reliability issue's measurement: 22 %)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        for detection in range(1 if one_box_of else int(rng.integers(1, 4))):
            width = one_box_of or float(rng.uniform(0.02, 0.20))
            height = min(0.95, width * float(rng.uniform(0.8, 1.6)))
            x, y = float(rng.uniform(0, 1 - width)), float(rng.uniform(0, 1 - height))
            rows.append((f"IMG_{i:05d}.JPG", detection, 0.9, x, y, width, height))
    return pd.DataFrame(rows, columns=["frame", "detection", "confidence", "x", "y", "width", "height"])


def measure_crop(method: str, n: int, out: Path) -> dict:
    """``method``: ``today:WxH`` (the baseline), ``scaled-1:WxH`` or ``scaled-2:WxH`` (workers)."""
    import shutil

    kind, size = method.split(":")
    frame_size, _, box = size.partition("-")  # 4000x3000-22: one box of 22 % of the width per frame
    width, height = map(int, frame_size.split("x"))
    folder = out / f"frames-{frame_size}"
    write_jpegs(folder, n, (width, height))
    animals = crop_boxes(n, int(box) / 100 if box else None)
    crops_dir = out / f"crops-{kind}-{size}"
    shutil.rmtree(crops_dir, ignore_errors=True)
    started = time.perf_counter()
    if kind == "today":
        sys.path.insert(0, str(Path(__file__).parent / "baseline"))
        from crops import write_crops_full_resolution

        written = write_crops_full_resolution(folder, animals, crops_dir)
    else:
        from zsc.sorting.frames import write_crops

        written = len(write_crops(folder, animals, crops_dir, workers=int(kind.split("-")[1])))
    seconds = time.perf_counter() - started
    assert written == len(animals)
    return {"seconds": seconds, "crops_per_s": written / seconds, "crops": written, "frames": n}


def measure_assign(_: str, n: int, out: Path) -> dict:
    from zsc.sorting.known import assign_to_known, build_index

    reviewed = n // 5
    x = species_like(n + reviewed)
    # species_like(seed 0) draws its labels first from default_rng(0): the same labels, so the index is right
    labels = species_labels(n + reviewed, np.random.default_rng(0))[:reviewed].astype(str)
    started = time.perf_counter()
    index = build_index("season", x[:reviewed], labels)
    found = assign_to_known(index, x[reviewed:])
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "reviewed": reviewed, "assigned_share": float(found["assigned"].mean())}


def measure_page(_: str, n: int, out: Path) -> dict:
    import pandas as pd

    from zsc.sorting.page import render_review_page, review_extras

    x = species_like(n)
    clusters = max(2, n // 100)
    rng = np.random.default_rng(1)
    cluster = rng.integers(0, clusters, n)
    assignments = pd.DataFrame(
        {
            "image_id": [f"cam{i % 50}/IMG_{i:07d}.JPG" for i in range(n)],
            "cluster": cluster,
            "doubtful": rng.random(n) < 0.03,
            "reason": "",
            "nearest_cluster": cluster,
            "distance_to_cluster": rng.random(n),
            "map_x": rng.random(n),
            "map_y": rng.random(n),
        }
    )
    started = time.perf_counter()
    extras = review_extras(assignments, x)
    thumbs = {i: f"thumbnails/{i}.jpg" for i in assignments["image_id"]}
    html = render_review_page("season", assignments, thumbs, extras=extras)
    seconds = time.perf_counter() - started
    (out / "season-page.html").write_text(html)
    return {"seconds": seconds, "page_mb": len(html.encode()) / 1e6}


def measure_reduce(method: str, n: int, out: Path) -> dict:
    from zsc.methods.reducers import resolve_reduction

    x = species_like(n)
    started = time.perf_counter()
    points, used = resolve_reduction(x, REDUCERS[method], 0, overwrite=True)  # as the reduce job does
    return {"seconds": time.perf_counter() - started, "used": used}


def measure_cluster(method: str, n: int, out: Path) -> dict:
    from zsc.methods.clusterers import fit_cluster

    points, _ = blobs_2d(n)
    started = time.perf_counter()
    labels, used, _ = fit_cluster(points, CLUSTERERS[method], N_SPECIES, 0)
    return {"seconds": time.perf_counter() - started, "used": used, "clusters": int(len(set(labels) - {-1}))}


def measure_doubt(_: str, n: int, out: Path) -> dict:
    """A sort run's doubt step after clustering (zsc.sorting.assign.doubt): silhouettes, nearest clusters."""
    from zsc.sorting.assign import doubt

    points, labels = blobs_2d(n)
    started = time.perf_counter()
    doubtful, _, _ = doubt(points, labels, 0.0)
    return {"seconds": time.perf_counter() - started, "doubtful_share": float(doubtful.mean())}


def measure_sort(_: str, n: int, out: Path) -> dict:
    """The sort_assign job's step on a season's first sort (every photo new; PCA + k-means) from an
    N x 768 embeddings parquet: its peak is what the job holds beside the reduction (the photos are
    absent, so placing them is one refused stat each)."""
    import gc

    import pandas as pd

    from zsc.embedding.embed import write_embedding_file
    from zsc.steps.sort import assign

    folder = out / f"sort-{n}"
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"cam{i % 50}/IMG_{i:07d}.JPG" for i in range(n)]
    x = species_like(n)
    write_embedding_file(
        pd.DataFrame({"image_id": ids, "label": "", "group": ""}), x, {"model": "m"}, folder / "e.parquet"
    )
    pd.DataFrame({"image_id": ids, "content_hash": [f"{i:032x}" for i in range(n)]}).to_parquet(folder / "m.parquet")
    del x, ids
    gc.collect()
    setting = {"model": "m", "reducer": "pca", "clusterer": "kmeans", "source": "season bench",
               "reducer_spec": {"method": "pca", "n_components": 2, "standardize": True},
               "clusterer_spec": {"method": "kmeans", "k": "true_k"}}  # fmt: skip
    (folder / "setting.json").write_text(json.dumps(setting))
    (folder / "inbox").mkdir(exist_ok=True)
    run = {"seed": 0, "min_silhouette": 0.0, "known_quantile": 0.9, "link": "symlink", "k": N_SPECIES}
    started = time.perf_counter()
    outputs = [str(folder / name) for name in ("assignments.csv", "review.csv", "assign.json", "clusters")]
    assign(str(folder / "m.parquet"), str(folder / "e.parquet"), str(folder / "setting.json"), run,
           str(folder / "inbox"), *outputs)  # fmt: skip
    return {"seconds": time.perf_counter() - started, "embeddings_mb": n * DIM * 4 / 1e6}


MEASURES = {
    "scan": measure_scan,
    "crop": measure_crop,
    "assign": measure_assign,
    "page": measure_page,
    "reduce": measure_reduce,
    "cluster": measure_cluster,
    "doubt": measure_doubt,
    "sort": measure_sort,
}


def child() -> None:
    stage, method, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    argument = int(method) if stage == "scan" else method
    result = MEASURES[stage](argument, n, out)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result, default=str))


# ------------------------------------------------------------------ the bench (parent)
def estimate_mb(stage: str, method: str, n: int) -> float | None:
    from zsc.methods.memory import cluster_mb, reduce_mb

    if stage == "reduce":
        return reduce_mb(REDUCERS[method], n, DIM)
    if stage == "cluster":
        return cluster_mb(CLUSTERERS[method], n)
    return None


def run_one(stage: str, method: str, n: int, out: Path, timeout_s: float) -> dict:
    row = {
        "stage": stage,
        "method": method,
        "n_points": n,
        "measured": True,
        "estimate_mb": estimate_mb(stage, method, n),
    }
    if row["estimate_mb"] is not None and row["estimate_mb"] > LIMIT_MB:
        reason = f"estimated {row['estimate_mb'] / 1000:.1f} GB > {LIMIT_MB} MB: refused before it starts"
        return {**row, "status": "refused", "seconds": None, "peak_mb": None, "reason": reason}
    command = [sys.executable, str(Path(__file__).resolve()), stage, method, str(n), str(out)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {**row, "status": "failed", "seconds": None, "peak_mb": None, "reason": f"over {timeout_s:.0f} s"}
    if done.returncode != 0:
        return {**row, "status": "failed", "seconds": None, "peak_mb": None, "reason": done.stderr.strip()[-300:]}
    return {**row, "status": "ok", "reason": "", **json.loads(done.stdout.strip().splitlines()[-1])}


def extrapolated(rows: list[dict], stage: str, method: str, n: int) -> dict | None:
    """The row at ``n`` from the growth between the two largest measured sizes (time and memory as
    power laws); None without two measured sizes."""
    ok = sorted((r for r in rows if r["stage"] == stage and r["method"] == method and r["status"] == "ok"),
                key=lambda r: r["n_points"])  # fmt: skip
    if len(ok) < 2:
        return None
    a, b = ok[-2], ok[-1]
    span = np.log(b["n_points"] / a["n_points"])
    grow = {key: np.log(b[key] / a[key]) / span for key in ("seconds", "peak_mb")}
    factor = n / b["n_points"]
    return {
        "stage": stage,
        "method": method,
        "n_points": n,
        "status": "ok",
        "measured": False,
        "seconds": b["seconds"] * factor ** grow["seconds"],
        "peak_mb": b["peak_mb"] * factor ** grow["peak_mb"],
        "estimate_mb": estimate_mb(stage, method, n),
        "reason": f"extrapolated from {a['n_points']:,} and {b['n_points']:,} (time ~N^{grow['seconds']:.2f}, "
        f"memory ~N^{grow['peak_mb']:.2f})",
    }


CROP_SIZES = ("4000x3000", "4000x3000-22", "1920x1080")  # 12 MP stills (1-3 boxes, or one of 22 %), a video trap
CROP_KINDS = ("today", "scaled-1", "scaled-2")


def plan(quick: bool) -> list[tuple[str, str, int, float]]:
    """(stage, method, N, time limit in s) in the order run."""
    if quick:
        sizes, season = (3000, 6000), 12_000
        return (
            [("scan", str(w), 70, 300) for w in (1, 2)]
            + [("crop", f"{kind}:{size}", 12, 600) for size in CROP_SIZES for kind in CROP_KINDS]
            + [("assign", "known", n, 300) for n in sizes]
            + [("page", "review", n, 300) for n in sizes]
            + [("reduce", m, n, 300) for m in ("pca", "kernel_pca_nystroem") for n in sizes + (season,)]
            + [("cluster", m, n, 300) for m in CLUSTERERS for n in sizes + (season,)]
            + [("doubt", "silhouette", n, 300) for n in sizes + (season,)]
            + [("sort", "pca_kmeans", n, 300) for n in sizes]
        )
    steps = [("scan", str(w), 96, 900) for w in (1, 2)]
    steps += [("crop", f"{kind}:{size}", 48, 900) for size in CROP_SIZES for kind in CROP_KINDS]
    steps += [("assign", "known", n, 900) for n in (30_000, 100_000)]
    steps += [("page", "review", n, 900) for n in (30_000, 100_000)]
    for method in REDUCERS:
        steps += [("reduce", method, n, 3600) for n in (100_000, 300_000)]
        if method in ("pca", "kernel_pca_nystroem"):
            steps.append(("reduce", method, 1_000_000, 1800))
    for method in CLUSTERERS:
        steps += [("cluster", method, n, 1800) for n in (100_000, 300_000, 1_000_000)]
    steps += [("doubt", "silhouette", n, 1800) for n in (100_000, 300_000, 1_000_000)]
    steps += [("sort", "pca_kmeans", n, 1800) for n in (100_000, 300_000)]
    return steps


def bench_season(
    out: Path, quick: bool = False, only: set[str] | None = None, reuse: list[dict] | None = None
) -> list[dict]:
    """Every row of the plan (``only``: those stages or stage:method). ``reuse``: the measured rows
    of an earlier run (its --json) kept for the rows not run now, their estimates recomputed with
    today's memory model, so that an hour-long t-SNE row need not run again for a new estimate."""
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    earlier = {(r["stage"], r["method"], r["n_points"]): r for r in reuse or [] if r.get("measured")}
    for stage, method, n, limit in plan(quick):
        if only and not {stage, f"{stage}:{method}", f"{stage}:{method}:{n}"} & only:
            if (stage, method, n) in earlier:
                kept = earlier[(stage, method, n)]
                rows.append({**kept, "estimate_mb": estimate_mb(stage, method, n), "reused": True})
            continue
        rows.append(run_one(stage, method, n, out, limit))
        r = rows[-1]
        if r["status"] == "ok":
            print(f"  {stage} {method} N={n:,}: {r['seconds']:.1f} s, peak {r['peak_mb']:.0f} MB"
                  + (f" (estimate {r['estimate_mb']:.0f} MB)" if r["estimate_mb"] else ""), flush=True)  # fmt: skip
        else:
            print(f"  {stage} {method} N={n:,}: {r['status']}: {r['reason']}", flush=True)
    season = 12_000 if quick else 1_000_000
    for stage, method in sorted({(r["stage"], r["method"]) for r in rows if r["stage"] not in ("scan", "crop")}):
        if not any(r["stage"] == stage and r["method"] == method and r["n_points"] == season for r in rows):
            guess = extrapolated(rows, stage, method, season)
            if guess:
                rows.append(guess)
    return rows


def crop_speedups(rows: list[dict]) -> list[dict]:
    """Per frame size: the new crop step's crops per second against today's, measured in the same run."""
    rate = {r["method"]: r["crops_per_s"] for r in rows if r["stage"] == "crop" and r["status"] == "ok"}
    found = []
    for size in CROP_SIZES:
        today = rate.get(f"today:{size}")
        for kind in CROP_KINDS[1:]:
            if today and f"{kind}:{size}" in rate:
                found.append({"size": size, "kind": kind, "today": today, "new": rate[f"{kind}:{size}"],
                              "speedup": rate[f"{kind}:{size}"] / today})  # fmt: skip
    return found


def print_table(rows: list[dict]) -> None:
    for s in crop_speedups(rows):
        print(
            f"crop {s['size']} {s['kind']}: {s['new']:.1f} crops/s against today's {s['today']:.1f}: speedup {s['speedup']:.2f}x"
        )
    print("\n| stage | method | N | seconds | peak MB | estimate MB | estimate / peak | status | measured |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        seconds = f"{r['seconds']:.1f}" if r.get("seconds") is not None else ""
        peak = f"{r['peak_mb']:,.0f}" if r.get("peak_mb") is not None else ""
        estimate = f"{r['estimate_mb']:,.0f}" if r.get("estimate_mb") is not None else ""
        ratio = f"{r['estimate_mb'] / r['peak_mb']:.2f}" if estimate and peak else ""
        status = r["status"] + (f" ({r['reason']})" if r["status"] != "ok" else "")
        print(f"| {r['stage']} | {r['method']} | {r['n_points']:,} | {seconds} | {peak} | {estimate} | {ratio} "
              f"| {status} | {('yes, earlier run' if r.get('reused') else 'yes') if r['measured'] else 'extrapolated'} |")  # fmt: skip


if __name__ == "__main__":
    child()
