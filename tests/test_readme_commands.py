"""The README's commands, typed as a user types them: at the root of a fresh clone, no -s, no -d.

A fresh clone holds the repository's files and nothing else (no results/, resources/, .venv);
`snakemake` is the one `make setup` installed. Every command string below also appears verbatim
in README.md, so the README cannot drift from what is tested.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import REPO, SNAKEMAKE, job_counts

pytestmark = pytest.mark.slow
README = (REPO / "README.md").read_text()


def fresh_clone(destination: Path) -> Path:
    """The files a `git clone` of this working tree would hold (tracked + new, not ignored)."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for relative in filter(None, listed):
        source = REPO / relative
        if source.is_file():
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / relative)
    return destination


def typed(clone: Path, command: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run ``command`` exactly as written, in a shell at the clone's root."""
    assert command in README, f"README.md does not show `{command}`"
    env = {**os.environ, "PATH": f"{SNAKEMAKE.parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(command, shell=True, cwd=clone, env=env, capture_output=True, text=True, timeout=timeout)


# Job counts worked out by hand from the config files, not by the code that builds the grid:
# paper.yaml: 6 models x 5 reducers x 4 clusterers x 1 sampling x 10 seeds x 2 splits (Aves, Mammalia);
# config.yaml: even30 has 3 models x 5 reducers x 4 clusterers + ward_2x for efficientnet_lite0 only
# (x 5 reducers) = 65 cells, and 3 x 5 = 15 reductions; longtail, uneven and all keep only
# efficientnet_lite0 + tsne: 5 cells and 1 reduction each; everything x 2 seeds.
PAPER_JOBS = {"embed": 6, "reduce": 6 * 5 * 10 * 2, "cluster": 6 * 5 * 4 * 10 * 2}
DEMO_JOBS = {"embed": 3, "reduce": (15 + 3 * 1) * 2, "cluster": (65 + 3 * 5) * 2}


@pytest.fixture(scope="module")
def clone(tmp_path_factory, numba_cache):
    return fresh_clone(tmp_path_factory.mktemp("clone"))


def test_paper_dag_is_inspectable_without_data_and_a_run_stops_before_any_job(clone):
    result = typed(clone, "snakemake -n --configfile config/paper.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result.stdout + result.stderr)
    expected = PAPER_JOBS
    print("paper dry run:", counts, "expected:", expected)
    assert {rule: counts[rule] for rule in expected} == expected
    assert expected["embed"] == 6 and expected["cluster"] == 6 * 5 * 4 * 10 * 2  # per split: Aves, Mammalia
    assert not any(rule.startswith(("demo_data", "sort")) for rule in counts), counts  # nothing of the demo
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: config key 'datasets.species60.root': folder 'data/species60' does not exist "
        "(the DAG can be inspected; a run stops before any job)"
    ]

    rulegraph = typed(clone, "snakemake --rulegraph mermaid-js --configfile config/paper.yaml")
    assert rulegraph.returncode == 0 and "fetch_weights" in rulegraph.stdout and "demo_data" not in rulegraph.stdout

    run = typed(clone, "snakemake --cores 1 --configfile config/paper.yaml", timeout=300)
    assert run.returncode != 0
    assert "config key 'datasets.species60.root': folder 'data/species60' does not exist" in run.stderr
    assert "Finished job" not in run.stdout + run.stderr and not (clone / "results").exists()
    assert not (clone / "resources" / "weights").exists()  # not even the local fetch_weights jobs ran


def test_demo_dry_run_is_the_demo_grid_plus_its_sort_run(clone):
    result = typed(clone, "snakemake -n")
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result.stdout + result.stderr)
    expected = DEMO_JOBS
    assert {rule: counts[rule] for rule in expected} == expected
    assert expected["cluster"] == 160
    # one invocation does everything: the sort run on the benchmark's best setting is in the same DAG
    assert counts["sort_scan"] == counts["sort_setting"] == counts["sort_assign"] == 1
    assert counts["sort_review_page"] == 1  # make demo leaves a review page for its sort run


def _my_photos(root: Path) -> Path:
    from zsc.data.demo import generate

    generate(str(root), n_species=4, per_species=14, seed=11, size=64, nested=False)
    return root


MY_CONFIG = {
    "samplings": {"even10": {"kind": "even", "per_class": 10, "min_per_class": 5}},
    "seeds": [1],
    "models": {
        "small": {"backend": "timm", "id": "mobilenetv2_100", "weights": "random", "img_size": 64, "batch_size": 16}
    },
    "reducers": {"pca": {"method": "pca"}, "tsne": {"method": "tsne"}},
    "clusterers": {"ward": {"method": "ward"}, "hdbscan": {"method": "hdbscan"}},
    "review": {"gallery_top": 1},
    "embed": {"workers": 1},
}


@pytest.fixture(scope="module")
def user_run(clone, tmp_path_factory):
    """`snakemake --cores all --configfile my.yaml` with a config that holds only the user's dataset."""
    photos = _my_photos(tmp_path_factory.mktemp("my") / "camera-traps")
    config = {"datasets": {"birds": {"root": str(photos)}}, **MY_CONFIG}
    (clone / "my.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    result = typed(clone, "snakemake --cores all --configfile my.yaml")
    assert result.returncode == 0, result.stderr[-4000:]
    return clone, config, result


def test_a_user_config_runs_only_its_own_jobs(user_run):
    clone, _, result = user_run
    counts = job_counts(result.stdout + result.stderr)
    print("user run:", counts)
    assert counts == {
        "scan": 1,
        "embed": 1,
        "sample": 1,
        "reduce": 2,
        "cluster": 4,
        "aggregate": 1,
        "thumbnails": 1,
        "gallery": 1,
        "plots": 1,
        "all": 1,
    }
    assert sorted(p.name for p in (clone / "results").iterdir()) == ["birds"]
    assert not (clone / "resources" / "demo").exists() and not (clone / "resources" / "demo-sort").exists()
    metrics = (clone / "results" / "birds" / "metrics.csv").read_text()
    assert metrics.count("\n") == 1 + 4


def test_config_overrides_apply_on_top_of_a_given_configfile(user_run):
    clone, _, _ = user_run
    result = typed(clone, "snakemake -n --configfile my.yaml --config seeds=[1,2]")
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result.stdout + result.stderr)
    assert counts["cluster"] == 4 and counts["reduce"] == 2 and "embed" not in counts  # only seed 2's new cells


def test_the_slurm_profile_plans_only_the_user_configs_jobs(user_run):
    clone, _, _ = user_run
    result = typed(clone, "snakemake --profile profiles/slurm --configfile my.yaml -n", timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr  # the finished local run is the same grid


def test_adding_a_model_to_a_finished_run_runs_only_the_new_models_jobs(user_run):
    clone, config, _ = user_run
    config = {
        **config,
        "models": {
            **config["models"],
            "other": {
                "backend": "timm",
                "id": "tf_efficientnet_lite0",
                "weights": "random",
                "img_size": 64,
                "batch_size": 16,
            },
        },
    }
    (clone / "my.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    dry = typed(clone, "snakemake -n --configfile my.yaml")
    planned = job_counts(dry.stdout + dry.stderr)
    assert planned == {"embed": 1, "reduce": 2, "cluster": 4, "aggregate": 1, "gallery": 1, "plots": 1, "all": 1}
    run = typed(clone, "snakemake --cores all --configfile my.yaml")
    assert run.returncode == 0, run.stderr[-3000:]
    assert job_counts(run.stdout + run.stderr) == planned
    assert (clone / "results" / "birds" / "metrics.csv").read_text().count("\n") == 1 + 8


def test_a_sort_only_config_runs_on_a_fresh_clone_and_targets_go_before_configfile(tmp_path, numba_cache):
    """config/sort-only.yaml: no datasets, samplings or seeds; then a target typed before --configfile."""
    clone = fresh_clone(tmp_path)
    result = typed(clone, "snakemake --cores all --configfile config/sort-only.yaml")
    assert result.returncode == 0, result.stderr[-4000:]
    counts = job_counts(result.stdout + result.stderr)
    assert {"sort_scan", "sort_assign", "sort_review_page"} <= set(counts), counts  # sort_embed: after the checkpoint
    assert (clone / "results/sort/inbox/embeddings/efficientnet_lite0.parquet").is_file()
    assert not any(rule in counts for rule in ("scan", "embed", "reduce", "cluster", "aggregate")), counts
    assert sorted(p.name for p in (clone / "results").iterdir()) == ["sort"]
    assert (clone / "results/sort/inbox/review.html").is_file()
    # the same config as the user's own file, with the sort runs' target before --configfile
    (clone / "my.yaml").write_text((clone / "config/sort-only.yaml").read_text())
    again = typed(clone, "snakemake --cores all sort_all --configfile my.yaml")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Nothing to be done" in again.stdout + again.stderr


def test_the_weekly_loop_as_typed_keeps_week_one_and_sorts_only_the_new_photos(tmp_path, numba_cache):
    """README, *Next week's card*: the run names its review CSV as `known`; week 1 sorted, reviewed,
    applied; week 2 copied in and the same command typed again."""
    from zsc.data.demo import generate

    clone = fresh_clone(tmp_path / "clone")
    generated = tmp_path / "generated"
    generate(generated, n_species=3, per_species=10, seed=4, size=96)
    photos = {folder.name: sorted(folder.glob("*.jpg")) for folder in sorted(generated.iterdir())}
    inbox = tmp_path / "season-2026"
    inbox.mkdir()
    truth = {}
    for species, files in photos.items():
        for number, photo in enumerate(files[:8]):
            shutil.copy(photo, inbox / f"{species[:2]}{number:02d}.jpg")
            truth[f"{species[:2]}{number:02d}.jpg"] = species
    config = yaml.safe_load((clone / "config/sort-only.yaml").read_text())
    config["sort"] = {
        "season": {
            "root": str(inbox),
            "setting": {"model": "efficientnet_lite0", "reducer": "tsne", "clusterer": "ward"},
            "k": 3,
            "known": "reviews/season.csv",
        }
    }
    (clone / "season.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    command = "snakemake --cores all sort_all --configfile season.yaml"
    first = typed(clone, command)
    assert first.returncode == 0, first.stderr[-3000:]
    (clone / "reviews").mkdir()
    pd.DataFrame({"image_id": list(truth), "label": list(truth.values())}).to_csv(
        clone / "reviews/season.csv", index=False
    )
    applied = typed(clone, command)
    assert applied.returncode == 0, applied.stderr[-3000:]
    final = clone / "results/sort/season/final"
    week1 = {p.name: os.readlink(p) for p in final.glob("*/*.jpg")}
    assert len(week1) == 24
    for species, files in photos.items():  # next week's card
        for number, photo in enumerate(files[8:], 8):
            shutil.copy(photo, inbox / f"{species[:2]}{number:02d}.jpg")
    week2 = typed(clone, command)
    assert week2.returncode == 0, week2.stderr[-3000:]
    assert "week: 30 photos; 24 reviewed" in week2.stderr
    assignments = pd.read_csv(clone / "results/sort/season/assignments.csv", keep_default_na=False)
    assert (assignments.set_index("image_id").loc[list(truth), "status"] == "known").all()
    assert set(assignments.loc[~assignments["image_id"].isin(list(truth)), "status"]) <= {"assigned", "new"}
    assert {p.name: os.readlink(p) for p in final.glob("*/*.jpg") if p.name in week1} == week1
