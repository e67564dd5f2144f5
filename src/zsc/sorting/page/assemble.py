"""What the review page shows, computed when it is written: which photos are work, in what order, their
neighbours, sub-groups and map, and for a week's page the reviewed species as presets and examples.
Pure functions on the assignments and the model's full embeddings (``zsc.sorting.similarity``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from zsc.sorting.page.contract import PageData, pack_features

PREVIEW_SIZE = 1024  # the large view's image: long side in px (never the original bytes)
MAP_SCALE = 10_000  # map coordinates travel as integers 0..MAP_SCALE
REFERENCE_EXAMPLES = 4  # reviewed photos shown beside each reviewed species on a week's page


def review_state_key(assignments: pd.DataFrame) -> str:
    """Identifies one clustering of one set of photos: saved review work applies only to it."""
    text = "\n".join(
        f"{i}\t{c}\t{d}" for i, c, d in zip(assignments["image_id"], assignments["cluster"], assignments["doubtful"])
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def page_places(assignments: pd.DataFrame) -> np.ndarray:
    """Where each photo starts on the page: its cluster, or -1 for the doubtful section."""
    return np.where(assignments["doubtful"].astype(bool), -1, assignments["cluster"].astype(int))


def review_extras(assignments: pd.DataFrame, embeddings: np.ndarray, features: np.ndarray | None = None) -> dict:
    """Neighbours, similarity order, core flags and split sub-groups of a run's photos (rows as assignments'),
    and the classifier's ``features`` (computed from ``embeddings`` unless given: a week's come in the
    season's basis, ``week_features``)."""
    from zsc.sorting import similarity

    if not len(assignments):  # a week with nothing new: the page shows the reviewed species only
        empty = np.zeros(0, int)
        return {
            "neighbours": np.zeros((0, 0), int),
            "order": empty,
            "core": empty,
            "sub": empty,
            "centres": empty,
            "features": np.zeros((0, 0), np.int8) if features is None else features,
        }
    places = page_places(assignments)
    neighbours, _ = similarity.nearest_neighbours(embeddings)
    order, core = similarity.similarity_order(embeddings, places, neighbours)
    return {
        "neighbours": neighbours,
        "order": order,
        "core": core,
        "sub": similarity.subgroups(embeddings, places),
        "centres": similarity.nearest_other_centres(embeddings, places, 3),
        "features": similarity.classifier_features(embeddings) if features is None else features,
    }


def week_order(order: np.ndarray, rows: pd.DataFrame) -> np.ndarray:
    """A week's page order: the assigned photos first, species by species (alphabetical), weakest
    support first; then the rest in the similarity order."""
    order = np.asarray(order)
    assigned = (rows["status"] == "assigned").to_numpy()
    first = np.flatnonzero(assigned)
    first = first[np.lexsort((rows["support"].to_numpy()[first], rows["label"].to_numpy()[first]))]
    return np.concatenate([first, order[~assigned[order]]]).astype(int)


def _map_coordinates(assignments: pd.DataFrame) -> list[int]:
    """The run's 2-D map as integers 0..MAP_SCALE, x and y interleaved (empty when not recorded)."""
    if "map_x" not in assignments or not len(assignments):
        return []
    points = assignments[["map_x", "map_y"]].to_numpy(dtype=float)
    low, span = points.min(axis=0), np.ptp(points, axis=0)
    scaled = (points - low) / np.where(span > 0, span, 1) * MAP_SCALE
    return np.round(scaled).astype(int).ravel().tolist()


def _paths(kind: str, paths: list[str]) -> dict:
    """Relative paths as one shared folder prefix plus per-photo rests (a season's page stays small)."""
    folders = {path.rsplit("/", 1)[0] + "/" for path in paths if "/" in path}
    prefix = folders.pop() if len(folders) == 1 and all("/" in path or not path for path in paths) else ""
    return {f"{kind}_prefix": prefix, f"{kind}s": [path[len(prefix) :] for path in paths]}


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


def week_features(assignments: pd.DataFrame, matrix: np.ndarray, rows_index: np.ndarray) -> tuple[np.ndarray, dict]:
    """A week's page classifier: the week's photos' features and the reviewed species' centres, in one
    basis (principal components of the whole season)."""
    from zsc.sorting import similarity

    features = similarity.classifier_features(matrix)
    reviewed = (assignments["status"] == "known").to_numpy()
    labels = assignments.loc[reviewed, "label"]
    centres = similarity.reviewed_centres(features[reviewed], labels) if features.shape[1] else {}
    return features[rows_index], centres


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


def page_data(
    run: str,
    assignments: pd.DataFrame,
    thumbs: dict[str, str],
    extras: dict | None = None,
    previews: dict[str, str] | None = None,
    vocabulary: list[str] | None = None,
    apply: dict | None = None,
    preset: dict[str, str] | None = None,
    examples: dict[str, list[str]] | None = None,
    known: dict | None = None,
    support=None,
    hashes: list[str] | None = None,
    sequence=None,
    crops: dict | None = None,
    reviewed_centres: dict | None = None,
) -> PageData:
    """The page's data (``PageData``) for ``assignments``' photos, in their order.

    A week's page (a run started from reviewed labels) also has ``preset`` (cluster -> species name,
    the groups of photos assigned to reviewed species), ``examples`` (cluster -> reviewed photos shown
    beside it), ``known`` (the reviewed labels the export carries: names, ids, codes, hashes) and
    ``support`` (percent of the nearest reviewed photos, -1 for none). ``hashes``: the photos' content,
    so saved work carries over to a rerun photo by photo. ``sequence``: a camera-trap page's burst per
    crop (an integer, -1 for none): a move takes the burst's other crops along. ``crops``: a camera-trap
    page's ``frame``, ``camera``, ``cameras``, ``boxes`` and ``not_animal`` (see ``crop_fields``).
    ``reviewed_centres``: a week's page, the reviewed species' centres for its classifier (``week_features``)."""
    extras = extras or {}
    previews = previews or {}
    ids = assignments["image_id"].tolist()
    n = len(ids)
    reasons = assignments["reason"].fillna("").tolist()
    neighbours = extras.get("neighbours")
    return PageData(
        run=run,
        key=review_state_key(assignments),
        ids=ids,
        **_paths("thumb", [thumbs.get(i, "") for i in ids]),
        **_paths("preview", [previews.get(i, "") for i in ids]),
        cluster=assignments["cluster"].astype(int).tolist(),
        doubtful=assignments["doubtful"].astype(bool).astype(int).tolist(),
        reasons={str(i): reason for i, reason in enumerate(reasons) if reason},
        order=np.asarray(extras.get("order", np.arange(n))).tolist(),
        core=np.asarray(extras.get("core", np.ones(n, bool))).astype(int).tolist(),
        sub=np.asarray(extras.get("sub", np.full(n, -1))).tolist(),
        centres=[] if "centres" not in extras else np.asarray(extras["centres"]).ravel().tolist(),
        k=0 if neighbours is None else int(neighbours.shape[1]),
        neighbours=[] if neighbours is None else np.asarray(neighbours).ravel().tolist(),
        map=_map_coordinates(assignments),
        vocabulary=list(vocabulary or []),
        apply=apply or {},
        preset=preset or {},
        examples={
            group: [[image_id, thumbs.get(image_id, "")] for image_id in image_ids]
            for group, image_ids in (examples or {}).items()
        },
        known={"hashes": [], **known} if known else {"names": [], "ids": [], "codes": [], "hashes": []},
        support=[] if support is None else np.asarray(support).astype(int).tolist(),
        hashes=[h[:8] for h in hashes] if hashes else [],
        sequence=[] if sequence is None else np.asarray(sequence).astype(int).tolist(),
        **(pack_features(extras["features"]) if "features" in extras else {}),
        reviewed_centres=reviewed_centres or {},
        **(crops or {}),
    )


def crop_fields(rows: pd.DataFrame, units: pd.DataFrame) -> dict:
    """A camera-trap page's per-crop fields (``PageData.frame``, ``camera``, ``cameras``, ``boxes``,
    ``not_animal``); ``units``: the crops' manifest indexed by image_id (frame, camera, bbox_*)."""
    from zsc.sorting.frames import NOT_AN_ANIMAL

    crops = units.loc[rows["image_id"]]
    frame_codes, _ = pd.factorize(crops["frame"])
    camera_codes, camera_names = pd.factorize(crops["camera"])
    boxes = np.round(crops[["bbox_x", "bbox_y", "bbox_width", "bbox_height"]].to_numpy(dtype=float) * MAP_SCALE)
    return {
        "frame": frame_codes.tolist(),
        "camera": camera_codes.tolist(),
        "cameras": [str(name) for name in camera_names],
        "boxes": np.clip(boxes, 0, MAP_SCALE).astype(int).ravel().tolist(),
        "not_animal": NOT_AN_ANIMAL,
    }


DOUBTFUL_CONFIDENCE = 0.5  # a crop the detector was less sure of is shown as doubtful (a false detection?)


def doubt_low_confidence(rows: pd.DataFrame, confidence: pd.Series) -> pd.DataFrame:
    """Crops whose detection confidence is under ``DOUBTFUL_CONFIDENCE`` go to the doubtful section, saying why."""
    low = (
        (confidence < DOUBTFUL_CONFIDENCE).to_numpy() & ~rows["doubtful"].to_numpy() & (rows["cluster"] >= 0).to_numpy()
    )
    rows = rows.copy()
    rows.loc[low, "doubtful"] = True
    rows.loc[low, "nearest_cluster"] = rows.loc[low, "cluster"]
    rows.loc[low, "reason"] = [
        f"detector confidence {c:.2f}: a false detection? (x: not an animal)" for c in confidence[low]
    ]
    return rows


@dataclass
class PagePlan:
    """A run's page before its thumbnails exist: the photos that are work (``rows``, as assignments' rows),
    what the page carries besides (``page_data``'s keyword arguments), the reviewed photos shown as
    examples (they need thumbnails too) and the facts line."""

    rows: pd.DataFrame
    extras: dict
    more: dict = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    facts: str = ""


def plan_page(
    assignments: pd.DataFrame, matrix: np.ndarray, setting: dict, units: pd.DataFrame | None, expected: str = ""
) -> PagePlan:
    """The page of a run: every photo (a first sort), or a week's photos not reviewed yet with the reviewed
    species as presets and examples. ``matrix``: the embeddings in ``assignments``' order; ``units``: the
    photos' manifest indexed by image_id (content hashes; a camera-trap run's bursts), or None;
    ``expected``: a week's calibrated assignment rule in words (``assign.json``), shown above the sections."""
    if units is not None and "confidence" in units:  # a camera-trap run's crops
        assignments = doubt_low_confidence(assignments, assignments["image_id"].map(units["confidence"]).fillna(1.0))
    week = week_page(assignments, matrix) if (assignments["status"] == "known").any() else None
    rows = week["rows"] if week else assignments
    rows_matrix = matrix[week["rows_index"]] if week else matrix
    features, reviewed_centres = week_features(assignments, matrix, week["rows_index"]) if week else (None, {})
    extras = review_extras(rows, rows_matrix, features)
    more: dict = {}
    if week:
        extras["order"] = week_order(extras["order"], rows)
        extras["core"] = np.where(rows["status"] == "assigned", True, extras["core"])
        rows = rows.assign(**week_map(rows_matrix))
        more = {key: week[key] for key in ("preset", "examples", "known", "support")}
        more["reviewed_centres"] = reviewed_centres
    if units is not None:
        content = units["content_hash"]
        more["hashes"] = rows["image_id"].map(content).fillna("").tolist()
        if week:  # the export carries the reviewed photos' contents too
            more["known"] = {**more["known"], "hashes": [content.get(i, "")[:8] for i in more["known"]["ids"]]}
        if "sequence_id" in units:  # a camera-trap run's crops: their bursts
            bursts = rows["image_id"].map(units["sequence_id"]).fillna("")
            codes, _ = pd.factorize(bursts)
            more["sequence"] = np.where(bursts == "", -1, codes)
        if {"frame", "camera"} <= set(units.columns):
            more["crops"] = crop_fields(rows, units)
    examples = [i for ids in (week or {}).get("examples", {}).values() for i in ids]
    return PagePlan(rows, extras, more, examples, page_facts(assignments, rows, week, setting, expected))


def page_facts(
    assignments: pd.DataFrame, rows: pd.DataFrame, week: dict | None, setting: dict, expected: str = ""
) -> str:
    """The line above the sections: what was sorted with what, and what to do."""
    method = f"{setting['model']} / {setting['reducer']} / {setting['clusterer']}"
    if not week:
        return (
            f"{len(assignments)} photos sorted with {method} ({setting['source']}). Name each cluster, fix what is "
            f"wrong, then export the CSV."
        )
    counts = rows["status"].value_counts()
    return (
        f"This week: {len(rows)} photos not reviewed yet: {counts.get('assigned', 0)} assigned to the "
        f"{len(week['preset'])} reviewed species (weakest first, check them), {counts.get('new', 0)} new, "
        f"clustered. {len(week['known']['ids'])} photos reviewed before are not shown (examples beside each "
        f"species) and are part of the export. Sorted with {method}."
        + (f" The assignment rule, calibrated on the reviewed photos: {expected}." if expected else "")
    )
