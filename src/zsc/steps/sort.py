"""Steps of workflow/rules/sort.smk: a sort run, from the scan to the applied review."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from zsc.io import atomic_path, read_embeddings, write_json, write_table


def setting(run: dict, choices: dict, summary_path: str | None, metrics_path: str | None, output_path: str) -> None:
    """Write the sort run's setting (names and full entries): explicit, or the benchmark's best."""
    from zsc.sorting.setting import choose_setting

    setting = choose_setting(run, choices, summary_path, metrics_path)
    print(
        f"sort setting: {setting['model']} / {setting['reducer']} / {setting['clusterer']} ({setting['source']})",
        file=sys.stderr,
    )
    write_json(setting, output_path)


def distinct_photos(frame: pd.DataFrame, hashes: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Rows to cluster (one per content, the likely original) and, per row, the row it follows."""
    from zsc.data.scan import original_first

    ids = frame["image_id"].tolist()
    row_of = {image_id: row for row, image_id in enumerate(ids)}
    copies: dict[str, list[str]] = {}
    for image_id, content in zip(ids, hashes):
        copies.setdefault(content, []).append(image_id)
    follows = np.empty(len(ids), dtype=int)
    for group in copies.values():
        group = original_first(group)
        for image_id in group:
            follows[row_of[image_id]] = row_of[group[0]]
    distinct = np.unique(follows)
    return distinct, np.searchsorted(distinct, follows)


def assign(
    manifest_path: str,
    embeddings_path: str,
    setting_path: str,
    run: dict,
    root: str,
    assignments_path: str,
    review_path: str,
    info_path: str,
    folders_dir: str,
) -> None:
    """Cluster unlabeled photos; write per-cluster folders, then the assignments and the review list.

    Exact duplicates are clustered once and filed beside their twin (``duplicate_of``)."""
    from zsc.methods.clusterers import K_GIVEN
    from zsc.sorting.assign import SortInputError, assign_clusters, folder_name, output_name
    from zsc.sorting.placement import write_folder

    setting = json.loads(Path(setting_path).read_text())
    clusterer_spec = setting["clusterer_spec"]
    if clusterer_spec["method"] in K_GIVEN and "k" not in run:
        raise ValueError(
            f"clusterer '{setting['clusterer']}' ({clusterer_spec['method']}) needs k: set "
            f"sort.<run>.k to the number of groups you expect (there are no labels to count)"
        )
    frame, matrix = read_embeddings(embeddings_path)
    manifest = pd.read_parquet(manifest_path, columns=["image_id", "content_hash"])
    hashes = frame["image_id"].map(manifest.set_index("image_id")["content_hash"])
    distinct, position = distinct_photos(frame, hashes)
    group_size = run.get("expected_group_size")
    if group_size and group_size > len(distinct) and clusterer_spec["method"] not in K_GIVEN:
        raise SortInputError(
            f"sort.<run>.expected_group_size={group_size} is larger than the {len(distinct)} "
            f"distinct photo(s) in the inbox; give the photos per species you expect"
        )
    k = run["k"] if clusterer_spec["method"] in K_GIVEN else None
    assigned, used = assign_clusters(
        matrix[distinct], setting["reducer_spec"], clusterer_spec, k, run["seed"], run["min_silhouette"]
    )
    assigned = assigned.iloc[position].reset_index(drop=True)
    assignments = pd.concat([frame[["image_id"]], assigned], axis=1)
    twin = frame["image_id"].to_numpy()[distinct][position]
    assignments["duplicate_of"] = np.where(twin == assignments["image_id"], "", twin)
    assignments.insert(
        2, "folder", [folder_name(c, d) for c, d in zip(assignments["cluster"], assignments["doubtful"])]
    )
    assignments.insert(
        3, "file", [f"{folder}/{output_name(i)}" for folder, i in zip(assignments["folder"], assignments["image_id"])]
    )
    plan = assignments[["image_id", "file"]].assign(content_hash=hashes.to_numpy())
    placed = write_folder(Path(root), plan, Path(folders_dir), run["link"])
    assignments["problem"] = [placed.refused.get(i, "") for i in assignments["image_id"]]
    report_refused(placed.refused)
    write_table(assignments, assignments_path)
    review = assignments[assignments["doubtful"]].sort_values("distance_to_cluster", ascending=False)
    write_table(review[["image_id", "reason", "nearest_cluster", "distance_to_cluster"]], review_path)
    kept = assignments.loc[~assignments["doubtful"], "cluster"]
    info = {
        **used,
        "n_photos": len(assignments),
        "n_distinct": len(distinct),
        "n_doubtful": len(review),
        "n_refused": len(placed.refused),
        "clusters_found": int(kept.nunique()),
    }
    write_json(info, info_path)
    print(
        f"sorted {len(assignments)} photos ({len(distinct)} distinct) with {setting['model']} / "
        f"{setting['reducer']} / {setting['clusterer']}: {assignments['folder'].nunique()} folders, "
        f"{len(review)} doubtful, {len(placed.refused)} refused",
        file=sys.stderr,
    )


def report_refused(refused: dict[str, str]) -> None:
    """Photos not placed (changed since the scan, a link leading out of the inbox): log and console."""
    for image_id, reason in list(refused.items())[:50]:
        print(f"not placed: {image_id}: {reason}", file=sys.stderr)
    if refused:
        print(
            f"warning: {len(refused)} photo(s) not placed, listed with the reason in the run's table "
            f"(column 'problem'), e.g. {next(iter(refused))}: {next(iter(refused.values()))}",
            file=sys.__stderr__,
            flush=True,
        )


def review_page(
    root: str,
    assignments_path: str,
    embeddings_path: str,
    setting_path: str,
    run_name: str,
    page_path: str,
    thumbs_dir: str,
    vocabulary: list[str] | None = None,
    apply: dict | None = None,
) -> None:
    """The run's review page, the thumbnails and large previews it shows (written next to it), and the
    neighbours, similarity order and sub-groups it carries (from the model's full embeddings)."""
    from zsc.report.gallery import make_thumbnails
    from zsc.sorting.review import PREVIEW_SIZE, render_review_page, review_extras

    assignments = pd.read_csv(
        assignments_path, dtype={"image_id": str}, keep_default_na=False, na_values={"distance_to_cluster": [""]}
    )
    assignments["doubtful"] = assignments["doubtful"].astype(str).str.lower() == "true"
    frame, matrix = read_embeddings(embeddings_path)
    row_of = {image_id: row for row, image_id in enumerate(frame["image_id"])}
    extras = review_extras(assignments, matrix[[row_of[i] for i in assignments["image_id"]]])
    thumbs = make_thumbnails(Path(root), assignments["image_id"], Path(thumbs_dir))
    previews = {
        image_id: f"{Path(thumbs_dir).name}/{path}"
        for image_id, path in make_thumbnails(
            Path(root), assignments["image_id"], Path(thumbs_dir) / "large", PREVIEW_SIZE
        ).items()
        if path
    }
    setting = json.loads(Path(setting_path).read_text())
    facts = (
        f"{len(assignments)} photos sorted with {setting['model']} / {setting['reducer']} / "
        f"{setting['clusterer']} ({setting['source']}). Name each cluster, fix what is wrong, then export the CSV."
    )
    page = render_review_page(
        run_name, assignments, thumbs, facts, extras=extras, previews=previews, vocabulary=vocabulary, apply=apply
    )
    with atomic_path(page_path) as partial:
        Path(partial).write_text(page)
    print(
        f"review page: {len(assignments)} photos, {sum(1 for p in thumbs.values() if not p)} without preview",
        file=sys.stderr,
    )


def apply_review(
    root: str,
    manifest_path: str,
    assignments_path: str,
    review_path: str,
    mode: str,
    final_dir: str,
    labels_path: str,
    label_folders_path: str,
    vocabulary: list[str] | None = None,
) -> None:
    """Named folders from an exported review CSV; photos it does not label go to final/_unreviewed/.

    ``final/`` is shared with the user: only files this step wrote before are replaced or removed."""
    from zsc.sorting import review as reviewing

    assignments = pd.read_csv(assignments_path, dtype={"image_id": str}, keep_default_na=False)
    manifest = pd.read_parquet(manifest_path, columns=["image_id", "content_hash"])
    assignments["content_hash"] = assignments["image_id"].map(manifest.set_index("image_id")["content_hash"]).fillna("")
    review, gone = reviewing.read_review(review_path, assignments["image_id"])
    review, merges = reviewing.merge_spellings(review, vocabulary)
    for merge in merges:
        print(merge, file=sys.stderr)
    if merges:
        print(
            f"note: {merges[0]} ({len(merges)} spelling(s) merged, listed in the log)", file=sys.__stderr__, flush=True
        )
    for image_id in gone[:50]:
        print(
            f"in the review CSV but no longer a photo of this run (gone from the inbox, or rejected): {image_id}",
            file=sys.stderr,
        )
    if gone:
        print(
            f"warning: {len(gone)} reviewed photo(s) are no longer in the inbox and were skipped, e.g. {gone[0]} "
            f"(full list in the log)",
            file=sys.__stderr__,
            flush=True,
        )
    labels, folders, placed = reviewing.apply_review(Path(root), assignments, review, Path(final_dir), mode)
    report_refused(placed.refused)
    for note in placed.notes:
        print(note, file=sys.stderr)
    write_table(labels[["image_id", "label", "folder", "cluster", "file", "problem"]], labels_path)
    write_table(folders, label_folders_path)
    for _, row in folders[folders["changed"]].iterrows():
        print(f"label '{row['label']}' is not a valid folder name: written to final/{row['folder']}", file=sys.stderr)
    print(
        f"applied {review_path}: {(labels['label'] != '').sum()} of {len(labels)} photos labelled, "
        f"{len(folders)} labels, {len(gone)} reviewed photo(s) gone",
        file=sys.stderr,
    )
