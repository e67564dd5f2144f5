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


def cluster_rows(
    frame: pd.DataFrame,
    matrix: np.ndarray,
    hashes: pd.Series,
    setting: dict,
    run: dict,
    n_all: int,
    overwrite: bool = False,
) -> tuple[pd.DataFrame, dict, int]:
    """Cluster photos, exact duplicates once and filed beside their twin: (per row: cluster, doubt, map
    coordinates, ``duplicate_of``; the parameters as used; the number of distinct photos).
    ``overwrite``: ``matrix`` is not needed afterwards and may be z-scored in place (season-sized)."""
    from zsc.methods.clusterers import K_GIVEN
    from zsc.sorting.assign import SortInputError, assign_clusters

    distinct, position = distinct_photos(frame, hashes)
    clusterer_spec = setting["clusterer_spec"]
    group_size = run.get("expected_group_size")
    if group_size and group_size > len(distinct) and clusterer_spec["method"] not in K_GIVEN:
        raise SortInputError(
            f"sort.<run>.expected_group_size={group_size} is larger than the {len(distinct)} "
            f"distinct photo(s) in the inbox; give the photos per species you expect"
        )
    k = k_for(run, clusterer_spec, len(distinct), len(frame), n_all)
    points = take_rows(matrix, distinct)
    assigned, used = assign_clusters(  # z-scored in place if season-sized: a copy of our own, or the given rows
        points,
        setting["reducer_spec"],
        clusterer_spec,
        k,
        run["seed"],
        run["min_silhouette"],
        overwrite=overwrite or points is not matrix,
    )
    assigned = assigned.iloc[position].reset_index(drop=True)
    twin = frame["image_id"].to_numpy()[distinct][position]
    assigned["duplicate_of"] = np.where(twin == frame["image_id"].to_numpy(), "", twin)
    return assigned, used, len(distinct)


def take_rows(matrix: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``matrix[rows]``, but ``matrix`` itself when ``rows`` are all of its rows in order (a season's
    first sort: every photo new and distinct), so that its embeddings are not held twice more."""
    if len(rows) == len(matrix) and np.array_equal(rows, np.arange(len(matrix))):
        return matrix
    return matrix[rows]


def k_for(run: dict, clusterer_spec: dict, n_distinct: int, n_photos: int, n_all: int) -> int | None:
    """The k of a k-given clusterer: the run's for a whole inbox; for a week's new photos ``new_k``,
    else the run's photos per group applied to them (k=37 for 370 photos: 8 groups for 80 new ones)."""
    from zsc.methods.clusterers import K_GIVEN

    if clusterer_spec["method"] not in K_GIVEN:
        return None
    if n_photos == n_all:
        return run["k"]
    return max(1, min(n_distinct, run.get("new_k") or round(run["k"] * n_distinct / max(n_all, 1))))


def known_index(
    index_path: str, model: str, ids: pd.Series, hashes: pd.Series, labels: np.ndarray, vectors, quantile: float
):
    """The reviewed photos' index: the saved one when it is of this reviewed set, else built and saved."""
    from zsc.sorting.known import build_index, index_key, load_index, save_index

    key = index_key(model, ids, hashes, labels, quantile)
    index = load_index(index_path, key)
    if index is not None:
        return index, True
    index = build_index(key, vectors(), np.asarray(labels), quantile)
    save_index(index, index_path)
    return index, False


def read_known(
    known_path: str, image_ids: pd.Series, hashes: pd.Series, vocabulary: list[str] | None, applied_dir: str | None
) -> pd.Series:
    """image_id -> reviewed label, for the photos of this run whose bytes are those reviewed (one
    spelling per label); ``applied_dir``: the run's final/, whose record says what was filed before."""
    from zsc.sorting.placement import applied_content
    from zsc.sorting.review import read_review

    review = read_review(known_path, image_ids)
    current = pd.Series(hashes.to_numpy(), index=image_ids.to_numpy())
    known = without_changed(review, current, applied_content(applied_dir) if applied_dir else {})
    known = merged_spellings(known, vocabulary)
    for image_id in review.gone[:50]:
        print(f"reviewed but no longer a photo of this run: {image_id}", file=sys.stderr)
    return known


def without_changed(review, current: pd.Series, applied: dict) -> pd.Series:
    """The review's labels less the photos whose bytes changed since (said on the console)."""
    from zsc.sorting.review import changed_since_review

    changed = changed_since_review(review.labels, review.content, applied, current)
    for image_id in changed[:50]:
        print(f"reviewed photo holds other bytes than when it was reviewed: {image_id}", file=sys.stderr)
    if changed:
        print(
            f"note: {len(changed)} reviewed photo(s) hold other bytes than when they were reviewed (overwritten in "
            f"place?), e.g. {changed[0]}: their old label is not used; they are sorted as photos not reviewed yet",
            file=sys.__stderr__,
            flush=True,
        )
    return review.labels.drop(changed)


def merged_spellings(labels: pd.Series, vocabulary: list[str] | None) -> pd.Series:
    """One spelling per label (NFC, case): merges listed in the log, counted on the console."""
    from zsc.sorting.review import merge_spellings

    labels, merges = merge_spellings(labels, vocabulary)
    for merge in merges:
        print(merge, file=sys.stderr)
    if merges:
        print(
            f"note: labels equal ignoring case and accents' encoding are one label and one folder: {merges[0]} "
            f"({len(merges)} spelling(s) merged, listed in the log)",
            file=sys.__stderr__,
            flush=True,
        )
    return labels


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
    """Cluster unlabeled photos; write per-cluster folders, then the assignments and the review list.

    With reviewed labels (``known_path``), those photos keep them and are not clustered; each other
    photo goes to the reviewed species its neighbours vote for when it lies within that species'
    spread (``status`` assigned), and the rest (``status`` new) are clustered among themselves.
    Exact duplicates are clustered once and filed beside their twin (``duplicate_of``)."""
    from zsc.methods.clusterers import K_GIVEN
    from zsc.sorting.assign import SortInputError, folder_name, output_name, single_cluster
    from zsc.sorting.known import assign_to_known
    from zsc.sorting.placement import write_folder
    from zsc.sorting.review import label_folders

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
    ids = frame["image_id"]
    known = read_known(known_path, ids, hashes, vocabulary, applied_dir) if known_path else pd.Series(dtype=str)
    status = np.where(ids.isin(known.index), "known", "new").astype(object)
    label = ids.map(known).fillna("").to_numpy(dtype=object)
    match = pd.DataFrame(index=frame.index, columns=["support", "centre_distance", "neighbour_distance", "threshold"])
    known_info: dict = {}
    if len(known):
        reviewed = np.flatnonzero(status == "known")
        index, reused = known_index(
            index_path,
            setting["model"],
            ids[reviewed],
            hashes[reviewed],
            label[reviewed].astype(str),
            lambda: matrix[reviewed],
            run["known_quantile"],
        )
        week = np.flatnonzero(status != "known")
        found = assign_to_known(index, matrix[week]) if len(week) else None
        if found is not None:
            hit = week[found["assigned"].to_numpy()]
            status[hit] = "assigned"
            label[week] = np.where(found["assigned"], found["label"], "")
            match.iloc[week] = found[match.columns].to_numpy()
        calibration = index.table()
        print("reviewed species and thresholds:\n" + calibration.to_string(index=False), file=sys.stderr)
        known_info = {
            "reviewed_photos": len(reviewed),
            "reviewed_species": len(index.species),
            "assigned": int((status == "assigned").sum()),
            "new": int((status == "new").sum()),
            "quantile": index.quantile,
            "index_reused": reused,
            "thresholds": dict(zip(calibration["species"], calibration["threshold"])),
        }
    new = np.flatnonzero(status == "new")
    clustered = pd.DataFrame()
    used, n_distinct = {}, 0
    if len(new):
        try:
            clustered, used, n_distinct = cluster_rows(
                frame.iloc[new].reset_index(drop=True),
                take_rows(matrix, new),
                hashes.iloc[new].reset_index(drop=True),
                setting,
                run,
                len(frame),
                overwrite=True,  # the embeddings are not used after this
            )
        except SortInputError as error:
            if not len(known):
                raise
            clustered, n_distinct = single_cluster(len(new)).assign(duplicate_of=""), len(new)
            used = {"rule": f"the {len(new)} new photo(s) are one group: {error}"}
            print(f"note: {used['rule']}", file=sys.__stderr__, flush=True)
    assignments = pd.DataFrame(
        {
            "image_id": ids,
            "cluster": -1,
            "doubtful": False,
            "reason": "",
            "nearest_cluster": -1,
            "distance_to_cluster": np.nan,
            "map_x": 0.0,
            "map_y": 0.0,
            "duplicate_of": "",
        }
    )
    if len(new):
        assignments.iloc[new, 1:] = clustered[assignments.columns[1:]].to_numpy()
    assignments = assignments.astype({"cluster": int, "nearest_cluster": int, "doubtful": bool})
    likely = label_folders(label[status == "assigned"]).set_index("label")["folder"]
    folders = [
        "" if state == "known" else f"likely_{likely[name]}" if state == "assigned" else folder_name(c, d)
        for state, name, c, d in zip(status, label, assignments["cluster"], assignments["doubtful"])
    ]
    assignments.insert(2, "folder", folders)
    assignments.insert(3, "file", [f"{f}/{output_name(i)}" if f else "" for f, i in zip(folders, ids)])
    assignments["status"] = status
    assignments["label"] = label
    assignments = pd.concat([assignments, match.astype(float)], axis=1)
    placing = assignments["file"] != ""
    plan = assignments.loc[placing, ["image_id", "file"]].assign(content_hash=hashes[placing].to_numpy())
    placed = write_folder(Path(root), plan, Path(folders_dir), run["link"])
    assignments["problem"] = [placed.refused.get(i, "") for i in assignments["image_id"]]
    report_refused(placed.refused)
    write_table(assignments, assignments_path)
    review = assignments[assignments["doubtful"]].sort_values("distance_to_cluster", ascending=False)
    write_table(review[["image_id", "reason", "nearest_cluster", "distance_to_cluster"]], review_path)
    kept = assignments.loc[(status == "new") & ~assignments["doubtful"], "cluster"]
    info = {
        **used,
        "n_photos": len(assignments),
        "n_distinct": n_distinct,
        "n_doubtful": len(review),
        "n_refused": len(placed.refused),
        "clusters_found": int(kept.nunique()),
        **({"known": known_info} if known_info else {}),
    }
    write_json(info, info_path)
    week_text = (
        f"; {known_info['reviewed_photos']} reviewed, {known_info['assigned']} assigned to reviewed species, "
        f"{known_info['new']} new"
        if known_info
        else ""
    )
    print(
        f"sorted {len(assignments)} photos ({n_distinct} distinct clustered) with {setting['model']} / "
        f"{setting['reducer']} / {setting['clusterer']}: {assignments['folder'].replace('', np.nan).nunique()} folders, "
        f"{len(review)} doubtful, {len(placed.refused)} refused{week_text}",
        file=sys.stderr,
    )
    if known_info:  # the week at a glance, on the console
        print(
            f"week: {len(assignments)} photos{week_text} (results in {assignments_path})",
            file=sys.__stderr__,
            flush=True,
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


REFERENCE_EXAMPLES = 4  # reviewed photos shown beside each reviewed species on a week's page


def week_page(assignments: pd.DataFrame, matrix: np.ndarray) -> dict:
    """The page of a run that started from reviewed labels: its work is the photos not reviewed yet
    (assigned ones under their species, weakest support first; new clusters after them); the
    reviewed photos come as reference examples (the most typical of each species) and as labels
    the export carries, so the exported CSV still holds the whole season.

    Returns the page's rows (assignments' columns; a species group is a cluster id after the new
    clusters) and what ``page_data`` takes besides (``preset``, ``examples``, ``known``, ``support``)."""
    from zsc.sorting.known import unit

    status = assignments["status"].to_numpy()
    reviewed = status == "known"
    species = sorted(set(assignments.loc[status != "new", "label"]))
    base = int(assignments.loc[status == "new", "cluster"].max() + 1) if (status == "new").any() else 0
    group_of = {name: base + number for number, name in enumerate(species)}
    rows = assignments[~reviewed].copy()
    assigned = rows["status"].to_numpy() == "assigned"
    rows["cluster"] = np.where(assigned, rows["label"].map(group_of).fillna(-1), rows["cluster"]).astype(int)
    rows["reason"] = [
        f"assigned to {name}: {support:.0%} of the nearest reviewed photos, {distance:.3f} from its centre "
        f"(threshold {threshold:.3f})"
        if state == "assigned"
        else reason
        for state, name, support, distance, threshold, reason in zip(
            rows["status"], rows["label"], rows["support"], rows["centre_distance"], rows["threshold"], rows["reason"]
        )
    ]
    vectors = unit(matrix)
    examples: dict[str, list[str]] = {}
    for name in species:
        members = np.flatnonzero(reviewed & (assignments["label"].to_numpy() == name))
        if len(members):
            centre = vectors[members].mean(axis=0)
            typical = members[np.argsort(-(vectors[members] @ centre))[:REFERENCE_EXAMPLES]]
            examples[str(group_of[name])] = assignments["image_id"].to_numpy()[typical].tolist()
    known = assignments[reviewed]
    codes = {name: number for number, name in enumerate(species)}
    return {
        "rows": rows.reset_index(drop=True),
        "rows_index": np.flatnonzero(~reviewed),
        "preset": {str(group): name for name, group in group_of.items()},
        "examples": examples,
        "known": {"names": species, "ids": known["image_id"].tolist(), "codes": known["label"].map(codes).tolist()},
        "support": np.where(rows["status"] == "assigned", np.round(rows["support"].fillna(0) * 100), -1).astype(int),
    }


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
) -> None:
    """The run's review page, the thumbnails and large previews it shows (written next to it), and the
    neighbours, similarity order and sub-groups it carries (from the model's full embeddings)."""
    from zsc.report.gallery import make_thumbnails
    from zsc.sorting.review import PREVIEW_SIZE, render_review_page, review_extras, week_order

    assignments = pd.read_csv(
        assignments_path,
        dtype={"image_id": str, "label": str, "status": str},
        keep_default_na=False,
        na_values={c: [""] for c in ("distance_to_cluster", "support", "centre_distance", "threshold")},
    )
    assignments["doubtful"] = assignments["doubtful"].astype(str).str.lower() == "true"
    frame, matrix = read_embeddings(embeddings_path)
    row_of = {image_id: row for row, image_id in enumerate(frame["image_id"])}
    matrix = matrix[[row_of[i] for i in assignments["image_id"]]]
    week = week_page(assignments, matrix) if (assignments.get("status", pd.Series()) == "known").any() else None
    page_rows = week["rows"] if week else assignments
    page_matrix = matrix[week["rows_index"]] if week else matrix
    extras = review_extras(page_rows, page_matrix)
    more: dict = {}
    if week:
        extras["order"] = week_order(extras["order"], page_rows)
        extras["core"] = np.where(page_rows["status"] == "assigned", True, extras["core"])
        page_rows = page_rows.assign(**week_map(page_matrix))
        more = {key: week[key] for key in ("preset", "examples", "known", "support")}
    examples = [i for ids in (week or {}).get("examples", {}).values() for i in ids]
    content = pd.Series(dtype=str)
    if manifest_path:
        units = pd.read_parquet(manifest_path).set_index("image_id")
        content = units["content_hash"]
        more["hashes"] = page_rows["image_id"].map(content).fillna("").tolist()
        if week:  # the export carries the reviewed photos' contents too
            more["known"] = {**more["known"], "hashes": [content.get(i, "")[:8] for i in more["known"]["ids"]]}
        if "sequence_id" in units:  # a camera-trap run's crops: their bursts
            bursts = page_rows["image_id"].map(units["sequence_id"]).fillna("")
            codes, _ = pd.factorize(bursts)
            more["sequence"] = np.where(bursts == "", -1, codes)
    thumbs = make_thumbnails(
        Path(root), [*page_rows["image_id"], *examples], Path(thumbs_dir), cache=thumbnail_cache(content, thumbs_dir)
    )
    previews = {
        image_id: f"{Path(thumbs_dir).name}/{path}"
        for image_id, path in make_thumbnails(
            Path(root),
            page_rows["image_id"],
            Path(thumbs_dir) / "large",
            PREVIEW_SIZE,
            cache=thumbnail_cache(content, thumbs_dir, "large"),
        ).items()
        if path
    }
    setting = json.loads(Path(setting_path).read_text())
    facts = (
        f"{len(assignments)} photos sorted with {setting['model']} / {setting['reducer']} / "
        f"{setting['clusterer']} ({setting['source']}). Name each cluster, fix what is wrong, then export the CSV."
    )
    if week:
        counts = page_rows["status"].value_counts()
        facts = (
            f"This week: {len(page_rows)} photos not reviewed yet: {counts.get('assigned', 0)} assigned to the "
            f"{len(week['preset'])} reviewed species (weakest first, check them), {counts.get('new', 0)} new, "
            f"clustered. {len(week['known']['ids'])} photos reviewed before are not shown (examples beside each "
            f"species) and are part of the export. Sorted with {setting['model']} / {setting['reducer']} / "
            f"{setting['clusterer']}."
        )
    page = render_review_page(
        run_name,
        page_rows,
        thumbs,
        facts,
        extras=extras,
        previews=previews,
        vocabulary=vocabulary,
        apply=apply,
        **more,
    )
    with atomic_path(page_path) as partial:
        Path(partial).write_text(page)
    print(
        f"review page: {len(page_rows)} photos, {sum(1 for p in thumbs.values() if not p)} without preview",
        file=sys.stderr,
    )


def thumbnail_cache(content: pd.Series, thumbs_dir: str, kind: str = "small") -> dict[str, Path]:
    """image_id -> its thumbnail in the run's cache (beside the output folder, named by content)."""
    folder = Path(thumbs_dir).parent / ".thumbnail-cache" / kind
    return {image_id: folder / f"{digest}.jpg" for image_id, digest in content.items() if digest}


def week_map(vectors: np.ndarray) -> dict:
    """The week's map: its photos' first two principal axes (the run's reduction saw only the new ones)."""
    if len(vectors) < 2:
        return {"map_x": np.zeros(len(vectors)), "map_y": np.zeros(len(vectors))}
    centred = vectors - vectors.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    points = centred @ axes[:2].T
    return {
        "map_x": points[:, 0].round(4),
        "map_y": (points[:, 1] if points.shape[1] > 1 else 0 * points[:, 0]).round(4),
    }


def apply_to_frames(root, frames_path, units_path, manifest, assignments, review, final_dir, mode):
    """A camera-trap run's review: labels per crop, frames placed in final/ (see ``apply_review``)."""
    from zsc.sorting.frames import frame_plan
    from zsc.sorting.placement import update_shared_folder
    from zsc.sorting.review import labelled

    labels, folders = labelled(assignments, review)
    crops = pd.read_parquet(units_path, columns=["image_id", "frame", "sequence_id"]).set_index("image_id")
    labels["frame"] = labels["image_id"].map(crops["frame"])
    labels["sequence_id"] = labels["image_id"].map(crops["sequence_id"])
    named = labels[labels["label"] != ""]
    disagreeing = set(named.groupby("sequence_id")["label"].nunique().loc[lambda n: n > 1].index)
    labels["sequence_disagrees"] = labels["sequence_id"].isin(disagreeing)
    for sequence in sorted(disagreeing)[:50]:
        names = sorted(set(named.loc[named["sequence_id"] == sequence, "label"]))
        print(f"sequence {sequence}: its crops are named {names} (check it)", file=sys.stderr)
    if disagreeing:
        print(
            f"note: {len(disagreeing)} sequence(s) whose crops were given different names (column "
            f"sequence_disagrees of labels.csv), e.g. {sorted(disagreeing)[0]}",
            file=sys.__stderr__,
            flush=True,
        )
    frames = pd.read_csv(frames_path, dtype=str, keep_default_na=False)
    plan = frame_plan(frames, labels[["frame", "label"]])
    plan["content_hash"] = plan["image_id"].map(manifest.set_index("image_id")["content_hash"]).fillna("")
    placed_plan, placed = update_shared_folder(Path(root), plan, Path(final_dir), mode)
    files = placed_plan.groupby("image_id")["file"].agg(";".join)
    labels["file"] = labels["frame"].map(files).fillna("")
    labels["problem"] = [placed.refused.get(frame, "") for frame in labels["frame"]]
    return labels, folders, placed


GONE_PROBLEM = "no longer in the inbox: its copy in final/ is kept"


def kept_copies(placed, frames: bool) -> pd.DataFrame:
    """labels.csv rows for the copies kept in final/ after their photo left the inbox (or changed)."""
    rows = pd.DataFrame(placed.kept_gone, columns=["image_id", "label", "file"])
    rows["folder"] = rows["file"].str.split("/").str[0]
    rows["cluster"] = -1
    rows["problem"] = GONE_PROBLEM
    if frames:
        rows["frame"] = rows["image_id"]
    return rows


def report_gone(gone: list[str], placed) -> None:
    """On the console: reviewed photos gone from the inbox, and what became of their files in final/."""
    lines = []
    if gone:
        lines.append(f"{len(gone)} reviewed photo(s) are no longer in the inbox, e.g. {gone[0]} (list in the log)")
    if placed.kept_gone:
        lines.append(
            f"{len(placed.kept_gone)} copy(ies) in final/ of photos that left the inbox or changed are kept (they "
            f"may be your only copy; labels.csv lists them with problem '{GONE_PROBLEM}')"
        )
    if placed.dangling_removed:
        lines.append(f"{len(placed.dangling_removed)} link(s) in final/ to photos no longer in the inbox removed")
    for line in lines:
        print(f"note: {line}", file=sys.__stderr__, flush=True)


def with_known_labels(review: pd.Series, assignments: pd.DataFrame) -> pd.Series:
    """The review plus the labels the run started from (``status`` known), the review's winning: a
    week's export that lacks last week's photos still files them."""
    if "status" not in assignments:
        return review
    known = assignments[(assignments["status"] == "known") & ~assignments["image_id"].isin(review.index)]
    return pd.concat([review, known.set_index("image_id")["label"]])


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
    camtrap_note: str = "",
) -> None:
    """Named folders from an exported review CSV; photos it does not label go to final/_unreviewed/.

    A camera-trap run (``frames_path``) reviews crops (``units_path``: their manifest) and files
    frames: a frame goes to the folder of each species its crops are named, blank, person and
    vehicle frames to ``blank/``, ``person/``, ``vehicle/``, mirroring the inbox's folders.
    ``final/`` is shared with the user: only files this step wrote before are replaced or removed."""
    from zsc.sorting import review as reviewing
    from zsc.sorting.placement import applied_content

    assignments = pd.read_csv(assignments_path, dtype={"image_id": str}, keep_default_na=False)
    manifest = pd.read_parquet(manifest_path, columns=["image_id", "content_hash"])
    units = pd.read_parquet(units_path, columns=["image_id", "content_hash"]) if units_path else manifest
    assignments["content_hash"] = assignments["image_id"].map(units.set_index("image_id")["content_hash"]).fillna("")
    read = reviewing.read_review(review_path, assignments["image_id"])
    current = assignments.set_index("image_id")["content_hash"]
    review = without_changed(read, current, applied_content(final_dir))
    review = merged_spellings(with_known_labels(review, assignments), vocabulary)
    gone = read.gone
    for image_id in gone[:50]:
        print(
            f"in the review CSV but no longer a photo of this run (gone from the inbox, or rejected): {image_id}",
            file=sys.stderr,
        )
    if frames_path:
        labels, folders, placed = apply_to_frames(
            root, frames_path, units_path, manifest, assignments, review, final_dir, mode
        )
    else:
        labels, folders, placed = reviewing.apply_review(Path(root), assignments, review, Path(final_dir), mode)
    if camtrap_note:
        print(camtrap_note, file=sys.__stderr__, flush=True)
    report_refused(placed.refused)
    report_gone(gone, placed)
    for note in placed.notes:
        print(note, file=sys.stderr)
    labels = pd.concat([labels, kept_copies(placed, frames_path is not None)], ignore_index=True)
    columns = ["image_id", "label", "folder", "cluster", "file", "problem"]
    write_table(
        labels[columns + [c for c in ("frame", "sequence_id", "sequence_disagrees") if c in labels]], labels_path
    )
    write_table(folders, label_folders_path)
    for _, row in folders[folders["changed"]].iterrows():
        print(f"label '{row['label']}' is not a valid folder name: written to final/{row['folder']}", file=sys.stderr)
    print(
        f"applied {review_path}: {(labels['label'] != '').sum()} of {len(labels)} photos labelled, "
        f"{len(folders)} labels, {len(gone)} reviewed photo(s) gone",
        file=sys.stderr,
    )
