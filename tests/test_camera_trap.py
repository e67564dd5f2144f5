"""Camera-trap inputs: detector output files (MegaDetector batch and CLI forms, SpeciesNet), crops,
and bursts from EXIF times. Detections files are written here in each documented form (no real
MegaDetector output is available to the tests); photos are real JPEGs with EXIF written into them."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import pytest
from PIL import Image

from zsc.data.detections import DetectionsError, normalise_boxes, read_detections, square_crop
from zsc.data.sequences import camera_of, exif_time, sequence_ids

BATCH = {
    "info": {"format_version": "1.4", "detector": "md_v5a.0.0.pt"},
    "detection_categories": {"1": "animal", "2": "person", "3": "vehicle"},
    "images": [
        {
            "file": "cam1/100RECNX/IMG_0001.JPG",
            "detections": [{"category": "1", "conf": 0.91, "bbox": [0.1, 0.2, 0.3, 0.4]}],
        },
        {"file": "cam1/100RECNX/IMG_0002.JPG", "detections": []},
        {"file": "cam2/IMG_0003.JPG", "failure": "Failure image access"},
        {
            "file": "cam2/IMG_0004.JPG",
            "detections": [
                {"category": "2", "conf": 0.8, "bbox": [0.5, 0.5, 0.2, 0.4]},
                {"category": "1", "conf": 0.15, "bbox": [0.0, 0.0, 0.1, 0.1]},
            ],
        },
    ],
}


def write(tmp_path, data, name="detections.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_megadetector_batch_output_is_read_with_its_categories_failures_and_normalised_boxes(tmp_path):
    found = read_detections(write(tmp_path, BATCH))
    assert found.format == "MegaDetector 1.4"
    assert found.failures == {"cam2/IMG_0003.JPG": "Failure image access"}
    assert found.listed == {entry["file"] for entry in BATCH["images"]}
    boxes = found.boxes
    assert boxes["category"].tolist() == ["animal", "person", "animal"]
    assert boxes.iloc[0][["x", "y", "width", "height"]].tolist() == [0.1, 0.2, 0.3, 0.4]
    assert not boxes["absolute"].any()


def test_the_megadetector_cli_list_is_detected_and_its_pixel_boxes_normalised_by_the_frame_size(tmp_path):
    cli = [
        {
            "file": "cam1/IMG_0001.JPG",
            "detections": [{"category": "animal", "confidence": 0.93, "bbox": [160, 120, 480, 600]}],
        },
        {"file": "cam1/IMG_0002.JPG", "detections": []},
    ]
    found = read_detections(write(tmp_path, cli))
    assert found.format == "MegaDetector CLI" and found.listed == {"cam1/IMG_0001.JPG", "cam1/IMG_0002.JPG"}
    sizes = pd.DataFrame({"frame": ["cam1/IMG_0001.JPG"], "width": [1600], "height": [1200]})
    box = normalise_boxes(found.boxes, sizes).iloc[0]
    assert [box.x, box.y, box.width, box.height] == pytest.approx([0.1, 0.1, 0.2, 0.4])


def test_speciesnet_predictions_are_read(tmp_path):
    data = {
        "predictions": [
            {
                "filepath": "a/b.jpg",
                "detections": [{"category": "1", "label": "animal", "conf": 0.7, "bbox": [0.1, 0.1, 0.5, 0.5]}],
            }
        ]
    }
    found = read_detections(write(tmp_path, data))
    assert found.format == "SpeciesNet" and found.boxes["category"].tolist() == ["animal"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["images"][1].update(file=7), r"images\[1\]: expected an object with a 'file'"),
        (
            lambda d: d["images"][0]["detections"][0].update(bbox=[0.1, 0.2, 0.3]),
            r"images\[0\]\.detections\[0\]\.bbox: expected 4",
        ),
        (
            lambda d: d["images"][0]["detections"][0].update(bbox=[0.9, 0.2, 0.3, 0.4]),
            r"images\[0\]\.detections\[0\]\.bbox: box .* within 0-1",
        ),
        (
            lambda d: d["images"][0]["detections"][0].update(category="9"),
            r"images\[0\]\.detections\[0\]\.category: '9'",
        ),
        (
            lambda d: d["images"][0]["detections"][0].update(conf="high"),
            r"images\[0\]\.detections\[0\]\.conf: expected a number",
        ),
        (lambda d: d.pop("info"), r"info\.format_version is missing"),
    ],
)
def test_a_wrong_entry_is_an_error_naming_it(tmp_path, change, message):
    data = json.loads(json.dumps(BATCH))
    change(data)
    with pytest.raises(DetectionsError, match=message):
        read_detections(write(tmp_path, data))


def test_not_json_or_another_shape_is_one_clear_error(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DetectionsError, match="is not JSON"):
        read_detections(tmp_path / "bad.json")
    with pytest.raises(DetectionsError, match="not a MegaDetector batch output"):
        read_detections(write(tmp_path, {"results": []}))
    with pytest.raises(DetectionsError, match="does not exist"):
        read_detections(tmp_path / "missing.json")


def test_absolute_frame_paths_under_the_root_become_relative(tmp_path):
    data = json.loads(json.dumps(BATCH))
    data["images"][0]["file"] = str(tmp_path / "photos" / "cam1/100RECNX/IMG_0001.JPG")
    found = read_detections(write(tmp_path, data), root=tmp_path / "photos")
    assert "cam1/100RECNX/IMG_0001.JPG" in found.listed and found.boxes["frame"].iloc[0] == "cam1/100RECNX/IMG_0001.JPG"


def test_a_crop_is_the_padded_square_around_the_box_clipped_into_the_frame():
    assert square_crop((0.4, 0.4, 0.1, 0.2), 1000, 1000, pad=0.0) == (350, 400, 550, 600)
    left, top, right, bottom = square_crop((0.0, 0.0, 0.1, 0.1), 1600, 1200)  # a corner: shifted inside
    assert (left, top) == (0, 0) and right - left == bottom - top == round(160 * 1.2)
    assert square_crop((0.0, 0.0, 1.0, 1.0), 1600, 1200) == (200, 0, 1400, 1200)  # never larger than the frame


def exif_photo(path, when: datetime | None):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (32, 24), (90, 120, 60))
    exif = Image.Exif()
    if when is not None:
        exif.get_ifd(0x8769)[36867] = when.strftime("%Y:%m:%d %H:%M:%S")
    image.save(path, exif=exif)


def test_exif_times_are_read_and_a_photo_without_one_has_none(tmp_path):
    exif_photo(tmp_path / "a.jpg", datetime(2026, 5, 1, 6, 30, 5))
    exif_photo(tmp_path / "b.jpg", None)
    (tmp_path / "c.jpg").write_bytes(b"not an image")
    assert exif_time(tmp_path / "a.jpg") == datetime(2026, 5, 1, 6, 30, 5)
    assert exif_time(tmp_path / "b.jpg") is None and exif_time(tmp_path / "c.jpg") is None


def test_overflow_folders_are_one_camera_and_bursts_split_at_the_gap():
    assert (
        camera_of("site3/cam2/100RECNX/IMG_0001.JPG") == camera_of("site3/cam2/101RECNX/IMG_0001.JPG") == "site3/cam2"
    )
    assert camera_of("cam1/IMG_1.JPG") == "cam1" and camera_of("IMG_1.JPG") == ""
    t = datetime(2026, 5, 1, 6, 0, 0)
    frames = pd.DataFrame(
        {
            "image_id": [
                "c/100RECNX/1.jpg",
                "c/100RECNX/2.jpg",
                "c/101RECNX/3.jpg",
                "c/101RECNX/4.jpg",
                "d/5.jpg",
                "c/6.jpg",
            ],
            "camera": ["c", "c", "c", "c", "d", "c"],
            "time": [t, t.replace(second=20), t.replace(second=50), t.replace(minute=5), t.replace(second=10), None],
        }
    )
    ids = sequence_ids(frames, gap_s=60)
    assert ids[0] == ids[1] == ids[2] != ids[3]  # 20 s and 30 s apart: one burst across overflow folders; 4 min: next
    assert ids[4] not in set(ids[:4]) and ids[5] == "c/6.jpg"  # another camera; no time: alone


# ------------------------------------------------------------------ Camtrap DP
def season_tables():
    t = datetime(2026, 5, 1, 6, 0, 0)
    frames = pd.DataFrame(
        {
            "image_id": [
                "cam1/100RECNX/IMG_1.JPG",
                "cam1/100RECNX/IMG_2.JPG",
                "cam2/IMG_3.JPG",
                "cam2/IMG_4.JPG",
                "cam2/IMG_5.JPG",
            ],
            "camera": ["cam1", "cam1", "cam2", "cam2", "cam2"],
            "time": [t, t.replace(second=30), t.replace(hour=7), None, t.replace(hour=8)],
            "file_time": [
                None,
                None,
                None,
                datetime(2026, 5, 2, 1, 0, tzinfo=__import__("datetime").timezone.utc),
                None,
            ],
            "status": ["animal", "animal", "blank", "unlisted", "person"],
            "sequence_id": ["cam1#00001", "cam1#00001", "cam2#00001", "cam2/IMG_4.JPG", "cam2#00002"],
            "format": ["JPEG"] * 5,
        }
    )
    crops = pd.DataFrame(
        {
            "image_id": [
                "cam1/100RECNX/IMG_1.JPG~d0.jpg",
                "cam1/100RECNX/IMG_1.JPG~d1.jpg",
                "cam1/100RECNX/IMG_2.JPG~d0.jpg",
            ],
            "frame": ["cam1/100RECNX/IMG_1.JPG", "cam1/100RECNX/IMG_1.JPG", "cam1/100RECNX/IMG_2.JPG"],
            "bbox_x": [0.1, 0.6, 0.2],
            "bbox_y": [0.2, 0.5, 0.2],
            "bbox_width": [0.3, 0.3, 0.3],
            "bbox_height": [0.4, 0.5, 0.4],
            "label": ["Vulpes vulpes", "Capreolus capreolus", "Vulpes vulpes"],
            "classification": ["human", "machine", "human"],
            "confidence": [0.9, 0.71, 0.8],
        }
    )
    return frames, crops


def write_deployments(tmp_path, rows):
    path = tmp_path / "deployments.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_a_camtrap_dp_package_passes_the_frictionless_validator_with_every_frame_once(tmp_path):
    import frictionless

    from zsc.sorting.exports.camtrap_dp import build_tables, local_schema, read_deployments, write_package

    frames, crops = season_tables()
    deployments = read_deployments(
        write_deployments(
            tmp_path,
            [
                {"camera": "cam1", "latitude": 51.2, "longitude": 4.4, "utc_offset": "+02:00"},
                {"camera": "cam2/", "latitude": 51.3, "longitude": 4.5, "utc_offset": "+02:00"},
            ],
        ),
        ["cam1", "cam2"],
    )
    tables = build_tables(frames, crops, deployments)
    path = write_package(
        "season", tables, tmp_path / "camtrap-dp", datetime(2026, 12, 1, tzinfo=__import__("datetime").timezone.utc)
    )
    descriptor = json.loads(path.read_text())
    assert descriptor["resources"][0]["schema"].startswith("https://raw.githubusercontent.com/tdwg/camtrap-dp/1.0/")
    descriptor["profile"] = "tabular-data-package"  # offline: the Camtrap DP profile itself cannot be fetched
    for resource in descriptor["resources"]:  # offline: this project's copies of the standard's schemas
        resource["schema"] = json.loads(local_schema(resource["name"]).read_text())
    report = frictionless.Package(descriptor, basepath=str(path.parent)).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    media = pd.read_csv(path.parent / "media.csv", keep_default_na=False)
    observations = pd.read_csv(path.parent / "observations.csv", keep_default_na=False)
    assert sorted(media["filePath"]) == sorted(frames["image_id"])  # every frame exactly once
    assert set(observations["mediaID"]) == set(media["mediaID"])
    by_type = observations["observationType"].value_counts().to_dict()
    assert by_type == {"animal": 3, "blank": 1, "unclassified": 1, "human": 1}
    animal = observations[observations["observationType"] == "animal"]
    assert set(animal["classificationMethod"]) == {"human", "machine"}
    assert (
        animal["eventStart"].iloc[0] == "2026-05-01T06:00:00+0200"
        and animal["eventEnd"].iloc[0] == "2026-05-01T06:00:30+0200"
    )
    assert "modification time" in media.set_index("filePath").loc["cam2/IMG_4.JPG", "mediaComments"]
    assert descriptor["taxonomic"] == [{"scientificName": "Capreolus capreolus"}, {"scientificName": "Vulpes vulpes"}]
    broken = pd.read_csv(path.parent / "deployments.csv", keep_default_na=False).assign(latitude=95)
    broken.to_csv(path.parent / "deployments.csv", index=False)  # the validator does check: out of range
    assert not frictionless.Package(descriptor, basepath=str(path.parent)).validate().valid


def test_a_package_without_deployment_coordinates_is_refused_naming_what_is_missing(tmp_path):
    from zsc.sorting.exports.camtrap_dp import CamtrapExportError, read_deployments

    with pytest.raises(CamtrapExportError, match=r"sort\.<run>\.deployments.*latitude, longitude.*cam1"):
        read_deployments(None, ["cam1", "cam2"])
    with pytest.raises(CamtrapExportError, match=r"no row for camera folder\(s\) \['cam2'\]"):
        read_deployments(
            write_deployments(tmp_path, [{"camera": "cam1", "latitude": 1, "longitude": 2}]), ["cam1", "cam2"]
        )
    with pytest.raises(CamtrapExportError, match="must be numbers"):
        read_deployments(
            write_deployments(tmp_path, [{"camera": "cam1", "latitude": "north", "longitude": 2}]), ["cam1"]
        )


def test_a_frame_goes_to_each_species_its_crops_are_named_and_statuses_to_their_folders():
    from zsc.sorting.frames import frame_plan

    frames = pd.DataFrame(
        {
            "image_id": ["cam1/a.jpg", "cam1/b.jpg", "cam2/c.jpg", "cam2/d.jpg", "cam2/e.jpg"],
            "status": ["animal", "animal", "blank", "person", "failure"],
        }
    )
    crops = pd.DataFrame(
        {"frame": ["cam1/a.jpg", "cam1/a.jpg", "cam1/b.jpg"], "label": ["Vulpes vulpes", "Meles meles", ""]}
    )
    plan = frame_plan(frames, crops)
    assert sorted(plan["file"]) == [
        "Meles meles/cam1/a.jpg",
        "Vulpes vulpes/cam1/a.jpg",
        "_unreviewed/cam1/b.jpg",
        "_unreviewed/cam2/e.jpg",
        "blank/cam2/c.jpg",
        "person/cam2/d.jpg",
    ]
    assert plan.set_index("file").loc["Vulpes vulpes/cam1/a.jpg", "label"] == "Meles meles;Vulpes vulpes"


def test_a_frame_with_two_species_is_placed_in_both_folders(tmp_path):
    from zsc.sorting.placement import update_shared_folder

    root = tmp_path / "inbox"
    (root / "cam1").mkdir(parents=True)
    (root / "cam1/a.jpg").write_bytes(b"frame")
    plan = pd.DataFrame(
        {"image_id": ["cam1/a.jpg", "cam1/a.jpg"], "file": ["Vulpes vulpes/cam1/a.jpg", "Meles meles/cam1/a.jpg"]}
    )
    placed_plan, placed = update_shared_folder(root, plan, tmp_path / "final", "copy")
    assert not placed.refused
    for file in plan["file"]:
        assert (tmp_path / "final" / file).read_bytes() == b"frame"
