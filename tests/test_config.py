"""Config validation: bad keys and values fail before any job runs, naming the key."""

import copy

import pytest
import yaml

from conftest import REPO, run_snakemake, tiny_config, write_config
from zsc.config import SCHEMA_PATH as SCHEMA  # noqa: E402
from zsc.config import ConfigError, validate_config
from zsc.grid import excluded


def test_shipped_configs_validate_with_defaults_filled():
    demo = validate_config(yaml.safe_load((REPO / "config" / "config.yaml").read_text()), SCHEMA)
    assert demo["models"]["mobilenetv2"]["pooling"] == "default"
    assert demo["clusterers"]["ward"]["k"] == "true_k"
    assert demo["embed"] == {
        "device": "auto",
        "workers": 2,
        "offline": False,
        "shards": 1,
        "cache": "resources/embed-cache",
    }
    assert demo["samplings"]["longtail"]["alpha"] == 0.8 and demo["samplings"]["uneven"]["alpha"] == 1.0
    assert demo["datasets"]["demo"]["demo"]["nested"] is True


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda c: c.update(bogus=1), "'bogus' was unexpected"),
        (
            lambda c: c["models"]["rand_mnv2"].update(pooling="max"),
            r"config key 'models.rand_mnv2.pooling'.*'cls', 'mean', 'default'",
        ),
        (lambda c: c["reducers"].update(bad={"method": "lda"}), r"config key 'reducers.bad.method'.*'tsne'"),
        (
            lambda c: c["samplings"]["even10"].update(per_class=0),
            r"config key 'samplings.even10.per_class': 0 is less than the minimum of 1",
        ),
        (lambda c: c["models"]["rand_mnv2"].update(batch_size=-4), r"models.rand_mnv2.batch_size"),
        (lambda c: c["clusterers"]["ward"].update(k="lots"), r"clusterers.ward.k"),
        (lambda c: c.update(grid={"models": ["nope"]}), r"grid.models': unknown name 'nope'; allowed: \['rand_mnv2'\]"),
        (lambda c: c.update(grid={"exclude": [{"reducer": "nope"}]}), r"grid.exclude.0.reducer': unknown name 'nope'"),
        (
            lambda c: c["models"]["rand_mnv2"].update(weights="package:nope"),
            r"models.rand_mnv2.weights': unknown package weights 'nope'",
        ),
        (lambda c: c["models"]["rand_mnv2"].update(weights="/no/such/file.pth"), r"no such weights file"),
        (
            lambda c: c["clusterers"]["hdbscan"].update(k=3),
            r"clusterers.hdbscan.k': not a parameter of hdbscan \(a density method finds k itself\)",
        ),
        (lambda c: c.update(seeds=[]), r"config key 'seeds'"),
        (
            lambda c: c["datasets"].update(real={"root": __file__}),
            r"datasets.real.root': '.*test_config.py' is a file, not a folder",
        ),
        (
            lambda c: c.update(
                sort={"in": {"demo": {}, "setting": {"model": "rand_mnv2", "reducer": "tsne", "clusterer": "ward"}}}
            ),
            r"sort.in.k': clusterer 'ward' \(ward\) needs the number of groups you expect",
        ),
        (lambda c: c.update(sort={"in": {"demo": {}, "benchmark": "tiny"}}), r"sort.in.k': clusterer 'ward'"),
        (
            lambda c: c.update(
                clusterers={"bare": {"method": "hdbscan"}},
                sort={"in": {"demo": {}, "setting": {"model": "rand_mnv2", "reducer": "tsne", "clusterer": "bare"}}},
            ),
            r"sort.in.expected_group_size': clusterer 'bare' \(hdbscan\) sets no min_cluster_size",
        ),
    ],
)
def test_bad_values_name_the_key(mutate, message):
    config = tiny_config()
    mutate(config)
    with pytest.raises(ConfigError, match=message):
        validate_config(config, SCHEMA)


def test_dataset_root_checks(tmp_path):
    from PIL import Image

    config = tiny_config()
    config["datasets"] = {"mine": {"root": str(tmp_path)}}
    with pytest.raises(ConfigError, match="no images found"):
        validate_config(copy.deepcopy(config), SCHEMA)
    for i in range(3):
        (tmp_path / "owl").mkdir(exist_ok=True)
        Image.new("RGB", (20, 20)).save(tmp_path / "owl" / f"{i}.jpg")
    with pytest.raises(ConfigError, match=r"found 1 species folder \(\['owl'\]\); clustering needs at least 2"):
        validate_config(copy.deepcopy(config), SCHEMA)
    (tmp_path / "fox").mkdir()
    Image.new("RGB", (20, 20)).save(tmp_path / "fox" / "0.jpg")
    config["clusterers"]["ward"]["k"] = 50
    config["samplings"]["even10"]["min_per_class"] = 1
    with pytest.raises(ConfigError, match=r"clusterers.ward.k': k=50 exceeds the at most 4 images"):
        validate_config(copy.deepcopy(config), SCHEMA)


def test_a_missing_photo_folder_is_a_warning_for_inspection_not_a_config_error():
    from zsc.config import missing_data

    config = tiny_config()
    config["datasets"]["real"] = {"root": "/no/such/folder"}
    config["sort"] = {
        "inbox": {"root": "/no/inbox", "setting": {"model": "rand_mnv2", "reducer": "tsne", "clusterer": "hdbscan"}}
    }
    validated = validate_config(config, SCHEMA)  # -n, --dag, --rulegraph work without the photos
    assert missing_data(validated) == [
        "config key 'datasets.real.root': folder '/no/such/folder' does not exist",
        "config key 'sort.inbox.root': folder '/no/inbox' does not exist",
    ]


def test_missing_review_and_labels_csvs_are_named_like_missing_folders(tmp_path):
    from zsc.config import missing_data

    for name in ("a.jpg", "b.jpg"):
        (tmp_path / name).write_bytes(b"")
    config = tiny_config()
    config["datasets"]["reviewed"] = {"root": str(tmp_path), "labels": "results/sort/x/labels.csv"}
    config["sort"] = {
        "inbox": {
            "root": str(tmp_path),
            "review": "review-inbox.csv",
            "setting": {"model": "rand_mnv2", "reducer": "tsne", "clusterer": "ward"},
            "k": 2,
        }
    }
    validated = validate_config(config, SCHEMA)
    assert missing_data(validated) == [
        "config key 'datasets.reviewed.labels': file 'results/sort/x/labels.csv' does not exist",
        "config key 'sort.inbox.review': file 'review-inbox.csv' does not exist",
    ]


def test_a_labels_csv_with_one_species_is_a_config_error(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"")
    (tmp_path / "labels.csv").write_text("image_id,label\na.jpg,fox\nb.jpg,fox\n")
    config = tiny_config()
    config["datasets"] = {"reviewed": {"root": str(tmp_path), "labels": str(tmp_path / "labels.csv")}}
    with pytest.raises(ConfigError, match="1 labelled species"):
        validate_config(config, SCHEMA)


def test_grid_exclude_matches_every_named_key():
    config = {"grid": {"exclude": [{"model": "a", "reducer": "tsne"}]}}
    assert excluded(config, model="a", reducer="tsne", clusterer="ward")
    assert not excluded(config, model="a", reducer="umap", clusterer="ward")


def test_snakemake_refuses_a_bad_config_before_any_job(tmp_path):
    config = tiny_config()
    config["reducers"]["tsne"]["perplexity"] = -1
    result = run_snakemake(tmp_path, write_config(tmp_path, config), "-n", check=False, timeout=120)
    assert result.returncode != 0
    assert "config key 'reducers.tsne.perplexity'" in result.stderr + result.stdout
    assert not (tmp_path / "results").exists() and not (tmp_path / "resources").exists()


def sort_only() -> dict:
    config = yaml.safe_load((REPO / "config" / "sort-only.yaml").read_text())
    assert not {"datasets", "samplings", "seeds"} & set(config)
    return config


def test_a_config_of_sort_runs_only_is_valid_and_plans_no_benchmark():
    validated = validate_config(sort_only(), SCHEMA)
    assert validated["datasets"] == {} and validated["seeds"] == [] and validated["samplings"] == {}
    assert validated["sort"]["inbox"]["k"] == 6


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda c: c.pop("sort"), r"nothing to run: give 'datasets' \(a benchmark\) or 'sort'"),
        (lambda c: c.update(datasets={"d": {"demo": {}}}), r"'samplings' is a dependency of 'datasets'"),
        (
            lambda c: c["sort"]["inbox"].pop("setting") and c["sort"]["inbox"].update(benchmark="demo"),
            r"config key 'sort.inbox.benchmark': unknown dataset 'demo'",
        ),
        (lambda c: c["sort"]["inbox"].update(species=[]), r"config key 'sort.inbox.species'"),
    ],
)
def test_a_sort_only_config_names_what_it_lacks(mutate, message):
    config = sort_only()
    mutate(config)
    with pytest.raises(ConfigError, match=message):
        validate_config(config, SCHEMA)


def test_a_species_list_file_is_read_and_must_exist(tmp_path):
    from zsc.config.data_checks import missing_data
    from zsc.io import read_species_list

    path = tmp_path / "species.csv"
    path.write_text("\ufeffspecies\nRed fox\n\n# deer\nRoe deer\n", encoding="utf-8")
    assert read_species_list(path) == ["Red fox", "Roe deer"]
    config = sort_only()
    config["sort"]["inbox"]["species"] = str(tmp_path / "absent.txt")
    assert missing_data(validate_config(config, SCHEMA)) == [
        f"config key 'sort.inbox.species': file '{tmp_path / 'absent.txt'}' does not exist"
    ]
    (tmp_path / "empty.txt").write_text("species\n")
    with pytest.raises(ValueError, match="holds no names"):
        read_species_list(tmp_path / "empty.txt")
