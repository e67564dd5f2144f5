"""A season sorted week by week: new photos go to the species already reviewed, or are new.

The reviewed photos (a labels table: a review CSV, a previous run's ``labels.csv``) form an index in
the model's full embedding space (cosine; the 2-D map is refitted each run and means nothing across
runs): their unit vectors, each species' centre, and each species' own spread. A new photo takes the
label its nearest reviewed photos vote for (similarity-weighted), when its distance to that species'
centre lies within the species' threshold; otherwise it is *new*, a candidate for a species not seen
yet, and is clustered with the other new photos.

Threshold (calibrated on the reviewed photos themselves, recorded in the index and in assignments.csv):
every reviewed photo's leave-one-out distance to its own species' centre; a species' threshold is the
``quantile`` of its photos' distances, shrunk toward the quantile of all species' (weights: its photo
count and ``SHRINK_PHOTOS``), since a species reviewed from 8 photos has too few for a stable quantile
of its own.

Novelty (``calibrate_rule``): the reviewed set measures how often a species nobody reviewed would be
absorbed before one exists. Each reviewed photo is assigned twice: once with only itself left out (a
new photo of a reviewed species), once with its whole species left out (a photo of a species never
reviewed). A photo is assigned when its distance to the voted species' centre is within ``scale`` x
that species' threshold and at least ``min_support`` of its voters name that species; of all such
rules the one kept recalls the most known photos while absorbing at most ``max_absorbed`` of the
unseen ones (and filing at most ``MAX_KNOWN_WRONG`` known photos under a wrong species). Its measured
shares are the run's estimate (``assign.json``, the week's page).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from zsc.io import atomic_path

VOTERS = 7  # nearest reviewed photos that vote
SHRINK_PHOTOS = 8  # the pooled quantile counts as this many photos of the species
DEFAULT_QUANTILE = 0.9
DEFAULT_MAX_ABSORBED = 0.3  # of an unseen species' photos, at most this share filed under reviewed ones
MAX_KNOWN_WRONG = 0.10  # of a reviewed species' new photos, at most this share under another species
CALIBRATION_PHOTOS = 4000  # reviewed photos the rule is measured on (an even sample above this)
# the threshold scales tried: never looser than the species' own spread (a held-out species far from
# the reviewed ones would otherwise argue for loosening, and the next unseen one may be a lookalike)
SCALES = np.round(np.arange(0.5, 1.001, 0.02), 2)
INDEX_VERSION = 2


@dataclass
class KnownIndex:
    """The reviewed photos of a run, ready to assign new ones (built once per reviewed set)."""

    key: str
    vectors: np.ndarray  # unit rows, float32, one per reviewed photo
    codes: np.ndarray  # species code per reviewed photo (index into ``species``)
    species: list[str]
    centres: np.ndarray  # unit species centres, float32
    thresholds: np.ndarray  # cosine distance to the centre, per species
    quantile: float
    rule: dict  # the calibrated rule: scale, min_support, and its measured shares (see calibrate_rule)

    def table(self) -> pd.DataFrame:
        """Per species: reviewed photos and threshold (the calibration, for the log and assign.json)."""
        return pd.DataFrame(
            {
                "species": self.species,
                "reviewed_photos": np.bincount(self.codes, minlength=len(self.species)),
                "threshold": self.thresholds.round(4),
            }
        )


def unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1)


def index_key(
    model: str, image_ids, content_hashes, labels, quantile: float, max_absorbed: float = DEFAULT_MAX_ABSORBED
) -> str:
    """Identifies one reviewed set: the same photos (by content) with the same labels, model and targets."""
    digest = hashlib.sha256(f"v{INDEX_VERSION}\t{model}\t{quantile}\t{max_absorbed}\n".encode())
    for row in sorted(zip(image_ids, content_hashes, labels)):
        digest.update(("\t".join(row) + "\n").encode())
    return digest.hexdigest()[:20]


def build_index(
    key: str,
    vectors: np.ndarray,
    labels,
    quantile: float = DEFAULT_QUANTILE,
    max_absorbed: float = DEFAULT_MAX_ABSORBED,
) -> KnownIndex:
    """Centres, leave-one-out calibration, thresholds and the novelty rule of the reviewed photos."""
    vectors = unit(vectors)
    species, codes = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
    counts = np.bincount(codes, minlength=len(species))
    sums = np.zeros((len(species), vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, codes, vectors)
    centres = unit(sums)
    # each photo against its species' centre without itself (a photo alone in its species: itself)
    without = sums[codes] - np.where(counts[codes, None] > 1, vectors, 0)
    distances = 1.0 - np.sum(vectors * unit(without), axis=1)
    pooled = float(np.quantile(distances, quantile))
    thresholds = np.empty(len(species))
    for code, count in enumerate(counts):
        own = float(np.quantile(distances[codes == code], quantile)) if count > 1 else pooled
        thresholds[code] = (count * own + SHRINK_PHOTOS * pooled) / (count + SHRINK_PHOTOS)
    codes = codes.astype(np.int32)
    rule = calibrate_rule(vectors, codes, sums, counts, thresholds, max_absorbed)
    return KnownIndex(key, vectors, codes, species.tolist(), centres, thresholds, quantile, rule)


def _vote(similarity: np.ndarray, codes: np.ndarray, n_species: int, voters: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the species its ``voters`` most similar columns vote for (similarity-weighted) and the
    share of those voters naming it. Columns set to -inf do not vote."""
    voters = min(voters, similarity.shape[1])
    nearest = np.argpartition(-similarity, voters - 1, axis=1)[:, :voters]
    near_similarity = np.take_along_axis(similarity, nearest, axis=1)
    near_codes = codes[nearest]
    weights = np.zeros((len(similarity), n_species))
    np.add.at(weights, (np.repeat(np.arange(len(similarity)), voters), near_codes.ravel()),
              np.maximum(near_similarity, 0).ravel())  # fmt: skip
    voted = np.argmax(weights, axis=1)
    voted = np.where(
        weights.max(axis=1) > 0, voted, near_codes[np.arange(len(similarity)), np.argmax(near_similarity, 1)]
    )
    return voted, (near_codes == voted[:, None]).mean(axis=1)


def _simulated(vectors, codes, sums, counts, thresholds, rows) -> dict[str, np.ndarray]:
    """For the reviewed photos ``rows``: the voted species, support and distance ratio (to the voted
    centre over its threshold) as a new photo of its species (itself left out) and as a photo of an
    unseen species (its species left out)."""
    n_species = len(counts)
    centres = unit(sums)
    out = {
        key: []
        for key in ("known_vote", "known_support", "known_ratio", "unseen_vote", "unseen_support", "unseen_ratio")
    }
    for start in range(0, len(rows), 1024):
        chunk = rows[start : start + 1024]
        similarity = vectors[chunk] @ vectors.T
        similarity[np.arange(len(chunk)), chunk] = -np.inf  # itself left out
        vote, support = _vote(similarity, codes, n_species, VOTERS)
        own = codes[chunk]
        centre = np.where(
            (vote == own)[:, None], unit(sums[own] - np.where(counts[own, None] > 1, vectors[chunk], 0)), centres[vote]
        )
        out["known_vote"].append(vote)
        out["known_support"].append(support)
        out["known_ratio"].append((1.0 - np.sum(vectors[chunk] * centre, axis=1)) / thresholds[vote])
        similarity[codes[None, :] == own[:, None]] = -np.inf  # its whole species left out
        if n_species > 1:
            vote, support = _vote(similarity, codes, n_species, VOTERS)
        out["unseen_vote"].append(vote)
        out["unseen_support"].append(support)
        out["unseen_ratio"].append((1.0 - np.sum(vectors[chunk] * centres[vote], axis=1)) / thresholds[vote])
    return {key: np.concatenate(parts) for key, parts in out.items()}


def calibrate_rule(vectors, codes, sums, counts, thresholds, max_absorbed: float = DEFAULT_MAX_ABSORBED) -> dict:
    """The assignment rule (``scale`` of the thresholds, ``min_support``) measured on the reviewed photos:
    the one recalling the most known photos with at most ``max_absorbed`` of unseen ones absorbed and at
    most ``MAX_KNOWN_WRONG`` known ones wrong (else the one absorbing least), and its measured shares."""
    if len(counts) < 2:  # one species: nothing to hold out, the thresholds as they are
        return {"scale": 1.0, "min_support": 0.0, "measured_on": 0, "species": len(counts)}
    rows = np.linspace(0, len(codes) - 1, min(len(codes), CALIBRATION_PHOTOS)).astype(int)
    sim = _simulated(vectors, codes, sums, counts, thresholds, rows)
    right = sim["known_vote"] == codes[rows]
    best = None
    for scale in SCALES:
        for min_support in np.arange(VOTERS + 1) / VOTERS:
            known = (sim["known_ratio"] <= scale) & (sim["known_support"] >= min_support - 1e-9)
            absorbed = float(((sim["unseen_ratio"] <= scale) & (sim["unseen_support"] >= min_support - 1e-9)).mean())
            shares = {"known_right": float((known & right).mean()), "known_wrong": float((known & ~right).mean())}
            ok = absorbed <= max_absorbed and shares["known_wrong"] <= MAX_KNOWN_WRONG
            rank = (ok, shares["known_right"] if ok else -absorbed)
            if best is None or rank > best[0]:
                best = (rank, {"scale": float(scale), "min_support": round(float(min_support), 3),
                               "absorbed": absorbed, **shares})  # fmt: skip
    rule = best[1]
    rule["known_new"] = 1.0 - rule["known_right"] - rule["known_wrong"]
    rule["measured_on"] = len(rows)
    rule["species"] = len(counts)
    rule["max_absorbed"] = max_absorbed
    rule["met"] = best[0][0]
    return {key: round(value, 4) if isinstance(value, float) else value for key, value in rule.items()}


def save_index(index: KnownIndex, path: Path | str) -> None:
    with atomic_path(path) as partial, open(partial, "wb") as handle:
        np.savez(
            handle,
            key=np.array(index.key),
            vectors=index.vectors,
            codes=index.codes,
            species=np.array(index.species, dtype=object).astype(str),
            centres=index.centres,
            thresholds=index.thresholds,
            quantile=np.array(index.quantile),
            rule=np.array(json.dumps(index.rule)),
        )


def load_index(path: Path | str, key: str) -> KnownIndex | None:
    """The saved index when it is the one of this reviewed set, else None (then it is rebuilt)."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            if str(saved["key"]) != key:
                return None
            return KnownIndex(
                key,
                saved["vectors"],
                saved["codes"],
                saved["species"].tolist(),
                saved["centres"],
                saved["thresholds"],
                float(saved["quantile"]),
                json.loads(str(saved["rule"])),
            )
    except (OSError, KeyError, ValueError):
        return None


def assign_to_known(index: KnownIndex, vectors: np.ndarray, voters: int = VOTERS) -> pd.DataFrame:
    """Per new photo: the voted ``label``, its ``support`` (share of the voters naming it), the distance
    to that species' centre and nearest reviewed photo, the species' ``threshold``, and ``assigned``.

    Cost: one product of the new photos with the reviewed ones, in chunks (proportional to the new photos)."""
    vectors = unit(vectors)
    voters = min(voters, len(index.codes))
    rows = []
    for start in range(0, len(vectors), 2048):
        chunk = vectors[start : start + 2048]
        similarity = chunk @ index.vectors.T
        nearest = np.argpartition(-similarity, voters - 1, axis=1)[:, :voters]
        near_similarity = np.take_along_axis(similarity, nearest, axis=1)
        near_codes = index.codes[nearest]
        for row in range(len(chunk)):
            weights = np.bincount(
                near_codes[row], weights=np.maximum(near_similarity[row], 0), minlength=len(index.species)
            )
            code = int(np.argmax(weights)) if weights.any() else int(near_codes[row][np.argmax(near_similarity[row])])
            same = near_codes[row] == code
            centre_distance = 1.0 - float(chunk[row] @ index.centres[code])
            rows.append(
                (
                    index.species[code],
                    same.mean(),
                    centre_distance,
                    1.0 - float(near_similarity[row][same].max()),
                    float(index.thresholds[code]),
                )
            )
    frame = pd.DataFrame(rows, columns=["label", "support", "centre_distance", "neighbour_distance", "threshold"])
    frame["threshold"] *= index.rule.get("scale", 1.0)  # the threshold as the calibrated rule applies it
    frame["assigned"] = (frame["centre_distance"] <= frame["threshold"]) & (
        frame["support"] >= index.rule.get("min_support", 0.0) - 1e-9
    )
    return frame.round({"support": 3, "centre_distance": 4, "neighbour_distance": 4, "threshold": 4})
