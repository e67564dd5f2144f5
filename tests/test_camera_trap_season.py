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
    cameras = ["cam1/100RECNX", "cam1/101RECNX", "cam2/DCIM/100MEDIA", "cam3"]  # cam2: a card copied whole
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
        image_id = f"cam2/DCIM/100MEDIA/IMG_{number:04d}.JPG"
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
    number += 1
    false_detection = f"cam2/DCIM/100MEDIA/IMG_{number:04d}.JPG"  # a leaf the detector took for an animal
    save_frame(root / false_detection, background(rng), start + timedelta(days=3))
    truth[false_detection], boxes[false_detection] = "", [("animal", 0.35, (300, 200, 420, 320))]
    number += 1
    corrupt = f"cam3/IMG_{number:04d}.JPG"  # cut short on the card: the detector saw it, nobody can decode it now
    save_frame(root / corrupt, background(rng), start + timedelta(days=3, hours=1))
    (root / corrupt).write_bytes((root / corrupt).read_bytes()[:300])
    truth[corrupt], boxes[corrupt] = "", [("animal", 0.7, (10, 10, 90, 90))]
    number += 1
    unlisted = f"cam1/101RECNX/IMG_{number:04d}.JPG"  # copied after the detector ran
    save_frame(root / unlisted, background(rng), start + timedelta(days=4))
    truth[unlisted] = ""
    codes = {"animal": "1", "person": "2", "vehicle": "3"}
    for image_id, found in sorted(boxes.items()):
        batch.append(
            {
                "file": "D:\\cameras\\season-2026\\" + image_id.replace("/", "\\"),  # MegaDetector on Windows
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
            {"camera": "cam1", "latitude": 50.85, "longitude": 4.35, "utc_offset": "+02:00", "locationName": "pond"},
            {"camera": "cam2", "latitude": 50.86, "longitude": 4.36, "utc_offset": "+02:00", "locationName": "hedge"},
            {"camera": "cam3", "latitude": 50.87, "longitude": 4.37, "utc_offset": "+02:00", "locationName": ""},
        ]
    ).to_csv(tmp_path / "deployments.csv", index=False)
    return {
        "root": root,
        "truth": truth,
        "person": person,
        "undated": undated,
        "false_detection": false_detection,
        "corrupt": corrupt,
        "unlisted": unlisted,
    }


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
    season = season_run["season"]
    status = frames.set_index("image_id")["status"]
    special = {season[key] for key in ("person", "false_detection", "corrupt", "unlisted")}
    assert (status[[f for f, s in truth.items() if s]] == "animal").all()
    assert status[season["person"]] == "person"  # its 0.05 animal is below min_confidence
    assert status[season["false_detection"]] == "animal"  # the detector's word, until the review says otherwise
    assert status[season["corrupt"]] == "unreadable" and status[season["unlisted"]] == "unlisted"
    assert (status[[f for f, s in truth.items() if not s and f not in special]] == "blank").all()
    assignments = pd.read_csv(run_dir / "assignments.csv", keep_default_na=False)
    crops = [f"{f}~d0.jpg" for f, s in truth.items() if s] + [f"{season['false_detection']}~d0.jpg"]
    assert sorted(assignments["image_id"]) == sorted(crops)
    console = season_run["first"].stderr
    assert "frames: 36" in console and "from 3 camera(s) (cam1, cam2, cam3)" in console
    assert "detector paths matched to the inbox by stripping 'D:/cameras/season-2026/'" in console


def test_bursts_follow_exif_times_within_a_camera_across_overflow_folders(season_run):
    frames = pd.read_csv(season_run["run_dir"] / "frames.csv", keep_default_na=False).set_index("image_id")
    animals = frames[(frames["status"] == "animal") & (frames.index != season_run["season"]["false_detection"])]
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
    from zsc.sorting.exports.camtrap_dp import local_schema, package_problems
    from zsc.sorting.frames import NOT_AN_ANIMAL

    work, run_dir, season = season_run["work"], season_run["run_dir"], season_run["season"]
    assignments = pd.read_csv(run_dir / "assignments.csv", keep_default_na=False)
    (work / "reviews").mkdir(exist_ok=True)
    species = sorted({s for s in season["truth"].values() if s})
    names = dict(zip(species, ["Capreolus capreolus", "Sus scrofa", "Vulpes vulpes"]))
    review = pd.DataFrame(
        {
            "image_id": assignments["image_id"],
            "label": [
                names.get(season["truth"][i.rsplit("~", 1)[0]]) or NOT_AN_ANIMAL  # the leaf: key x on the page
                for i in assignments["image_id"]
            ],
        }
    )
    review.to_csv(work / "reviews/season.csv", index=False)
    run_snakemake(work, work / "config.yaml")
    final = run_dir / "final"
    elsewhere = {season["person"]: "person", season["corrupt"]: "_unreadable", season["unlisted"]: "_unreviewed"}
    for frame, species in season["truth"].items():
        folder = names[species] if species else elsewhere.get(frame, "blank")  # the false detection: blank
        assert (final / folder / frame).is_symlink(), f"final/{folder}/{frame}"
        assert (final / folder / frame).resolve() == (season["root"] / frame).resolve()
    frame_labels = pd.read_csv(run_dir / "frame_labels.csv", keep_default_na=False).set_index("image_id")
    assert sorted(frame_labels.index) == sorted(season["truth"])  # every frame once, with its label set
    for frame, species in season["truth"].items():
        expected = NOT_AN_ANIMAL if frame == season["false_detection"] else names.get(species, "")
        assert frame_labels.loc[frame, "label"] == expected
    labels = pd.read_csv(run_dir / "labels.csv", keep_default_na=False)
    assert labels["sequence_id"].nunique() == 10 and not labels["sequence_disagrees"].any()  # 9 bursts + the leaf
    from zsc.data.detections import read_detections

    written = json.loads((run_dir / "detections-reviewed.json").read_text())  # the detector's file, classified
    original = json.loads((season_run["tmp"] / "md-batch.json").read_text())
    assert written["info"]["detector"] == original["info"]["detector"] and "zsc_review" in written["info"]
    assert set(written["classification_categories"].values()) == set(names.values())
    classified = [d for e in written["images"] for d in e.get("detections", []) if d.get("classifications")]
    assert len(classified) == sum(1 for s in season["truth"].values() if s)  # not the false detection
    back = read_detections(run_dir / "detections-reviewed.json", set(season["truth"]))  # readable again
    assert back.listed == set(season["truth"])  # every frame of the season, the unlisted one with a failure
    assert len(back.boxes) == len(read_detections(season_run["tmp"] / "md-batch.json", set(season["truth"])).boxes)
    person = next(e for e in written["images"] if e["file"].endswith(season["person"].split("/")[-1]))
    assert [d["category"] for d in person["detections"]] == ["2", "1"]  # the person and the weak animal kept
    package = run_dir / "camtrap-dp"
    assert package_problems(package) == []
    for table in ("deployments", "media", "observations"):
        assert pd.read_csv(package / f"{table}.csv", nrows=0).columns.tolist() == [
            f["name"] for f in json.loads(local_schema(table).read_text())["fields"]
        ]
    media = pd.read_csv(package / "media.csv", keep_default_na=False)
    assert sorted(media["filePath"]) == sorted(season["truth"])
    observations = pd.read_csv(package / "observations.csv", keep_default_na=False)
    animals = observations[observations["observationType"] == "animal"]
    assert set(animals["scientificName"]) == set(names.values()) and set(animals["classificationMethod"]) == {"human"}
    assert (
        animals["bboxWidth"].astype(float).between(0.2, 0.3).all()
    )  # the crop's box, relative to the frame (120 of 480 px)
    assert NOT_AN_ANIMAL not in set(observations["scientificName"])
    summary = pd.read_csv(run_dir / "season-summary.csv", keep_default_na=False)
    assert set(summary["species"]) == set(names.values()) and summary["frames"].sum() == 27
    assert (summary["independent_detections"] >= 1).all() and (
        summary["independent_detections"] <= summary["frames"]
    ).all()
    assert (run_dir / "activity.png").stat().st_size > 1000


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


@needs_chromium
def test_the_crop_page_shows_the_camera_the_frame_with_its_box_and_takes_not_an_animal(browser, season_run):
    from conftest import open_page

    season = season_run["season"]
    errors: list = []
    page = open_page(browser, season_run["run_dir"] / "review.html", errors)
    data = json.loads(page.evaluate("() => document.getElementById('zsc-data').textContent"))
    leaf = data["ids"].index(f"{season['false_detection']}~d0.jpg")
    page.locator('section[data-g="doubtful"]').scroll_into_view_if_needed()  # sections fill as they come into view
    figure = page.locator(f'figure[data-i="{leaf}"]')
    figure.wait_for()
    caption = figure.locator("figcaption").text_content()
    assert caption.startswith("cam2 · IMG_")  # the camera: several cameras have the same file names
    assert "detector confidence 0.35" in (data["reasons"].get(str(leaf)) or "")  # a weak detection is doubtful
    figure.dblclick()
    viewer = page.locator("#viewer")
    assert viewer.locator(".framed .box").count() == 1  # the whole frame, the crop's box drawn on it
    src = viewer.locator("img.big").get_attribute("src")
    assert "~d0" not in src  # the frame's preview, not the crop's
    page.keyboard.press("x")  # not an animal
    page.keyboard.press("Escape")
    titles = page.evaluate(
        "() => Array.from(document.querySelectorAll('section')).map(s => (s.querySelector('.title') || {}).textContent)"
    )
    assert "not an animal" in titles
    burst = [
        i
        for i, q in enumerate(data["sequence"])
        if q == data["sequence"][data["ids"].index(next(i for i in data["ids"] if "IMG_0001" in i))]
    ]
    assert len({data["frame"][i] for i in burst}) == len(burst)  # one crop per frame here: a burst of 3 frames
    assert not errors
