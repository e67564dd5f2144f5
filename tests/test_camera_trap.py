"""Camera-trap inputs: detector output files (MegaDetector batch and CLI forms, SpeciesNet), crops,
and bursts from EXIF times. Detections files are written here in each documented form (no real
MegaDetector output is available to the tests); photos are real JPEGs with EXIF written into them."""

from __future__ import annotations

import json
import re
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
            r"images\[0\]\.detections\[0\]\.conf: expected a finite number",
        ),
        (
            lambda d: d["images"][0]["detections"][0].update(bbox=[float("nan"), 0.2, 0.3, 0.4]),
            r"images\[0\]\.detections\[0\]\.bbox: expected a finite number, got nan",
        ),
        (
            lambda d: d["images"][0]["detections"][0].update(conf=float("nan")),
            r"images\[0\]\.detections\[0\]\.conf: expected a finite number, got nan",
        ),
        (lambda d: d["images"][0].update(detections="none"), r"images\[0\]\.detections: expected a list"),
        (
            lambda d: d["images"][0].update(detections=[[0.1, 0.2, 0.3, 0.4]]),
            r"images\[0\]\.detections\[0\]: expected an object, got list",
        ),
        (
            lambda d: d["images"][0]["detections"][0].update(bbox=[1.005, 0.1, 0.004, 0.2]),
            r"images\[0\]\.detections\[0\]\.bbox: box .* has no area inside the frame",
        ),
    ],
)
def test_a_bad_entry_sets_its_frame_aside_naming_the_entry_and_the_rest_is_read(tmp_path, change, message):
    data = json.loads(json.dumps(BATCH))
    change(data)
    found = read_detections(write(tmp_path, data))
    frame = "cam1/100RECNX/IMG_0001.JPG"
    assert re.search(message, found.failures[frame]), found.failures[frame]
    assert frame not in set(found.boxes["frame"])  # none of its boxes is used
    assert set(found.boxes["frame"]) == {"cam2/IMG_0004.JPG"}  # the others are read
    assert len(found.notes) == 1 and "1 bad detector entr(ies) set aside" in found.notes[0]


def test_a_box_just_outside_the_frame_is_clipped_into_it():
    from zsc.data.detections import _normalised_box

    assert _normalised_box([-0.005, 0.5, 0.2, 0.505], "b") == pytest.approx([0.0, 0.5, 0.195, 0.5])
    assert _normalised_box([0.1, 0.2, 0.3, 0.4], "b") == [0.1, 0.2, 0.3, 0.4]


@pytest.mark.parametrize("version", ["1.0", "1.6", 1.6, 1.1, "1.4"])
def test_every_batch_format_version_in_use_is_read(tmp_path, version):
    data = json.loads(json.dumps(BATCH))
    data["info"]["format_version"] = version
    assert read_detections(write(tmp_path, data)).format == f"MegaDetector {version}"


def test_a_file_that_is_not_detections_is_one_clear_error(tmp_path):
    data = json.loads(json.dumps(BATCH))
    data.pop("info")
    with pytest.raises(DetectionsError, match=r"info\.format_version is None: not a MegaDetector batch output"):
        read_detections(write(tmp_path, data))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DetectionsError, match="is not JSON"):
        read_detections(tmp_path / "bad.json")
    with pytest.raises(DetectionsError, match="not a MegaDetector batch output"):
        read_detections(write(tmp_path, {"results": []}))
    with pytest.raises(DetectionsError, match="does not exist"):
        read_detections(tmp_path / "missing.json")


INBOX = {"cam1/100RECNX/IMG_0001.JPG", "cam1/100RECNX/IMG_0002.JPG", "cam2/IMG_0003.JPG", "cam2/IMG_0004.JPG"}


@pytest.mark.parametrize("prefix", ["D:\\cameras\\season\\", "/home/user/season/", "season/"])
def test_detector_paths_from_another_machine_are_matched_by_their_longest_suffix(tmp_path, prefix):
    data = json.loads(json.dumps(BATCH))
    for entry in data["images"]:
        entry["file"] = prefix + entry["file"].replace("/", "\\" if "\\" in prefix else "/")
    found = read_detections(write(tmp_path, data), INBOX)
    assert found.listed == INBOX and set(found.boxes["frame"]) == {"cam1/100RECNX/IMG_0001.JPG", "cam2/IMG_0004.JPG"}
    assert found.failures == {"cam2/IMG_0003.JPG": "Failure image access"}
    stripped = prefix.replace("\\", "/")
    assert found.prefix == stripped and f"stripping '{stripped}'" in found.notes[0]
    assert found.original["cam2/IMG_0003.JPG"] == data["images"][2]["file"]  # written back as it came


def test_detector_paths_that_match_nothing_or_ambiguously_are_refused_in_one_line(tmp_path):
    with pytest.raises(DetectionsError, match=r"none of its 4 frame path\(s\) names a photo of the inbox"):
        read_detections(write(tmp_path, BATCH), {"other/IMG_9.JPG"})
    names_only = json.loads(json.dumps(BATCH))
    for entry in names_only["images"]:
        entry["file"] = entry["file"].rsplit("/", 1)[-1]
    inbox = {"cam1/IMG_0001.JPG", "cam2/IMG_0001.JPG", "cam3/IMG_0002.JPG"}
    with pytest.raises(DetectionsError, match=r"shorter than the inbox's and ambiguous"):
        read_detections(write(tmp_path, names_only), inbox)


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
            "reason": ["", "", "no animal detection", "not in the detections file", "no animal detection"],
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


def official(table: str) -> list[str]:
    """A table's field names as the standard's 1.0.2 schema has them (read from the tdwg file shipped here)."""
    from zsc.sorting.exports.camtrap_dp import local_schema

    return [field["name"] for field in json.loads(local_schema(table).read_text())["fields"]]


def test_a_camtrap_dp_package_holds_every_field_of_the_standard_and_passes_it_strictly(tmp_path):
    from zsc.sorting.exports.camtrap_dp import build_tables, package_problems, read_deployments, write_package

    frames, crops = season_tables()
    deployments = read_deployments(
        write_deployments(
            tmp_path,
            [
                {"camera": "cam1", "latitude": 51.2, "longitude": 4.4, "utc_offset": "+02:00", "locationName": "pond"},
                {"camera": "cam2/", "latitude": 51.3, "longitude": 4.5, "utc_offset": "+02:00", "locationName": ""},
            ],
        ),
        ["cam1", "cam2"],
    )
    tables = build_tables(frames, crops, deployments)
    path = write_package(
        "season", tables, tmp_path / "camtrap-dp", datetime(2026, 12, 1, tzinfo=__import__("datetime").timezone.utc)
    )
    assert package_problems(path.parent) == []
    descriptor = json.loads(path.read_text())
    assert descriptor["profile"].endswith("/tdwg/camtrap-dp/1.0.2/camtrap-dp-profile.json")
    assert descriptor["resources"][0]["schema"].startswith("https://raw.githubusercontent.com/tdwg/camtrap-dp/1.0.2/")
    for table in ("deployments", "media", "observations"):  # every field of the standard, in its order
        assert pd.read_csv(path.parent / f"{table}.csv", nrows=0).columns.tolist() == official(table)
    deployments_csv = pd.read_csv(path.parent / "deployments.csv", keep_default_na=False)
    assert deployments_csv["locationName"].tolist() == ["pond", "cam2"]  # given, else the camera folder
    media = pd.read_csv(path.parent / "media.csv", keep_default_na=False)
    observations = pd.read_csv(path.parent / "observations.csv", keep_default_na=False)
    assert sorted(media["filePath"]) == sorted(frames["image_id"])  # every frame exactly once
    assert set(observations["mediaID"]) == set(media["mediaID"])
    by_type = observations["observationType"].value_counts().to_dict()
    assert by_type == {"animal": 3, "blank": 1, "unclassified": 1, "human": 1}
    animal = observations[observations["observationType"] == "animal"]
    assert set(animal["classificationMethod"]) == {"human", "machine"}
    assert (
        animal["eventStart"].iloc[0] == "2026-05-01T06:00:00+02:00"
        and animal["eventEnd"].iloc[0] == "2026-05-01T06:00:30+02:00"
    )
    assert "modification time" in media.set_index("filePath").loc["cam2/IMG_4.JPG", "mediaComments"]
    assert descriptor["taxonomic"] == [{"scientificName": "Capreolus capreolus"}, {"scientificName": "Vulpes vulpes"}]
    broken = deployments_csv.assign(latitude=95)
    broken.to_csv(path.parent / "deployments.csv", index=False)  # the check does check: out of range
    assert any("latitude" in problem for problem in package_problems(path.parent))
    reordered = observations[official("observations")[::-1]]
    reordered.to_csv(path.parent / "observations.csv", index=False)  # and the header order
    assert any("observations" in problem for problem in package_problems(path.parent))


def test_a_false_detection_is_never_a_species_and_its_frame_is_blank(tmp_path):
    from zsc.sorting.exports.camtrap_dp import build_tables, read_deployments
    from zsc.sorting.frames import NOT_AN_ANIMAL, frame_plan

    frames, crops = season_tables()
    crops.loc[2, "label"] = NOT_AN_ANIMAL  # IMG_2's only crop was a false detection
    deployments = read_deployments(
        write_deployments(tmp_path, [{"camera": c, "latitude": 1, "longitude": 2} for c in ("cam1", "cam2")]),
        ["cam1", "cam2"],
    )
    observations = build_tables(frames, crops, deployments)["observations"]
    assert NOT_AN_ANIMAL not in set(observations["scientificName"])
    media_of_img2 = (
        build_tables(frames, crops, deployments)["media"]
        .set_index("filePath")
        .loc["cam1/100RECNX/IMG_2.JPG", "mediaID"]
    )
    img2 = observations[observations["mediaID"] == media_of_img2]
    assert img2["observationType"].tolist() == ["blank"] and img2["classificationMethod"].tolist() == ["human"]
    plan = frame_plan(frames, crops[["frame", "label"]]).set_index("image_id")
    assert plan.loc["cam1/100RECNX/IMG_2.JPG", "folder"] == "blank"
    assert sorted(plan.loc[["cam1/100RECNX/IMG_1.JPG"], "folder"]) == ["Capreolus capreolus", "Vulpes vulpes"]


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (
            [{"camera": "cam1", "latitude": 200, "longitude": 4}],
            r"line 2: latitude '200' is not a number between -90 and 90",
        ),
        ([{"camera": "cam1", "latitude": 1, "longitude": -500}], r"longitude '-500' is not a number between -180"),
        ([{"camera": "cam1", "latitude": "inf", "longitude": 4}], r"latitude 'inf' is not a number"),
        (
            [
                {"camera": "cam1", "latitude": 1, "longitude": 4, "deploymentID": "d1"},
                {"camera": "cam2", "latitude": 1, "longitude": 4, "deploymentID": "d1"},
            ],
            r"deploymentID 'd1' is listed twice",
        ),
        ([{"camera": "cam1", "latitude": 1, "longitude": 4}] * 2, r"camera folder 'cam1' is listed twice"),
        (
            [{"camera": "cam1", "latitude": 1, "longitude": 4, "deploymentStart": "yesterday"}],
            r"deploymentStart 'yesterday' is not an ISO 8601 date and time with its offset",
        ),
        (
            [{"camera": "cam1", "latitude": 1, "longitude": 4, "deploymentStart": "2026-05-01T08:00:00"}],
            r"is not an ISO 8601 date and time with its offset",
        ),
        (
            [
                {
                    "camera": "cam1",
                    "latitude": 1,
                    "longitude": 4,
                    "deploymentStart": "2026-06-01T00:00:00+02:00",
                    "deploymentEnd": "2026-05-01T00:00:00+02:00",
                }
            ],
            r"deploymentStart 2026-06-01T00:00:00\+02:00 is after deploymentEnd",
        ),
        (
            [{"camera": "cam1", "latitude": 1, "longitude": 4, "utc_offset": "CEST"}],
            r"utc_offset 'CEST' is not an offset",
        ),
        ([{"camera": "cam9", "latitude": 1, "longitude": 4}], r"no row for camera folder\(s\) \['cam1'\]"),
    ],
)
def test_a_deployments_csv_is_checked_with_the_config_before_any_job(tmp_path, rows, problem):
    from conftest import tiny_config
    from zsc.config import ConfigError, validate_config

    root = tmp_path / "season"
    (root / "cam1/DCIM/100MEDIA").mkdir(parents=True)
    Image.new("RGB", (32, 32)).save(root / "cam1/DCIM/100MEDIA/IMG_0001.JPG")
    (tmp_path / "md.json").write_text(json.dumps(BATCH))
    config = tiny_config()
    config["sort"] = {
        "season": {
            "root": str(root),
            "detections": str(tmp_path / "md.json"),
            "deployments": str(write_deployments(tmp_path, rows)),
            "setting": {"model": "rand_mnv2", "reducer": "pca", "clusterer": "ward"},
            "k": 1,
        }
    }
    with pytest.raises(ConfigError, match=rf"config key 'sort\.season\.deployments': .*{problem}"):
        validate_config(config)


def test_a_good_deployments_csv_with_a_location_name_passes_the_config_check(tmp_path):
    from zsc.data.deployments import deployment_problems

    path = write_deployments(
        tmp_path,
        [
            {
                "camera": "cam1",
                "latitude": 51.2,
                "longitude": 4.4,
                "locationName": "pond",
                "deploymentStart": "2026-05-01T08:00:00+02:00",
                "deploymentEnd": "2026-06-01T08:00:00Z",
            }
        ],
    )
    assert deployment_problems(path, ["cam1"]) == []


def test_a_card_copied_with_its_dcim_folders_is_one_camera_and_camera_level_overrides_it(tmp_path):
    from zsc.data.sequences import inbox_cameras

    assert camera_of("cam2/DCIM/100MEDIA/IMG_0105.JPG") == camera_of("cam2/DCIM/101MEDIA/IMG_0001.JPG") == "cam2"
    assert camera_of("site1/cam2/dcim/100_BTCF/IMG_1.JPG") == "site1/cam2"
    assert camera_of("site1/cam2/DCIM/100MEDIA/IMG_1.JPG", camera_level=1) == "site1"
    for path in ("cam1/DCIM/100MEDIA/a.jpg", "cam1/DCIM/101MEDIA/b.jpg", "cam2/c.jpg"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 8)).save(tmp_path / path)
    assert inbox_cameras(tmp_path) == ["cam1", "cam2"]


def test_a_package_without_deployment_coordinates_is_refused_naming_what_is_missing(tmp_path):
    from zsc.sorting.exports.camtrap_dp import CamtrapExportError, read_deployments

    with pytest.raises(CamtrapExportError, match=r"sort\.<run>\.deployments.*latitude, longitude.*cam1"):
        read_deployments(None, ["cam1", "cam2"])
    with pytest.raises(CamtrapExportError, match=r"no row for camera folder\(s\) \['cam2'\]"):
        read_deployments(
            write_deployments(tmp_path, [{"camera": "cam1", "latitude": 1, "longitude": 2}]), ["cam1", "cam2"]
        )
    with pytest.raises(CamtrapExportError, match="latitude 'north' is not a number between -90 and 90"):
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


def test_an_unreadable_frame_is_a_frame_with_its_status_and_a_place_in_final():
    from zsc.data.detections import Detections
    from zsc.sorting.frames import frame_plan, frame_statuses

    manifest = pd.DataFrame({"image_id": ["cam1/a.jpg"], "width": [100], "height": [100]})
    rejects = pd.DataFrame(
        {
            "image_id": ["cam1/b.jpg", "cam1/notes.txt"],
            "stage": "scan",
            "reason": ["cannot decode: truncated", "not an image"],
        }
    )
    boxes = pd.DataFrame(
        [("cam1/a.jpg", 0, "animal", 0.9, 0.1, 0.1, 0.2, 0.2)],
        columns=["frame", "detection", "category", "confidence", "x", "y", "width", "height"],
    ).assign(absolute=False)
    found = Detections(boxes, {"cam1/b.jpg": "Failure image access"}, {"cam1/a.jpg", "cam1/b.jpg"}, "test")
    table, animals = frame_statuses(manifest, found, 0.2, rejects)
    assert table.set_index("image_id")["status"].to_dict() == {"cam1/a.jpg": "animal", "cam1/b.jpg": "unreadable"}
    assert "truncated" in table.set_index("image_id").loc["cam1/b.jpg", "reason"]
    plan = frame_plan(table, pd.DataFrame({"frame": ["cam1/a.jpg"], "label": ["Vulpes vulpes"]}))
    assert plan.set_index("image_id").loc["cam1/b.jpg", "file"] == "_unreadable/cam1/b.jpg"


def test_the_written_back_detections_keep_everything_that_came_in_and_add_the_review():
    from zsc.sorting.exports.md_detections import reviewed_detections

    document = json.loads(json.dumps(BATCH))
    document["info"]["detector"] = "md_v5a.0.0.pt"
    frame_of = {entry["file"]: entry["file"] for entry in document["images"]}
    frames = pd.DataFrame(
        {
            "image_id": [*frame_of, "cam3/IMG_9.JPG"],
            "status": ["animal", "blank", "failure", "person", "unreadable"],
            "reason": ["", "", "", "", "truncated"],
        }
    )
    labels = {("cam1/100RECNX/IMG_0001.JPG", 0): "Vulpes vulpes", ("cam2/IMG_0004.JPG", 1): "not an animal"}
    written = reviewed_detections(document, frame_of, "", frames, labels, "season")
    assert (
        written["info"]["detector"] == "md_v5a.0.0.pt" and "classifications added to 1" in written["info"]["zsc_review"]
    )
    images = {entry["file"]: entry for entry in written["images"]}
    assert images["cam1/100RECNX/IMG_0001.JPG"]["detections"][0]["classifications"] == [["1", 1.0]]
    assert written["classification_categories"] == {"1": "Vulpes vulpes"}
    person_frame = images["cam2/IMG_0004.JPG"]["detections"]
    assert len(person_frame) == 2 and all("classifications" not in d for d in person_frame)  # kept, none added
    assert images["cam2/IMG_0003.JPG"]["failure"] == "Failure image access"
    assert images["cam3/IMG_9.JPG"]["failure"] == "unreadable: truncated"  # the whole season is listed
    assert "classifications" not in json.dumps(BATCH)  # the input itself is untouched


def test_the_season_summary_counts_independent_detections_per_species_and_camera():
    from zsc.sorting.exports.season_summary import season_summary

    t = datetime(2026, 5, 1, 6, 0, 0)
    frames = pd.DataFrame(
        {
            "image_id": ["a", "b", "c", "d", "e"],
            "species": ["fox", "fox", "fox", "fox", "deer"],
            "camera": ["cam1", "cam1", "cam1", "cam2", "cam1"],
            "time": [t, t.replace(minute=10), t.replace(hour=7), t, None],
        }
    )
    table, events = season_summary(frames, 30)
    row = table.set_index(["species", "camera"])
    assert row.loc[("fox", "cam1"), "frames"] == 3 and row.loc[("fox", "cam1"), "independent_detections"] == 2
    assert row.loc[("fox", "cam2"), "independent_detections"] == 1
    assert row.loc[("deer", "cam1"), "independent_detections"] == 1 and row.loc[("deer", "cam1"), "first_date"] == ""
    assert row.loc[("fox", "cam1"), "first_date"] == "2026-05-01" and len(events) == 4


def camera_frame(path, size=(4000, 3000), orientation: int | None = None, seed: int = 0):
    """A textured camera-sized JPEG (optionally stored turned, with its EXIF orientation)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, size=(size[1] // 16, size[0] // 16, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize(size, Image.BILINEAR)
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
        image = image.transpose(Image.Transpose.ROTATE_90)  # stored turned: orientation 6 turns it back upright
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, quality=92, exif=exif)
    return path


@pytest.mark.parametrize("workers", [1, 2])
def test_crops_decoded_at_the_scale_their_boxes_need_match_full_resolution_crops(tmp_path, workers):
    import numpy as np

    from zsc.data.images import open_rgb
    from zsc.sorting.frames import CROP_LONG_SIDE, CROP_PAD, decode_scale, write_crops

    root = tmp_path / "inbox"
    camera_frame(root / "cam1/big.jpg", seed=1)
    camera_frame(root / "cam1/small.jpg", seed=2)
    camera_frame(root / "cam2/turned.jpg", orientation=6, seed=3)
    boxes = {  # frame -> boxes (x, y, width, height), fractions of the upright frame
        "cam1/big.jpg": [(0.1, 0.2, 0.3, 0.25), (0.6, 0.5, 0.25, 0.3)],  # squares of 1,200 px and more: 1/2
        "cam1/small.jpg": [(0.4, 0.4, 0.03, 0.04)],  # 120 px: needs full resolution
        "cam2/turned.jpg": [(0.3, 0.1, 0.2, 0.3)],
    }
    animals = pd.DataFrame(
        [(f, d, 0.9, *b) for f, bs in boxes.items() for d, b in enumerate(bs)],
        columns=["frame", "detection", "confidence", "x", "y", "width", "height"],
    )
    assert decode_scale(4000, 3000, boxes["cam1/big.jpg"], CROP_LONG_SIDE) < 0.5
    assert decode_scale(4000, 3000, boxes["cam1/small.jpg"], CROP_LONG_SIDE) == 1.0
    manifest = write_crops(root, animals, tmp_path / "crops", workers=workers).set_index("image_id")
    assert len(manifest) == 4
    for frame, frame_boxes in boxes.items():
        full = open_rgb(root / frame)  # today's way: the whole frame at full resolution
        for detection, box in enumerate(frame_boxes):
            expected = full.crop(square_crop(box, *full.size, CROP_PAD))
            expected.thumbnail((CROP_LONG_SIDE, CROP_LONG_SIDE))
            today = tmp_path / "today.jpg"  # the crop file today's code writes
            expected.save(today, format="JPEG", quality=90)
            name = f"{frame}~d{detection}.jpg"
            with Image.open(tmp_path / "crops" / name) as got, Image.open(today) as reference:
                assert got.size == expected.size, name
                difference = np.abs(np.asarray(got.convert("RGB"), float) - np.asarray(reference, float)).mean()
            # JPEG tolerance: writing today's crop as a JPEG alone moves it ~4 (0-255) from the decoded pixels
            assert difference < 2.5, (name, difference)
            assert tuple(manifest.loc[name, ["width", "height"]]) == expected.size
