"""The SLURM profile against a real SLURM cluster (sbatch, sacct, scancel).

Needs a running controller: `sudo tests/slurm/start-local-slurm.sh` (what .ci/run does)
starts a single-node cluster on localhost. Without one every test here is skipped,
with the reason printed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, SNAKEMAKE, run_snakemake, tiny_config, write_config

pytestmark = [pytest.mark.slurm, pytest.mark.slow]
PROFILE = REPO / "profiles" / "slurm"
SUBMITTED = re.compile(r"has been submitted with SLURM jobid (\d+) \(log: .*?/slurm_logs/(\w+)/")
CELL_GROUP = "group_cells_cluster"  # the plugin's log folder for a group job of the "cells" group


def _controller_status() -> str | None:
    """None when a SLURM controller answers and sacct works, else why not."""
    if not shutil.which("sbatch"):
        return "SLURM client tools not installed (run tests/slurm/start-local-slurm.sh as root)"
    ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=30)
    if "UP" not in ping.stdout:
        return f"no SLURM controller answers: {ping.stdout.strip() or ping.stderr.strip()}"
    if subprocess.run(["sacct", "-n", "-X", "-S", "now"], capture_output=True, timeout=30).returncode != 0:
        return "sacct does not work (no slurmdbd accounting)"
    return None


@pytest.fixture(scope="module")
def slurm_env(numba_cache):
    reason = _controller_status()
    if reason and os.environ.get("ZSC_REQUIRE_SLURM") == "1":
        pytest.fail(f"ZSC_REQUIRE_SLURM=1 but {reason}")
    if reason:
        pytest.skip(reason)
    partition = (
        subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True).stdout.split()[0].rstrip("*")
    )
    account = subprocess.run(
        ["sacctmgr", "-n", "-P", "list", "assoc", "format=account"], capture_output=True, text=True
    ).stdout.split()
    return {"ZSC_SLURM_PARTITION": partition, "ZSC_SLURM_ACCOUNT": account[0] if account else ""}


# The test node has 2 CPUs and no GPU: cap a group job at 2 CPUs, drop the GPU request,
# and check job status every 2 s instead of every 40 s.
TEST_OVERRIDES = [
    "--set-resources",
    "embed:gpu=0",
    "embed:mem_mb=4000",
    "reduce:mem_mb=2000",
    "scan:mem_mb=2000",
    "aggregate:mem_mb=2000",
    "--set-threads",
    "embed=2",
    "scan=2",
    "--resources",
    "cpus_per_task=2",
    "mem_mb=8000",
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--latency-wait",
    "10",
]


def run_on_slurm(workdir: Path, config: dict, env: dict, *extra: str, check: bool = True, timeout: int = 600):
    config_path = write_config(workdir, config)
    return run_snakemake(
        workdir, config_path, "--profile", str(PROFILE), *TEST_OVERRIDES, *extra, check=check, timeout=timeout, env=env
    )


def submissions(output: str) -> list[tuple[str, str]]:
    """(rule_<name> or group_<name>_<rules>, SLURM job id) for every sbatch the run made."""
    return [(kind, jobid) for jobid, kind in SUBMITTED.findall(output)]


def sacct_states(job_ids: list[str]) -> dict[str, str]:
    out = subprocess.run(
        ["sacct", "-X", "-n", "-P", "-j", ",".join(job_ids), "-o", "JobID,State"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split("|", 1) for line in out.strip().splitlines())


def small_grid() -> dict:
    return tiny_config(
        reducers={"pca": {"method": "pca"}, "tsne": {"method": "tsne"}},
        clusterers={
            "ward": {"method": "ward"},
            "hdbscan": {"method": "hdbscan", "min_cluster_size": 5, "min_samples": 3},
        },
        review={"gallery_top": 0},
    )


def test_demo_grid_through_slurm_equals_local_run(tmp_path, slurm_env):
    local_dir, slurm_dir = tmp_path / "local", tmp_path / "slurm"
    local_dir.mkdir(), slurm_dir.mkdir()
    run_snakemake(local_dir, write_config(local_dir, small_grid()))
    started = time.monotonic()
    result = run_on_slurm(slurm_dir, small_grid(), slurm_env)
    print(f"SLURM run wall time: {time.monotonic() - started:.0f} s")
    jobs = submissions(result.stdout + result.stderr)
    kinds = sorted(kind for kind, _ in jobs)
    print("sbatch submissions:", kinds)
    # every job went through sbatch: demo_data, scan, sample, embed, 2 reductions, the cells, aggregate, plots
    assert kinds == sorted(
        [
            "rule_demo_data",
            "rule_scan",
            "rule_sample",
            "rule_embed",
            "rule_reduce",
            "rule_reduce",
            CELL_GROUP,
            "rule_aggregate",
            "rule_plots",
        ]
    )
    states = sacct_states([jobid for _, jobid in jobs])
    assert set(states.values()) == {"COMPLETED"}, states
    for name in ("metrics.csv", "summary.csv", "per_species.csv"):
        assert (local_dir / "results/tiny" / name).read_bytes() == (slurm_dir / "results/tiny" / name).read_bytes()

    # without grouping, each of the 4 cells is its own submission
    ungrouped = run_on_slurm(
        slurm_dir, small_grid(), slurm_env, "--forcerun", "cluster", "--group-components", "cells=1"
    )
    ungrouped_kinds = [kind for kind, _ in submissions(ungrouped.stdout + ungrouped.stderr)]
    assert ungrouped_kinds.count(CELL_GROUP) == 4, ungrouped_kinds


def test_failed_job_is_retried_and_reported(tmp_path, slurm_env):
    from PIL import Image

    root = tmp_path / "photos"
    (root / "owl").mkdir(parents=True)
    (root / "fox").mkdir()
    for i in range(3):
        Image.new("RGB", (32, 32), (i * 40, 0, 0)).save(root / "owl" / f"{i}.jpg")
        (root / "fox" / f"{i}.jpg").write_bytes(b"corrupt")  # only 1 usable species: the scan must fail
    config = small_grid()
    config["datasets"] = {"broken": {"root": str(root)}}
    result = run_on_slurm(tmp_path, config, slurm_env, "--retries", "1", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    scan_jobs = [jobid for kind, jobid in submissions(output) if kind == "rule_scan"]
    assert len(scan_jobs) == 2, output[-3000:]  # first attempt + 1 retry
    assert set(sacct_states(scan_jobs).values()) == {"FAILED"}
    assert "Error in rule scan" in output
    log = (tmp_path / "results/broken/logs/scan.log").read_text()
    assert "1 usable species after the scan" in log


def test_cancelled_job_does_not_leave_snakemake_hanging(tmp_path, slurm_env):
    config = small_grid()
    config["datasets"] = {"big": {"demo": {"n_species": 4, "per_species": 200, "size": 96}}}
    config["models"]["rand_mnv2"]["img_size"] = 224
    config_path = write_config(tmp_path, config)
    command = [
        "timeout",
        "-k",
        "10",
        "300",
        str(SNAKEMAKE),
        "-s",
        str(REPO / "Snakefile"),
        "-d",
        str(tmp_path),
        "--configfile",
        str(config_path),
        "--profile",
        str(PROFILE),
        *TEST_OVERRIDES,
        "--retries",
        "0",
        "--cores",
        "2",
    ]
    log_path = tmp_path / "snakemake.out"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **slurm_env})
        embed_job = None
        deadline = time.monotonic() + 240
        while embed_job is None and time.monotonic() < deadline and process.poll() is None:
            time.sleep(1)
            embed_job = next((jobid for kind, jobid in submissions(log_path.read_text()) if kind == "rule_embed"), None)
        assert embed_job, log_path.read_text()[-3000:]
        subprocess.run(["scancel", embed_job], check=True)
        cancelled_at = time.monotonic()
        returncode = process.wait(timeout=280)
    waited = time.monotonic() - cancelled_at
    output = log_path.read_text()
    assert returncode not in (0, 124, 137), (returncode, output[-3000:])  # failed on its own, not killed by timeout
    assert waited < 120, f"Snakemake took {waited:.0f} s to notice the cancelled job"
    assert "Error in rule embed" in output
    assert sacct_states([embed_job])[embed_job].startswith("CANCELLED")


def test_a_user_config_from_a_fresh_clone_runs_only_its_own_jobs_on_slurm(tmp_path, slurm_env):
    """The README's SLURM command at the root of a fresh clone, with a config holding only the user's
    dataset. The only additions are this 2-CPU, GPU-less test node's limits (TEST_OVERRIDES)."""
    import yaml
    from test_readme_commands import MY_CONFIG, _my_photos, fresh_clone

    clone = fresh_clone(tmp_path / "clone")
    photos = _my_photos(tmp_path / "photos")
    config = {"datasets": {"birds": {"root": str(photos)}}, **MY_CONFIG, "review": {"gallery_top": 0}}
    (clone / "my.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    command = ["snakemake", "--profile", "profiles/slurm", "--configfile", "my.yaml", *TEST_OVERRIDES]
    env = {**os.environ, **slurm_env, "PATH": f"{SNAKEMAKE.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["timeout", "-k", "10", "600", *command], cwd=clone, env=env, capture_output=True, text=True
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    kinds = sorted(kind for kind, _ in submissions(output))
    print("sbatch submissions:", kinds)
    assert kinds == sorted(
        [
            "rule_scan",
            "rule_sample",
            "rule_embed",
            "rule_reduce",
            "rule_reduce",
            CELL_GROUP,
            "rule_aggregate",
            "rule_plots",
        ]
    )  # no demo, no sort run: only the user's config
    assert sorted(p.name for p in (clone / "results").iterdir()) == ["birds"]
    assert not (clone / "resources" / "demo").exists()


def test_sharded_embedding_is_one_submission_per_shard_and_merges_to_the_unsharded_bytes(tmp_path, slurm_env):
    """embed.shards: 4 on the cluster vs one local embed job, each with its own (empty) cache."""
    target = "results/tiny/embeddings/rand_mnv2.parquet"
    local_dir, slurm_dir = tmp_path / "local", tmp_path / "slurm"
    local_dir.mkdir(), slurm_dir.mkdir()
    run_snakemake(local_dir, write_config(local_dir, small_grid()), target)
    config = small_grid()
    config["embed"] = {"shards": 4}
    result = run_on_slurm(slurm_dir, config, slurm_env, target)
    kinds = sorted(kind for kind, _ in submissions(result.stdout + result.stderr))
    print("sbatch submissions:", kinds)
    assert kinds == sorted(
        ["rule_demo_data", "rule_scan", "rule_embed", "rule_embed", "rule_embed", "rule_embed", "rule_embed_merge"]
    )
    stats = json.loads((slurm_dir / "results/tiny/embeddings/rand_mnv2.stats.json").read_text())
    assert (stats["shards"], stats["embedded"], stats["from_cache"]) == (4, 56, 0)
    assert (local_dir / target).read_bytes() == (slurm_dir / target).read_bytes()
