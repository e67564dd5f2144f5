"""What a user sees: figures without overlapping text, readable logs, no marker-file noise."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pandas as pd
from PIL import Image

from zsc.data.scan import Layout, scan_folder
from zsc.embedding.embed import progress_lines
from zsc.report import plots


def _summary() -> pd.DataFrame:
    """The demo's shape: one sampling with a 15-row grid, three samplings with a single row."""
    rows = []
    for model, reducer, clusterer in itertools.product(
        ["mobilenetv2", "efficientnet_lite0", "random"],
        ["tsne", "umap", "pca", "isomap", "kernel_pca"],
        ["hdbscan", "dbscan", "ward", "gmm"],
    ):
        rows.append(
            {
                "model": model,
                "reducer": reducer,
                "clusterer": clusterer,
                "sampling": "even30",
                "v_measure_retained_mean": 0.5,
            }
        )
    for sampling in ("all", "longtail", "uneven $\\frac$ x"):
        for clusterer in ("hdbscan", "dbscan", "ward", "gmm"):
            rows.append(
                {
                    "model": "efficientnet_lite0",
                    "reducer": "tsne",
                    "clusterer": clusterer,
                    "sampling": sampling,
                    "v_measure_retained_mean": 0.9,
                }
            )
    return pd.DataFrame(rows)


def _overlaps(boxes) -> list:
    return [(a, b) for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2) if box_a.overlaps(box_b)]


def test_heatmap_panels_follow_their_rows_and_no_text_overlaps(tmp_path):
    fig = plots.draw_heatmap(_summary())
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    panels = [ax for ax in fig.axes if ax.get_title().startswith("sampling")]
    row_heights = {ax.get_title(): ax.get_window_extent(renderer).height / len(ax.get_yticklabels()) for ax in panels}
    assert len(row_heights) == 4
    assert max(row_heights.values()) < 1.3 * min(row_heights.values()), row_heights  # a 1-row panel is not stretched
    texts = [
        text for ax in panels for text in [ax.title, *ax.get_xticklabels(), *ax.get_yticklabels()] if text.get_text()
    ]
    boxes = [(text.get_text(), text.get_window_extent(renderer).shrunk(0.98, 0.9)) for text in texts]
    assert not _overlaps(boxes), _overlaps(boxes)[:5]
    # a row label stays beside its own panel, never over another panel's cells
    for ax in panels:
        for label in ax.get_yticklabels():
            box = label.get_window_extent(renderer)
            for other in panels:
                if other is not ax:
                    assert not box.overlaps(other.get_window_extent(renderer)), (label.get_text(), other.get_title())
    plots.heatmap(_summary(), tmp_path / "heatmap.png")  # and it saves (user text with '$' drawn literally)
    assert Image.open(tmp_path / "heatmap.png").size[1] > 600


def test_embed_progress_in_a_log_file_is_lines_not_carriage_returns():
    batches = [(np.arange(10), None, []) for _ in range(5)] + [(np.arange(8), None, [(1, "bad")] * 2)]
    log = io.StringIO()  # not a terminal
    seen = list(progress_lines(batches, n_images=60, desc="embed m", every_seconds=0.0, stream=log))
    assert len(seen) == 6
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and len(lines) == 6
    assert lines[-1].startswith("embed m: 60/60 images (100%)")


def test_snakemake_marker_files_are_not_rejects(tmp_path):
    for species in ("owl", "fox"):
        (tmp_path / species).mkdir()
        for i in range(2):
            Image.new("RGB", (32, 32), (i * 90, 20, 0) if species == "owl" else (0, i * 90, 40)).save(
                tmp_path / species / f"{i}.png"
            )
    (tmp_path / ".snakemake_timestamp").write_text("")
    (tmp_path / ".DS_Store").write_text("")
    manifest, rejects = scan_folder(tmp_path, Layout())
    assert len(manifest) == 4
    assert rejects["image_id"].tolist() == [".DS_Store"]  # a user's OS file is still reported


def test_heatmap_opens_on_the_main_grid_says_not_run_from_no_score_and_shows_the_seeds_spread():
    summary = _summary()
    summary["v_measure_retained_std"] = 0.03
    summary.loc[summary.index[1], "v_measure_retained_mean"] = np.nan  # ran, no score
    fig = plots.draw_heatmap(summary)
    panels = [ax for ax in fig.axes if ax.get_title().startswith("sampling")]
    assert panels[0].get_title() == "sampling: even30"  # the main grid first, not 'all' by name
    cell_texts = [t.get_text() for t in panels[0].texts]
    assert "no score" in cell_texts and any("±0.03" in t for t in cell_texts)
    key = fig._suptitle.get_text()
    assert "not run" in key and "no score" in key and "standard deviation" in key
    # a longtail panel has only the efficientnet_lite0 / tsne row: nothing else is drawn as "no score" there
    assert all(t.get_text() != "no score" for ax in panels[1:] for t in ax.texts)


def test_per_species_bars_keep_the_legend_off_the_bars_and_label_both_axes(tmp_path):
    per_species = pd.DataFrame(
        {
            "model": "m",
            "label": [f"sp{i}" for i in range(8)],
            "dominant_share": np.linspace(0.1, 1, 8),
            "dominant_purity": 0.9,
        }
    )
    fig = plots.draw_per_species_bars(per_species, {"model": "m"})
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert not ax.get_legend().get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
    assert ax.get_xlabel() and ax.get_ylabel() and len(ax.get_yticklabels()) == 8
    plots.per_species_bars(per_species, {"model": "m"}, tmp_path / "bars.png")
    assert (tmp_path / "bars.png").stat().st_size > 0


def test_scatter_colours_clusters_marks_the_misclustered_and_stays_distinct_for_100_groups(tmp_path):
    rng = np.random.default_rng(0)
    points = pd.DataFrame(
        {"image_id": [f"p{i}" for i in range(300)], "x0": rng.normal(size=300), "x1": rng.normal(size=300)}
    )
    points["label"] = [f"sp{i % 100}" for i in range(300)]
    labels = points[["image_id"]].assign(cluster=[i % 100 for i in range(300)])
    labels.loc[[0, 1], "cluster"] = [5, 6]  # two photos in a cluster of another species
    labels.loc[2, "cluster"] = -1
    assert plots.misclustered(points.merge(labels, on="image_id")).sum() == 2
    looks = {(tuple(plots.style(i)["color"]), plots.style(i)["marker"]) for i in range(100)}
    assert len(looks) == 100
    fig = plots.draw_scatter(points, labels, "t")
    legend = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert legend == ["not its cluster's majority species (2)", "noise (1)"]  # 100 clusters: no per-cluster entries
    few = plots.draw_scatter(points[:30], labels[:30].assign(cluster=[i % 3 for i in range(30)]), "t")
    assert [t.get_text() for t in few.axes[0].get_legend().get_texts()][:3] == ["cluster 0", "cluster 1", "cluster 2"]
    plots.scatter(points, labels, "t", tmp_path / "scatter.png")
    assert (tmp_path / "scatter.png").stat().st_size > 0


def test_sort_map_colours_clusters_circles_the_doubtful_and_counts_what_it_does_not_draw(tmp_path):
    rng = np.random.default_rng(1)
    n = 40
    assignments = pd.DataFrame(
        {
            "image_id": [f"IMG_{i}.jpg" for i in range(n)],
            "cluster": [i % 4 for i in range(n)],
            "doubtful": [i < 3 for i in range(n)],
            "map_x": rng.normal(size=n),
            "map_y": rng.normal(size=n),
            "status": ["new"] * 30 + ["known"] * 6 + ["assigned"] * 4,
        }
    )
    assignments.loc[30:, "cluster"] = -1
    fig = plots.draw_sort_map(assignments, "sort run inbox")
    legend = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert legend == [
        "cluster 0",
        "cluster 1",
        "cluster 2",
        "cluster 3",
        "doubtful: shown first on the review page (3)",
        "known, not drawn (6)",
        "assigned, not drawn (4)",
    ]
    drawn = sum(len(collection.get_offsets()) for collection in fig.axes[0].collections[:4])
    assert drawn == 30  # only the clustered photos have a place on the map
    many = assignments.assign(cluster=range(n), status="new")
    legend = [text.get_text() for text in plots.draw_sort_map(many, "t").axes[0].get_legend().get_texts()]
    assert legend == ["doubtful: shown first on the review page (3)"]  # 40 clusters: no per-cluster entries
    plots.sort_map(assignments.drop(columns="status"), "no weekly columns", tmp_path / "map.png")
    assert (tmp_path / "map.png").read_bytes()[:4] == b"\x89PNG"


def test_every_image_the_readme_shows_is_committed():
    import re
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (repo / "README.md").read_text())
    assert len(images) >= 8  # the review page's three screenshots and the demo's five figures
    missing = [image for image in images if not (repo / image).is_file()]
    assert not missing, missing
