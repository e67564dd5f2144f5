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
    from zsc.report.gallery import write_galleries

    write_galleries(
        pd.read_csv(summary_path), pd.read_csv(metrics_path), labels_by_cell, Path(thumbs_dir), top, Path(output_dir)
    )
