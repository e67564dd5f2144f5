"""Applying a reviewer's CSV: validation, safe folder names, labels from a table (no workflow run)."""

from __future__ import annotations

import pandas as pd
import pytest

from zsc.data.scan import label_from_table, read_label_table
from zsc.sorting.apply import UNREVIEWED, apply_to_photos, label_folders, read_review, safe_folder_name


def write_csv(path, text):
    path.write_text(text)
    return path


def test_read_review_refuses_unknown_images_two_labels_and_a_wrong_header(tmp_path):
    ids = ["a.jpg", "b.jpg", "c.jpg"]
    with pytest.raises(ValueError, match="none of its 2 image id.s. is a photo of this run"):
        read_review(write_csv(tmp_path / "x.csv", "image_id,label\ny.jpg,fox\nz.jpg,fox\n"), ids)
    with pytest.raises(ValueError, match="two different labels"):
        read_review(write_csv(tmp_path / "y.csv", "image_id,label\na.jpg,fox\na.jpg,hare\n"), ids)
    with pytest.raises(ValueError, match="image_id,label"):
        read_review(write_csv(tmp_path / "z.csv", "file,species\na.jpg,fox\n"), ids)
    with pytest.raises(FileNotFoundError, match="export it"):
        read_review(tmp_path / "absent.csv", ids)
    review, gone, _ = read_review(
        write_csv(tmp_path / "ok.csv", 'image_id,label\na.jpg, fox \nb.jpg,\n"c.jpg","a, b"\n'), ids
    )
    assert gone == []
    assert review.to_dict() == {"a.jpg": "fox", "c.jpg": "a, b"}  # empty label = not reviewed


@pytest.mark.parametrize(
    "label, folder",
    [
        ("Vulpes vulpes", "Vulpes vulpes"),
        ("red/grey fox", "red_grey fox"),
        ("..", "_"),
        (".hidden", "_hidden"),
        ("what?", "what_"),
        ("CON", "_CON"),
        ("ends with dot.", "ends with dot"),
        (UNREVIEWED, UNREVIEWED + "_label"),
        ("tab\there", "tab_here"),
    ],
)
def test_safe_folder_names(label, folder):
    assert safe_folder_name(label) == folder


def test_long_labels_and_colliding_labels_get_distinct_valid_folders():
    long = "x" * 400
    assert len(safe_folder_name(long).encode()) <= 255
    folders = label_folders(["a/b", "a_b", "Fox", "fox", long])
    assert folders["folder"].str.casefold().is_unique
    assert folders.set_index("label").loc["a_b", "changed"] == False  # noqa: E712 (first keeps its name)
    assert set(folders[folders["changed"]]["label"]) == {"a/b", "fox", long}


def test_apply_review_writes_named_folders_and_unreviewed(tmp_path):
    root = tmp_path / "inbox"
    (root / "cam1").mkdir(parents=True)
    for name in ("cam1/a.jpg", "b.jpg", "c.jpg"):
        (root / name).write_bytes(name.encode())
    assignments = pd.DataFrame({"image_id": ["b.jpg", "c.jpg", "cam1/a.jpg"], "cluster": [0, 1, 0]})
    review = pd.Series({"cam1/a.jpg": "red/fox", "c.jpg": "hare"})
    labels, folders, _ = apply_to_photos(root, assignments, review, tmp_path / "final", "copy")
    assert (tmp_path / "final/red_fox/cam1/a.jpg").read_bytes() == b"cam1/a.jpg"  # mirrors the inbox
    assert (tmp_path / "final/hare/c.jpg").read_bytes() == b"c.jpg"
    assert (tmp_path / "final" / UNREVIEWED / "b.jpg").read_bytes() == b"b.jpg"
    assert labels.set_index("image_id")["folder"].to_dict() == {
        "b.jpg": UNREVIEWED,
        "c.jpg": "hare",
        "cam1/a.jpg": "red_fox",
    }


def test_labels_from_a_table_account_for_every_row_and_photo(tmp_path):
    table = read_label_table(
        write_csv(tmp_path / "labels.csv", "image_id,label,group\na.jpg,fox,Mammalia\nb.jpg,,\ngone.jpg,fox,\n")
    )
    manifest = pd.DataFrame({"image_id": ["a.jpg", "b.jpg", "c.jpg"], "label": "", "group": ""})
    rejects = pd.DataFrame(columns=["image_id", "stage", "reason"])
    kept, rejected = label_from_table(manifest, rejects, table)
    assert kept[["image_id", "label", "group"]].values.tolist() == [["a.jpg", "fox", "Mammalia"]]
    assert dict(zip(rejected["image_id"], rejected["reason"])) == {
        "b.jpg": "no label in the labels CSV",
        "c.jpg": "no label in the labels CSV",
        "gone.jpg": "listed in the labels CSV but not found under the root",
    }
    with pytest.raises(ValueError, match="two labels"):
        read_label_table(write_csv(tmp_path / "two.csv", "image_id,label\na.jpg,fox\na.jpg,hare\n"))
