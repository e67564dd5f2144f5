"""The reliability issue's hostile probes, one test per numbered point (test_pNN_...), plus its minor ones.

Each test reproduces the probe as the issue describes it, on real files: real photos decoded by
Pillow, real parquet files, a real full disk (a small tmpfs, mounted as root as in CI), a real
``kill -9``, real concurrent processes, headless Chromium for the review page.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from conftest import REPO, needs_chromium, tiny_config
from zsc.config import SCHEMA_PATH as SCHEMA  # noqa: E402
from zsc.config import ConfigError, validate_config
from zsc.data.scan import folder_fingerprint
from zsc.io import DiskFull, InputError, atomic_path, copy_verified, read_embeddings
from zsc.sorting.apply import GONE_PROBLEM, UNREVIEWED, label_folders, read_review
from zsc.sorting.assign import SortInputError
from zsc.steps import aggregate as steps_aggregate
from zsc.steps import data as steps_data
from zsc.steps import embed as steps_embed
from zsc.steps import sort as steps_sort

SMALL_MODEL = {
    "backend": "timm",
    "id": "mobilenetv2_100",
    "weights": "random",
    "img_size": 32,
    "batch_size": 4,
    "precision": "fp32",
}


def photo(path: Path, seed: int, size: int = 48, fmt: str = "JPEG") -> Path:
    """A real, distinct photo (noise, so no two seeds give the same bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, fmt)
    return path


def inbox(root: Path, n: int, size: int = 48, fmt: str = "JPEG") -> Path:
    for i in range(n):
        photo(root / f"cam{i % 2}" / f"IMG_{i:04d}.{'jpg' if fmt == 'JPEG' else 'png'}", seed=i, size=size, fmt=fmt)
    return root


def fake_embeddings(manifest: pd.DataFrame, path: Path, dim: int = 16) -> None:
    """Embeddings that follow the photo's content (exact duplicates get the same row), as the model's would."""
    from zsc.embedding.embed import write_embedding_file

    matrix = np.stack([np.random.default_rng(int(h[:8], 16)).normal(size=dim) for h in manifest["content_hash"]])
    write_embedding_file(manifest[["image_id", "label", "group"]], matrix.astype(np.float32), {"model_name": "m"}, path)


def sort_run(
    out: Path,
    root: Path,
    k: int | None = 2,
    link: str = "copy",
    reducer=None,
    clusterer=None,
    known: Path | None = None,
    **run,
):
    """scan -> (content-following) embeddings -> assign, the sort run's jobs called as its scripts call them;
    ``known``: the reviewed labels (a weekly run), with the run's final/ record read as the rule reads it."""
    out.mkdir(parents=True, exist_ok=True)
    steps_data.scan_inbox(str(root), str(out / "manifest.parquet"), str(out / "rejects.csv"))
    manifest = pd.read_parquet(out / "manifest.parquet")
    fake_embeddings(manifest, out / "embeddings.parquet")
    setting = {
        "model": "m",
        "reducer": "r",
        "clusterer": "c",
        "source": "test",
        "reducer_spec": reducer or {"method": "pca"},
        "clusterer_spec": clusterer or {"method": "ward"},
    }
    (out / "setting.json").write_text(json.dumps(setting))
    spec = {"seed": 1, "min_silhouette": 0.0, "link": link, **run, **({"k": k} if k is not None else {})}
    if known is not None:
        spec.setdefault("known_quantile", 0.9)
        run_known = {
            "known_path": str(known),
            "index_path": str(out / "known-index.npz"),
            "applied_dir": str(out / "final"),
        }
    else:
        run_known = {}
    outputs = {
        "info_path": str(out / "assign.json"),
        "assignments_path": str(out / "assignments.csv"),
        "review_path": str(out / "review.csv"),
        "folders_dir": str(out / "clusters"),
    }
    steps_sort.assign(
        str(out / "manifest.parquet"),
        str(out / "embeddings.parquet"),
        str(out / "setting.json"),
        spec,
        str(root),
        **outputs,
        **run_known,
    )
    return pd.read_csv(out / "assignments.csv", keep_default_na=False)


def apply(out: Path, root: Path, review_csv: Path, link: str = "copy") -> pd.DataFrame:
    steps_sort.apply_review(
        str(root),
        str(out / "manifest.parquet"),
        str(out / "assignments.csv"),
        str(review_csv),
        link,
        str(out / "final"),
        labels_path=str(out / "labels.csv"),
        label_folders_path=str(out / "label_folders.csv"),
    )
    return pd.read_csv(out / "labels.csv", keep_default_na=False)


def review_csv(path: Path, labels: dict[str, str]) -> Path:
    pd.DataFrame({"image_id": list(labels), "label": list(labels.values())}).to_csv(path, index=False)
    return path


# ----------------------------------------------------------------------- data loss and misfiled photos


def test_p01_a_killed_copy_leaves_no_stub_under_the_final_name(tmp_path):
    """kill -9 in the middle of a copy: the photo's final name never holds part of it."""
    source = tmp_path / "photo.jpg"
    os.mkfifo(source)  # the copy blocks after what we have written, so the kill lands mid-copy
    target = tmp_path / "final" / "sp0" / "photo.jpg"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from zsc.io import copy_verified; copy_verified(sys.argv[1], sys.argv[2])",
            str(source),
            str(target),
        ]
    )
    with open(source, "wb") as writer:
        writer.write(os.urandom(3 << 20))
        writer.flush()
        time.sleep(1.0)
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert not target.exists()
    assert [p.name.startswith(".photo.jpg.partial-") for p in target.parent.iterdir()] == [True]


@pytest.fixture
def full_disk(tmp_path):
    """A real 1.5 MB file system (tmpfs; mounting needs root, as CI runs)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1536k", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {result.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_p01_a_full_disk_is_one_line_naming_the_folder_and_leaves_nothing_complete_looking(tmp_path, full_disk):
    root = inbox(tmp_path / "inbox", 8, size=400, fmt="PNG")  # ~0.5 MB each: 8 of them do not fit
    out = full_disk / "run"
    with pytest.raises(DiskFull, match=r"No space left on the device holding .*small-disk"):
        sort_run(out, root, k=2)
    assert not (out / "clusters").exists() and not (out / "assignments.csv").exists()
    assert not (out / "review.csv").exists()
    # the job as Snakemake runs it: the console gets that one line, not only the log
    log = tmp_path / "assign.log"
    code = (
        "import sys; sys.path.insert(0, sys.argv[2]); from zsc.steps.common import logged; "
        "import test_hostile_probes as t; from pathlib import Path\n"
        "with logged(sys.argv[1]): t.sort_run(Path(sys.argv[3]), Path(sys.argv[4]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(log), str(REPO / "tests"), str(out), str(root)], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "error: No space left on the device holding" in result.stderr


def test_p02_reapplying_a_review_keeps_the_users_files_in_final(tmp_path):
    root = inbox(tmp_path / "inbox", 8)
    out = tmp_path / "run"
    assignments = sort_run(out, root)
    ids = assignments["image_id"].tolist()
    apply(out, root, review_csv(tmp_path / "r1.csv", {i: "sp0" for i in ids[:4]}))
    (out / "final/sp0/my_own_photo.jpg").write_bytes(b"the user's photo")
    (out / "final/sp0/NOTES.txt").write_text("seen at dawn")
    labels = apply(out, root, review_csv(tmp_path / "r2.csv", {i: "sp1" for i in ids[:4]}))
    assert (out / "final/sp0/my_own_photo.jpg").read_bytes() == b"the user's photo"
    assert (out / "final/sp0/NOTES.txt").read_text() == "seen at dawn"
    assert not (out / "final/sp0" / ids[0]).exists()  # ours, no longer planned: removed
    assert (out / "final/sp1" / ids[0]).read_bytes() == (root / ids[0]).read_bytes()  # mirrors the inbox
    assert set(labels["label"]) == {"sp1", ""}
    # a file the user put under a name the workflow wants keeps it; the photo gets another name
    (out / "final/sp1" / ids[4]).parent.mkdir(parents=True, exist_ok=True)
    (out / "final/sp1" / ids[4]).write_bytes(b"user's")
    labels = apply(out, root, review_csv(tmp_path / "r3.csv", {i: "sp1" for i in ids[:5]}))
    assert (out / "final/sp1" / ids[4]).read_bytes() == b"user's"
    moved = labels.set_index("image_id").loc[ids[4], "file"]
    assert "~zsc1" in moved and (out / "final" / moved).read_bytes() == (root / ids[4]).read_bytes()


def test_p02_a_copy_the_user_edited_in_final_is_kept_and_reported(tmp_path, capsys):
    root = inbox(tmp_path / "inbox", 6)
    out = tmp_path / "run"
    ids = sort_run(out, root)["image_id"].tolist()
    apply(out, root, review_csv(tmp_path / "r1.csv", {i: "fox" for i in ids[:2]}))
    edited = out / "final/fox" / ids[0]
    edited.write_bytes(edited.read_bytes()[::-1])  # same size, other bytes, a new mtime
    capsys.readouterr()
    apply(out, root, review_csv(tmp_path / "r2.csv", {i: "hare" for i in ids[:2]}))
    assert edited.read_bytes() == (root / ids[0]).read_bytes()[::-1]  # the user's edit stays
    assert not (out / "final/fox" / ids[1]).exists()  # ours and unedited: moved to its new name
    assert (out / "final/hare" / ids[0]).read_bytes() == (root / ids[0]).read_bytes()
    assert "were changed since and are kept" in capsys.readouterr().err


def test_p02_an_edit_that_kept_size_and_mtime_is_still_never_removed(tmp_path):
    """Size and mtime only let a copy be left alone; before the workflow removes one, it hashes it
    (an editor that keeps the mtime, as ``exiftool -P`` does, must not cost the user the edit)."""
    import os

    root = inbox(tmp_path / "inbox", 6)
    out = tmp_path / "run"
    ids = sort_run(out, root)["image_id"].tolist()
    apply(out, root, review_csv(tmp_path / "r1.csv", {ids[0]: "fox"}))
    edited = out / "final/fox" / ids[0]
    before = edited.stat()
    edited.write_bytes(edited.read_bytes()[::-1])
    os.utime(edited, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size, same mtime, other bytes
    apply(out, root, review_csv(tmp_path / "r2.csv", {ids[0]: "hare"}))
    assert edited.read_bytes() == (root / ids[0]).read_bytes()[::-1]
    assert (out / "final/hare" / ids[0]).read_bytes() == (root / ids[0]).read_bytes()


def test_p02_a_reapply_does_not_hash_the_copies_it_knows_unchanged(tmp_path, monkeypatch):
    """A copy keeps its size and mtime in the record; only a copy whose stat differs (or an old record
    without them) is hashed to tell the workflow's file from the user's."""
    from zsc.sorting import placement

    root = inbox(tmp_path / "inbox", 6)
    out = tmp_path / "run"
    ids = sort_run(out, root)["image_id"].tolist()
    review = review_csv(tmp_path / "r.csv", {i: "fox" for i in ids[:4]})
    apply(out, root, review)
    hashed = []
    real_hash = placement.content_hash
    monkeypatch.setattr(placement, "content_hash", lambda path: hashed.append(Path(path).name) or real_hash(path))
    apply(out, root, review)
    assert hashed == []
    record_file = placement.record_path(out / "final")
    record = pd.read_csv(record_file, dtype=str, keep_default_na=False)
    record[["file", "kind", "target", "content_hash"]].to_csv(record_file, index=False)  # as an older apply wrote it
    apply(out, root, review)
    assert sorted(hashed) == sorted(Path(f).name for f in record["file"])  # each copy verified once by its bytes ...
    hashed.clear()
    apply(out, root, review)
    assert hashed == []  # ... and known by its stat from then on
    assert all((out / "final/fox" / i).read_bytes() == (root / i).read_bytes() for i in ids[:4])


def test_p02_an_apply_killed_after_its_record_still_knows_its_own_links(tmp_path):
    """The record is extended before any write: links a killed apply wrote are the workflow's, not the user's."""
    from zsc.sorting.placement import record_path

    root = inbox(tmp_path / "inbox", 4)
    out = tmp_path / "run"
    ids = sort_run(out, root, link="symlink")["image_id"].tolist()
    apply(out, root, review_csv(tmp_path / "r1.csv", {ids[0]: "fox"}), link="symlink")
    record = pd.read_csv(record_path(out / "final"), dtype=str, keep_default_na=False)
    record["target"] = ""  # as the record stands while a killed apply was writing
    record.to_csv(record_path(out / "final"), index=False)
    apply(out, root, review_csv(tmp_path / "r2.csv", {ids[0]: "hare"}), link="symlink")
    assert not (out / "final/fox").exists() and (out / "final/hare" / ids[0]).is_symlink()


def test_p02_the_log_says_which_files_of_the_user_were_left(tmp_path, capsys):
    root = inbox(tmp_path / "inbox", 6)
    out = tmp_path / "run"
    ids = sort_run(out, root)["image_id"].tolist()
    apply(out, root, review_csv(tmp_path / "r1.csv", {ids[0]: "fox"}))
    (out / "final/fox/NOTES.txt").write_text("x")
    apply(out, root, review_csv(tmp_path / "r2.csv", {ids[0]: "fox"}))
    assert "fox/NOTES.txt" in capsys.readouterr().err


def test_p03_a_photo_removed_after_the_review_is_listed_its_copy_kept_and_the_rest_applied(tmp_path):
    root = inbox(tmp_path / "inbox", 8)
    out = tmp_path / "run"
    ids = sort_run(out, root)["image_id"].tolist()
    review = review_csv(tmp_path / "r.csv", {i: "sp0" for i in ids})
    apply(out, root, review)
    (root / ids[0]).unlink()
    sort_run(out, root)  # the inbox changed: rescanned and re-sorted, as Snakemake would
    labels = apply(out, root, review)
    assert (labels["label"] == "sp0").all()
    gone = labels[labels["image_id"] == ids[0]]  # its copy stays in final/ (round 3, item 1), listed as gone
    assert gone["problem"].str.contains("no longer in the inbox").all() and len(gone) == 1
    assert len([p for p in (out / "final/sp0").rglob("*") if not p.is_dir()]) == 8
    assert read_review(review, [i for i in ids if i != ids[0]]).gone == [ids[0]]


def test_p04_exact_duplicates_all_land_in_folders_beside_their_twin(tmp_path):
    root = inbox(tmp_path / "inbox", 12)
    shutil.copy(root / "cam0/IMG_0000.jpg", root / "cam0/IMG_0000 (1).jpg")
    shutil.copy(root / "cam1/IMG_0001.jpg", root / "cam1/IMG_0001 - Copy.jpg")
    out = tmp_path / "run"
    assignments = sort_run(out, root, k=3)
    assert len(assignments) == 14 and set(pd.read_csv(out / "rejects.csv")["image_id"]) == set()
    row = assignments.set_index("image_id")
    for copy, original in [
        ("cam0/IMG_0000 (1).jpg", "cam0/IMG_0000.jpg"),
        ("cam1/IMG_0001 - Copy.jpg", "cam1/IMG_0001.jpg"),
    ]:
        assert row.loc[copy, "duplicate_of"] == original and row.loc[original, "duplicate_of"] == ""
        assert row.loc[copy, "cluster"] == row.loc[original, "cluster"]
        assert (out / "clusters" / row.loc[copy, "file"]).read_bytes() == (root / original).read_bytes()
    # a benchmark still counts a photo once, and keeps the likely original, not the first name in order
    species = tmp_path / "species"
    for i in range(3):
        photo(species / "a" / f"star_{i:03d}.jpg", seed=i)
        photo(species / "b" / f"disc_{i:03d}.jpg", seed=10 + i)
    shutil.copy(species / "a/star_000.jpg", species / "a/star_000 (1).jpg")
    steps_data.scan(str(species), -1, None, 2, str(tmp_path / "m.parquet"), str(tmp_path / "rejects.csv"))
    rejects = pd.read_csv(tmp_path / "rejects.csv")
    assert rejects[["image_id", "reason"]].values.tolist() == [
        ["a/star_000 (1).jpg", "exact duplicate of a/star_000.jpg"]
    ]


def page(run: str, assignments: pd.DataFrame, path: Path) -> Path:
    from zsc.sorting.page import render_review_page

    path.write_text(render_review_page(run, assignments, {}))
    return path


@needs_chromium
def test_p05_saved_work_of_an_earlier_clustering_is_announced_and_can_be_exported(browser, tmp_path):
    ids = [f"IMG_{i}.jpg" for i in range(6)]
    first = pd.DataFrame(
        {
            "image_id": ids,
            "cluster": [0, 0, 0, 1, 1, 1],
            "doubtful": False,
            "reason": "",
            "nearest_cluster": 0,
            "distance_to_cluster": 0.0,
        }
    )
    second = pd.concat([first, first.iloc[:1].assign(image_id="IMG_new.jpg")], ignore_index=True)
    second["cluster"] = [1, 0, 0, 1, 1, 0, 1]  # re-clustered after one photo was added
    path = tmp_path / "review.html"
    context = browser.new_context(accept_downloads=True)
    view = context.new_page()
    view.goto(page("inbox", first, path).as_uri())
    view.fill('input[data-name="c0"]', "fox")
    view.keyboard.press("Enter")
    assert view.locator("#notice").is_hidden()
    view.goto(page("inbox", second, path).as_uri())  # the rerun's page, same file, same browser
    notice = view.locator("#notice")
    assert notice.is_visible() and "3 photos named" in notice.inner_text()
    with view.expect_download() as download:
        view.click("#exportEarlier")
    saved = tmp_path / "earlier.csv"
    download.value.save_as(saved)
    assert pd.read_csv(saved).values.tolist() == [["IMG_0.jpg", "fox"], ["IMG_1.jpg", "fox"], ["IMG_2.jpg", "fox"]]


def test_p06_photos_with_a_blank_group_are_rejects_with_a_reason(tmp_path):
    root = tmp_path / "photos"
    rows = []
    for i in range(12):
        image_id = f"p{i}.jpg"
        photo(root / image_id, seed=i)
        rows.append((image_id, f"sp{i % 3}", "" if i < 4 else "Aves"))
    labels = tmp_path / "labels.csv"
    pd.DataFrame(rows, columns=["image_id", "label", "group"]).to_csv(labels, index=False)
    steps_data.scan(
        str(root),
        -1,
        None,
        2,
        str(tmp_path / "m.parquet"),
        str(tmp_path / "r.csv"),
        labels_path=str(labels),
        split_by_group=True,
    )
    rejects = pd.read_csv(tmp_path / "r.csv")
    assert sorted(rejects["image_id"]) == [f"p{i}.jpg" for i in range(4)]
    assert rejects["reason"].str.contains("no group").all()
    assert len(pd.read_parquet(tmp_path / "m.parquet")) == 8


def test_p07_a_label_spelled_like_unreviewed_gets_its_own_folder():
    folders = label_folders(["_Unreviewed", "_UNREVIEWED", "fox"]).set_index("label")["folder"]
    assert all(folder.casefold() != UNREVIEWED for folder in folders)
    assert folders.str.casefold().is_unique


# ----------------------------------------------------------------------------------------- security


def test_p08_symlinks_leading_outside_the_inbox_are_rejected_and_a_swapped_file_is_refused(tmp_path):
    root = inbox(tmp_path / "inbox", 6)
    secret = tmp_path / "outside" / "secret.jpg"
    photo(secret, seed=99)
    os.symlink(secret, root / "cam0" / "link_out.jpg")
    os.symlink(root / "cam1" / "IMG_0001.jpg", root / "cam0" / "link_in.jpg")
    before = folder_fingerprint(root)
    out = tmp_path / "run"
    assignments = sort_run(out, root, k=2)
    rejects = pd.read_csv(out / "rejects.csv").set_index("image_id")["reason"]
    assert "outside the root" in rejects["cam0/link_out.jpg"]
    assert "cam0/link_in.jpg" in set(assignments["image_id"])  # a link inside the inbox is a photo
    # the link's target is swapped after the scan: the fingerprint sees it, the copy refuses it
    os.unlink(root / "cam0" / "link_in.jpg")
    os.symlink(secret, root / "cam0" / "link_in.jpg")
    assert folder_fingerprint(root) != before
    labels = apply(out, root, review_csv(tmp_path / "r.csv", {"cam0/link_in.jpg": "x", "cam0/IMG_0000.jpg": "x"}))
    problem = labels.set_index("image_id").loc["cam0/link_in.jpg", "problem"]
    assert "outside the inbox" in problem
    assert sorted(p.relative_to(out / "final/x").as_posix() for p in (out / "final/x").rglob("*.jpg")) == [
        "cam0/IMG_0000.jpg"
    ]
    # a file whose bytes changed since the scan is not copied under the scanned photo's name
    target = tmp_path / "copy.jpg"
    with pytest.raises(ValueError, match="changed since the scan"):
        copy_verified(root / "cam0/IMG_0000.jpg", target, expected_hash="0" * 24)
    assert not target.exists()


def test_p09_a_root_that_contains_the_working_directory_is_refused(tmp_path, monkeypatch):
    photos = inbox(tmp_path / "photos", 4)
    workdir = photos / "analysis"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    config = tiny_config(
        sort={
            "inbox": {
                "root": str(photos),
                "setting": {"model": "rand_mnv2", "reducer": "pca", "clusterer": "ward"},
                "k": 2,
            }
        }
    )
    with pytest.raises(ConfigError, match=r"sort.inbox.root.*contains the working directory") as error:
        validate_config(config, SCHEMA)
    assert str(photos) in str(error.value) and str(workdir) in str(error.value)


# ------------------------------------------------------------------------------- crashes and tracebacks


def test_p10_a_file_name_with_invalid_utf8_is_a_reject_and_the_fingerprint_works(tmp_path):
    root = inbox(tmp_path / "inbox", 4)
    bad = os.path.join(os.fsencode(root / "cam0"), b"\xff\xfe.jpg")
    with open(bad, "wb") as handle:
        handle.write((root / "cam0/IMG_0000.jpg").read_bytes() + b"x")
    assert len(folder_fingerprint(root)) == 16
    out = tmp_path / "run"
    sort_run(out, root, k=2)
    rejects = pd.read_csv(out / "rejects.csv")
    assert rejects.values.tolist() == [["cam0/\\xff\\xfe.jpg", "scan", "name is not valid UTF-8 (rename the file)"]]


def test_p11_control_characters_in_names_are_rejected_and_tables_stay_readable(tmp_path):
    root = inbox(tmp_path / "inbox", 4)
    shutil.copy(root / "cam0/IMG_0000.jpg", root / "cam0/bad\rname.jpg")
    (root / "cam0/bad\rname.jpg").write_bytes((root / "cam0/IMG_0000.jpg").read_bytes() + b"x")
    out = tmp_path / "run"
    assignments = sort_run(out, root, k=2)
    rejects = pd.read_csv(out / "rejects.csv")
    assert rejects.values.tolist() == [
        ["cam0/bad\\x0dname.jpg", "scan", "name contains a control character such as a line break (rename the file)"]
    ]
    assert len(assignments) == 4


def test_p12_an_empty_shard_is_an_empty_file_and_the_merge_works(tmp_path):
    root = inbox(tmp_path / "inbox", 3)
    steps_data.scan_inbox(str(root), str(tmp_path / "manifest.parquet"), str(tmp_path / "rejects.csv"))
    n_shards, paths = 20, []
    for shard in range(n_shards):
        stem = tmp_path / "shards" / f"{shard}-of-{n_shards}"
        steps_embed.embed(
            "m",
            SMALL_MODEL,
            str(root),
            str(tmp_path / "manifest.parquet"),
            f"{stem}.parquet",
            f"{stem}.rejects.csv",
            f"{stem}.stats.json",
            device="cpu",
            workers=0,
            cache_root=str(tmp_path / "cache"),
            shard=shard,
            n_shards=n_shards,
        )
        paths.append(stem)
    assert sum(len(read_embeddings(f"{p}.parquet")[0]) == 0 for p in paths) >= 17  # 3 photos, 20 shards
    steps_embed.merge_shards(
        str(tmp_path / "manifest.parquet"),
        [f"{p}.parquet" for p in paths],
        [f"{p}.rejects.csv" for p in paths],
        [f"{p}.stats.json" for p in paths],
        embeddings_path=str(tmp_path / "merged.parquet"),
        rejects_path=str(tmp_path / "merged.csv"),
        stats_path=str(tmp_path / "merged.json"),
    )
    frame, matrix = read_embeddings(tmp_path / "merged.parquet")
    assert len(frame) == 3 and matrix.shape[0] == 3 and np.isfinite(matrix).all()


def _cache(tmp_path, **spec):
    from zsc.embedding.cache import EmbeddingCache, cache_key

    return EmbeddingCache(tmp_path, cache_key({**SMALL_MODEL, **spec}, "random init", {"size": 32}, "cpu/fp32"))


def test_p13_a_truncated_cache_segment_is_set_aside_and_its_photos_embedded_again(tmp_path, capsys):
    cache = _cache(tmp_path)
    segment = cache.add([f"{i:024x}" for i in range(10)], np.ones((10, 8), np.float32))
    segment.write_bytes(segment.read_bytes()[: len(segment.read_bytes()) // 2])
    good = cache.add([f"{i:024x}" for i in range(10, 12)], np.zeros((2, 8), np.float32))
    found = cache.lookup([f"{i:024x}" for i in range(12)])
    assert sorted(found) == [f"{i:024x}" for i in (10, 11)]  # the torn segment's photos are missing: re-embedded
    assert not segment.exists() and segment.with_name(segment.name + ".bad-unreadable").exists() and good.exists()
    assert "set aside" in capsys.readouterr().err
    assert len(cache.lookup([f"{i:024x}" for i in range(12)])) == 2  # and it is never read again


def _atomic_writer(args):
    target, payload = args
    with atomic_path(target) as temporary:
        Path(temporary).write_bytes(payload)
        time.sleep(0.01)
    return True


def test_p14_concurrent_writers_never_remove_each_others_partial_files(tmp_path):
    import multiprocessing

    target = tmp_path / "segment.parquet"
    alive = tmp_path / f".{target.name}.partial-othernode-123-abc"
    alive.write_bytes(b"a live writer on another node")
    stale = tmp_path / f".{target.name}.partial-deadnode-1-def"
    stale.write_bytes(b"killed long ago")
    old = time.time() - 7 * 3600
    os.utime(stale, (old, old))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    killed = tmp_path / f".{target.name}.partial-{socket.gethostname()}-{dead.stdout.strip()}-0123456789ab"
    killed.write_bytes(b"a writer on this machine that was killed")
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.map(_atomic_writer, [(target, bytes([i]) * 1000) for i in range(240)])
    assert all(results) and target.read_bytes() in {bytes([i]) * 1000 for i in range(240)}
    assert alive.exists() and not stale.exists() and not killed.exists()
    assert not [p for p in tmp_path.glob(".*partial*") if p != alive]  # no writer left its own behind


def test_p15_aggregate_when_every_cell_failed_writes_its_tables(tmp_path):
    cells = []
    for seed in (1, 2):
        path = tmp_path / f"{seed}.json"
        path.write_text(
            json.dumps(
                {
                    "model": "m",
                    "reducer": "tsne",
                    "clusterer": "ward",
                    "sampling": "even",
                    "split": "pooled",
                    "seed": seed,
                    "status": "failed",
                    "reason": "reduce: ReducerError: too few points",
                    "reduce_seconds": 0.1,
                    "cluster_seconds": 0.0,
                    "per_species": [],
                }
            )
        )
        cells.append(str(path))
    names = [
        "parquet",
        "csv",
        "costs",
        "summary",
        "label_free",
        "leaderboard",
        "leaderboard_models",
        "pairwise",
        "outliers",
        "per_species",
        "rejects",
    ]
    outputs = {name: str(tmp_path / f"{name}.{'parquet' if name == 'parquet' else 'csv'}") for name in names}
    reject = tmp_path / "scan.csv"
    reject.write_text("image_id,stage,reason\n")
    steps_aggregate.aggregate(cells, [str(reject)], {}, outputs)
    assert pd.read_csv(outputs["csv"])["reason"].tolist() == ["reduce: ReducerError: too few points"] * 2
    assert pd.read_csv(outputs["leaderboard"]).empty


def test_p15_a_sort_with_more_components_than_photos_is_one_line(tmp_path):
    root = inbox(tmp_path / "inbox", 5)
    with pytest.raises(SortInputError, match=r"reducer 'pca' cannot run on 5 distinct photo"):
        sort_run(tmp_path / "run", root, k=2, reducer={"method": "pca", "n_components": 10})


def test_a_sort_run_records_the_parameters_it_used_as_a_benchmark_cell_does(tmp_path):
    sort_run(tmp_path / "run", inbox(tmp_path / "inbox", 12), k=3)
    info = json.loads((tmp_path / "run/assign.json").read_text())
    assert info["params"] == {"method": "ward", "k": 3, "connectivity": None, "n_neighbors": 10}
    assert info["reducer_params"]["method"] == "pca" and info["reducer_params"]["n_components"] == 2
    assert info["n_photos"] == info["n_distinct"] == 12


def test_p16_degenerate_inboxes_are_sorted_or_refused_in_one_line(tmp_path):
    one = inbox(tmp_path / "one", 1)
    assignments = sort_run(tmp_path / "run1", one, k=1)
    assert assignments["cluster"].tolist() == [0] and len(list((tmp_path / "run1/clusters").rglob("*.jpg"))) == 1
    six = tmp_path / "six"
    for i in range(6):
        six.mkdir(exist_ok=True)
        shutil.copy(photo(tmp_path / "p.jpg", seed=1), six / f"same_{i}.jpg")
    assignments = sort_run(
        tmp_path / "run6", six, k=None, clusterer={"method": "hdbscan", "min_cluster_size": 2, "min_samples": 1}
    )
    assert assignments["cluster"].nunique() == 1 and len(assignments) == 6
    assert len(list((tmp_path / "run6/clusters").rglob("*.jpg"))) == 6
    with pytest.raises(SortInputError, match=r"k=9 groups asked for, but the inbox has only 4 distinct"):
        sort_run(tmp_path / "runk", inbox(tmp_path / "four", 4), k=9)
    with pytest.raises(SortInputError, match=r"expected_group_size=50 is larger than the 4 distinct"):
        sort_run(
            tmp_path / "rung",
            tmp_path / "four",
            k=None,
            expected_group_size=50,
            clusterer={"method": "hdbscan", "min_cluster_size": 150, "min_samples": 50},
        )


def test_p17_a_split_with_one_species_is_a_config_error(tmp_path):
    root = tmp_path / "photos"
    for group, species in [("Aves", ["robin", "wren"]), ("Mammalia", ["fox"])]:
        for name in species:
            for i in range(3):
                photo(root / group / name / f"{i}.jpg", seed=hash((group, name, i)) % 10_000)
    config = tiny_config()
    config["datasets"] = {"d": {"root": str(root), "label_level": -1, "group_level": 0, "split_by": "group"}}
    with pytest.raises(ConfigError, match=r"split 'Mammalia' has 1 species"):
        validate_config(config, SCHEMA)
    manifest = pd.DataFrame({"image_id": ["a", "b"], "label": ["fox", "fox"], "group": ["Mammalia"] * 2})
    manifest.to_parquet(tmp_path / "m.parquet")
    with pytest.raises(ValueError, match=r"split 'Mammalia' has 1 usable species"):
        steps_data.sample(
            str(tmp_path / "m.parquet"),
            {"kind": "all", "min_per_class": 1},
            1,
            str(tmp_path / "s.parquet"),
            group="Mammalia",
        )


def test_p18_a_latin1_review_csv_is_one_line_naming_the_file(tmp_path):
    path = tmp_path / "review.csv"
    path.write_bytes("image_id,label\na.jpg,Bécasse\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"review CSV .*review.csv is not UTF-8 text .*save it as 'CSV UTF-8'"):
        read_review(path, ["a.jpg"])
    path.write_bytes("\ufeffimage_id,label\na.jpg,Bécasse\n".encode("utf-8"))  # Excel's "CSV UTF-8" has a BOM
    assert read_review(path, ["a.jpg"])[0].to_dict() == {"a.jpg": "Bécasse"}


def test_p19_the_same_image_and_label_twice_with_another_column_is_one_label(tmp_path):
    path = tmp_path / "review.csv"
    path.write_text("image_id,label,note\na.jpg,fox,first look\na.jpg,fox,second look\n")
    assert read_review(path, ["a.jpg"])[0].to_dict() == {"a.jpg": "fox"}


def test_p20_windows_paths_in_a_labels_csv_match_their_photos_or_say_so(tmp_path):
    from zsc.data.scan import label_from_table, read_label_table

    manifest = pd.DataFrame({"image_id": ["cam1/IMG_1.jpg", "cam1/IMG_2.jpg"], "label": "", "group": ""})
    rejects = pd.DataFrame(columns=["image_id", "stage", "reason"])
    (tmp_path / "win.csv").write_text("image_id,label\ncam1\\IMG_1.jpg,fox\n.\\cam1\\IMG_2.jpg,hare\n")
    kept, _ = label_from_table(manifest, rejects, read_label_table(tmp_path / "win.csv"))
    assert kept[["image_id", "label"]].values.tolist() == [["cam1/IMG_1.jpg", "fox"], ["cam1/IMG_2.jpg", "hare"]]
    (tmp_path / "other.csv").write_text("image_id,label\nD:/cards/x.jpg,fox\n")
    with pytest.raises(ValueError, match=r"none of its 1 image id.s. matches a photo under the root"):
        label_from_table(manifest, rejects, read_label_table(tmp_path / "other.csv"))


def test_p21_a_weights_file_that_is_not_weights_is_a_config_error(tmp_path):
    for name, content in [("notes.pth", b"these are my notes"), ("model.safetensors", b"\x00" * 20)]:
        (tmp_path / name).write_bytes(content)
        config = tiny_config()
        config["models"]["rand_mnv2"]["weights"] = str(tmp_path / name)
        with pytest.raises(ConfigError, match=r"models.rand_mnv2.weights.*is not a"):
            validate_config(config, SCHEMA)


# ------------------------------------------------------------------------------------ silent acceptance


def _embed(tmp_path, root, name, cache, shard=0, n_shards=1, only=None):
    manifest_path = tmp_path / f"{name}.manifest.parquet"
    steps_data.scan_inbox(str(root), str(manifest_path), str(tmp_path / f"{name}.rejects.csv"))
    if only is not None:
        manifest = pd.read_parquet(manifest_path)
        manifest[manifest["image_id"].isin(only)].to_parquet(manifest_path)
    out = tmp_path / f"{name}.parquet"
    steps_embed.embed(
        "m",
        SMALL_MODEL,
        str(root),
        str(manifest_path),
        str(out),
        str(tmp_path / f"{name}.er.csv"),
        str(tmp_path / f"{name}.json"),
        device="cpu",
        workers=0,
        cache_root=str(cache),
        shard=shard,
        n_shards=n_shards,
    )
    frame, matrix = read_embeddings(out)
    return dict(zip(frame["image_id"], matrix))


def test_p22_a_photos_embedding_does_not_depend_on_its_batch_companions_shards_or_cache(tmp_path):
    root = inbox(tmp_path / "inbox", 11)  # 11 photos, batches of 4: a short last batch
    cold = _embed(tmp_path, root, "cold", tmp_path / "cache_cold")
    ids = sorted(cold)
    warm_some = _embed(tmp_path, root, "warm1", tmp_path / "cache_warm", only=ids[3:6])
    warm_all = _embed(tmp_path, root, "warm2", tmp_path / "cache_warm")  # 3 from the cache, 8 embedded
    sharded = {}
    for shard in range(3):
        sharded.update(_embed(tmp_path, root, f"shard{shard}", tmp_path / "cache_shards", shard=shard, n_shards=3))
    assert len(warm_some) == 3 and sorted(warm_all) == sorted(sharded) == ids
    for image_id in ids:  # bit for bit
        assert cold[image_id].tobytes() == warm_all[image_id].tobytes() == sharded[image_id].tobytes(), image_id


def test_p23_a_cache_segment_copied_from_another_models_folder_is_not_used(tmp_path, capsys):
    mine, other = _cache(tmp_path), _cache(tmp_path, img_size=64)
    segment = other.add(["a" * 24], np.ones((1, 8), np.float32))
    mine.folder.mkdir(parents=True)
    shutil.copy(segment, mine.folder / segment.name)
    assert mine.lookup(["a" * 24]) == {} and "other-key" in capsys.readouterr().err
    assert other.lookup(["a" * 24])["a" * 24].tolist() == [1.0] * 8


def test_p24_labels_equal_after_nfc_normalisation_are_one_label(tmp_path):
    path = tmp_path / "review.csv"
    path.write_text("image_id,label\na.jpg,B\u00e9casse\nb.jpg,Be\u0301casse\n", encoding="utf-8")
    review = read_review(path, ["a.jpg", "b.jpg"]).labels
    assert review.nunique() == 1 and len(label_folders(review.values)) == 1
    from zsc.data.scan import read_label_table

    labels = tmp_path / "labels.csv"
    labels.write_text("image_id,label\na.jpg,B\u00e9casse\nb.jpg,Be\u0301casse\n", encoding="utf-8")
    assert read_label_table(labels)["label"].nunique() == 1


def test_p25_a_same_size_same_mtime_change_needs_the_documented_forced_rescan(tmp_path):
    root = inbox(tmp_path / "inbox", 2)
    path = root / "cam0/IMG_0000.jpg"
    before, stat = folder_fingerprint(root), path.stat()
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # what `touch -r` does
    assert folder_fingerprint(root) == before  # the fingerprint cannot see it (by design: no hashing at parse)
    readme = (REPO / "README.md").read_text()
    assert "--forcerun sort_scan" in readme and "--forcerun scan" in readme


def test_p26_the_cache_key_records_pillow_and_numpy_versions():
    import PIL

    from zsc.embedding.backbones import build_backbone
    from zsc.embedding.embed import run_metadata

    versions = run_metadata("m", SMALL_MODEL, build_backbone("m", SMALL_MODEL), "")["versions"]
    assert versions["pillow"] == PIL.__version__ and versions["numpy"] == np.__version__


# ------------------------------------------------------------------------------------------- minor ones


def test_minor_a_label_keeps_its_own_folder_name_when_no_other_label_holds_it():
    folders = label_folders(["fox", "Fox", "fox~2"]).set_index("label")["folder"].to_dict()
    assert folders["fox~2"] == "fox~2" and folders["Fox"] == "Fox"
    assert folders["fox"].casefold() not in {"fox", "fox~2"}


def test_minor_stale_shard_files_are_removed_when_the_shard_count_changes(tmp_path):
    folder = tmp_path / "shards" / "m"
    folder.mkdir(parents=True)
    for name in ["0-of-3.parquet", "1-of-3.stats.json", "0-of-2.parquet", "1-of-2.rejects.csv", "README.txt"]:
        (folder / name).write_text("x")
    steps_embed.remove_stale_shards([str(folder / "0-of-2.parquet"), str(folder / "1-of-2.parquet")])
    assert sorted(p.name for p in folder.iterdir()) == ["0-of-2.parquet", "1-of-2.rejects.csv", "README.txt"]


def test_a_failing_job_prints_its_reason_on_the_console_not_only_in_the_log(tmp_path):
    log = tmp_path / "job.log"
    code = (
        "import sys\nfrom zsc.steps.common import logged\nwith logged(sys.argv[1]):\n"
        "    raise ValueError('sort.x.k: k=9 groups asked for, but the inbox has only 4 photos')"
    )
    result = subprocess.run([sys.executable, "-c", code, str(log)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "error: sort.x.k: k=9 groups asked for, but the inbox has only 4 photos" in result.stderr
    assert "Traceback" in log.read_text()


# ------------------------------------------------------------------ round 3: final/ never loses a copy, one-line errors
def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_r3_01_reviewed_photos_removed_from_the_inbox_keep_their_copies_and_rows(tmp_path, capfd):
    root = inbox(tmp_path / "inbox", 8)
    out = tmp_path / "run"
    ids = sort_run(out, root)["image_id"].tolist()
    review = review_csv(tmp_path / "reviews.csv", {i: "fox" if n < 4 else "hare" for n, i in enumerate(ids)})
    apply(out, root, review)
    before = files_under(out / "final")
    removed = ids[:3]  # the card was cleared: three reviewed photos leave the inbox
    for image_id in removed:
        (root / image_id).unlink()
    sort_run(out, root, known=review)  # next week, as the weekly loop runs it
    capfd.readouterr()
    labels = apply(out, root, review)
    assert files_under(out / "final") == before  # every copy still there, byte for byte
    gone = labels.set_index("image_id").loc[removed]
    assert (gone["problem"] == GONE_PROBLEM).all() and (gone["label"] == "fox").all()
    assert set(labels["image_id"]) == set(ids)
    console = capfd.readouterr().err
    assert "3 copy(ies) in final/ of photos that left the inbox or changed are kept" in console
    assert "3 reviewed photo(s) are no longer in the inbox" in console
    labels = apply(out, root, review)  # and again: still kept, still listed
    assert files_under(out / "final") == before and len(labels) == len(ids)


def test_r3_01_in_symlink_mode_a_link_to_a_removed_photo_is_removed_and_said(tmp_path, capfd):
    root = inbox(tmp_path / "inbox", 6)
    out = tmp_path / "run"
    ids = sort_run(out, root, link="symlink")["image_id"].tolist()
    review = review_csv(tmp_path / "reviews.csv", {i: "fox" for i in ids})
    apply(out, root, review, link="symlink")
    (root / ids[0]).unlink()
    sort_run(out, root, link="symlink", known=review)
    capfd.readouterr()
    labels = apply(out, root, review, link="symlink")
    assert not os.path.lexists(out / "final/fox" / ids[0]) and ids[0] not in set(labels["image_id"])
    assert "1 link(s) in final/ to photos no longer in the inbox removed" in capfd.readouterr().err


@pytest.mark.parametrize("exported_by", ["page", "hand"])
def test_r3_02_a_reviewed_photo_overwritten_in_place_is_not_known_and_never_filed_under_its_old_label(
    tmp_path, capfd, exported_by
):
    root = inbox(tmp_path / "inbox", 8)
    out = tmp_path / "run"
    ids = sort_run(out, root)["image_id"].tolist()
    reviewed = pd.DataFrame({"image_id": ids, "label": "fox"})
    if exported_by == "page":  # the page's export says which bytes were reviewed
        hashes = pd.read_parquet(out / "manifest.parquet").set_index("image_id")["content_hash"]
        reviewed["content"] = ["sha256:" + hashes[i][:8] for i in ids]
    review = tmp_path / "reviews.csv"
    reviewed.to_csv(review, index=False)
    if exported_by == "hand":  # no content column: what the apply filed is the reference
        apply(out, root, review)
    target = root / ids[0]
    old_bytes = target.read_bytes()
    photo(target, seed=999)  # same name, another picture, a new mtime
    new_bytes = target.read_bytes()
    assignments = sort_run(out, root, known=review).set_index("image_id")
    assert assignments.loc[ids[0], "status"] != "known" and (assignments.drop(ids[0])["status"] == "known").all()
    assert "1 reviewed photo(s) hold other bytes than when they were reviewed" in capfd.readouterr().err
    labels = apply(out, root, review).set_index("image_id")
    fox = files_under(out / "final/fox")
    assert new_bytes not in fox.values()  # never the new picture under the old label
    filed = labels.loc[[ids[0]]]
    now = filed[filed["problem"] == ""]  # its current bytes: not reviewed any more
    assert now[["label", "folder"]].values.tolist() == [["", "_unreviewed"]]
    assert files_under(out / "final/_unreviewed") == {ids[0]: new_bytes}
    if exported_by == "hand":  # the copy of the old bytes that was filed stays: it may be the only one
        assert old_bytes in fox.values()


def test_r3_03_a_file_name_that_opens_a_script_comment_does_not_break_the_page(browser, tmp_path):
    from zsc.sorting.page import json_for_html, render_review_page

    hostile = ["<!--<script>.jpg", "</script><script>window.pwned=1</script>.jpg", "a&amp;b <b>.jpg", "ok.jpg"]
    assignments = pd.DataFrame(
        {
            "image_id": hostile,
            "cluster": [0, 0, 1, 1],
            "doubtful": False,
            "reason": ["<!-- a reason", "", "", "</script>"],
            "nearest_cluster": 0,
            "distance_to_cluster": 0.0,
        }
    )
    text = json_for_html({"names": hostile})
    assert not set("<>&") & set(text) and json.loads(text) == {"names": hostile}
    path = tmp_path / "review.html"
    path.write_text(render_review_page("<!--run", assignments, {}, vocabulary=["<!--", "</script>", "Fox & Hare"]))
    errors = []
    view = browser.new_page()
    view.on("pageerror", lambda error: errors.append(str(error)))
    view.goto(path.as_uri())
    view.wait_for_selector("body[data-ready]", timeout=10_000)
    shown = view.evaluate("() => JSON.parse(document.getElementById('zsc-data').textContent).ids")
    assert shown == hostile and not errors
    assert view.evaluate("() => window.pwned") is None
    assert view.locator("figure").count() == 4


def test_r3_04_a_review_csv_without_labels_or_of_the_runs_own_outputs_is_refused(tmp_path):
    root = inbox(tmp_path / "inbox", 6)
    out = tmp_path / "run"
    sort_run(out, root)
    with pytest.raises(InputError, match=r"assignments.csv: none of its 6 row\(s\) has a label"):
        apply(out, root, out / "assignments.csv")
    assert not (out / "final").exists()
    config = {
        **tiny_config(),
        "sort": {
            "inbox": {"root": str(root), "setting": {"model": "rand_mnv2", "reducer": "pca", "clusterer": "ward"}}
        },
    }
    for key in ("review", "known"):
        config["sort"]["inbox"][key] = "results/sort/inbox/assignments.csv"
        with pytest.raises(ConfigError, match=rf"sort.inbox.{key}': 'results/sort/inbox/assignments.csv' is an output"):
            validate_config(json.loads(json.dumps(config)))
        config["sort"]["inbox"][key] = "results/sort/other/assignments.csv"
        with pytest.raises(ConfigError, match=rf"sort.inbox.{key}'.*output of a sort run, not a review"):
            validate_config(json.loads(json.dumps(config)))
        del config["sort"]["inbox"][key]


def test_r3_05_labels_equal_ignoring_case_are_one_folder_and_the_console_says_so(tmp_path, capfd):
    root = inbox(tmp_path / "inbox", 4)
    out = tmp_path / "run"
    ids = sort_run(out, root)["image_id"].tolist()
    capfd.readouterr()
    labels = apply(out, root, review_csv(tmp_path / "r.csv", dict(zip(ids, ["fox", "Fox", "FOX", "hare"]))))
    assert sorted(set(labels["folder"])) == ["fox", "hare"]
    assert "are one label and one folder" in capfd.readouterr().err
    readme = (REPO / "README.md").read_text()
    assert "`fox` and `Fox`" in readme and "equal ignoring case, or" not in readme


@pytest.mark.parametrize(
    "text, message",
    [("", r"is empty \(0 bytes\)"), ("image_id,label\n", "has a header but no rows")],
    ids=["zero-bytes", "header-only"],
)
def test_r3_06_an_empty_review_csv_is_one_line_and_final_is_untouched(tmp_path, text, message):
    root = inbox(tmp_path / "inbox", 4)
    out = tmp_path / "run"
    ids = sort_run(out, root)["image_id"].tolist()
    apply(out, root, review_csv(tmp_path / "first.csv", {i: "fox" for i in ids}))
    before = files_under(out / "final")
    record = (out / "final.written.csv").read_bytes()
    empty = tmp_path / "reviews.csv"
    empty.write_text(text)
    with pytest.raises(InputError, match=message):
        apply(out, root, empty)
    assert files_under(out / "final") == before and (out / "final.written.csv").read_bytes() == record


def run_logged(tmp_path: Path, body: str) -> tuple[subprocess.CompletedProcess, str]:
    log = tmp_path / "job.log"
    code = f"import sys\nfrom zsc.steps.common import logged\nwith logged(sys.argv[1]):\n{body}"
    result = subprocess.run([sys.executable, "-c", code, str(log)], capture_output=True, text=True)
    return result, log.read_text()


def test_r3_07_a_refused_review_csv_is_its_message_alone_on_the_console_and_in_the_log(tmp_path):
    twice = write_text(tmp_path / "twice.csv", "image_id,label\na.jpg,fox\na.jpg,hare\n")
    other = write_text(tmp_path / "other.csv", "image_id,label\nz.jpg,fox\n")
    for csv, message in [(twice, "two different labels"), (other, "none of its 1 image id(s) is a photo")]:
        body = f"    from zsc.sorting.apply import read_review\n    read_review({str(csv)!r}, ['a.jpg'])\n"
        result, log = run_logged(tmp_path, body)
        assert result.returncode == 1
        assert f"error: review CSV {csv}" in result.stderr and message in result.stderr
        assert "Traceback" not in result.stderr and "Traceback" not in log and message in log


def write_text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_r3_08_degenerate_inboxes_fail_at_the_config_check_or_in_one_line(tmp_path):
    root = inbox(tmp_path / "inbox", 4)
    setting = {"model": "rand_mnv2", "reducer": "pca", "clusterer": "ward"}
    cases = [
        ({"k": 9}, r"sort.inbox.k': k=9 exceeds the 4 photos"),
        (
            {"expected_group_size": 50, "setting": {**setting, "clusterer": "hdbscan"}},
            r"sort.inbox.expected_group_size': expected_group_size=50 exceeds the 4 photos",
        ),
        ({"k": 2, "reducer_components": 10}, r"reducers.pca.n_components': 10 components for sort run 'inbox'"),
    ]
    for run, message in cases:
        config = tiny_config()
        components = run.pop("reducer_components", None)
        if components:
            config["reducers"]["pca"] = {"method": "pca", "n_components": components}
        config["sort"] = {"inbox": {"root": str(root), "setting": setting, **run}}
        with pytest.raises(ConfigError, match=message):
            validate_config(config)
    # known only after the scan (4 files, 2 distinct): one line from the job, no traceback in its log
    twins = tmp_path / "twins"
    for i in range(4):
        photo(twins / f"IMG_{i}.jpg", seed=i % 2)
    body = (
        "    import test_hostile_probes as probes\n"
        f"    from pathlib import Path\n    probes.sort_run(Path({str(tmp_path / 'run')!r}), Path({str(twins)!r}), k=3)\n"
    )
    result, log = run_logged(
        tmp_path, body.replace("import test_hostile_probes", "sys.path.insert(0, 'tests'); import test_hostile_probes")
    )
    assert result.returncode == 1, result.stderr
    assert "k=3 groups asked for, but the inbox has only 2 distinct" in result.stderr
    assert "Traceback" not in log and "Traceback" not in result.stderr
    # an inbox of identical photos is one group, whatever k says
    same = tmp_path / "same"
    for i in range(5):
        same.mkdir(exist_ok=True)
        shutil.copy(photo(tmp_path / "one.jpg", seed=7), same / f"IMG_{i}.jpg")
    assignments = sort_run(tmp_path / "same_run", same, k=3)
    assert assignments["cluster"].tolist() == [0] * 5


def test_r3_09_a_forced_rescan_of_an_unchanged_folder_hashes_every_photo_again(tmp_path):
    root = inbox(tmp_path / "inbox", 3)
    cache, manifest = tmp_path / "scan-cache.parquet", tmp_path / "manifest.parquet"

    def scan() -> dict:
        steps_data.scan_inbox(
            str(root), str(manifest), str(tmp_path / "rejects.csv"), 1, str(cache), folder_fingerprint(root)
        )
        return pd.read_parquet(manifest).set_index("image_id")["content_hash"].to_dict()

    first = scan()
    path = root / "cam0/IMG_0000.jpg"
    stat = path.stat()
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # `touch -r`: the fingerprint cannot see it
    second = scan()  # what `--forcerun sort_scan` runs: the folder is as last scanned
    assert second["cam0/IMG_0000.jpg"] != first["cam0/IMG_0000.jpg"]
    assert {k: v for k, v in second.items() if k != "cam0/IMG_0000.jpg"} == {
        k: v for k, v in first.items() if k != "cam0/IMG_0000.jpg"
    }
    readme = (REPO / "README.md").read_text()
    assert "A forced rescan checks every photo's\n  content hash" in readme
