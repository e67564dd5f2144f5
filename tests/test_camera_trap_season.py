"""A camera-trap season end to end with the real workflow: animal photos (the Oxford pets when
ZSC_OXFORD_PETS is set, as in CI; else generated ones) pasted as small animals into larger frames of 3 cameras (one with SD-card overflow folders), with EXIF times written
into them (bursts), blank frames and a person; the detections file is written here in the MegaDetector
batch form and in the CLI form (no real MegaDetector output is available). Crops are clustered,
blanks and the person set aside, a review applied, final/ mirrors the inbox, and the Camtrap DP
package passes the frictionless validator with this project's schemas."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from conftest import PACKAGED_EFFNET, needs_chromium, run_snakemake, write_config

pytestmark = pytest.mark.slow
FRAME = (480, 360)
ANIMAL = 120  # px: about 8 % of the frame


def background(rng) -> Image.Image:
    noise = rng.integers(60, 120, size=(FRAME[1] // 8, FRAME[0] // 8, 3), dtype=np.uint8)
    return Image.fromarray(noise).resize(FRAME, Image.NEAREST)


OXFORD_BREEDS = ("cats/Bombay", "dogs/samoyed", "dogs/pug")  # real photos when ZSC_OXFORD_PETS is set


def animal_photos(tmp_path: Path) -> dict[str, list[Path]]:
    """9 photos of each of 3 species: Oxford pets (real photos) when ZSC_OXFORD_PETS names them, else
    generated animals."""
    pets = Path(os.environ.get("ZSC_OXFORD_PETS", "/nonexistent"))
    if all((pets / breed).is_dir() for breed in OXFORD_BREEDS):
        return {breed.split("/")[1]: sorted((pets / breed).glob("*.jpg"))[:9] for breed in OXFORD_BREEDS}
    from zsc.data.demo import generate

    source = tmp_path / "animals"
    generate(source, n_species=3, per_species=9, seed=2, size=ANIMAL)
    return {folder.name: sorted(folder.glob("*.jpg")) for folder in sorted(source.iterdir())}


def as_animal(photo: Path) -> Image.Image:
    """The photo as a square animal of ANIMAL px (its centre)."""
    image = Image.open(photo).convert("RGB")
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    return image.crop((left, top, left + side, top + side)).resize((ANIMAL, ANIMAL))


def build_season(tmp_path: Path) -> dict:
    """Frames, their truth (frame -> species, '' for blank/person) and both detections forms."""
    animals = animal_photos(tmp_path)
    rng = np.random.default_rng(0)
    root = tmp_path / "season"
    cameras = ["cam1/100RECNX", "cam1/101RECNX", "cam2", "cam3"]
    start = datetime(2026, 5, 1, 6, 0, 0)
    batch, cli, truth, boxes = [], [], {}, {}
    number = 0
    for index, (species, photos) in enumerate(animals.items()):
        for burst in range(3):  # 3 bursts of 3 frames per species, each burst on one camera
            camera = cameras[(index + burst) % len(cameras)]
            when = start + timedelta(hours=index * 5 + burst)
            for frame_in_burst in range(3):
                photo = photos[burst * 3 + frame_in_burst]
                frame = background(rng)
                x, y = int(rng.integers(0, FRAME[0] - ANIMAL)), int(rng.integers(0, FRAME[1] - ANIMAL))
                frame.paste(as_animal(photo), (x, y))
                number += 1
                image_id = f"{camera}/IMG_{number:04d}.JPG"
                save_frame(root / image_id, frame, when + timedelta(seconds=5 * frame_in_burst))
                truth[image_id] = species
                boxes[image_id] = [("animal", 0.9, (x, y, x + ANIMAL, y + ANIMAL))]
    for blank in range(4):
        number += 1
        image_id = f"cam2/IMG_{number:04d}.JPG"
        save_frame(root / image_id, background(rng), start + timedelta(days=1, minutes=10 * blank))
        truth[image_id], boxes[image_id] = "", []
    number += 1
    person = f"cam3/IMG_{number:04d}.JPG"
    save_frame(root / person, background(rng), start + timedelta(days=2))
    truth[person], boxes[person] = "", [("person", 0.8, (100, 50, 200, 300)), ("animal", 0.05, (0, 0, 40, 40))]
    number += 1
    undated = f"cam3/IMG_{number:04d}.JPG"
    save_frame(root / undated, background(rng), None)  # no EXIF date: its own sequence
    truth[undated], boxes[undated] = "", []
    codes = {"animal": "1", "person": "2", "vehicle": "3"}
    for image_id, found in sorted(boxes.items()):
        batch.append(
            {
                "file": image_id,
                "detections": [
                    {
                        "category": codes[c],
                        "conf": conf,
                        "bbox": [b[0] / FRAME[0], b[1] / FRAME[1], (b[2] - b[0]) / FRAME[0], (b[3] - b[1]) / FRAME[1]],
                    }
                    for c, conf, b in found
                ],
            }
        )
        cli.append(
            {
                "file": image_id,
                "detections": [{"category": c, "confidence": conf, "bbox": list(b)} for c, conf, b in found],
            }
        )
    batch_doc = {
        "info": {"format_version": "1.4", "detector": "written by this test"},
        "detection_categories": {"1": "animal", "2": "person", "3": "vehicle"},
        "images": batch,
    }
    (tmp_path / "md-batch.json").write_text(json.dumps(batch_doc))
    (tmp_path / "md-cli.json").write_text(json.dumps(cli))
    pd.DataFrame(
        [
            {"camera": "cam1", "latitude": 50.85, "longitude": 4.35, "utc_offset": "+02:00"},
            {"camera": "cam2", "latitude": 50.86, "longitude": 4.36, "utc_offset": "+02:00"},
            {"camera": "cam3", "latitude": 50.87, "longitude": 4.37, "utc_offset": "+02:00"},
        ]
    ).to_csv(tmp_path / "deployments.csv", index=False)
    return {"root": root, "truth": truth, "person": person, "undated": undated}


def save_frame(path: Path, image: Image.Image, when: datetime | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    if when is not None:
        exif.get_ifd(0x8769)[36867] = when.strftime("%Y:%m:%d %H:%M:%S")
    image.save(path, quality=92, exif=exif)


def season_config(tmp_path: Path, season: dict, detections: str) -> dict:
    return {
        "models": {"effnet": PACKAGED_EFFNET},
        "reducers": {"pca": {"method": "pca", "n_components": 2}},
        "clusterers": {"ward": {"method": "ward"}},
        "sort": {
            "season": {
                "root": str(season["root"]),
                "setting": {"model": "effnet", "reducer": "pca", "clusterer": "ward"},
                "k": 3,
                "detections": str(tmp_path / detections),
                "deployments": str(tmp_path / "deployments.csv"),
            }
        },
        "embed": {"workers": 1},
    }


@pytest.fixture(scope="module")
def season_run(tmp_path_factory, numba_cache):
    tmp_path = tmp_path_factory.mktemp("camera_trap")
    season = build_season(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    first = run_snakemake(work, write_config(work, season_config(tmp_path, season, "md-batch.json")))
    return {"tmp": tmp_path, "work": work, "season": season, "first": first, "run_dir": work / "results/sort/season"}


def test_every_frame_has_one_status_and_the_animal_crops_are_what_is_sorted(season_run):
    run_dir, truth = season_run["run_dir"], season_run["season"]["truth"]
    frames = pd.read_csv(run_dir / "frames.csv", keep_default_na=False)
    assert sorted(frames["image_id"]) == sorted(truth)  # every frame, exactly once
    status = frames.set_index("image_id")["status"]
    assert (status[[f for f, s in truth.items() if s]] == "animal").all()
    assert status[season_run["season"]["person"]] == "person"  # its 0.05 animal is below min_confidence
    assert (status[[f for f, s in truth.items() if not s and f != season_run["season"]["person"]]] == "blank").all()
    assignments = pd.read_csv(run_dir / "assignments.csv", keep_default_na=False)
    assert sorted(assignments["image_id"]) == sorted(f"{f}~d0.jpg" for f, s in truth.items() if s)
    assert "frames: 33" in season_run["first"].stderr


def test_bursts_follow_exif_times_within_a_camera_across_overflow_folders(season_run):
    frames = pd.read_csv(season_run["run_dir"] / "frames.csv", keep_default_na=False).set_index("image_id")
    animals = frames[frames["status"] == "animal"]
    assert animals["sequence_id"].nunique() == 9  # 3 bursts x 3 species
    assert (animals.groupby("sequence_id").size() == 3).all()
    assert frames.loc[season_run["season"]["undated"], "sequence_id"] == season_run["season"]["undated"]
    assert set(frames["camera"]) == {"cam1", "cam2", "cam3"}  # 100RECNX and 101RECNX are one camera


def test_the_crops_cluster_by_species(season_run):
    from sklearn.metrics import v_measure_score

    assignments = pd.read_csv(season_run["run_dir"] / "assignments.csv", keep_default_na=False)
    truth = season_run["season"]["truth"]
    species = [truth[i.rsplit("~", 1)[0]] for i in assignments["image_id"]]
    assert v_measure_score(species, assignments["cluster"]) >= 0.6


def test_a_review_of_the_crops_files_frames_in_final_mirroring_the_inbox_and_exports_camtrap_dp(season_run):
    import frictionless

    from zsc.sorting.exports.camtrap_dp import local_schema

    work, run_dir, season = season_run["work"], season_run["run_dir"], season_run["season"]
    assignments = pd.read_csv(run_dir / "assignments.csv", keep_default_na=False)
    (work / "reviews").mkdir(exist_ok=True)
    species = sorted({s for s in season["truth"].values() if s})
    names = dict(zip(species, ["Capreolus capreolus", "Sus scrofa", "Vulpes vulpes"]))
    review = pd.DataFrame(
        {
            "image_id": assignments["image_id"],
            "label": [
                names.get(season["truth"][i.rsplit("~", 1)[0]], season["truth"][i.rsplit("~", 1)[0]])
                for i in assignments["image_id"]
            ],
        }
    )
    review.to_csv(work / "reviews/season.csv", index=False)
    run_snakemake(work, work / "config.yaml")
    final = run_dir / "final"
    for frame, species in season["truth"].items():
        folder = names.get(species, species) if species else ("person" if frame == season["person"] else "blank")
        assert (final / folder / frame).is_symlink(), f"final/{folder}/{frame}"
        assert (final / folder / frame).resolve() == (season["root"] / frame).resolve()
    frame_labels = pd.read_csv(run_dir / "frame_labels.csv", keep_default_na=False).set_index("image_id")
    assert sorted(frame_labels.index) == sorted(season["truth"])  # every frame once, with its label set
    for frame, species in season["truth"].items():
        assert frame_labels.loc[frame, "label"] == names.get(species, "")
    labels = pd.read_csv(run_dir / "labels.csv", keep_default_na=False)
    assert labels["sequence_id"].nunique() == 9 and not labels["sequence_disagrees"].any()
    written = json.loads((run_dir / "detections-reviewed.json").read_text())  # MegaDetector format, classified
    assert sorted(e["file"] for e in written["images"]) == sorted(season["truth"])
    assert set(written["classification_categories"].values()) == set(names.values())
    classified = [d for e in written["images"] for d in e.get("detections", []) if d.get("classifications")]
    assert len(classified) == sum(1 for s in season["truth"].values() if s)
    from zsc.data.detections import read_detections

    assert len(read_detections(run_dir / "detections-reviewed.json").boxes) == len(classified)  # readable again
    package = run_dir / "camtrap-dp"
    descriptor = json.loads((package / "datapackage.json").read_text())
    descriptor["profile"] = "tabular-data-package"  # offline: the Camtrap DP profile itself cannot be fetched
    for resource in descriptor["resources"]:
        resource["schema"] = json.loads(local_schema(resource["name"]).read_text())
    report = frictionless.Package(descriptor, basepath=str(package)).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    media = pd.read_csv(package / "media.csv", keep_default_na=False)
    assert sorted(media["filePath"]) == sorted(season["truth"])
    observations = pd.read_csv(package / "observations.csv", keep_default_na=False)
    animals = observations[observations["observationType"] == "animal"]
    assert set(animals["scientificName"]) == set(names.values()) and set(animals["classificationMethod"]) == {"human"}
    assert (
        animals["bboxWidth"].astype(float).between(0.2, 0.3).all()
    )  # the crop's box, relative to the frame (120 of 480 px)


def test_the_cli_form_of_the_same_detections_gives_the_same_crops_and_embeds_nothing_new(season_run):
    tmp_path, season = season_run["tmp"], season_run["season"]
    work = tmp_path / "work-cli"
    work.mkdir()
    config = season_config(tmp_path, season, "md-cli.json")
    config["embed"]["cache"] = str(season_run["work"] / "resources/embed-cache")
    run_snakemake(work, write_config(work, config), "sort_all")
    first = pd.read_parquet(season_run["run_dir"] / "crops.parquet").set_index("image_id")
    second = pd.read_parquet(work / "results/sort/season/crops.parquet").set_index("image_id")
    assert (first.loc[second.index, "content_hash"] == second["content_hash"]).all() and len(first) == len(second)
    stats = json.loads(next((work / "results/sort/season/embeddings").glob("*.stats.json")).read_text())
    assert stats["embedded"] == 0 and stats["from_cache"] == len(second)


@needs_chromium
def test_on_the_page_a_move_takes_the_whole_burst_along(browser, season_run):
    page_path = season_run["run_dir"] / "review.html"
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(page_path.as_uri())
    page.wait_for_selector("body[data-ready]")
    assert page.locator("#bursts").is_visible() and page.locator("#bursts").is_checked()
    data = json.loads(page.evaluate("() => document.getElementById('zsc-data').textContent"))
    burst = [i for i, q in enumerate(data["sequence"]) if q == data["sequence"][0]]
    assert len(burst) == 3
    order = page.evaluate(  # every section's photos as shown
        "() => Array.from(document.querySelectorAll('section')).map(s => Array.from(s.querySelectorAll('.grid figure')).map(f => +f.dataset.i))"
    )
    for shown in order:  # a burst's crops side by side in each section (its core and the rest apart)
        core = [i for i in shown if data["core"][i]]
        for part in (core, [i for i in shown if not data["core"][i]]):
            bursts = [data["sequence"][i] for i in part]
            for q in set(bursts) - {-1}:
                at = [n for n, b in enumerate(bursts) if b == q]
                assert at == list(range(at[0], at[-1] + 1)), (q, bursts)
    g = page.evaluate(f"() => document.querySelector('figure[data-i=\"{burst[0]}\"]').closest('section').dataset.g")
    together = [i for i in burst if page.locator(f'section[data-g="{g}"] figure[data-i="{i}"]').count()]
    page.locator(f'section[data-g="{g}"] figure[data-i="{burst[0]}"]').click()
    page.keyboard.press("m")
    page.keyboard.type("Meles meles")
    page.keyboard.press("Enter")
    moved = page.evaluate(
        "() => Array.from(document.querySelectorAll('section')).filter(s => (s.querySelector('input.name') || {}).value === 'Meles meles')"
        ".flatMap(s => Array.from(s.querySelectorAll('figure')).map(f => +f.dataset.i))"
    )
    assert not errors
    assert len(together) >= 2 and sorted(moved) == sorted(
        together
    )  # one click moved the burst's crops that sat with it
