"""Sort runs: one invocation with their benchmark, following its best setting, never losing or
misfiling a photo, rescanning a changed inbox, and in their own path space."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from conftest import run_snakemake, tiny_config, write_config
from zsc.sorting.assign import output_name

pytestmark = pytest.mark.slow


def _photos(root, seed, n_species=4, per_species=8):
    from zsc.data.demo import generate

    generate(str(root), n_species=n_species, per_species=per_species, seed=seed, size=64, nested=False)
    return root


def _sort_config(inbox, link="symlink", **grid) -> dict:
    return tiny_config(
        reducers={"pca": {"method": "pca"}, "tsne": {"method": "tsne"}},
        clusterers={"ward": {"method": "ward"}},
        review={"gallery_top": 0},
        # a dataset named like the old sort prefix: it must read its own photos, not the sort run's
        datasets={"sort_inbox": {"demo": {"n_species": 4, "per_species": 14, "seed": 3, "size": 64}}},
        sort={"inbox": {"root": str(inbox), "benchmark": "sort_inbox", "k": 4, "link": link}},
        **({"grid": grid} if grid else {}),
    )


def _ran(result) -> list[str]:
    output = result.stdout + result.stderr
    return sorted(
        {
            line.split()[1].rstrip(":")
            for line in output.splitlines()
            if line.startswith(("rule ", "localrule ", "checkpoint ", "localcheckpoint "))
        }
    )


def test_benchmark_and_sort_in_one_invocation_following_the_best_setting(tmp_path, numba_cache):
    inbox = _photos(tmp_path / "inbox", seed=21)
    first = run_snakemake(tmp_path, write_config(tmp_path, _sort_config(inbox)))
    assert {"aggregate", "sort_setting", "sort_embed", "sort_assign"} <= set(_ran(first)), _ran(first)
    run = tmp_path / "results/sort/inbox"
    setting = json.loads((run / "setting.json").read_text())
    summary = pd.read_csv(tmp_path / "results/sort_inbox/summary.csv")
    assert (setting["model"], setting["reducer"], setting["clusterer"]) == tuple(
        summary.loc[0, ["model", "reducer", "clusterer"]]
    )
    assert len(pd.read_csv(run / "assignments.csv")) == 32
    # the dataset 'sort_inbox' scanned its own generated photos, not the sort run's inbox
    assert len(pd.read_parquet(tmp_path / "results/sort_inbox/manifest.parquet")) == 56

    # the best setting changes (its reducer is excluded): the sort follows, without re-embedding the inbox
    best_reducer = setting["reducer"]
    config = _sort_config(inbox, exclude=[{"reducer": best_reducer}])
    second = run_snakemake(tmp_path, write_config(tmp_path, config))
    ran = _ran(second)
    assert {"aggregate", "sort_setting", "sort_assign"} <= set(ran) and "sort_embed" not in ran, ran
    changed = json.loads((run / "setting.json").read_text())
    assert changed["reducer"] != best_reducer and changed["model"] == setting["model"]
    assert f"/ {changed['reducer']} /" in (run / "logs/assign.log").read_text()
    assert "Nothing to be done" in run_snakemake(tmp_path, write_config(tmp_path, config), "-n").stdout


def test_a_changed_inbox_is_rescanned_and_resorted(tmp_path, numba_cache):
    inbox = _photos(tmp_path / "inbox", seed=22)
    config_path = write_config(tmp_path, _sort_config(inbox))
    run_snakemake(tmp_path, config_path)
    removed = sorted(inbox.rglob("*.jpg"))[0]
    removed_id = removed.relative_to(inbox).as_posix()
    removed.unlink()
    added = inbox / "new_folder" / "new_photo.jpg"
    added.parent.mkdir()
    added.write_bytes(sorted(inbox.rglob("*.jpg"))[5].read_bytes() + b"new")  # not an exact duplicate
    assert "Nothing to be done" not in run_snakemake(tmp_path, config_path, "-n").stdout
    run_snakemake(tmp_path, config_path)
    run = tmp_path / "results/sort/inbox"
    assignments = pd.read_csv(run / "assignments.csv")
    assert removed_id not in set(assignments["image_id"]) and "new_folder/new_photo.jpg" in set(assignments["image_id"])
    links = [p for p in (run / "clusters").rglob("*") if p.is_symlink()]
    assert len(links) == len(assignments) == 32 and all(link.resolve().is_file() for link in links)


@pytest.mark.parametrize("link", ["copy", "symlink"])
def test_no_two_photos_share_an_output_path(tmp_path, numba_cache, link):
    """The issue's probe: cam2/IMG_0010.jpg and a different photo named cam2__IMG_0010.jpg."""
    inbox = _photos(tmp_path / "inbox", seed=23)
    photos = sorted(inbox.rglob("*.jpg"))
    (inbox / "cam2").mkdir()
    (inbox / "cam2%2Fx").mkdir()
    for source, name in zip(photos, ["cam2/IMG_0010.jpg", "cam2__IMG_0010.jpg", "cam2/x%2Fy.jpg", "cam2%2Fx/y.jpg"]):
        (inbox / name).write_bytes(source.read_bytes() + name.encode())  # a different photo, not a duplicate
    run_snakemake(tmp_path, write_config(tmp_path, _sort_config(inbox, link=link)))
    run = tmp_path / "results/sort/inbox"
    assignments = pd.read_csv(run / "assignments.csv")
    files = [p for p in (run / "clusters").rglob("*.jpg") if p.is_file() or p.is_symlink()]
    assert len(files) == len(assignments) == len(set(assignments["file"])) == 36
    for row in assignments.itertuples():  # each output holds exactly its own photo
        assert (run / "clusters" / row.file).read_bytes() == (inbox / row.image_id).read_bytes(), row.image_id
        assert (run / "clusters" / row.file).is_symlink() == (link == "symlink")


def test_output_names_are_one_to_one():
    """Every path of up to 5 characters over the characters that matter: no two share a name."""
    image_ids = ["".join(chars) for n in range(1, 6) for chars in itertools.product("a/%2F_", repeat=n)]
    names = [output_name(i) for i in image_ids]
    assert len(set(names)) == len(names) == 6 + 6**2 + 6**3 + 6**4 + 6**5 and all("/" not in n for n in names)


def test_output_names_of_deep_paths_fit_the_file_system():
    deep = "/".join(["a_rather_long_folder_name_from_a_camera_trap_export"] * 8) + "/IMG_0001.JPG"
    other = deep.replace("IMG_0001", "IMG_0002")
    names = {output_name(deep), output_name(other)}
    assert len(names) == 2 and all(len(n.encode()) <= 255 and n.endswith(".JPG") for n in names)


def test_the_pages_silhouette_equals_scikit_learns_precomputed_one():
    from sklearn.metrics import silhouette_score

    from zsc.sorting.similarity import mean_silhouette

    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(40):
        n = int(rng.integers(4, 60))
        points = rng.normal(size=(n, 5))
        distances = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))
        labels = rng.integers(0, int(rng.integers(2, 8)), n)  # groups of one photo included
        if not 2 <= len(np.unique(labels)) < n:
            continue
        assert mean_silhouette(distances, labels) == pytest.approx(
            silhouette_score(distances, labels, metric="precomputed"), abs=1e-12
        )
        checked += 1
    assert checked > 30


def test_embeddings_read_row_group_by_row_group_into_one_writeable_matrix(tmp_path):
    """Several row groups (4,096 rows each) and an empty file: the rows, in order, as written."""
    from zsc.embedding.embed import write_embedding_file
    from zsc.io import read_embeddings

    rows = 9_000
    matrix = np.random.default_rng(0).normal(size=(rows, 7)).astype(np.float32)
    frame = pd.DataFrame({"image_id": [f"p{i}.jpg" for i in range(rows)], "label": "", "group": ""})
    write_embedding_file(frame, matrix, {"model": "m"}, tmp_path / "e.parquet")
    read_frame, read_matrix = read_embeddings(tmp_path / "e.parquet")
    assert read_frame["image_id"].tolist() == frame["image_id"].tolist()
    assert read_matrix.dtype == np.float32 and read_matrix.flags.writeable
    assert np.array_equal(read_matrix, matrix)
    write_embedding_file(frame.iloc[:0], matrix[:0], {"model": "m", "embedding_dim": 7}, tmp_path / "empty.parquet")
    assert read_embeddings(tmp_path / "empty.parquet")[1].shape == (0, 7)


def test_a_first_sort_clusters_the_embeddings_it_read_without_copying_them():
    from zsc.sorting.week import take_rows

    matrix = np.zeros((5, 3), np.float32)
    assert take_rows(matrix, np.arange(5)) is matrix  # every photo new and distinct: no copy
    some = take_rows(matrix, np.array([0, 2, 4]))
    assert some is not matrix and not np.shares_memory(some, matrix)
    assert take_rows(matrix, np.array([4, 3, 2, 1, 0])) is not matrix  # all rows, another order: a copy
