"""`bench.py --only camera_trap`: clustering animal crops against clustering whole frames.

Generated 1,600 x 1,200 frames from 3 camera sites (each its own background: texture and colour),
each with one generated animal (5 species) covering 5 % of the frame at a random place; a detections
file (MegaDetector batch form) with each animal's box. Two sort runs of the real workflow, same model
(packaged efficientnet_lite0), same reducer and clusterer (PCA, Ward, k = 5): one on whole frames
(what a run without detections does), one on the detections' crops. Printed: the V-measure of each
against the species, and against the camera site (what whole frames cluster by).
"""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path

import numpy as np
import yaml
from review_bench import MODEL, snakemake

from zsc.tables import ASSIGNMENTS

FRAME = (1600, 1200)
ANIMAL_SHARE = 0.05
SITES = [(70, 110, 60), (150, 140, 110), (60, 80, 120)]  # grass, dry ground, dusk


def site_background(rng, colour) -> "Image.Image":  # noqa: F821
    from PIL import Image

    noise = rng.normal(0, 28, size=(FRAME[1] // 16, FRAME[0] // 16, 3)) + np.array(colour)
    return Image.fromarray(np.clip(noise, 0, 255).astype(np.uint8)).resize(FRAME, Image.BILINEAR)


def build(out: Path, n_species: int = 5, per_species: int = 30) -> dict:
    from PIL import Image

    from zsc.data.demo import generate

    side = round(math.sqrt(ANIMAL_SHARE * FRAME[0] * FRAME[1]))
    animals_dir = out / "animals"
    generate(animals_dir, n_species=n_species, per_species=per_species, seed=9, size=side)
    rng = np.random.default_rng(1)
    root = out / "frames"
    truth, site_of, images = {}, {}, []
    for species_dir in sorted(p for p in animals_dir.iterdir() if p.is_dir()):
        for photo in sorted(species_dir.glob("*.jpg")):
            site = int(rng.integers(0, len(SITES)))
            frame = site_background(rng, SITES[site])
            x, y = int(rng.integers(0, FRAME[0] - side)), int(rng.integers(0, FRAME[1] - side))
            frame.paste(Image.open(photo).convert("RGB"), (x, y))
            image_id = f"site{site}/IMG_{len(truth) + 1:04d}.JPG"
            (root / image_id).parent.mkdir(parents=True, exist_ok=True)
            frame.save(root / image_id, quality=90)
            truth[image_id], site_of[image_id] = species_dir.name, f"site{site}"
            box = [x / FRAME[0], y / FRAME[1], side / FRAME[0], side / FRAME[1]]
            images.append({"file": image_id, "detections": [{"category": "1", "conf": 0.9, "bbox": box}]})
    detections = {"info": {"format_version": "1.4"}, "detection_categories": {"1": "animal"}, "images": images}
    (out / "detections.json").write_text(json.dumps(detections))
    return {"root": root, "truth": truth, "site": site_of, "k": n_species}


def config(out: Path, season: dict) -> dict:
    setting = {"model": "efficientnet_lite0", "reducer": "pca", "clusterer": "ward"}
    return {
        "models": {"efficientnet_lite0": MODEL},
        "reducers": {"pca": {"method": "pca", "n_components": 10}},
        "clusterers": {"ward": {"method": "ward"}},
        "sort": {
            "frames": {"root": str(season["root"]), "setting": setting, "k": season["k"]},
            "crops": {
                "root": str(season["root"]),
                "setting": setting,
                "k": season["k"],
                "detections": str(out / "detections.json"),
            },
        },
        "embed": {"cache": str(out / "embed-cache")},
    }


def bench_camera_trap(out: Path, quick: bool = False) -> list[dict]:
    from sklearn.metrics import v_measure_score

    work = out / "camera-trap"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    season = build(work, per_species=12 if quick else 30)
    (work / "config.yaml").write_text(yaml.safe_dump(config(work, season), sort_keys=False))
    started = time.perf_counter()
    snakemake(work, work / "config.yaml")
    seconds = time.perf_counter() - started
    rows = []
    for run in ("frames", "crops"):
        assignments = ASSIGNMENTS.read(work / f"results/sort/{run}/assignments.csv")
        frame = assignments["image_id"].str.replace(r"~d\d+\.jpg$", "", regex=True)
        species = frame.map(season["truth"])
        site = frame.map(season["site"])
        rows.append(
            {
                "name": f"camera trap {run}",
                "unit": run,
                "frames": len(season["truth"]),
                "v_measure_species": v_measure_score(species, assignments["cluster"]),
                "v_measure_site": v_measure_score(site, assignments["cluster"]),
            }
        )
        print(
            f"  {run}: V-measure against species {rows[-1]['v_measure_species']:.3f}, against camera site "
            f"{rows[-1]['v_measure_site']:.3f} ({len(assignments)} photos sorted)",
            flush=True,
        )
    print(f"  both runs: {seconds:.0f} s", flush=True)
    return rows
