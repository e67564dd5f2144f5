"""Bad inputs, degenerate results, interruptions, determinism and safety."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import corpus
from conftest import REPO, SNAKEMAKE, run_snakemake, tiny_config, write_config
from zsc.config import SCHEMA_PATH as SCHEMA  # noqa: E402
from zsc.config import ConfigError, validate_config
from zsc.data.images import open_rgb
from zsc.io import read_embeddings
from zsc.steps import cluster as steps_cluster
from zsc.steps import common as steps_common
from zsc.steps import data as steps_data
from zsc.steps import embed as steps_embed
from zsc.steps import reduce as steps_reduce


@pytest.fixture(scope="module")
def corpus_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus") / "photos"
    return root, corpus.build(root)


def _scan(root: Path, out: Path):
    steps_data.scan(str(root), -1, 0, 2, str(out / "manifest.parquet"), str(out / "rejects.csv"))
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
    steps_embed.embed(
        "m",
        spec,
        str(photos),
        str(tmp_path / "manifest.parquet"),
        str(tmp_path / "emb.parquet"),
        str(tmp_path / "embed_rejects.csv"),
        str(tmp_path / "stats.json"),
        device="cpu",
        workers=0,
        cache_root=str(tmp_path / "cache"),
    )
    rejects = pd.read_csv(tmp_path / "embed_rejects.csv")
    assert rejects["image_id"].tolist() == [broken] and rejects["stage"].tolist() == ["embed"]
    frame, matrix = read_embeddings(tmp_path / "emb.parquet")
    assert len(frame) == len(manifest) - 1 and matrix.shape == (len(manifest) - 1, 1280)
    # a sample drawn before the breakage: the reduction records the missing image instead of failing
    steps_data.sample(
        str(tmp_path / "manifest.parquet"), {"kind": "all", "min_per_class": 2}, 0, str(tmp_path / "s.parquet")
    )
    steps_reduce.reduce(
        str(tmp_path / "emb.parquet"),
        str(tmp_path / "s.parquet"),
        {"method": "pca"},
        0,
        str(tmp_path / "r.parquet"),
        str(tmp_path / "r.json"),
    )
    info = yaml.safe_load((tmp_path / "r.json").read_text())
    assert info["status"] == "ok" and info["n_missing_embedding"] == 1 and info["missing_embedding"] == [broken]


def test_too_few_images_fails_the_reducer_cell_with_a_reason_and_others_finish(tmp_path):
    rng = np.random.default_rng(0)
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = [f"s{i % 2}/{i}.jpg" for i in range(10)]
    embeddings = pa.table(
        {
            "image_id": ids,
            "label": [i.split("/")[0] for i in ids],
            "group": [""] * 10,
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(rng.normal(size=80), pa.float32()), 8),
        }
    )
    pq.write_table(embeddings, tmp_path / "emb.parquet")
    pd.DataFrame({"image_id": ids, "label": [i.split("/")[0] for i in ids], "group": ""}).to_parquet(
        tmp_path / "s.parquet"
    )
    outcomes = {}
    for reducer in ("tsne", "pca"):
        steps_reduce.reduce(
            str(tmp_path / "emb.parquet"),
            str(tmp_path / "s.parquet"),
            {"method": reducer},
            0,
            str(tmp_path / f"{reducer}.parquet"),
            str(tmp_path / f"{reducer}.json"),
        )
        steps_cluster.cluster(
            str(tmp_path / f"{reducer}.parquet"),
            str(tmp_path / f"{reducer}.json"),
            {"method": "ward", "k": "true_k"},
            0,
            {"reducer": reducer},
            str(tmp_path / f"{reducer}_cells.parquet"),
            str(tmp_path / f"{reducer}_cell.json"),
        )
        outcomes[reducer] = yaml.safe_load((tmp_path / f"{reducer}_cell.json").read_text())
    assert outcomes["tsne"]["status"] == "failed"
    assert re.search(r"reduce: ReducerError: tsne .*needs at least 17 points, got 10", outcomes["tsne"]["reason"])
    assert outcomes["pca"]["status"] == "ok" and 0 <= outcomes["pca"]["v_measure_retained"] <= 1


def test_all_noise_cell_is_defined(tmp_path):

    ids = [f"s{i % 2}/{i}.jpg" for i in range(12)]
    frame = pd.DataFrame(
        {
            "image_id": ids,
            "label": [i.split("/")[0] for i in ids],
            "group": "",
            "x0": np.arange(12.0),
            "x1": np.zeros(12),
        }
    )
    frame.to_parquet(tmp_path / "r.parquet")
    (tmp_path / "r.json").write_text('{"status": "ok", "reason": "", "reduce_seconds": 0.1}')
    steps_cluster.cluster(
        str(tmp_path / "r.parquet"),
        str(tmp_path / "r.json"),
        {"method": "dbscan", "min_samples": 5, "eps": 0.5},
        0,
        {"clusterer": "dbscan"},
        str(tmp_path / "c.parquet"),
        str(tmp_path / "c.json"),
    )
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
    np.testing.assert_allclose(
        matrix[position["Birds/odd_formats/exif_rotated.png"]],
        matrix[position["Birds/odd_formats/upright_copy.png"]],
        rtol=1e-5,
        atol=1e-6,
    )


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
    command = [
        str(SNAKEMAKE),
        "-s",
        str(REPO / "Snakefile"),
        "-d",
        str(killed_dir),
        "--configfile",
        str(config_path),
        "--cores",
        "2",
        target,
    ]
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
    for path in (REPO / "src" / "zsc").rglob("*.py"):  # every module, in every subpackage
        text = path.read_text()
        assert "import pickle" not in text and "pickle.load" not in text, path
        for call in re.findall(r"torch\.load\([^)]*\)", text):
            assert "weights_only=True" in call, (path, call)


# ------------------------------------------------------------------ issue: sort runs and late failures


def _peak_rss_mb_of(script: str) -> float:
    """Peak resident memory of a fresh Python process running ``script`` (which prints nothing)."""
    code = script + "\nimport resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def test_an_extreme_aspect_ratio_costs_no_more_than_a_normal_photo(tmp_path):
    from PIL import Image

    Image.new("RGB", (8, 150_000), (120, 30, 60)).save(tmp_path / "sliver.png")  # ~9 kB on disk
    Image.effect_noise((640, 480), 40).convert("RGB").save(tmp_path / "normal.jpg")
    template = (
        "from zsc.embedding.embed import crop_uint8\nfrom zsc.data.images import open_rgb\nfrom zsc.embedding.backbones import Preprocessing\n"
        "prep = Preprocessing(224, 256, (0.5,) * 3, (0.5,) * 3, 'bicubic')\n"
        "out = crop_uint8(open_rgb(r'{path}', draft_size=256), prep)\nassert out.shape == (224, 224, 3), out.shape"
    )
    normal = _peak_rss_mb_of(template.format(path=tmp_path / "normal.jpg"))
    sliver = _peak_rss_mb_of(template.format(path=tmp_path / "sliver.png"))
    print(f"peak RSS: normal photo {normal:.0f} MB, 8 x 150,000 image {sliver:.0f} MB")
    assert sliver <= normal + 30  # was +4.7 GB: the short side was upscaled before the crop


def test_aspect_crop_leaves_ordinary_photos_unchanged():
    from PIL import Image

    from zsc.embedding.backbones import Preprocessing
    from zsc.embedding.embed import crop_uint8

    prep = Preprocessing(224, 256, (0.5,) * 3, (0.5,) * 3, "bicubic")
    photo = Image.effect_noise((640, 300), 60).convert("RGB")  # 2.13:1, a wide camera-trap frame
    width, height = photo.size
    scale = 256 / height
    resized = photo.resize((round(width * scale), 256), Image.BICUBIC)
    left = (resized.size[0] - 224) // 2
    expected = np.asarray(resized.crop((left, 16, left + 224, 240)))
    difference = np.abs(crop_uint8(photo, prep).astype(int) - expected.astype(int))
    assert difference.mean() < 2.0  # the same centre crop (the bounded crop only trims far-away pixels)
    square = Image.effect_noise((300, 300), 60).convert("RGB")
    resized = square.resize((256, 256), Image.BICUBIC)
    np.testing.assert_array_equal(crop_uint8(square, prep), np.asarray(resized.crop((16, 16, 240, 240))))


def _scan_as_unprivileged_user(root: Path, out: Path) -> subprocess.CompletedProcess:
    """Root reads every folder whatever its mode; the scan runs as 'nobody' so permissions apply."""
    code = f"from zsc.steps import data as steps_data; steps_data.scan(r'{root}', -1, None, 1, r'{out}/manifest.parquet', r'{out}/rejects.csv')"
    command = [sys.executable, "-c", code]
    if os.geteuid() == 0:
        command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command]
    return subprocess.run(command, capture_output=True, text=True)


def test_an_unreadable_species_folder_is_a_reject_row_not_a_traceback():
    import tempfile

    from PIL import Image

    with tempfile.TemporaryDirectory(dir="/tmp") as base:  # world-traversable, unlike pytest's tmp_path
        base = Path(base)
        os.chmod(base, 0o777)
        root, out = base / "photos", base / "out"
        out.mkdir(mode=0o777)
        os.chmod(out, 0o777)
        for index, species in enumerate(("owl", "fox", "locked")):
            (root / species).mkdir(parents=True)
            for i in range(3):
                Image.new("RGB", (32, 32), (i * 60, index * 80, 5)).save(root / species / f"{i}.png")
        for folder, _, files in os.walk(base):
            os.chmod(folder, 0o777)
            for name in files:
                os.chmod(Path(folder) / name, 0o644)
        os.chmod(root / "locked", 0o000)
        result = _scan_as_unprivileged_user(root, out)
        os.chmod(root / "locked", 0o755)
        assert result.returncode == 0, result.stderr[-2000:]
        rejects = pd.read_csv(out / "rejects.csv")
        assert rejects.to_dict("records") == [
            {"image_id": "locked/", "stage": "scan", "reason": "unreadable folder (permission denied)"}
        ]
        assert len(pd.read_parquet(out / "manifest.parquet")) == 6


@pytest.mark.parametrize(
    "mutate, message",
    [
        (
            lambda c: c.update(seeds=[1099511627776]),
            r"config key 'seeds.0': 1099511627776 is greater than the maximum of 4294967295",
        ),
        (
            lambda c: c["grid"].update(exclude=[{"model": "rand_mnv2"}]),
            r"config key 'grid.exclude': removes every cell",
        ),
        (
            lambda c: c["samplings"].update(u={"kind": "uneven", "min_per_class": 9, "max_per_class": 4}),
            r"config key 'samplings.u.min_per_class': 9 is larger than max_per_class 4",
        ),
        (lambda c: c["clusterers"]["ward"].update(k="0x"), r"config key 'clusterers.ward.k': '0x' asks for 0 times"),
        (
            lambda c: c["models"]["rand_mnv2"].update(img_size=1),
            r"config key 'models.rand_mnv2.img_size': 1 is less than the minimum of 16",
        ),
        (
            lambda c: c["models"]["rand_mnv2"].update(id="vit_nonexistent_patch99"),
            r"config key 'models.rand_mnv2.id': timm has no model 'vit_nonexistent_patch99'",
        ),
        (
            lambda c: c["datasets"].update(system={"root": "/"}),
            r"config key 'datasets.system.root': '/' is a system folder",
        ),
        (
            lambda c: c["datasets"].update(system={"root": "/proc"}),
            r"config key 'datasets.system.root': '/proc' is a system folder",
        ),
    ],
)
def test_values_that_used_to_fail_late_are_config_errors(mutate, message):
    config = tiny_config(grid={})
    mutate(config)
    with pytest.raises(ConfigError, match=message):
        validate_config(config, SCHEMA)


def test_k_larger_than_the_sort_inbox_is_a_config_error(tmp_path):
    from PIL import Image

    for i in range(5):
        Image.new("RGB", (32, 32), (i * 40, 0, 0)).save(tmp_path / f"{i}.jpg")
    config = tiny_config(
        sort={
            "inbox": {
                "root": str(tmp_path),
                "k": 12,
                "setting": {"model": "rand_mnv2", "reducer": "pca", "clusterer": "ward"},
            }
        }
    )
    with pytest.raises(ConfigError, match=r"config key 'sort.inbox.k': k=12 exceeds the 5 photos under"):
        validate_config(config, SCHEMA)


def test_a_duplicated_top_level_key_is_an_error_naming_file_and_line(tmp_path):
    config_text = yaml.safe_dump(tiny_config(), sort_keys=False) + "seeds: [4]\n"
    path = tmp_path / "dup.yaml"
    path.write_text(config_text)
    result = run_snakemake(tmp_path, path, "-n", check=False, timeout=120)
    line = config_text.splitlines().index("seeds:") + 1
    assert result.returncode != 0
    assert (
        f"{path}: key 'seeds' appears twice (lines {line} and {len(config_text.splitlines())})"
        in result.stderr + result.stdout
    )


def test_a_failed_scan_prints_its_rejects_in_the_log_that_survives(tmp_path):
    from PIL import Image

    root = tmp_path / "photos"
    (root / "owl").mkdir(parents=True)
    (root / "fox").mkdir()
    for i in range(3):
        Image.new("RGB", (32, 32), (i * 40, 0, 0)).save(root / "owl" / f"{i}.jpg")
        (root / "fox" / f"{i}.jpg").write_bytes(b"corrupt")
    with pytest.raises(ValueError) as raised:
        with steps_common.logged(str(tmp_path / "scan.log")):
            steps_data.scan(str(root), -1, None, 2, str(tmp_path / "m.parquet"), str(tmp_path / "r.csv"))
    assert "rejects in" not in str(raised.value) and "listed in the job's log" in str(raised.value)
    log = (tmp_path / "scan.log").read_text()
    assert "fox/0.jpg" in log and "not a decodable image" in log


def test_user_text_with_mathtext_characters_is_drawn_literally(tmp_path):
    from zsc.report import plots

    per_species = pd.DataFrame(
        {"model": "m", "label": ["$\\frac$ cat", "dog"], "dominant_share": [0.5, 1.0], "dominant_purity": [1.0, 0.5]}
    )
    plots.per_species_bars(per_species, {"model": "m"}, tmp_path / "bars.png")
    points = pd.DataFrame(
        {"image_id": ["a", "b"], "label": ["$\\frac$ cat", "dog"], "x0": [0.0, 1.0], "x1": [0.0, 1.0]}
    )
    plots.scatter(points, points.assign(cluster=[0, -1]), "$\\frac$ title", tmp_path / "scatter.png")
    assert (tmp_path / "bars.png").stat().st_size > 0 and (tmp_path / "scatter.png").stat().st_size > 0


@pytest.mark.slow
def test_reordering_keys_inside_an_entry_reruns_nothing(tmp_path, numba_cache):
    config = tiny_config(
        reducers={"pca": {"method": "pca"}}, clusterers={"ward": {"method": "ward"}}, review={"gallery_top": 0}
    )
    run_snakemake(tmp_path, write_config(tmp_path, config))
    model = config["models"]["rand_mnv2"]
    config["models"]["rand_mnv2"] = dict(reversed(list(model.items())))
    config["reducers"]["pca"] = {"n_components": 2, "method": "pca"}
    assert "Nothing to be done" in run_snakemake(tmp_path, write_config(tmp_path, config), "-n").stdout


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "datasets:\n\tdemo: {}\n",
            ":2:1: found character '\\t' that cannot start any token (a tab in the indentation",
        ),
        ("seeds: [1, 2\nmodels: {}\n", ":2:7: expected ',' or ']', but got ':'"),
        ("seeds: [1]\nseeds: [2]\n", "key 'seeds' appears twice (lines 1 and 2)"),
    ],
)
def test_config_check_names_file_and_line(tmp_path, text, expected):
    """Snakemake itself only says 'Config file is not valid JSON or YAML'; python -m zsc.config names the line."""
    path = tmp_path / "my.yaml"
    path.write_text(text)
    result = subprocess.run([sys.executable, "-m", "zsc.config", str(path)], capture_output=True, text=True)
    assert result.returncode == 1 and expected in result.stdout, result.stdout + result.stderr
    assert str(path) in result.stdout


def test_config_check_passes_the_shipped_configs():
    result = subprocess.run(
        [sys.executable, "-m", "zsc.config", "config/config.yaml", "config/paper.yaml"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0 and result.stdout.count(": ok") == 2, result.stdout + result.stderr
