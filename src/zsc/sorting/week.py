"""One sort of a run's photos: reviewed photos keep their labels, the others are assigned to a reviewed
species or clustered as new; exact duplicates are clustered once and filed beside their twin.

Pure functions on ids, content hashes and the embedding matrix: the step (``zsc.steps.sort.assign``)
reads the files, calls ``sort_photos`` and writes what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from zsc.sorting.assign import SortInputError, assign_clusters, folder_name, output_name, single_cluster


@dataclass
class SortedPhotos:
    """What a sort decided: the assignments table (less ``problem``, which placement adds), the run's
    summary for ``assign.json``, the reviewed species' calibration (a weekly run) and notes for the console."""

    assignments: pd.DataFrame
    summary: dict
    calibration: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)


def distinct_photos(ids: list[str], hashes) -> tuple[np.ndarray, np.ndarray]:
    """Rows to cluster (one per content, the likely original) and, per row, the row it follows."""
    from zsc.data.scan import original_first

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


def take_rows(matrix: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``matrix[rows]``, but ``matrix`` itself when ``rows`` are all of its rows in order (a season's
    first sort: every photo new and distinct), so that its embeddings are not held twice more."""
    if len(rows) == len(matrix) and np.array_equal(rows, np.arange(len(matrix))):
        return matrix
    return matrix[rows]


def k_for(
    run: dict,
    clusterer_spec: dict,
    n_distinct: int,
    n_photos: int,
    n_all: int,
    per_species: float | None = None,
    per_species_from: str = "reviewed photos per species",
) -> tuple[int | None, str]:
    """The k of a k-given clusterer and why: the run's for a whole inbox; for a week's new photos
    ``new_k``, else the new photos over ``per_species`` (a new species arrives with about as many photos
    as a reviewed one: see ``species_rate``), else the run's photos per group."""
    from zsc.methods.clusterers import K_GIVEN

    if clusterer_spec["method"] not in K_GIVEN:
        return None, ""
    if n_photos == n_all:
        return run["k"], "sort.<run>.k"
    if run.get("new_k"):
        k, why = run["new_k"], "sort.<run>.new_k"
    elif per_species:
        k = round(n_distinct / per_species)
        why = f"{n_distinct} new photos / {per_species:.3g} {per_species_from} (set sort.<run>.new_k to choose)"
    else:
        k, why = round(run["k"] * n_distinct / max(n_all, 1)), "the run's photos per group"
    return max(1, min(n_distinct, k)), why


def species_rate(known_summary: dict, n_new: int) -> tuple[float | None, str]:
    """How many photos a new species brings, for k of the ``n_new`` new photos: as many as a reviewed
    species was reviewed from (median); when the new photos are fewer than that (a season reviewed over
    many weeks, one card's photos: k would be 1), as many as a reviewed species got assigned this week
    (median), over the share of a reviewed species' photos the rule recalls."""
    reviewed = known_summary.get("photos_per_species")
    week = known_summary.get("assigned_per_species")
    if week and reviewed and n_new < reviewed:
        recall = max(1.0 - known_summary.get("rule", {}).get("known_new", 0.0), 0.05)
        return week / recall, (
            f"photos per species this week ({week:g} assigned to each reviewed species, median, over the "
            f"{recall:.0%} of a reviewed species' photos the rule recalls; fewer new photos than the "
            f"{reviewed:g} reviewed photos per species)"
        )
    return reviewed, "reviewed photos per species"


def cluster_rows(
    ids: list[str],
    matrix: np.ndarray,
    hashes,
    setting: dict,
    run: dict,
    n_all: int,
    overwrite: bool = False,
    per_species: tuple[float | None, str] = (None, ""),
) -> tuple[pd.DataFrame, dict, int]:
    """Cluster photos, exact duplicates once and filed beside their twin: (per row: cluster, doubt, map
    coordinates, ``duplicate_of``; the parameters as used; the number of distinct photos).
    ``overwrite``: ``matrix`` is not needed afterwards and may be z-scored in place (season-sized)."""
    from zsc.methods.clusterers import K_GIVEN

    distinct, position = distinct_photos(ids, hashes)
    clusterer_spec = setting["clusterer_spec"]
    group_size = run.get("expected_group_size")
    if group_size and group_size > len(distinct) and clusterer_spec["method"] not in K_GIVEN:
        raise SortInputError(
            f"sort.<run>.expected_group_size={group_size} is larger than the {len(distinct)} "
            f"distinct photo(s) in the inbox; give the photos per species you expect"
        )
    k, why = k_for(run, clusterer_spec, len(distinct), len(ids), n_all, *per_species)
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
    ids_array = np.asarray(ids, dtype=object)
    twin = ids_array[distinct][position]
    assigned["duplicate_of"] = np.where(twin == ids_array, "", twin)
    return assigned, {**used, **({"k_used": k, "k_from": why} if why else {})}, len(distinct)


def needs_k(setting: dict, run: dict) -> None:
    """A k-given clusterer without ``sort.<run>.k`` cannot run (there are no labels to count)."""
    from zsc.methods.clusterers import K_GIVEN

    if setting["clusterer_spec"]["method"] in K_GIVEN and "k" not in run:
        raise SortInputError(
            f"clusterer '{setting['clusterer']}' ({setting['clusterer_spec']['method']}) needs k: set "
            f"sort.<run>.k to the number of groups you expect (there are no labels to count)"
        )


def match_known(ids: pd.Series, matrix: np.ndarray, known: pd.Series, index_for) -> tuple:
    """(status, label, match columns, the reviewed set's summary, its calibration) of every photo:
    reviewed ones ``known``; others ``assigned`` to a reviewed species by ``zsc.sorting.known``, or ``new``.
    ``index_for(rows)``: the reviewed photos' index and whether it was reused (the step loads or builds it)."""
    from zsc.sorting.known import assign_to_known

    status = np.where(ids.isin(known.index), "known", "new").astype(object)
    label = np.array(ids.map(known).astype(object).where(ids.isin(known.index), ""), dtype=object)  # writeable
    match = pd.DataFrame(index=ids.index, columns=["support", "centre_distance", "neighbour_distance", "threshold"])
    if not len(known):
        return status, label, match, {}, None
    reviewed = np.flatnonzero(status == "known")
    index, reused = index_for(reviewed, label[reviewed].astype(str))
    week = np.flatnonzero(status != "known")
    if len(week):
        found = assign_to_known(index, matrix[week])
        status[week[found["assigned"].to_numpy()]] = "assigned"
        label[week] = np.where(found["assigned"], found["label"], "")
        match.iloc[week] = found[match.columns].to_numpy()
    calibration = index.table()
    summary = {
        "reviewed_photos": len(reviewed),
        "reviewed_species": len(index.species),
        "assigned": int((status == "assigned").sum()),
        "new": int((status == "new").sum()),
        "quantile": index.quantile,
        "rule": index.rule,
        "expected": expected_text(index.rule),
        "photos_per_species": float(np.median(np.bincount(index.codes))),
        "assigned_per_species": assigned_median(label[status == "assigned"]),
        "index_reused": reused,
        "thresholds": dict(zip(calibration["species"], calibration["threshold"])),
    }
    return status, label, match, summary, calibration


def assigned_median(labels: np.ndarray) -> float | None:
    """The median number of this run's photos assigned to a reviewed species, over those given any."""
    counts = pd.Series(labels).value_counts()
    return float(counts.median()) if len(counts) else None


def expected_text(rule: dict) -> str:
    """The calibrated rule's measured shares, in words (assign.json, the console, the week's page)."""
    if not rule.get("measured_on"):
        return "not measured: one reviewed species, nothing to hold out"
    return (
        f"expected: ~{rule['absorbed']:.0%} of the photos of a species nobody reviewed filed under a reviewed "
        f"one, ~{rule['known_right']:.0%} of a reviewed species' new photos recalled ({rule['known_wrong']:.0%} "
        f"under another species, {rule['known_new']:.0%} called new); measured on {rule['measured_on']} reviewed "
        f"photos of {rule['species']} species, each species held out in turn"
        + (" (few species: a rough estimate)" if rule["species"] < 10 else "")
        + ("" if rule.get("met") else f" (no rule keeps the absorbed share under {rule['max_absorbed']:.0%})")
    )


def sort_photos(
    ids: pd.Series, hashes: pd.Series, matrix: np.ndarray, setting: dict, run: dict, known: pd.Series, index_for
) -> SortedPhotos:
    """The run's assignments: reviewed photos keep their labels (``known``: image_id -> label), each
    other photo goes to the reviewed species its neighbours vote for when it lies within that species'
    spread (``assigned``), the rest (``new``) are clustered among themselves. ``matrix`` may be
    z-scored in place (it is not needed afterwards)."""
    needs_k(setting, run)
    status, label, match, known_summary, calibration = match_known(ids, matrix, known, index_for)
    new = np.flatnonzero(status == "new")
    clustered, used, n_distinct, notes = pd.DataFrame(), {}, 0, []
    if len(new):
        try:
            clustered, used, n_distinct = cluster_rows(
                ids.iloc[new].tolist(),
                take_rows(matrix, new),
                hashes.iloc[new].tolist(),
                setting,
                run,
                len(ids),
                overwrite=True,
                per_species=species_rate(known_summary, len(new)) if known_summary else (None, ""),
            )
            if known_summary and "k_from" in used:
                notes.append(f"note: the week's new photos clustered with k={used['k_used']}: {used['k_from']}")
        except SortInputError as error:
            if not len(known):
                raise
            clustered, n_distinct = single_cluster(len(new)).assign(duplicate_of=""), len(new)
            used = {"rule": f"the {len(new)} new photo(s) are one group: {error}"}
            notes.append(f"note: {used['rule']}")
    assignments = assignments_table(ids, status, label, match, new, clustered)
    kept = assignments.loc[(status == "new") & ~assignments["doubtful"], "cluster"]
    summary = {
        **used,
        "n_photos": len(assignments),
        "n_distinct": n_distinct,
        "n_doubtful": int(assignments["doubtful"].sum()),
        "clusters_found": int(kept.nunique()),
        **({"known": known_summary} if known_summary else {}),
    }
    return SortedPhotos(assignments, summary, calibration, notes)


def assignments_table(ids, status, label, match, new, clustered) -> pd.DataFrame:
    """Every photo's row of ``assignments.csv`` (less ``problem``): new photos' clusters, the others' labels,
    each one's folder under ``clusters/`` (``likely_<species>`` for an assigned photo, none for a known one)."""
    from zsc.sorting.apply import label_folders

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
    return pd.concat([assignments, match.astype(float)], axis=1)


def placement_plan(assignments: pd.DataFrame, hashes: pd.Series) -> pd.DataFrame:
    """What goes into ``clusters/``: every photo with a file there, with the content it must have."""
    placing = (assignments["file"] != "").to_numpy()
    return assignments.loc[placing, ["image_id", "file"]].assign(content_hash=hashes.to_numpy()[placing])


def review_list(assignments: pd.DataFrame) -> pd.DataFrame:
    """The doubtful photos, farthest from any cluster first."""
    return assignments[assignments["doubtful"]].sort_values("distance_to_cluster", ascending=False)


def sorted_line(summary: dict, n_folders: int, n_refused: int, setting: dict) -> str:
    """The run in one line, for the log (and the week's numbers for the console)."""
    known = summary.get("known")
    week = (
        f"; {known['reviewed_photos']} reviewed, {known['assigned']} assigned to reviewed species, {known['new']} new"
        if known
        else ""
    )
    return (
        f"sorted {summary['n_photos']} photos ({summary['n_distinct']} distinct clustered) with {setting['model']} / "
        f"{setting['reducer']} / {setting['clusterer']}: {n_folders} folders, {summary['n_doubtful']} doubtful, "
        f"{n_refused} refused{week}"
    )
