"""Steps of workflow/rules/gallery.smk: the benchmark's thumbnails and galleries (not the sort run's review page)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from zsc.io import log


def thumbnails(root: str, manifest_path: str, output_dir: str) -> None:
    from zsc.report.gallery import make_thumbnails

    manifest = pd.read_parquet(manifest_path)
    made = make_thumbnails(Path(root), manifest["image_id"], Path(output_dir))
    failed = [image_id for image_id, path in made.items() if not path]
    log(f"{len(made) - len(failed)} thumbnails; undecodable now: {failed[:20]}")


def gallery(
    summary_path: str, metrics_path: str, labels_by_cell: dict[str, str], thumbs_dir: str, top: int, output_dir: str
) -> None:
    """Galleries of the best ``top`` settings (their first seed) plus an index page."""
    from zsc.report.gallery import write_galleries

    write_galleries(
        pd.read_csv(summary_path), pd.read_csv(metrics_path), labels_by_cell, Path(thumbs_dir), top, Path(output_dir)
    )
