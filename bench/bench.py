"""Performance benchmarks: each row compares our figure with a naive baseline run in the same
invocation, on the same data and machine, and prints the ratio against its target.

    python bench/bench.py                 # every row (about 2 hours on 2 cores: scale is ~45 min, paper_grid ~30)
    python bench/bench.py --only embed,umap
    python bench/bench.py --only scale --json scale.json   # 10k / 30k / 100k points per method
    python bench/bench.py --only season --json season.json # a 10^6-frame season stage by stage (~1.5 h on 2 cores)

Not part of the tests: tests check behaviour, this measures. Figures from this project's
machine are in README.md (section Performance).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_helpers import SCALE_CLUSTERERS, SCALE_REDUCERS, model_alone

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
PETS = Path(os.environ.get("ZSC_OXFORD_PETS", "/nonexistent/set-ZSC_OXFORD_PETS")).resolve()  # optional real photos
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
ROWS: list[dict] = []


def row(name: str, ours: float, baseline: float, unit: str, target: str, met: bool, note: str = "") -> None:
    ratio = ours / baseline if baseline else float("nan")
    ROWS.append(
        dict(name=name, ours=ours, baseline=baseline, unit=unit, ratio=ratio, target=target, met=met, note=note)
    )
    print(
        f"  {name}: ours {ours:.3g} {unit}, baseline {baseline:.3g} {unit}, ratio {ratio:.2f} "
        f"(target {target}: {'met' if met else 'NOT met'}) {note}",
        flush=True,
    )


def print_table() -> None:
    review_rows = [r for r in ROWS if "page" in r]
    if review_rows:
        print_review_table(review_rows)
    weekly_rows = [r for r in ROWS if r.get("weekly")]
    if weekly_rows:
        print_weekly_table(weekly_rows)
    for r in (r for r in ROWS if r.get("paint")):
        print(f"- {r['name']}: {r['ms'] if r['ms'] is None else round(r['ms'])}")
    camera_rows = [r for r in ROWS if r.get("camera_trap")]
    if camera_rows:
        print("\n| unit clustered | frames | V-measure vs species | V-measure vs camera site |\n|---|---|---|---|")
        for r in camera_rows:
            print(f"| {r['unit']} | {r['frames']} | {r['v_measure_species']:.3f} | {r['v_measure_site']:.3f} |")
    rows = [
        r
        for r in ROWS
        if "page" not in r and not any(r.get(kind) for kind in ("weekly", "camera_trap", "season", "paint"))
    ]
    if not rows:
        return
    print("\n| comparison | ours | baseline | ratio | target | met |\n|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['name']} | {r['ours']:.3g} {r['unit']} | {r['baseline']:.3g} {r['unit']} | "
            f"{r['ratio']:.2f} | {r['target']} | {'yes' if r['met'] else 'no'} |"
        )
    for r in rows:
        if r["note"]:
            print(f"- {r['name']}: {r['note']}")


REVIEW_TARGETS = {  # issue 34: actions per photo (scrolls apart) of today's page on the Oxford photos with Ward
    ("oxford", "ward k=37"): 0.25,
}


def print_review_table(rows: list[dict]) -> None:
    print(
        "\n| inbox | clusterer | page | photos | actions | per photo | naming | fixing | misfiled after naming "
        "| fixing per misfiled | scrolls | accuracy before | final/ accuracy | target |\n" + "|---" * 14 + "|"
    )
    for r in rows:
        target = REVIEW_TARGETS.get((r["inbox"], r["clusterer"])) if r["page"] == "current" else None
        verdict = ""
        if target is not None:
            met = r["actions_per_photo"] <= target and r["final_accuracy"] == 1 and not r["accept_offered_after_review"]
            verdict = f"<= {target}, 100 % right, no accept after the review: {'met' if met else 'NOT met'}"
        print(
            f"| {r['inbox']} | {r['clusterer']}{' + species list' if r.get('species_list') else ''} | {r['page']} | {r['photos']} | {r['actions']} | "
            f"{r['actions_per_photo']:.2f} | {r['naming_actions']} | {r['fix_actions']} | {r['misfiled_after_naming']} | "
            f"{r['fix_actions_per_misfiled']:.2f} | {r['scrolls']} | {r['accuracy_before_review']:.3f} | "
            f"{r['final_accuracy']:.3f} | {verdict} |"
        )


# ------------------------------------------------------------------ review: a scripted reviewer
def bench_review(quick: bool) -> None:
    """The review page driven in Chromium by a scripted expert (bench/review_bench.py), today's page
    against the pages before issues 19 and 34, on the Oxford photos (ZSC_OXFORD_PETS), a generated set
    and a generated set of lookalikes; then the page's paint per action at a season's size."""
    from review_bench import bench_review as run_review_bench
    from review_bench import paint_timings

    print("review: scripted reviewer (actions per photo; the page before issue 19, before issue 34 and today's)")
    ROWS.extend(run_review_bench(OUT / "review", PETS if PETS.is_dir() else None, quick))
    print("review page: paint per action at a season's size (generated page, headless Chromium)")
    ROWS.extend(paint_timings(OUT / "review" / "paint"))


# ------------------------------------------------------------------ weekly: a season one card at a time
WEEKLY_TARGETS = {  # issue 20
    "known_correct_share": (">=", 0.80),
    "known_wrong_share": ("<=", 0.10),
    "unseen_new_share": (">=", 0.70),
}


def bench_weekly(quick: bool) -> None:
    """Week 2 of a season (bench/weekly_bench.py): how its photos are filed, and its cost against
    sorting and reviewing the whole season again."""
    from weekly_bench import bench_weekly as run_weekly_bench

    print("weekly: a season's second week against the whole season from scratch")
    for result in run_weekly_bench(OUT / "review", PETS if PETS.is_dir() else None, quick):
        ROWS.append({**result, "weekly": True})


def bench_camera_trap(quick: bool) -> None:
    """Crops against whole frames (bench/camera_trap_bench.py): V-measure against species and site."""
    from camera_trap_bench import bench_camera_trap as run_camera_trap_bench

    print("camera_trap: clustering detector crops against whole frames (5 % animals, 3 camera sites)")
    for result in run_camera_trap_bench(OUT / "review", quick):
        ROWS.append({**result, "camera_trap": True})


def bench_season(quick: bool) -> None:
    """A 1,000,000-frame season stage by stage (bench/season_bench.py): measured rows, the rest
    extrapolated; every reduce/cluster row against the jobs' 8,000 MB and its memory estimate."""
    from season_bench import bench_season as run_season_bench
    from season_bench import print_table as print_season_table

    print("season: scan, assign, review page, reduce and cluster at season sizes (fresh process each)")
    only = os.environ.get("ZSC_SEASON_STAGES")  # e.g. "reduce", "reduce:pca,page", "cluster:gmm:1000000"
    reuse = os.environ.get("ZSC_SEASON_REUSE")  # an earlier --json: its other measured rows are kept
    rows = run_season_bench(
        OUT / "season",
        quick,
        set(only.split(",")) if only else None,
        [r for r in json.loads(Path(reuse).read_text()) if r.get("season")] if reuse else None,
    )
    print_season_table(rows)
    for result in rows:
        ROWS.append({**result, "name": f"season {result['stage']} {result['method']} N={result['n_points']}",
                     "season": True})  # fmt: skip


def print_weekly_table(rows: list[dict]) -> None:
    print(
        "\n| season | photos known | photos new | known right | known wrong | known called new | unseen called new "
        "| rerun s | from scratch s | cost ratio | jobs only (less Snakemake's start) | assign ratio "
        "| review actions week / full | week-1 files unchanged |\n" + "|---" * 14 + "|"
    )
    for r in rows:
        cost_target = {"weekly oxford": "<= 0.25", "weekly generated2000+200": "<= 0.15"}.get(r["name"], "no target")
        review = f"{r['review_actions_week']} / {r['review_actions_full']}" if r.get("review_actions_week") else "-"
        unchanged = f"{r['week1_files_unchanged']} of {r['week1_files']}" if "week1_files" in r else "-"
        print(
            f"| {r['name']} | {r['photos_known']} | {r['photos_new']} | {r['known_correct_share']:.2f} | "
            f"{r['known_wrong_share']:.2f} | {r['known_new_share']:.2f} | {r['unseen_new_share']:.2f} | "
            f"{r['week_rerun_s']:.1f} | {r['from_scratch_s']:.1f} | {r['cost_ratio']:.2f} ({cost_target}) | "
            f"{r['jobs_cost_ratio']:.2f} (start {r['snakemake_start_s']:.1f} s) | "
            f"{r['assign_cost_ratio']:.2f} | {review} | {unchanged} |"
        )


# ------------------------------------------------------------------ 1. embedding throughput
def _image_set(n_min: int) -> tuple[Path, "pd.DataFrame"]:  # noqa: F821 (imported inside)
    """Real JPEGs (Oxford pets) hard-linked until there are >= n_min files."""
    import pandas as pd

    root = OUT / f"photos{n_min}"
    if not root.exists():
        source = sorted(PETS.rglob("*.jpg"))
        if not source:
            raise SystemExit(f"need the real photos at {PETS} (or set ZSC_OXFORD_PETS)")
        copies = -(-n_min // len(source))
        for copy in range(copies):
            for path in source:
                target = root / path.parent.name / f"{copy}_{path.name}"
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(path, target)
    ids = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.jpg"))
    return root, pd.DataFrame({"image_id": ids, "label": [i.split("/")[0] for i in ids], "group": ""})


def _decode_alone(root, ids, prep, workers: int, batch_size: int) -> float:
    import torch

    from zsc.embedding.embed import ImageFolderDataset, collate

    loader = torch.utils.data.DataLoader(
        ImageFolderDataset(root, ids, prep),
        batch_size=batch_size,
        num_workers=workers,
        collate_fn=collate,
        prefetch_factor=4,
    )
    started = time.perf_counter()
    count = sum(len(indices) for indices, _, _ in loader)
    return count / (time.perf_counter() - started)


def _serial_loop(model, root, ids, batch_size: int) -> float:
    """The reference toolkit's way: PIL + torchvision transforms one by one in the main thread, fp32."""
    import timm
    import torch
    from PIL import Image

    transform = timm.data.create_transform(**timm.data.resolve_data_config({}, model=model))
    started = time.perf_counter()
    with torch.no_grad():
        for start in range(0, len(ids), batch_size):
            batch = torch.stack(
                [transform(Image.open(root / i).convert("RGB")) for i in ids[start : start + batch_size]]
            )
            model(batch)
    return len(ids) / (time.perf_counter() - started)


def bench_embed(quick: bool) -> None:
    import torch

    from zsc.embedding.backbones import build_backbone
    from zsc.embedding.embed import embed_manifest, normalise

    print("\n[1] embedding throughput (real JPEGs, batch 32, 2 decode workers, 2 torch threads)", flush=True)
    torch.set_num_threads(2)
    root, manifest = _image_set(400 if quick else 2000)
    ids = manifest["image_id"].tolist()
    for name, spec in [
        ("MobileNetV2 (ImageNet, package weights)", {"id": "mobilenetv2_100", "weights": "package:fdet_mobilenet_v2"}),
        ("ViT-S/16 (random weights, speed only)", {"id": "vit_small_patch16_224", "weights": "random"}),
    ]:
        backbone = build_backbone("bench", spec)
        prep = backbone.preprocessing
        model = backbone.model.to(memory_format=torch.channels_last)
        batch = normalise(
            torch.randint(0, 255, (32, prep.img_size, prep.img_size, 3), dtype=torch.uint8),
            prep,
            torch.device("cpu"),
            torch.float32,
        )
        model_ips = model_alone(model, batch)
        decode_ips = _decode_alone(root, ids, prep, workers=2, batch_size=32)
        bound = 1 / (1 / model_ips + 1 / decode_ips)
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            embed_manifest(
                backbone,
                manifest,
                root,
                Path(tmp) / "e.parquet",
                {"model_name": "bench"},
                batch_size=32,
                workers=2,
                device="cpu",
                progress=False,
            )
            ours = len(ids) / (time.perf_counter() - started)
        serial = _serial_loop(build_backbone("bench", spec).model, root, ids, 32)
        print(
            f"  {name}: model alone M={model_ips:.1f} img/s, decode alone D={decode_ips:.1f} img/s, "
            f"bound 1/(1/M+1/D)={bound:.1f} img/s",
            flush=True,
        )
        row(
            f"embed {name} vs serial loop",
            ours,
            serial,
            "img/s",
            "> 1x",
            ours > serial,
            f"{len(ids)} files; ours = {ours / bound:.0%} of the CPU bound {bound:.1f} img/s (target >= 90%)",
        )
        row(f"embed {name} vs CPU bound", ours, bound, "img/s", ">= 0.9x", ours >= 0.9 * bound)


def bench_malloc() -> None:
    """MobileNetV2 alone, in two fresh processes: glibc malloc defaults vs our job environment."""
    from zsc.embedding.runtime_env import MALLOC_SETTINGS

    print("\n[1b] glibc malloc thresholds, model alone (fresh processes)", flush=True)
    code = (
        "import torch, time, json; torch.set_num_threads(2);"
        "from zsc.embedding.backbones import build_backbone; from bench_helpers import model_alone;"
        "m=build_backbone('b',{'id':'mobilenetv2_100','weights':'random'}).model.to(memory_format=torch.channels_last);"
        "x=torch.randn(32,3,224,224).contiguous(memory_format=torch.channels_last);"
        "print(json.dumps(model_alone(m,x)))"
    )
    env_default = {k: v for k, v in os.environ.items() if k not in MALLOC_SETTINGS}
    figures = {}
    for label, env in (("default", env_default), ("ours", {**env_default, **MALLOC_SETTINGS})):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO / "bench", check=True
        ).stdout
        figures[label] = float(out.strip().splitlines()[-1])
    row(
        "MobileNetV2 model alone, malloc thresholds vs glibc default",
        figures["ours"],
        figures["default"],
        "img/s",
        "> 1x",
        figures["ours"] > figures["default"],
    )


# ------------------------------------------------------------------ 2. grid cost
def _snakemake(workdir: Path, config: Path, *extra: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            str(SNAKEMAKE),
            "-s",
            str(REPO / "Snakefile"),
            "-d",
            str(workdir),
            "--configfile",
            str(config),
            "--cores",
            "2",
            *extra,
            "-q",
        ],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def bench_grid(quick: bool) -> None:
    import numpy as np
    import pandas as pd
    import yaml

    from zsc import grid
    from zsc.config import SCHEMA_PATH, validate_config
    from zsc.evaluation import metrics as zm
    from zsc.io import read_embeddings, select_rows
    from zsc.methods.clusterers import cluster
    from zsc.methods.density import cell_spec, sampling_density_preset
    from zsc.methods.reducers import reduce

    print("\n[2] grid cost: reduce + cluster stage of the demo grid (embeddings already computed)", flush=True)
    workdir = OUT / "grid"
    workdir.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for key in ("subclusters", "sort"):  # the grid only: no review extras on either side
        config.pop(key, None)
    config["review"] = {"gallery_top": 0}
    if quick:
        config["models"] = {"mobilenetv2": config["models"]["mobilenetv2"]}
    config_path = workdir / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    _snakemake(workdir, config_path)  # embeddings + samples (not timed)
    # every reduction, cell and the aggregation; the figures are not part of the comparison
    ours = _snakemake(workdir, config_path, "--forcerun", "reduce", "--omit-from", "plots")

    config = validate_config(config, SCHEMA_PATH)
    results = workdir / "results" / "demo"
    rows = []
    started = time.perf_counter()
    embeddings = {model: read_embeddings(results / "embeddings" / f"{model}.parquet") for model in config["models"]}
    for cell in grid.cells(config, "demo"):  # the reference toolkit's nested loop: one reduction per clusterer
        frame, matrix = embeddings[cell.model]
        drawn = pd.read_parquet(results / "samples" / cell.sampling / cell.split / f"{cell.seed}.parquet")
        sample_frame, x, _ = select_rows(frame, matrix, drawn["image_id"])
        seed = int(cell.seed)
        points = reduce(x, config["reducers"][cell.reducer], seed)
        truth = sample_frame["label"].to_numpy()
        preset = sampling_density_preset(config["samplings"][cell.sampling])
        spec = cell_spec(config["clusterers"][cell.clusterer], preset, truth)
        labels = cluster(points, spec, len(np.unique(truth)), seed)
        rows.append(
            {
                "model": cell.model,
                "reducer": cell.reducer,
                "clusterer": cell.clusterer,
                "sampling": cell.sampling,
                "seed": seed,
                "v_measure_retained": zm.external_metrics(truth, labels)["v_measure_retained"],
            }
        )
    loop = time.perf_counter() - started
    keys = ["model", "reducer", "clusterer", "sampling", "seed"]
    ours_table = pd.read_csv(results / "metrics.csv")[keys + ["v_measure_retained"]]
    loop_table = pd.DataFrame(rows)
    merged = ours_table.merge(loop_table, on=keys, suffixes=("_ours", "_loop"))
    merged.to_csv(workdir / "ours_vs_loop.csv", index=False)
    identical = len(merged) == len(ours_table) and np.allclose(
        merged["v_measure_retained_ours"], merged["v_measure_retained_loop"], equal_nan=True
    )
    row(
        f"grid ({len(ours_table)} cells) through the DAG vs nested loop",
        ours,
        loop,
        "s",
        "<= 0.4x",
        ours <= 0.4 * loop and identical,
        f"metrics identical: {identical}",
    )


# ------------------------------------------------------------------ 3. UMAP in a fresh process
UMAP_CODE = """
import time, numpy as np
from zsc.methods.reducers import reduce
x = np.random.default_rng(0).normal(size=(5000, 768)).astype(np.float32)
x[:2500] += 1.5
started = time.perf_counter(); reduce(x, {"method": "umap"}, 0); print(time.perf_counter() - started)
"""


def bench_umap() -> None:
    print("\n[3] UMAP 5,000 x 768 in a fresh process", flush=True)
    fit, whole = {}, {}
    cache = OUT / "numba_cache"
    with tempfile.TemporaryDirectory() as cold:
        for label, cache_dir in (("cold", cold), ("warm-up", str(cache)), ("ours", str(cache))):
            env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
            started = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", UMAP_CODE], check=True, capture_output=True, text=True, env=env)
            whole[label] = time.perf_counter() - started
            fit[label] = float(out.stdout.strip().splitlines()[-1])
    row(
        "UMAP fit in a fresh process, shared numba cache vs none",
        fit["ours"],
        fit["cold"],
        "s",
        "< 15 s",
        fit["ours"] < 15,
        f"whole process incl. imports and data: {whole['ours']:.1f} s vs {whole['cold']:.1f} s",
    )


# ------------------------------------------------------------------ 4. t-SNE implementations
def bench_tsne(quick: bool) -> None:
    import numpy as np
    from sklearn.metrics import v_measure_score

    from zsc.methods.clusterers import cluster
    from zsc.methods.reducers import reduce

    n = 3000 if quick else 12000
    print(f"\n[4] t-SNE {n} x 768: scikit-learn vs openTSNE (FFT gradients), then Ward", flush=True)
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 1.0, size=(60, 768))
    truth = np.repeat(np.arange(60), n // 60)
    x = (centres[truth] + rng.normal(0, 1.2, size=(len(truth), 768))).astype(np.float32)
    results = {}
    for implementation in ("sklearn", "opentsne"):
        started = time.perf_counter()
        points = reduce(x, {"method": "tsne", "implementation": implementation, "n_jobs": 2}, 0)
        seconds = time.perf_counter() - started
        v = v_measure_score(truth, cluster(points, {"method": "ward"}, 60, 0))
        results[implementation] = (seconds, v)
        print(f"  {implementation}: {seconds:.1f} s, V-measure (Ward, k=60) {v:.3f}", flush=True)
    same_quality = abs(results["opentsne"][1] - results["sklearn"][1]) <= 0.01
    row(
        "t-SNE openTSNE vs scikit-learn",
        results["opentsne"][0],
        results["sklearn"][0],
        "s",
        "< 1x, |dV| <= 0.01",
        results["opentsne"][0] < results["sklearn"][0] and same_quality,
        f"V-measure sklearn {results['sklearn'][1]:.3f}, openTSNE {results['opentsne'][1]:.3f}",
    )


# ------------------------------------------------------------------ 5. DAG build
def bench_dag() -> None:
    import yaml

    print(
        "\n[5] DAG build: snakemake -n for the reference grid and one with 10x the seeds (no photos needed)", flush=True
    )
    workdir = OUT / "dag"
    workdir.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    from zsc import grid
    from zsc.config import SCHEMA_PATH, validate_config

    n_cells = sum(1 for _ in grid.cells(validate_config({**config, "seeds": [0]}, SCHEMA_PATH), "species60"))
    times = {}
    for label, seeds in (("reference", list(range(10))), ("10x", list(range(100)))):
        config["seeds"] = seeds
        path = workdir / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        times[label] = _snakemake(workdir, path, "-n")
    row(
        f"DAG reference grid ({n_cells * 10:,} cells), snakemake -n",
        times["reference"],
        15,
        "s",
        "< 15 s",
        times["reference"] < 15,
        "baseline column = the target",
    )
    row(
        f"DAG 10x seeds ({n_cells * 100:,} cells), snakemake -n",
        times["10x"],
        60,
        "s",
        "< 60 s",
        times["10x"] < 60,
        "baseline column = the target",
    )


# ------------------------------------------------------------------ 6. memory
MEMORY_CODE = """
import json, resource, sys
from pathlib import Path
import pandas as pd
from zsc.embedding.backbones import build_backbone
from zsc.embedding.embed import embed_manifest
root = Path(sys.argv[1]); n = int(sys.argv[2])
ids = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.jpg"))[:n]
manifest = pd.DataFrame({"image_id": ids, "label": [i.split("/")[0] for i in ids], "group": ""})
backbone = build_backbone("m", {"id": "mobilenetv2_100", "weights": "random", "img_size": 32})
embed_manifest(backbone, manifest, root, Path(sys.argv[3]), {}, batch_size=64, workers=2, device="cpu", progress=False)
print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
"""


def bench_memory(quick: bool) -> None:
    from zsc.data.demo import generate

    small, large = (500, 5000) if quick else (2000, 20000)
    print(f"\n[6] peak RSS of the embed step: {small} vs {large} small images (fresh processes)", flush=True)
    root = OUT / f"small_images_{large}"
    if not root.exists():
        generate(root, n_species=10, per_species=large // 10, seed=0, size=32)
    peaks = {}
    for n in (small, large):
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                [sys.executable, "-c", MEMORY_CODE, str(root), str(n), f"{tmp}/e.parquet"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        peaks[n] = float(out.strip().splitlines()[-1])
        print(f"  {n} images: peak RSS {peaks[n]:.0f} MB", flush=True)
    row(
        f"embed peak RSS {large} vs {small} images",
        peaks[large],
        peaks[small],
        "MB",
        "< 1.2x",
        peaks[large] < 1.2 * peaks[small],
    )


# ------------------------------------------------------------------ 7. scale: 10k / 30k / 100k points
SCALE_LIMIT_MB = 8000  # the reduce and cluster jobs' mem_mb (workflow/rules/common.smk)


def _scale_row(stage: str, method: str, n: int, result: dict, first: dict) -> None:
    status = result["status"]
    seconds, peak = result.get("seconds", float("nan")), result.get("peak_mb", float("nan"))
    baseline = first.get("seconds", float("nan"))
    met = status == "refused" or peak <= SCALE_LIMIT_MB
    ROWS.append(
        dict(
            name=f"scale {stage} {method} N={n}",
            ours=seconds,
            baseline=baseline,
            unit="s",
            ratio=seconds / baseline if baseline else float("nan"),
            target=f"<= {SCALE_LIMIT_MB} MB or refused",
            met=met,
            note=result.get("reason", ""),
            method=method,
            stage=stage,
            n_points=n,
            seconds=seconds,
            peak_mb=peak,
            status=status,
            reason=result.get("reason", ""),
            estimate_mb=result["estimate_mb"],
            v_measure=result.get("v_measure"),
        )
    )
    print(
        f"  {stage} {method} N={n:,}: {status} {seconds:.1f} s, peak {peak:.0f} MB "
        f"(estimate {result['estimate_mb']:.0f} MB) {result.get('reason', '')}",
        flush=True,
    )


def _growth(rows: list[dict], key: str) -> float:
    import numpy as np

    ok = [r for r in rows if r["status"] == "ok" and r[key] > 0]
    if len(ok) < 2:
        return float("nan")
    return float(np.polyfit(np.log([r["n_points"] for r in ok]), np.log([r[key] for r in ok]), 1)[0])


def bench_scale(quick: bool) -> None:
    from zsc.methods.memory import cluster_mb, reduce_mb

    sizes = (2000, 5000, 10000) if quick else (10000, 30000, 100000)
    print(
        f"\n[7] scale: every paper reducer on {sizes} x 768 synthetic embeddings, every clusterer on the 2-D "
        f"t-SNE output; fresh process each, refused before it starts when the estimate exceeds "
        f"{SCALE_LIMIT_MB} MB",
        flush=True,
    )
    out = OUT / "scale"
    out.mkdir(parents=True, exist_ok=True)
    first: dict = {}
    stages = [("reduce", name, spec, lambda spec, n: reduce_mb(spec, n, 768)) for name, spec in SCALE_REDUCERS.items()]
    stages += [("cluster", name, spec, cluster_mb) for name, spec in SCALE_CLUSTERERS.items()]
    stages += [("metrics", "silhouette+dbcv", {}, lambda spec, n: 0.0)]
    wanted = os.environ.get("ZSC_SCALE_STAGES")  # e.g. "cluster,metrics": rerun part (the t-SNE points are kept)
    stages = [stage for stage in stages if not wanted or stage[0] in wanted.split(",")]
    for n in sizes:
        for stage, name, spec, estimator in stages:
            estimate = estimator(spec, n)
            if estimate > SCALE_LIMIT_MB:
                result = {
                    "status": "refused",
                    "estimate_mb": estimate,
                    "reason": f"estimated {estimate / 1000:.1f} GB > {SCALE_LIMIT_MB} MB: refused before it starts",
                }
            else:
                done = subprocess.run(
                    [sys.executable, str(REPO / "bench" / "scale_child.py"), stage, json.dumps(spec), str(n), str(out)],
                    capture_output=True,
                    text=True,
                    timeout=3600,
                )
                if done.returncode != 0:
                    result = {"status": "failed", "estimate_mb": estimate, "reason": done.stderr.strip()[-300:]}
                else:
                    result = {
                        "status": "ok",
                        "estimate_mb": estimate,
                        **json.loads(done.stdout.strip().splitlines()[-1]),
                    }
            first.setdefault(name, result if result["status"] == "ok" else {})
            _scale_row(stage, name, n, result, first[name])
    print(
        "\n| method | " + " | ".join(f"N={n:,} s / MB" for n in sizes) + " | time ~ N^a | memory ~ N^b | "
        "1,000,000 points (extrapolated) |\n|---|" + "---|" * (len(sizes) + 3)
    )
    for _, name, _, _ in stages:
        rows = [r for r in ROWS if r.get("method") == name]
        cells = [f"{r['seconds']:.1f} / {r['peak_mb']:.0f}" if r["status"] == "ok" else r["status"] for r in rows]
        a, b = _growth(rows, "seconds"), _growth(rows, "peak_mb")
        last = [r for r in rows if r["status"] == "ok"]
        if last and a == a:
            scale = 1_000_000 / last[-1]["n_points"]
            guess = f"~{last[-1]['seconds'] * scale**a / 60:.0f} min, ~{last[-1]['peak_mb'] * scale**b / 1000:.1f} GB"
        else:
            guess = "refused (use the scalable form)" if any(r["status"] == "refused" for r in rows) else "n/a"
        print(f"| {name} | " + " | ".join(cells) + f" | {a:.2f} | {b:.2f} | {guess} |")


# ------------------------------------------------------------------ 8. incremental embedding
def bench_incremental(quick: bool) -> None:
    import shutil

    import yaml

    from zsc.data.demo import generate

    n, species = (500, 5) if quick else (2000, 10)
    print(
        f"\n[8] incremental: the workflow's embed step after adding 1% new photos to {n}, vs the first embed",
        flush=True,
    )
    workdir = OUT / "incremental"
    shutil.rmtree(workdir, ignore_errors=True)
    photos = workdir / "photos"
    generate(photos, n_species=species, per_species=n // species, seed=0, size=224)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config = {
        "datasets": {"photos": {"root": str(photos)}},
        "samplings": config["samplings"],
        "seeds": [1],
        "models": {"efficientnet_lite0": config["models"]["efficientnet_lite0"]},
        "reducers": {"pca": {"method": "pca"}},
        "clusterers": {"ward": {"method": "ward"}},
        "review": {"gallery_top": 0},
    }
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    target = "results/photos/embeddings/efficientnet_lite0.parquet"
    stats_path = workdir / "results/photos/embeddings/efficientnet_lite0.stats.json"
    first_wall = _snakemake(workdir, path, target)
    first = json.loads(stats_path.read_text())
    new = generate(workdir / "new", n_species=species, per_species=n // 100 // species, seed=1, size=224)
    for image in new:
        shutil.copy(image, photos / image.parent.name / f"added_{image.name}")
    again_wall = _snakemake(workdir, path, target)
    again = json.loads(stats_path.read_text())
    ratio = again["seconds"] / first["seconds"]
    ROWS.append(
        dict(
            name=f"incremental embed: +{len(new)} photos to {n} vs the first embed",
            ours=again["seconds"],
            baseline=first["seconds"],
            unit="s",
            ratio=ratio,
            target="<= 0.10",
            met=ratio <= 0.10,
            note=f"embedded {again['embedded']} (from cache {again['from_cache']}); whole snakemake run "
            f"{again_wall:.1f} s vs {first_wall:.1f} s (ratio {again_wall / first_wall:.2f}, includes "
            f"start-up and the rescan)",
        )
    )
    print(
        f"  embed job {again['seconds']:.1f} s vs {first['seconds']:.1f} s: ratio {ratio:.3f}; {ROWS[-1]['note']}",
        flush=True,
    )


# ------------------------------------------------------------------ 9. the grid at paper size
def bench_paper_grid(quick: bool) -> None:
    """12,000 images (60 species x 200), one model, 5 reducers x 4 clusterers, one seed: the DAG
    (reductions shared by the clusterers, 2 cores) vs the reference toolkit's loop (a reduction per clusterer)."""
    import numpy as np
    import pandas as pd
    import yaml

    from zsc.data.demo import generate
    from zsc.io import read_embeddings, select_rows
    from zsc.methods.clusterers import cluster
    from zsc.methods.density import cell_spec, sampling_density_preset
    from zsc.methods.reducers import reduce

    n_species, per = (12, 50) if quick else (12, 1000)
    print(f"\n[9] grid at paper size: {n_species * per:,} images, 1 model, 5 reducers x 4 clusterers", flush=True)
    workdir = OUT / f"paper_grid_{n_species * per}"
    photos = workdir / "photos"
    if not photos.exists():
        generate(photos, n_species=n_species, per_species=per, seed=0, size=48)
    config = {
        "datasets": {"paper": {"root": str(photos)}},
        "samplings": {"all": {"kind": "all", "density_preset": "large"}},
        "seeds": [1],
        "models": {
            "small": {
                "backend": "timm",
                "id": "mobilenetv2_100",
                "weights": "random",
                "img_size": 48,
                "batch_size": 128,
            }
        },
        "reducers": {name: {"method": name} for name in ("tsne", "umap", "pca", "isomap", "kernel_pca")},
        "clusterers": {
            "hdbscan": {"method": "hdbscan"},
            "dbscan": {"method": "dbscan"},
            "gmm": {"method": "gmm"},
            "ward": {"method": "ward"},
        },
        "review": {"gallery_top": 0},
    }
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    _snakemake(workdir, path, "results/paper/samples/all/pooled/1.parquet", "results/paper/embeddings/small.parquet")
    ours = _snakemake(workdir, path, "--forcerun", "reduce", "--omit-from", "plots")
    results = workdir / "results" / "paper"
    frame, matrix = read_embeddings(results / "embeddings" / "small.parquet")
    drawn = pd.read_parquet(results / "samples" / "all" / "pooled" / "1.parquet")
    sample_frame, x, _ = select_rows(frame, matrix, drawn["image_id"])
    truth = sample_frame["label"].to_numpy()
    preset = sampling_density_preset(config["samplings"]["all"])
    started = time.perf_counter()
    for reducer_spec in config["reducers"].values():
        for clusterer_spec in config["clusterers"].values():
            points = reduce(x, reducer_spec, 1)
            cluster(points, cell_spec(clusterer_spec, preset, truth), len(np.unique(truth)), 1)
    loop = time.perf_counter() - started
    row(
        f"grid at paper size ({len(x):,} points, 5 reducers x 4 clusterers) through the DAG vs loop",
        ours,
        loop,
        "s",
        "<= 0.4x",
        ours <= 0.4 * loop,
        "both on this machine's 2 cores; the DAG includes Snakemake's start and the metrics",
    )


BENCHES = {
    "embed": bench_embed,
    "malloc": bench_malloc,
    "grid": bench_grid,
    "umap": bench_umap,
    "tsne": bench_tsne,
    "dag": bench_dag,
    "memory": bench_memory,
    "scale": bench_scale,
    "incremental": bench_incremental,
    "paper_grid": bench_paper_grid,
    "review": bench_review,
    "weekly": bench_weekly,
    "camera_trap": bench_camera_trap,
    "season": bench_season,
}
TAKES_QUICK = {
    "embed",
    "grid",
    "tsne",
    "memory",
    "scale",
    "incremental",
    "paper_grid",
    "review",
    "weekly",
    "camera_trap",
    "season",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(BENCHES), help=f"comma-separated subset of {list(BENCHES)}")
    parser.add_argument("--quick", action="store_true", help="smaller inputs (a smoke run, not the reported figures)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    from zsc.embedding import runtime_env

    if any(key not in os.environ for key in runtime_env.MALLOC_SETTINGS):  # must be set before the process starts
        env = {**os.environ, **runtime_env.job_environment(OUT / "resources")}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    OUT.mkdir(parents=True, exist_ok=True)
    for name in args.only.split(","):
        BENCHES[name](args.quick) if name in TAKES_QUICK else BENCHES[name]()
    print_table()
    if args.json:
        args.json.write_text(json.dumps(ROWS, indent=2))


if __name__ == "__main__":
    main()
