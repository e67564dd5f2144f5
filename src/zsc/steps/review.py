"""Steps of workflow/rules/review.smk: thumbnails and galleries."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def thumbnails(root: str, manifest_path: str, output_dir: str) -> None:
    from zsc.report.gallery import make_thumbnails

    manifest = pd.read_parquet(manifest_path)
    made = make_thumbnails(Path(root), manifest["image_id"], Path(output_dir))
    failed = [image_id for image_id, path in made.items() if not path]
    print(f"{len(made) - len(failed)} thumbnails; undecodable now: {failed[:20]}", file=sys.stderr)


def gallery(
    summary_path: str, metrics_path: str, labels_by_cell: dict[str, str], thumbs_dir: str, top: int, output_dir: str
) -> None:
    """Galleries of the best ``top`` settings (their first seed) plus an index page."""
    from zsc.evaluation.aggregate import KEYS, first_ok_cell, usable_settings
    from zsc.layout import cell_key
    from zsc.report.gallery import render_index, render_page, thumbnail_name

    summary = pd.read_csv(summary_path)
    metrics = pd.read_csv(metrics_path)
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    thumbs = Path(thumbs_dir)
    relative = f"../{thumbs.name}"
    pages = []
    for _, setting in usable_settings(summary).head(top).iterrows():
        cell = first_ok_cell(metrics, setting)
        labels = pd.read_parquet(labels_by_cell[cell_key(cell)])
        paths = {
            i: f"{relative}/{thumbnail_name(i)}" for i in labels["image_id"] if (thumbs / thumbnail_name(i)).exists()
        }
        title = " / ".join(str(cell[k]) for k in KEYS)
        facts = {
            "rank": setting["rank"],
            **{k: cell[k] for k in KEYS},
            **{
                k: round(float(cell[k]), 4)
                for k in ("v_measure_retained", "ari_retained", "noise_fraction")
                if k in cell
            },
            "clusters found": cell.get("clusters_found"),
            "species": cell.get("true_k"),
        }
        name = "__".join(str(cell[k]) for k in KEYS) + ".html"
        (output / name).write_text(render_page(title, facts, labels, paths))
        pages.append((name, title, f"(rank {setting['rank']}, V-measure {cell['v_measure_retained']:.3f})"))
    (output / "index.html").write_text(render_index(pages))
