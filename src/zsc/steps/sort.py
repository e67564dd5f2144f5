"""Steps of workflow/rules/sort.smk: a sort run, from its setting to the applied review. Each step reads
its files, calls the sorting package and writes what it returns (``tests/test_architecture.py`` keeps
them short); the decisions are in ``zsc.sorting``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from zsc.io import atomic_path, console, log, read_embeddings
from zsc.tables import (
    ASSIGNMENTS,
    LABEL_FOLDERS,
    LABELS,
    REVIEW_LIST,
    read_run_summary,
    read_setting,
    write_run_summary,
    write_setting,
)


def setting(run: dict, choices: dict, summary_path: str | None, metrics_path: str | None, output_path: str) -> None:
    """Write the sort run's setting (names and full entries): explicit, or the benchmark's best."""
    from zsc.sorting.setting import choose_setting

    chosen = choose_setting(run, choices, summary_path, metrics_path)
    log(f"sort setting: {chosen['model']} / {chosen['reducer']} / {chosen['clusterer']} ({chosen['source']})")
    write_setting(chosen, output_path)


def content_of(manifest_path: str, image_ids: pd.Series) -> pd.Series:
    """Each photo's content hash (``image_ids``' order and index) from the run's manifest."""
    manifest = pd.read_parquet(manifest_path, columns=["image_id", "content_hash"])
    return image_ids.map(manifest.set_index("image_id")["content_hash"]).fillna("")


def read_known(
    known_path: str, image_ids: pd.Series, hashes: pd.Series, vocabulary: list[str] | None, applied_dir: str | None
) -> pd.Series:
    """image_id -> reviewed label, for the photos of this run whose bytes are those reviewed (one
    spelling per label); ``applied_dir``: the run's final/, whose record says what was filed before."""
    from zsc.sorting.apply import read_review
    from zsc.sorting.placement import applied_content

    review = read_review(known_path, image_ids)
    current = pd.Series(hashes.to_numpy(), index=image_ids.to_numpy())
    known = without_changed(review, current, applied_content(applied_dir) if applied_dir else {})
    for image_id in review.gone[:50]:
        log(f"reviewed but no longer a photo of this run: {image_id}")
    return merged_spellings(known, vocabulary)


def without_changed(review, current: pd.Series, applied: dict) -> pd.Series:
    """The review's labels less the photos whose bytes changed since (said on the console)."""
    from zsc.sorting.apply import changed_since_review

    changed = changed_since_review(review.labels, review.content, applied, current)
    for image_id in changed[:50]:
        log(f"reviewed photo holds other bytes than when it was reviewed: {image_id}")
    if changed:
        console(
            f"note: {len(changed)} reviewed photo(s) hold other bytes than when they were reviewed (overwritten in "
            f"place?), e.g. {changed[0]}: their old label is not used; they are sorted as photos not reviewed yet"
        )
    return review.labels.drop(changed)


def merged_spellings(labels: pd.Series, vocabulary: list[str] | None) -> pd.Series:
    """One spelling per label (NFC, case): merges listed in the log, counted on the console."""
    from zsc.sorting.apply import merge_spellings

    labels, merges = merge_spellings(labels, vocabulary)
    for merge in merges:
        log(merge)
    if merges:
        console(
            f"note: labels equal ignoring case and accents' encoding are one label and one folder: {merges[0]} "
            f"({len(merges)} spelling(s) merged, listed in the log)"
        )
    return labels


def known_index_loader(index_path: str, model: str, ids: pd.Series, hashes: pd.Series, matrix, run: dict):
    """``index_for(rows, labels)`` for ``zsc.sorting.week``: the saved reviewed-photos index when it is of
    this reviewed set, else built (calibrated: ``zsc.sorting.known``) and saved."""
    from zsc.sorting.known import DEFAULT_MAX_ABSORBED, DEFAULT_QUANTILE, build_index, index_key, load_index, save_index

    quantile = run.get("known_quantile", DEFAULT_QUANTILE)
    max_absorbed = run.get("max_absorbed", DEFAULT_MAX_ABSORBED)

    def index_for(rows: np.ndarray, labels: np.ndarray):
        key = index_key(model, ids.iloc[rows], hashes.iloc[rows], labels, quantile, max_absorbed)
        index = load_index(index_path, key)
        if index is not None:
            return index, True
        index = build_index(key, matrix[rows], labels, quantile, max_absorbed)
        save_index(index, index_path)
        return index, False

    return index_for


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
    known_path: str | None = None,
    index_path: str | None = None,
    vocabulary: list[str] | None = None,
    applied_dir: str | None = None,
) -> None:
    """Sort the run's photos (``zsc.sorting.week``); write the cluster folders, the assignments, the
    doubtful photos' list and the run's summary."""
    from zsc.sorting import week
    from zsc.sorting.placement import write_folder

    chosen = read_setting(setting_path)
    frame, matrix = read_embeddings(embeddings_path)
    ids = frame["image_id"]
    hashes = content_of(manifest_path, ids)
    known = read_known(known_path, ids, hashes, vocabulary, applied_dir) if known_path else pd.Series(dtype=str)
    index_for = known_index_loader(index_path, chosen["model"], ids, hashes, matrix, run)
    result = week.sort_photos(ids, hashes, matrix, chosen, run, known, index_for)
    placed = write_folder(Path(root), week.placement_plan(result.assignments, hashes), Path(folders_dir), run["link"])
    assignments = result.assignments.assign(problem=[placed.refused.get(i, "") for i in ids])
    report_refused(placed.refused)
    ASSIGNMENTS.write(assignments, assignments_path)
    REVIEW_LIST.write(week.review_list(assignments), review_path)
    write_run_summary({**result.summary, "n_refused": len(placed.refused)}, info_path)
    report_sorted(result, assignments, chosen, len(placed.refused), assignments_path)


def report_sorted(result, assignments: pd.DataFrame, chosen: dict, n_refused: int, assignments_path: str) -> None:
    """The run in the log; for a weekly run, the week on the console."""
    from zsc.sorting.week import sorted_line

    if result.calibration is not None:
        log("reviewed species and thresholds:\n" + result.calibration.to_string(index=False))
    for note in result.notes:
        console(note)
    n_folders = assignments["folder"].replace("", np.nan).nunique()
    log(sorted_line(result.summary, n_folders, n_refused, chosen))
    known = result.summary.get("known")
    if known:
        console(
            f"week: {len(assignments)} photos; {known['reviewed_photos']} reviewed, {known['assigned']} assigned to "
            f"reviewed species, {known['new']} new (results in {assignments_path})"
        )
        console(f"week: the assignment rule, calibrated on the reviewed photos: {known['expected']}")


def report_refused(refused: dict[str, str]) -> None:
    """Photos not placed (changed since the scan, a link leading out of the inbox): log and console."""
    for image_id, reason in list(refused.items())[:50]:
        log(f"not placed: {image_id}: {reason}")
    if refused:
        console(
            f"warning: {len(refused)} photo(s) not placed, listed with the reason in the run's table "
            f"(column 'problem'), e.g. {next(iter(refused))}: {next(iter(refused.values()))}"
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
    manifest_path: str | None = None,
    frames_root: str | None = None,
    frames_manifest_path: str | None = None,
    summary_path: str | None = None,
) -> None:
    """The run's review page (``zsc.sorting.page``), the thumbnails and large previews it shows (written
    next to it), and the neighbours, similarity order and sub-groups it carries. A camera-trap run's
    large view shows each crop's frame (``frames_root``, ``frames_manifest_path``: the scan's)."""
    from zsc.sorting.page import PREVIEW_SIZE, plan_page, render_review_page

    assignments = ASSIGNMENTS.read(assignments_path)
    frame, matrix = read_embeddings(embeddings_path)
    row_of = {image_id: row for row, image_id in enumerate(frame["image_id"])}
    units = pd.read_parquet(manifest_path).set_index("image_id") if manifest_path else None
    expected = read_run_summary(summary_path).get("known", {}).get("expected", "") if summary_path else ""
    plan = plan_page(
        assignments, matrix[[row_of[i] for i in assignments["image_id"]]], read_setting(setting_path), units, expected
    )
    content = units["content_hash"] if units is not None else pd.Series(dtype=str)
    thumbs = page_thumbnails(root, [*plan.rows["image_id"], *plan.examples], thumbs_dir, content)
    if frames_root:
        previews = frame_previews(
            frames_root, frames_manifest_path, units.loc[plan.rows["image_id"], "frame"], thumbs_dir
        )
    else:
        previews = page_thumbnails(root, plan.rows["image_id"], thumbs_dir, content, PREVIEW_SIZE)
    page = render_review_page(
        run_name, plan.rows, thumbs, plan.facts, extras=plan.extras, previews=previews, vocabulary=vocabulary,
        apply=apply, **plan.more,
    )  # fmt: skip
    with atomic_path(page_path) as partial:
        Path(partial).write_text(page)
    log(f"review page: {len(plan.rows)} photos, {sum(1 for p in thumbs.values() if not p)} without preview")


def frame_previews(frames_root: str, frames_manifest_path: str, frame_of: pd.Series, thumbs_dir: str) -> dict[str, str]:
    """crop id -> the large preview of its frame (one per frame, shared by its crops)."""
    from zsc.sorting.page import PREVIEW_SIZE

    frames = pd.read_parquet(frames_manifest_path, columns=["image_id", "content_hash"]).set_index("image_id")
    made = page_thumbnails(frames_root, sorted(set(frame_of)), thumbs_dir, frames["content_hash"], PREVIEW_SIZE)
    return {crop: made[frame] for crop, frame in frame_of.items() if made.get(frame)}


def page_thumbnails(root: str, ids, thumbs_dir: str, content: pd.Series, size: int | None = None) -> dict[str, str]:
    """image_id -> its thumbnail (or, with ``size``, its large preview under ``large/``), relative to the
    page; made from the run's content-named cache beside the output folder where it has them."""
    from zsc.report.gallery import make_thumbnails

    kind, folder = ("small", Path(thumbs_dir)) if size is None else ("large", Path(thumbs_dir) / "large")
    cache_dir = Path(thumbs_dir).parent / ".thumbnail-cache" / kind
    cache = {image_id: cache_dir / f"{digest}.jpg" for image_id, digest in content.items() if digest}
    made = make_thumbnails(Path(root), list(ids), folder, *([size] if size else []), cache=cache)
    if size is None:
        return made
    return {image_id: f"{Path(thumbs_dir).name}/{path}" for image_id, path in made.items() if path}


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
    units_path: str | None = None,
    frames_path: str | None = None,
    notes: list[str] | None = None,
) -> None:
    """Named folders in final/ from an exported review CSV (``zsc.sorting.apply``); a camera-trap run
    (``frames_path``) reviews crops (``units_path``: their manifest) and files frames."""
    from zsc.sorting import apply
    from zsc.sorting.placement import applied_content
    from zsc.tables import FRAMES

    assignments = ASSIGNMENTS.read(assignments_path)
    assignments["content_hash"] = content_of(units_path or manifest_path, assignments["image_id"])
    read = apply.read_review(review_path, assignments["image_id"])
    review = without_changed(read, assignments.set_index("image_id")["content_hash"], applied_content(final_dir))
    review = merged_spellings(apply.with_known_labels(review, assignments), vocabulary)
    if frames_path:
        crops = pd.read_parquet(units_path, columns=["image_id", "frame", "sequence_id"]).set_index("image_id")
        frames = FRAMES.read(frames_path).assign(content_hash=lambda t: content_of(manifest_path, t["image_id"]))
        labels, folders, placed = apply.apply_to_frames(root, frames, crops, assignments, review, final_dir, mode)
    else:
        labels, folders, placed = apply.apply_to_photos(root, assignments, review, final_dir, mode)
    labels = pd.concat([labels, apply.kept_copies(placed, frames_path is not None)], ignore_index=True)
    LABELS.write(labels, labels_path)
    LABEL_FOLDERS.write(folders, label_folders_path)
    report_applied(review_path, read.gone, labels, folders, placed, notes or [])


def report_applied(review_path: str, gone: list[str], labels, folders, placed, notes: list[str]) -> None:
    """What the apply did: in the log the lists, on the console what needs a person's attention."""
    from zsc.sorting.apply import GONE_PROBLEM
    from zsc.sorting.frames import sequence_disagreements

    for note in notes:
        console(note)
    report_refused(placed.refused)
    for image_id in gone[:50]:
        log(f"in the review CSV but no longer a photo of this run (gone from the inbox, or rejected): {image_id}")
    lines = (
        [f"{len(gone)} reviewed photo(s) are no longer in the inbox, e.g. {gone[0]} (list in the log)"] if gone else []
    )
    if placed.kept_gone:
        lines.append(
            f"{len(placed.kept_gone)} copy(ies) in final/ of photos that left the inbox or changed are kept (they "
            f"may be your only copy; labels.csv lists them with problem '{GONE_PROBLEM}')"
        )
    if placed.dangling_removed:
        lines.append(f"{len(placed.dangling_removed)} link(s) in final/ to photos no longer in the inbox removed")
    disagreeing = sequence_disagreements(labels) if "sequence_id" in labels else {}
    for sequence, names in sorted(disagreeing.items())[:50]:
        log(f"sequence {sequence}: its crops are named {names} (check it)")
    if disagreeing:
        lines.append(
            f"{len(disagreeing)} sequence(s) whose crops were given different names (column sequence_disagrees "
            f"of labels.csv), e.g. {sorted(disagreeing)[0]}"
        )
    for line in lines:
        console(f"note: {line}")
    for line in placed.notes + [f"label '{r.label}' is not a valid folder name: written to final/{r.folder}"
                                for r in folders[folders["changed"]].itertuples()]:  # fmt: skip
        log(line)
    log(f"applied {review_path}: {(labels['label'] != '').sum()} of {len(labels)} photos labelled, "
        f"{len(folders)} labels, {len(gone)} reviewed photo(s) gone")  # fmt: skip
