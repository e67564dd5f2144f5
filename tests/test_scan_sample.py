"""Scanning folders into manifest + rejects, the content fingerprint, and seeded samples."""

import pandas as pd
import pytest
from PIL import Image

from zsc.data.demo import generate
from zsc.data.sampling import draw_sample
from zsc.data.scan import Layout, folder_fingerprint, scan_folder


def _jpeg(path, size=(40, 30)):
    """A small JPEG whose colour depends on its path, so no two test files are exact duplicates."""
    path.parent.mkdir(parents=True, exist_ok=True)
    seed = sum(map(ord, str(path)))
    Image.new("RGB", size, (seed % 256, (seed * 7) % 256, (seed * 13) % 256)).save(path)


def test_flat_layout(tmp_path):
    for species in ("owl", "fox"):
        for i in range(3):
            _jpeg(tmp_path / species / f"{i}.jpg")
    manifest, rejects = scan_folder(tmp_path, Layout())
    assert len(manifest) == 6 and rejects.empty
    assert set(manifest["label"]) == {"owl", "fox"} and set(manifest["group"]) == {""}
    row = manifest.iloc[0]
    assert row["image_id"] == "fox/0.jpg" and (row["width"], row["height"]) == (40, 30) and row["format"] == "JPEG"


def test_nested_layout_keeps_group_and_rejects_with_reasons(tmp_path):
    _jpeg(tmp_path / "Aves" / "owl" / "a.jpg")
    _jpeg(tmp_path / "Mammalia" / "fox" / "b.jpg")
    (tmp_path / "Aves" / "owl" / "broken.jpg").write_bytes(b"not really a jpeg")
    (tmp_path / "Aves" / "owl" / "notes.txt").write_text("field notes")
    (tmp_path / "loose.jpg").write_bytes((tmp_path / "Aves" / "owl" / "a.jpg").read_bytes())
    manifest, rejects = scan_folder(tmp_path, Layout(label_level=-1, group_level=0))
    assert manifest.set_index("image_id")["group"].to_dict() == {
        "Aves/owl/a.jpg": "Aves",
        "Mammalia/fox/b.jpg": "Mammalia",
    }
    reasons = rejects.set_index("image_id")["reason"].to_dict()
    assert reasons["Aves/owl/broken.jpg"].startswith("not a decodable image")
    assert reasons["Aves/owl/notes.txt"].startswith("not an image extension")
    assert reasons["loose.jpg"] == "not inside a species folder"
    assert len(manifest) + len(rejects) == 5


def test_fingerprint_changes_with_content_only(tmp_path):
    _jpeg(tmp_path / "owl" / "a.jpg")
    first = folder_fingerprint(tmp_path)
    assert folder_fingerprint(tmp_path) == first
    (tmp_path / "week-2" / "DCIM" / "100MEDIA").mkdir(parents=True)  # next week's card, still empty
    assert folder_fingerprint(tmp_path) == first
    (tmp_path / "linked").symlink_to(tmp_path / "week-2")  # a link to a folder counts: it can be re-pointed
    assert folder_fingerprint(tmp_path) != first
    (tmp_path / "linked").unlink()
    _jpeg(tmp_path / "owl" / "b.jpg")
    assert folder_fingerprint(tmp_path) != first


def test_demo_data_is_deterministic(tmp_path):
    a = generate(tmp_path / "a", n_species=3, per_species=2, seed=5, size=48)
    b = generate(tmp_path / "b", n_species=3, per_species=2, seed=5, size=48)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    c = generate(tmp_path / "c", n_species=3, per_species=2, seed=6, size=48)
    assert [p.read_bytes() for p in a] != [p.read_bytes() for p in c]


@pytest.fixture
def manifest():
    rows = [
        {"image_id": f"{label}/{i}.jpg", "label": label, "group": ""}
        for label, n in (("a", 12), ("b", 8), ("c", 2))
        for i in range(n)
    ]
    return pd.DataFrame(rows)


def test_even_sample_is_seeded_and_flags_short_species(manifest):
    spec = {"kind": "even", "per_class": 10, "min_per_class": 3}
    first, again, other = (draw_sample(manifest, spec, seed) for seed in (1, 1, 2))
    pd.testing.assert_frame_equal(first, again)
    assert not first["image_id"].equals(other["image_id"])
    counts = first.groupby("label").size().to_dict()
    assert counts == {"a": 10, "b": 8}
    assert first.groupby("label")["short"].first().to_dict() == {"a": False, "b": True}
    assert first.attrs["excluded"] == ["c"]


def test_sample_needs_two_species(manifest):
    with pytest.raises(ValueError, match="at least 2 species"):
        draw_sample(manifest, {"kind": "even", "per_class": 5, "min_per_class": 9}, seed=0)
