"""Bad inputs, degenerate results, interruptions, determinism and safety."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import corpus
from conftest import REPO, SNAKEMAKE, run_snakemake, tiny_config, write_config
from zsc import jobs
from zsc.config import ConfigError, validate_config
from zsc.images import open_rgb
from zsc.io import read_embeddings

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture(scope="module")
def corpus_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus") / "photos"
    return root, corpus.build(root)


def _scan(root: Path, out: Path):
    jobs.scan(str(root), -1, 0, 2, str(out / "manifest.parquet"), str(out / "rejects.csv"))
    return pd.read_parquet(out / "manifest.parquet"), pd.read_csv(out / "rejects.csv")


def test_every_file_is_used_or_rejected_with_its_specific_reason(corpus_root, tmp_path):
    root, expected = corpus_root
    manifest, rejects = _scan(root, tmp_path)
    accounted = sorted(manifest["image_id"].tolist() + rejects["image_id"].tolist())
    assert accounted == corpus.every_entry(root)  # exactly once each
    reasons = rejects.set_index("image_id")["reason"].to_dict()
    used = set(manifest["image_id"])
    for relative, outcome in expected.items():
        if outcome == "use":
            assert relative in used, (relative, reasons.get(relative))
        else:
            assert outcome in reasons.get(relative, ""), (relative, reasons.get(relative))


def test_odd_formats_decode_to_upright_rgb(corpus_root):
    root, expected = corpus_root
    for relative, outcome in expected.items():
        if outcome == "use":
            image = open_rgb(root / relative)
            assert image.mode == "RGB" and min(image.size) >= 8, relative
    rotated = np.asarray(open_rgb(root / "Birds/odd_formats/exif_rotated.png"))
    upright = np.asarray(open_rgb(root / "Birds/odd_formats/upright_copy.png"))
    np.testing.assert_array_equal(rotated, upright)
    transparent = np.asarray(open_rgb(root / "Birds/odd_formats/transparent.png"))
    assert (transparent[0, :] >= 250).all()  # alpha ~0 along the top row: composited on white
    assert transparent[-1].std() > 5  # opaque bottom row: the photo itself, not a flat fill
    sixteen = np.asarray(open_rgb(root / "Birds/odd_formats/sixteen_bit.png"))
    assert sixteen.max() > 200  # scaled to 8 bits, not clipped to black or white


def test_embed_stage_records_a_file_broken_after_the_scan(corpus_root, tmp_path):
    root, _ = corpus_root
    photos = tmp_path / "photos"
    corpus.copy_photo_folder(root, photos)
    manifest, _ = _scan(photos, tmp_path)
    broken = "Birds/star_solid/star_solid_3.jpg"
    (photos / broken).write_bytes(b"overwritten by a sync client")
    spec = {"id": "mobilenetv2_100", "weights": "random", "img_size": 32, "batch_size": 8, "precision": "fp32"}
    jobs.embed("m", spec, str(photos), str(tmp_path / "manifest.parquet"), str(tmp_path / "emb.parquet"),
               str(tmp_path / "embed_rejects.csv"), device="cpu", workers=0)
    rejects = pd.read_csv(tmp_path / "embed_rejects.csv")
    assert rejects["image_id"].tolist() == [broken] and rejects["stage"].tolist() == ["embed"]
    frame, matrix = read_embeddings(tmp_path / "emb.parquet")
    assert len(frame) == len(manifest) - 1 and matrix.shape == (len(manifest) - 1, 1280)
    # a sample drawn before the breakage: the reduction records the missing image instead of failing
    jobs.sample(str(tmp_path / "manifest.parquet"), {"kind": "all", "min_per_class": 2}, 0, str(tmp_path / "s.parquet"))
    jobs.reduce_job(str(tmp_path / "emb.parquet"), str(tmp_path / "s.parquet"), {"method": "pca"}, 0,
                    str(tmp_path / "r.parquet"), str(tmp_path / "r.json"))
    info = yaml.safe_load((tmp_path / "r.json").read_text())
    assert info["status"] == "ok" and info["n_missing_embedding"] == 1 and info["missing_embedding"] == [broken]


def test_too_few_images_fails_the_reducer_cell_with_a_reason_and_others_finish(tmp_path):
    rng = np.random.default_rng(0)
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = [f"s{i % 2}/{i}.jpg" for i in range(10)]
    embeddings = pa.table({"image_id": ids, "label": [i.split("/")[0] for i in ids], "group": [""] * 10,
                           "embedding": pa.FixedSizeListArray.from_arrays(pa.array(rng.normal(size=80), pa.float32()), 8)})
    pq.write_table(embeddings, tmp_path / "emb.parquet")
    pd.DataFrame({"image_id": ids, "label": [i.split("/")[0] for i in ids], "group": ""}).to_parquet(tmp_path / "s.parquet")
    outcomes = {}
    for reducer in ("tsne", "pca"):
        jobs.reduce_job(str(tmp_path / "emb.parquet"), str(tmp_path / "s.parquet"), {"method": reducer}, 0,
                        str(tmp_path / f"{reducer}.parquet"), str(tmp_path / f"{reducer}.json"))
        jobs.cluster_job(str(tmp_path / f"{reducer}.parquet"), str(tmp_path / f"{reducer}.json"),
                         {"method": "ward", "k": "true_k"}, 0, {"reducer": reducer},
                         str(tmp_path / f"{reducer}_cells.parquet"), str(tmp_path / f"{reducer}_cell.json"))
        outcomes[reducer] = yaml.safe_load((tmp_path / f"{reducer}_cell.json").read_text())
    assert outcomes["tsne"]["status"] == "failed"
    assert re.search(r"reduce: ReducerError: tsne .*needs at least 17 points, got 10", outcomes["tsne"]["reason"])
    assert outcomes["pca"]["status"] == "ok" and 0 <= outcomes["pca"]["v_measure_retained"] <= 1


def test_all_noise_cell_is_defined(tmp_path):

    ids = [f"s{i % 2}/{i}.jpg" for i in range(12)]
    frame = pd.DataFrame({"image_id": ids, "label": [i.split("/")[0] for i in ids], "group": "",
                          "x0": np.arange(12.0), "x1": np.zeros(12)})
    frame.to_parquet(tmp_path / "r.parquet")
    (tmp_path / "r.json").write_text('{"status": "ok", "reason": "", "reduce_seconds": 0.1}')
    jobs.cluster_job(str(tmp_path / "r.parquet"), str(tmp_path / "r.json"),
                     {"method": "dbscan", "min_samples": 5, "eps": 0.5}, 0, {"clusterer": "dbscan"},
                     str(tmp_path / "c.parquet"), str(tmp_path / "c.json"))
    cell = yaml.safe_load((tmp_path / "c.json").read_text().replace("NaN", ".nan"))
    assert cell["status"] == "ok" and cell["noise_fraction"] == 1.0 and cell["clusters_found"] == 0
    assert np.isnan(cell["v_measure_retained"]) and cell["v_measure_all"] == 0.0


@pytest.mark.slow
def test_corpus_through_the_whole_workflow(corpus_root, tmp_path, numba_cache):
    root, _ = corpus_root
    config = tiny_config(
        datasets={"corpus": {"root": str(root), "label_level": -1, "group_level": 0}},
        samplings={"even": {"kind": "even", "per_class": 8, "min_per_class": 3}},
        reducers={"pca": {"method": "pca"}, "tsne_big": {"method": "tsne", "perplexity": 50}},
        clusterers={"ward": {"method": "ward"}, "hdbscan_huge": {"method": "hdbscan", "min_cluster_size": 30}},
    )
    run_snakemake(tmp_path, write_config(tmp_path, config))
    results = tmp_path / "results" / "corpus"
    manifest = pd.read_parquet(results / "manifest.parquet")
    rejects = pd.read_csv(results / "rejects.csv")
    assert len(manifest) + (rejects["stage"] == "scan").sum() == len(corpus.every_entry(root))
    metrics = pd.read_csv(results / "metrics.csv").set_index(["reducer", "clusterer"])
    assert metrics.loc[("pca", "ward"), "status"] == "ok"
    assert metrics.loc[("tsne_big", "ward"), "status"] == "failed"
    assert "needs at least 152 points" in metrics.loc[("tsne_big", "ward"), "reason"]
    frame, matrix = read_embeddings(results / "embeddings" / "rand_mnv2.parquet")
    position = {image_id: i for i, image_id in enumerate(frame["image_id"])}
    np.testing.assert_allclose(matrix[position["Birds/odd_formats/exif_rotated.png"]],
                               matrix[position["Birds/odd_formats/upright_copy.png"]], rtol=1e-5, atol=1e-6)


def _embed_config(per_species: int) -> dict:
    return tiny_config(
        datasets={"big": {"demo": {"n_species": 4, "per_species": per_species, "seed": 1, "size": 96}}},
        models={"rand": {"id": "mobilenetv2_100", "weights": "random", "img_size": 160, "batch_size": 8}},
    )


@pytest.mark.slow
def test_killed_embed_job_leaves_no_complete_looking_output_and_rerun_matches(tmp_path, numba_cache):
    target = "results/big/embeddings/rand.parquet"
    reference_dir, killed_dir = tmp_path / "reference", tmp_path / "killed"
    for directory in (reference_dir, killed_dir):
        directory.mkdir()
    config = _embed_config(per_species=150)
    run_snakemake(reference_dir, write_config(reference_dir, config), target)

    config_path = write_config(killed_dir, config)
    command = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "-d", str(killed_dir), "--configfile",
               str(config_path), "--cores", "2", target]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    log = killed_dir / "results/big/logs/embed/rand.log"
    deadline = time.time() + 300
    while time.time() < deadline and not re.search(r"\b[1-9]\d*/\d+", log.read_text() if log.exists() else ""):
        time.sleep(0.5)  # wait until the embed job has finished at least one batch
    assert process.poll() is None, "the embed job finished before it could be killed; make it bigger"
    os.killpg(process.pid, signal.SIGKILL)  # what a node failure or an OOM kill does
    process.wait(timeout=30)

    assert not (killed_dir / target).exists()
    run_snakemake(killed_dir, config_path, "--unlock")  # a killed Snakemake leaves its lock behind
    dry = run_snakemake(killed_dir, config_path, target, "-n").stdout
    assert "rule embed" in dry
    run_snakemake(killed_dir, config_path, target, "--rerun-incomplete")
    assert not list((killed_dir / "results/big/embeddings").glob(".*partial*"))
    reference, resumed = read_embeddings(reference_dir / target), read_embeddings(killed_dir / target)
    pd.testing.assert_frame_equal(reference[0], resumed[0])
    np.testing.assert_array_equal(reference[1], resumed[1])


@pytest.mark.parametrize("bad_name", ["../escape", "a/b", ".hidden", "/abs"])
def test_names_cannot_become_paths_outside_the_output_directory(bad_name):
    config = tiny_config()
    config["datasets"] = {bad_name: config["datasets"]["tiny"]}
    with pytest.raises(ConfigError, match="does not match"):
        validate_config(config, SCHEMA)


def test_no_unsafe_deserialisation_in_the_library():
    for path in (REPO / "src" / "zsc").glob("*.py"):
        text = path.read_text()
        assert "import pickle" not in text and "pickle.load" not in text, path
        for call in re.findall(r"torch\.load\([^)]*\)", text):
            assert "weights_only=True" in call, (path, call)
