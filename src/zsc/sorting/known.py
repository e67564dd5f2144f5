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
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from zsc.io import atomic_path

VOTERS = 7  # nearest reviewed photos that vote
SHRINK_PHOTOS = 8  # the pooled quantile counts as this many photos of the species
DEFAULT_QUANTILE = 0.9
INDEX_VERSION = 1


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


def index_key(model: str, image_ids, content_hashes, labels, quantile: float) -> str:
    """Identifies one reviewed set: the same photos (by content) with the same labels and model."""
    digest = hashlib.sha256(f"v{INDEX_VERSION}\t{model}\t{quantile}\n".encode())
    for row in sorted(zip(image_ids, content_hashes, labels)):
        digest.update(("\t".join(row) + "\n").encode())
    return digest.hexdigest()[:20]


def build_index(key: str, vectors: np.ndarray, labels, quantile: float = DEFAULT_QUANTILE) -> KnownIndex:
    """Centres, leave-one-out calibration and thresholds of the reviewed photos (linear in their number)."""
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
    return KnownIndex(key, vectors, codes.astype(np.int32), species.tolist(), centres, thresholds, quantile)


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
    frame["assigned"] = frame["centre_distance"] <= frame["threshold"]
    return frame.round({"support": 3, "centre_distance": 4, "neighbour_distance": 4, "threshold": 4})
