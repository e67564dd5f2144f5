"""Review outputs end to end: galleries (rendered in headless Chromium), report figures,
outlier and label-free tables, sub-clusters with attributes, samplings and a sort run."""

from __future__ import annotations

import re
import subprocess

import pandas as pd
import pytest

from conftest import CHROMIUM, CHROMIUM_ARGS, needs_chromium, run_snakemake, tiny_config, write_config

pytestmark = pytest.mark.slow


def review_config(attributes_path: str) -> dict:
    config = tiny_config(
        samplings={
            "even10": {"kind": "even", "per_class": 10, "min_per_class": 5},
            "longtail": {"kind": "longtail", "max_per_class": 12, "min_per_class": 5, "density_preset": "even"},
        },
        reducers={"tsne": {"method": "tsne"}},
        clusterers={
            "ward": {"method": "ward"},
            "ward_2x": {"method": "ward", "k": "2x"},
            "hdbscan": {"method": "hdbscan", "min_cluster_size": 5, "min_samples": 3},
        },
        subclusters={"m": 2, "method": "ward"},
        sort={
            "inbox": {
                "demo": {"n_species": 3, "per_species": 8, "seed": 9, "size": 64, "nested": False},
                "setting": {"model": "rand_mnv2", "reducer": "tsne", "clusterer": "ward"},
                "k": 3,
                "min_silhouette": 0.2,
                "link": "symlink",
            }
        },
        review={"gallery_top": 2},
    )
    config["datasets"]["tiny"]["attributes"] = attributes_path
    return config


@pytest.fixture(scope="module")
def review_run(tmp_path_factory, numba_cache):
    workdir = tmp_path_factory.mktemp("review")
    # an attribute known per image: which half of the species' images it is (a stand-in for sex or age class)
    from zsc.data.demo import SPECIES

    rows = [
        {
            "image_id": f"{'round' if s.split('_')[0] in ('disc', 'ellipse', 'ring', 'crescent') else 'angular'}/{s}/{s}_{i:03d}.jpg",
            "half": "first" if i < 7 else "second",
        }
        for s in SPECIES[:4]
        for i in range(14)
    ]
    pd.DataFrame(rows).to_csv(workdir / "attributes.csv", index=False)
    run_snakemake(workdir, write_config(workdir, review_config(str(workdir / "attributes.csv"))))
    return workdir


def test_samplings_and_over_clustering_cells(review_run):
    metrics = pd.read_csv(review_run / "results/tiny/metrics.csv")
    assert set(metrics["sampling"]) == {"even10", "longtail"}
    over = metrics[(metrics["clusterer"] == "ward_2x") & (metrics["status"] == "ok")]
    assert len(over) == 2 and (over["clusters_found"] == 2 * over["true_k"]).all()
    import json

    import pyarrow.parquet as pq

    meta = json.loads(pq.read_schema(review_run / "results/tiny/samples/longtail/pooled/1.parquet").metadata[b"zsc"])
    counts = sorted(meta["counts_per_species"].values(), reverse=True)
    assert counts[0] == 12 and counts[-1] >= 5 and len(set(counts)) > 1


def test_tables_for_review_and_model_selection(review_run):
    results = review_run / "results/tiny"
    outliers = pd.read_csv(results / "outliers.csv")
    metrics = pd.read_csv(results / "metrics.csv")
    density_noise = metrics[metrics["clusterer"] == "hdbscan"]
    expected = int(round((density_noise["noise_fraction"] * density_noise["n_points"]).sum()))
    assert len(outliers) == expected
    assert set(outliers["clusterer"]) <= {"hdbscan"} and (outliers["nearest_distance"] >= 0).all()
    selection = pd.read_csv(results / "label_free_selection.csv")
    assert set(selection["proxy"]) == {"silhouette", "dbcv"} and set(selection["clusterer"]) == {
        "ward",
        "ward_2x",
        "hdbscan",
    }
    summary = pd.read_csv(results / "summary.csv")
    for column in ("v_measure_retained_ci95", "group_balanced_v_measure_mean", "macro_f1_retained_mean", "rank"):
        assert column in summary.columns
    subclusters = pd.read_csv(results / "subcluster_attributes.csv")
    assert set(subclusters["attribute"]) == {"half"} and len(subclusters) == 2  # tsne x 2 samplings
    assert subclusters["v_measure"].between(0, 1).all() and (subclusters["n_species"] >= 1).all()


def test_report_figures_and_snakemake_report(review_run):
    plots = review_run / "results/tiny/plots"
    for name in ("heatmap.png", "per_species.png", "scatter_best.png", "critical_difference.png"):
        assert (plots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    config_path = review_run / "config.yaml"
    run_snakemake(review_run, config_path, "--report", str(review_run / "report.html"))
    report = (review_run / "report.html").read_text(errors="replace")
    assert "heatmap.png" in report and "Mean V-measure" in report
    assert "critical_difference.png" in report and "Nemenyi" in report
    # the report opens on the results: its front page points at them; the leaderboard and each sort run's map are in it
    assert "The results come first" in report and "Benchmark results" in report and "Sort runs" in report
    assert "leaderboard.csv" in report and "tied_with_best" in report
    assert (review_run / "results/sort/inbox/map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "map.png" in report and "doubtful photos" in report
    assert "System Message" not in report  # the front page's reStructuredText rendered without a warning


def test_sort_run_writes_folders_and_review_list_without_labels(review_run):
    run = review_run / "results/sort/inbox"
    assignments = pd.read_csv(run / "assignments.csv")
    assert len(assignments) == 24 and set(assignments.columns) >= {
        "image_id",
        "cluster",
        "folder",
        "doubtful",
        "reason",
        "nearest_cluster",
    }
    assert assignments["cluster"].nunique() == 3  # ward with the k asked for
    folders = {p.name for p in (run / "clusters").iterdir() if p.is_dir()}
    assert folders == set(assignments["folder"])
    links = list((run / "clusters").rglob("*.jpg"))
    assert len(links) == 24 and all(link.is_symlink() and link.resolve().is_file() for link in links)
    review = pd.read_csv(run / "review.csv")
    assert len(review) == assignments["doubtful"].sum() == len(list((run / "clusters" / "doubtful").glob("*")))
    assert review["reason"].str.startswith("between clusters").all()
    assert review["distance_to_cluster"].is_monotonic_decreasing
    manifest = pd.read_parquet(run / "manifest.parquet")
    assert set(manifest["label"]) == {""}  # no labels anywhere


def test_gallery_pages_are_self_contained(review_run):
    gallery = review_run / "results/tiny/gallery"
    pages = sorted(p for p in gallery.glob("*.html") if p.name != "index.html")
    assert len(pages) == 2
    for page in pages:
        text = page.read_text()
        assert "http://" not in text and "https://" not in text  # no external assets
        sources = re.findall(r'src="([^"]+)"', text)
        assert sources and all(src.startswith("../thumbnails/") for src in sources)
        assert all((gallery / src).resolve().is_file() for src in sources)
        assert "dominant species" in text and "purity" in text


@needs_chromium
def test_gallery_renders_in_headless_chromium_with_every_thumbnail_loaded(review_run, tmp_path):
    page = sorted(p for p in (review_run / "results/tiny/gallery").glob("*.html") if p.name != "index.html")[0]
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            *CHROMIUM_ARGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    match = re.search(r'data-images="(\d+)/(\d+)"', dom)
    assert match, dom[:2000]
    loaded, total = map(int, match.groups())
    assert total >= 20 and loaded == total


# ------------------------------------------------------------------ the review page, in a real browser


def figure_of(page, index: int, section: str | None = None):
    scope = f'section[data-g="{section}"] ' if section else ""
    return page.locator(f'{scope}figure[data-i="{index}"]')


@needs_chromium
def test_review_page_name_merge_move_reload_export_then_apply_with_the_workflow(browser, review_run, tmp_path):
    """A person's session in Chromium: the page's CSV, applied by the workflow, becomes named folders."""
    from playwright.sync_api import expect

    run = review_run / "results/sort/inbox"
    assignments = pd.read_csv(run / "assignments.csv", keep_default_na=False)
    kept = assignments[~assignments["doubtful"]]
    clusters = sorted(kept["cluster"].unique())
    assert len(clusters) >= 3
    first, second, third = (f"c{c}" for c in clusters[:3])
    index_of = {image_id: i for i, image_id in enumerate(assignments["image_id"])}
    first_images = kept[kept["cluster"] == clusters[0]]["image_id"].tolist()
    moved, dragged = first_images[0], first_images[1]
    errors = []
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto((run / "review.html").as_uri())
    page.wait_for_selector("body[data-ready]")
    assert page.locator("figure img").count() >= 1
    assert "0 / %d photos named" % len(assignments) in page.inner_text("#progress")
    # name two clusters; the third gets the second's name: one group (one panel line, one folder)
    page.fill(f'input[data-name="{first}"]', "alpha")
    page.press(f'input[data-name="{first}"]', "Enter")
    page.fill(f'input[data-name="{second}"]', "beta")
    page.press(f'input[data-name="{second}"]', "Enter")
    page.fill(f'input[data-name="{third}"]', "Beta")
    page.press(f'input[data-name="{third}"]', "Enter")
    expect(page.locator('#entries div[data-label="beta"]')).to_have_count(1)
    # move one photo with the keyboard: select it, m, type the name, Enter
    figure_of(page, index_of[moved]).click()
    page.keyboard.press("m")
    page.keyboard.type("beta")
    page.keyboard.press("Enter")
    beta_sections = f'section[data-g="{second}"], section[data-g="{third}"]'
    expect(page.locator(beta_sections).locator(f'figure[data-i="{index_of[moved]}"]')).to_have_count(1)
    # drag another one, then undo the drag with the shortcut
    figure_of(page, index_of[dragged]).drag_to(page.locator('#entries div[data-label="beta"]'))
    expect(page.locator(beta_sections).locator(f'figure[data-i="{index_of[dragged]}"]')).to_have_count(1)
    page.keyboard.press("u")
    expect(figure_of(page, index_of[dragged], first)).to_have_count(1)
    named = int(page.get_attribute("#progress", "data-named"))
    # the work survives a reload
    page.reload()
    page.wait_for_selector("body[data-ready]")
    assert page.input_value(f'input[data-name="{first}"]') == "alpha"
    assert int(page.get_attribute("#progress", "data-named")) == named
    with page.expect_download() as download:
        page.keyboard.press("e")
    exported = tmp_path / "review.csv"
    download.value.save_as(exported)
    page.screenshot(path=str(tmp_path / "review.png"))
    assert not errors, errors

    labels = pd.read_csv(exported, keep_default_na=False).set_index("image_id")["label"]
    assert list(labels.index) == list(assignments["image_id"])
    expected = {
        row.image_id: (
            ""
            if row.doubtful
            else "alpha"
            if row.cluster == clusters[0]
            else "beta"
            if row.cluster in clusters[1:3]
            else ""
        )
        for row in assignments.itertuples()
    }
    expected[moved] = "beta"
    assert labels.to_dict() == expected
    assert named == sum(1 for label in expected.values() if label)

    # apply it: named folders, nothing re-embedded or re-clustered
    before = (run / "assignments.csv").stat().st_mtime_ns
    config = review_config(str(review_run / "attributes.csv"))
    config["sort"]["inbox"]["review"] = str(exported)
    result = run_snakemake(review_run, write_config(review_run, config, "reviewed.yaml"))
    assert "sort_apply_review" in result.stderr and "sort_embed" not in result.stderr
    assert (run / "assignments.csv").stat().st_mtime_ns == before
    final = run / "final"
    assert (final / "beta" / moved).is_symlink()  # final/ mirrors the inbox's folders
    assert not (final / "alpha" / moved).exists()
    for image_id, label in expected.items():
        assert (final / (label or "_unreviewed") / image_id).resolve().is_file()
    table = pd.read_csv(run / "labels.csv", keep_default_na=False)
    assert dict(zip(table["image_id"], table["label"])) == expected

    # the reviewed photos are a benchmark dataset: labels from labels.csv instead of folders
    bench = tiny_config(
        samplings={"all": {"kind": "all", "min_per_class": 2}},
        reducers={"pca": {"method": "pca"}},
        clusterers={"ward": {"method": "ward"}},
    )
    bench["datasets"] = {"reviewed": {"root": "resources/demo-sort/inbox", "labels": "results/sort/inbox/labels.csv"}}
    bench["review"] = {"gallery_top": 0}
    run_snakemake(review_run, write_config(review_run, bench, "benchmark.yaml"))
    manifest = pd.read_parquet(review_run / "results/reviewed/manifest.parquet")
    assert dict(zip(manifest["image_id"], manifest["label"])) == {i: label for i, label in expected.items() if label}
    rejects = pd.read_csv(review_run / "results/reviewed/rejects/scan.csv")
    assert set(rejects["image_id"]) == {i for i, label in expected.items() if not label}
    assert set(rejects["reason"]) <= {"no label in the labels CSV"}
    metrics = pd.read_csv(review_run / "results/reviewed/metrics.csv")
    assert (metrics["status"] == "ok").all() and (metrics["true_k"] == 2).all()


@needs_chromium
def test_review_page_with_20000_photos_is_interactive_within_2_seconds(browser, tmp_path):
    """20,000 generated entries (a stand-in for a season's photos; one real thumbnail file shared)."""
    import numpy as np
    from PIL import Image

    from zsc.sorting.page import render_review_page

    n, rng = 20_000, np.random.default_rng(0)
    cluster = rng.integers(0, 40, n)
    doubtful = rng.random(n) < 0.05
    assignments = pd.DataFrame(
        {
            "image_id": [f"cam{i % 9}/IMG_{i:05d}.jpg" for i in range(n)],
            "cluster": cluster,
            "doubtful": doubtful,
            "reason": "",
            "nearest_cluster": cluster,
            "distance_to_cluster": rng.random(n),
        }
    )
    (tmp_path / "thumbnails").mkdir()
    Image.new("RGB", (160, 160), (90, 120, 60)).save(tmp_path / "thumbnails/a.jpg")
    page_path = tmp_path / "review.html"
    page_path.write_text(
        render_review_page("season", assignments, {i: "thumbnails/a.jpg" for i in assignments["image_id"]})
    )
    page = browser.new_page()
    page.goto(page_path.as_uri())
    page.wait_for_selector("body[data-ready]")
    ready_ms = int(page.get_attribute("body", "data-ready"))  # performance.now(): since navigation start
    assert page.inner_text("#progress").startswith(f"0 / {n} photos named")
    rendered = page.locator("figure").count()
    # interactive: a click selects at once
    page.locator("figure").first.click()
    assert page.inner_text("#selection") == "1 selected"
    print(f"review page, {n} photos: interactive after {ready_ms} ms, {rendered} figures rendered")
    assert ready_ms < 2000
    assert rendered < 2000  # sections are filled as they scroll into view
