"""Real Snakemake runs of the whole workflow in temporary directories."""

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import OXFORD_PETS, REPO, job_counts, run_snakemake, tiny_config, write_config

pytestmark = pytest.mark.slow
UNIT_RANGE_COLUMNS = [
    f"{m}_{mode}"
    for m in ("v_measure", "homogeneity", "completeness", "nmi", "fowlkes_mallows", "accuracy")
    for mode in ("retained", "all")
]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, numba_cache):
    workdir = tmp_path_factory.mktemp("tiny")
    config_path = write_config(workdir, tiny_config())
    run_snakemake(workdir, config_path)
    return workdir, config_path


def test_metrics_table_has_one_row_per_cell_with_sane_values(tiny_run):
    workdir, _ = tiny_run
    results = workdir / "results" / "tiny"
    metrics = pd.read_csv(results / "metrics.csv")
    assert len(metrics) == 5 * 4  # reducers x clusterers x 1 model x 1 sampling x 1 seed
    assert set(metrics["reducer"]) == {"tsne", "umap", "pca", "isomap", "kernel_pca"}
    assert set(metrics["clusterer"]) == {"hdbscan", "dbscan", "ward", "gmm"}
    for column in [
        "model",
        "reducer",
        "clusterer",
        "sampling",
        "seed",
        "status",
        "reason",
        "ari_retained",
        "noise_fraction",
        "clusters_found",
        "true_k",
        "silhouette",
        *UNIT_RANGE_COLUMNS,
    ]:
        assert column in metrics.columns, column
    ok = metrics[metrics["status"] == "ok"]
    assert len(ok) >= 18, metrics[["reducer", "clusterer", "status", "reason"]]
    for column in UNIT_RANGE_COLUMNS:
        values = ok[column].dropna()
        assert values.between(0, 1 + 1e-9).all(), column
    for column in ("ari_retained", "ami_retained", "ari_all", "ami_all"):
        assert ok[column].dropna().between(-1, 1).all(), column
    assert ok["noise_fraction"].between(0, 1).all()
    # a NaN "retained" score only where fewer than two clusters were retained, and it says so
    undefined = ok["clusters_found"] <= 1
    assert (ok["v_measure_retained"].isna() == undefined).all()
    assert ok.loc[undefined, "score_note"].astype(str).str.contains("retained cluster").all()
    assert (ok["true_k"] == 4).all()
    assert (ok.loc[ok["clusterer"].isin(["ward", "gmm"]), "clusters_found"] == 4).all()
    assert "reduce_seconds" not in metrics.columns  # costs live in costs.csv: metrics.csv is reproducible
    costs = pd.read_csv(results / "costs.csv")
    assert len(costs) == 20 and (costs["reduce_seconds"] >= 0).all() and (costs["cluster_seconds"] >= 0).all()
    parquet = pd.read_parquet(results / "metrics.parquet")
    assert len(parquet) == 20 and "reduce_seconds" in parquet.columns

    summary = pd.read_csv(results / "summary.csv")
    assert len(summary) == 20 and list(summary["rank"]) == list(range(1, 21))
    ranked = summary["v_measure_retained_mean"].dropna()
    assert ranked.is_monotonic_decreasing


def test_manifest_embeddings_and_cells_are_real_parquet(tiny_run):
    workdir, _ = tiny_run
    results = workdir / "results" / "tiny"
    manifest = pd.read_parquet(results / "manifest.parquet")
    assert len(manifest) == 4 * 14
    assert set(manifest["group"]) == {"round", "angular"}
    assert list(manifest.columns) == [
        "image_id",
        "label",
        "group",
        "size_bytes",
        "width",
        "height",
        "format",
        "content_hash",
    ]
    table = pq.read_table(results / "embeddings" / "rand_mnv2.parquet")
    assert table.num_rows == 56 and table.schema.field("embedding").type.list_size == 1280
    meta = json.loads(table.schema.metadata[b"zsc"])
    assert meta["model_spec"]["id"] == "mobilenetv2_100" and meta["weights_source"].startswith("random-init")
    assert meta["preprocessing"]["img_size"] == 64 and "torch" in meta["versions"]
    labels = pd.read_parquet(results / "cells" / "rand_mnv2" / "tsne" / "ward" / "even10" / "pooled" / "1.parquet")
    assert len(labels) == 40 and set(labels.columns) == {
        "image_id",
        "label",
        "group",
        "cluster",
        "nearest_cluster",
        "nearest_distance",
    }
    per_species = pd.read_csv(results / "per_species.csv")
    assert len(per_species) >= 18 * 4 and per_species["dominant_share"].between(0, 1).all()


def test_nothing_to_do_on_rerun_and_dag_is_inspectable(tiny_run):
    workdir, config_path = tiny_run
    assert "Nothing to be done" in run_snakemake(workdir, config_path, "-n").stdout
    rulegraph = run_snakemake(workdir, config_path, "--rulegraph", "mermaid-js", "-F").stdout
    for rule in ("scan", "embed", "reduce", "cluster", "aggregate"):
        assert rule in rulegraph
    dag = run_snakemake(workdir, config_path, "--dag", "-F").stdout
    assert dag.count("cluster") >= 20 and "digraph" in dag


def test_adding_a_model_schedules_only_that_models_jobs(tiny_run):
    workdir, _ = tiny_run
    config = tiny_config()
    config["models"]["rand_effnet"] = {
        "backend": "timm",
        "id": "tf_efficientnet_lite0",
        "weights": "random",
        "img_size": 64,
        "batch_size": 16,
    }
    config_path = write_config(workdir, config, "more_models.yaml")
    dry = run_snakemake(workdir, config_path, "-n").stdout
    # the new model's embedding, reductions and cells; then everything that reads all cells
    assert job_counts(dry) == {
        "embed": 1,
        "reduce": 5,
        "cluster": 20,
        "aggregate": 1,
        "plots": 1,
        "gallery": 1,
        "all": 1,
    }, dry[-3000:]
    assert "rand_mnv2" not in dry.split("rule aggregate")[0].replace("rand_mnv2.parquet", "")


def test_lint_is_clean():
    result = run_snakemake(REPO, REPO / "config" / "config.yaml", "--lint", timeout=120, check=False)
    assert "Congratulations" in result.stdout + result.stderr, result.stdout + result.stderr


def test_reference_grid_dag_builds_without_weights_or_photos(tmp_path):
    """config/paper.yaml: one embed job per model, models x reducers x clusterers x seeds x splits cells."""
    import yaml

    config = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    dry = run_snakemake(tmp_path, write_config(tmp_path, config), "-n", timeout=300).stdout
    counts = job_counts(dry)
    n_models, n_splits = len(config["models"]), len(config["datasets"]["species60"]["splits"])
    assert counts["embed"] == n_models == 6 and counts["reduce"] == n_models * 5 * 10 * n_splits
    assert counts["cluster"] == n_models * 5 * 4 * 10 * n_splits
    # offline compute nodes: the weights are fetched first, by a local rule, before any embed job
    assert counts["fetch_weights"] == n_models
    assert "rule fetch_weights:" in dry


QUALITY_CONFIG = {
    "samplings": {"even": {"kind": "even", "per_class": 30, "min_per_class": 5}},  # pets: all 10 (flagged short)
    "seeds": [1],
    "models": {
        "effnet": {"backend": "timm", "id": "tf_efficientnet_lite0", "weights": "package:efficientnet_lite0"},
        "mnv2": {"backend": "timm", "id": "mobilenetv2_100", "weights": "package:fdet_mobilenet_v2"},
        "random": {"backend": "timm", "id": "mobilenetv2_100", "weights": "random"},
    },
    "reducers": {"tsne": {"method": "tsne"}},
    "clusterers": {"ward": {"method": "ward"}, "gmm": {"method": "gmm"}},
    "embed": {"workers": 2},
}


@pytest.fixture(scope="module")
def quality_run(tmp_path_factory, numba_cache):
    workdir = tmp_path_factory.mktemp("quality")
    datasets = {"demo": {"demo": {"n_species": 10, "per_species": 30, "seed": 0}, "group_level": 0}}
    if OXFORD_PETS.is_dir():
        datasets["pets"] = {"root": str(OXFORD_PETS), "label_level": -1, "group_level": 0}
    run_snakemake(workdir, write_config(workdir, {"datasets": datasets, **QUALITY_CONFIG}))
    return workdir


def _best_by_model(workdir, dataset):
    metrics = pd.read_csv(workdir / "results" / dataset / "metrics.csv")
    return metrics.groupby("model")["v_measure_retained"].max()


def test_demo_pretrained_cnn_separates_species_random_weights_do_not(quality_run):
    best = _best_by_model(quality_run, "demo")
    print("demo best V-measure per model:", best.to_dict())
    assert best.max() >= 0.9
    assert best["random"] < best[["effnet", "mnv2"]].min() - 0.3


@pytest.mark.skipif(not OXFORD_PETS.is_dir(), reason="optional real photos absent: set ZSC_OXFORD_PETS (README, Tests)")
def test_oxford_pets_real_photos_pretrained_beats_random(quality_run):
    best = _best_by_model(quality_run, "pets")
    print("oxford-pets best V-measure per model:", best.to_dict())
    manifest = pd.read_parquet(quality_run / "results" / "pets" / "manifest.parquet")
    assert len(manifest) == 370 and manifest["label"].nunique() == 37
    assert set(manifest["group"]) == {"cats", "dogs"}
    assert best[["effnet", "mnv2"]].min() > best["random"] + 0.2


def test_same_config_and_seeds_give_byte_identical_tables(tiny_run, tmp_path):
    first, config_path = tiny_run
    run_snakemake(tmp_path, write_config(tmp_path, tiny_config()))
    for name in ("metrics.csv", "summary.csv", "per_species.csv", "rejects.csv"):
        assert (first / "results/tiny" / name).read_bytes() == (tmp_path / "results/tiny" / name).read_bytes(), name
