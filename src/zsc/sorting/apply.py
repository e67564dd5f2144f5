"""Apply a reviewer's labels: the review CSV read and checked, one spelling per label, safe folder names,
and final/<label>/ brought to the review (see ``zsc.sorting.placement`` for what is never touched).

``apply_review`` turns the CSV exported from the run's page into ``final/<label>/`` folders plus
``labels.csv``; photos without a label go to ``final/_unreviewed/``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from zsc.io import InputError, normalise_label, read_user_csv
from zsc.sorting.assign import MAX_NAME_BYTES
from zsc.sorting.placement import Placed, update_shared_folder

UNREVIEWED = "_unreviewed"
RESERVED_FOLDERS = (UNREVIEWED, "_unreadable")  # final/ folders no label may take
REVIEW_COLUMNS = ("image_id", "label")  # and ``content``, written by the page's export (see read_review)
CONTENT_PREFIX = "sha256:"  # a review CSV's content cells: text no spreadsheet turns into a number


class Review(NamedTuple):
    """A review CSV as read for a run's photos."""

    labels: pd.Series  # image_id -> label, photos of the run with a label
    gone: list[str]  # reviewed ids no longer among the run's photos
    content: pd.Series  # image_id -> the reviewed photo's content hash prefix ('' where the CSV has none)


def read_review(path: Path | str, image_ids) -> Review:
    """A review CSV exported from the page (``image_id,label[,content]``) for the run's photos.

    Empty labels mean "not reviewed". A photo that left the inbox since the review is listed, not an
    error. One line (``InputError``), nothing applied: an empty file, a header without rows, no label
    at all (an export before any naming, or a run's own ``assignments.csv``), no id of the run (another
    run's CSV), one photo with two labels. ``content`` (``sha256:`` and the first hex digits of the
    photo's content hash, written by the page's export) says which bytes were reviewed.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"review CSV {path} does not exist (export it from the run's review.html)")
    table = read_user_csv(path, "review CSV")
    missing = [c for c in REVIEW_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"review CSV {path} lacks column(s) {missing}; expected the header 'image_id,label'")
    if not len(table):
        raise InputError(f"review CSV {path} has a header but no rows; export it again from the review page")
    table["label"] = table["label"].map(normalise_label)
    if not (table["label"] != "").any():
        raise InputError(
            f"review CSV {path}: none of its {len(table)} row(s) has a label (an export before any naming, "
            f"or a run's own table?); nothing applied"
        )
    known = set(image_ids)
    unknown = sorted(set(table["image_id"]) - known)
    if unknown and len(unknown) == table["image_id"].nunique():
        raise InputError(
            f"review CSV {path}: none of its {len(unknown)} image id(s) is a photo of this run, "
            f"e.g. {unknown[:3]} (a CSV exported from another run?)"
        )
    table["content"] = table["content"].str.removeprefix(CONTENT_PREFIX) if "content" in table else ""
    labelled = table.loc[
        (table["label"] != "") & table["image_id"].isin(known), ["image_id", "label", "content"]
    ].drop_duplicates(["image_id", "label"])
    twice = labelled["image_id"][labelled["image_id"].duplicated()]
    if len(twice):
        raise InputError(
            f"review CSV {path}: {twice.nunique()} image(s) have two different labels, e.g. '{twice.iloc[0]}'"
        )
    labelled = labelled.set_index("image_id")
    return Review(labelled["label"], unknown, labelled["content"])


def changed_since_review(
    labels: pd.Series, reviewed: pd.Series, applied: dict[str, set[tuple[str, str]]], current: pd.Series
) -> list[str]:
    """Reviewed photos whose bytes are no longer those reviewed (a photo overwritten in place): such a
    photo is not known any more, and no old label files its new bytes.

    The reviewed bytes are the CSV's ``content`` where it has one (``reviewed``: image_id -> hash
    prefix); else, where an earlier apply filed the photo under the same label (``applied``: image_id ->
    (label, hash) pairs), the bytes it filed; with neither (a label typed by hand for a photo never
    applied, or a label changed by hand), the label is trusted. ``current``: image_id -> content hash."""

    def same(now: str, then: str) -> bool:
        return now[: len(then)] == then[: len(now)]

    changed = []
    for image_id, label in labels.items():
        now, then = current.get(image_id, ""), reviewed.get(image_id, "")
        if not now:
            continue
        if len(then) >= 8:
            if not same(now, then):
                changed.append(image_id)
            continue
        filed = [digest for name, digest in applied.get(image_id, ()) if label_key(name) == label_key(label)]
        if filed and not any(same(now, digest) for digest in filed):
            changed.append(image_id)
    return changed


def label_key(label: str) -> str:
    """Labels with the same key are one label: NFC, whitespace collapsed, case folded (``Fox`` = ``fox``)."""
    return " ".join(unicodedata.normalize("NFC", label).split()).casefold()


def merge_spellings(review: pd.Series, vocabulary: list[str] | None = None) -> tuple[pd.Series, list[str]]:
    """(the review with one spelling per label key, what was merged). The species list's spelling wins,
    else the first spelling met in the CSV."""

    def tidy(name: str) -> str:
        return " ".join(unicodedata.normalize("NFC", name).split())

    spelling = {label_key(name): tidy(name) for name in reversed(vocabulary or [])}
    for label in review:
        spelling.setdefault(label_key(label), tidy(label))
    merged = review.map(lambda label: spelling[label_key(label)])
    changes = sorted({(label, merged_label) for label, merged_label in zip(review, merged) if label != merged_label})
    return merged, [f"label '{label}' is the same name as '{kept}': filed as '{kept}'" for label, kept in changes]


_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\<>:"|?*]')


def safe_folder_name(label: str) -> str:
    """A label as a folder name valid on Linux, macOS and Windows (a name a USB stick accepts)."""
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", label)).strip().rstrip(".")
    if not name or set(name) == {"."}:
        name = "_"
    if name.startswith("."):
        name = "_" + name[1:]
    if name.split(".")[0].upper() in {
        "CON",
        "PRN",
        "AUX",
        "NUL",
        *(f"COM{i}" for i in range(10)),
        *(f"LPT{i}" for i in range(10)),
    }:
        name = "_" + name
    reserved = {folder.casefold(): folder for folder in RESERVED_FOLDERS}
    if name.casefold() in reserved:  # '_Unreviewed' is the same folder as '_unreviewed' on macOS, Windows, exFAT
        name = reserved[name.casefold()] + "_label"
    if len(name.encode()) > MAX_NAME_BYTES - 20:
        name = (
            name.encode()[: MAX_NAME_BYTES - 40].decode(errors="ignore")
            + "~"
            + hashlib.sha256(label.encode()).hexdigest()[:12]
        )
    return name


def label_folders(labels) -> pd.DataFrame:
    """label -> folder, one folder per label, distinct also ignoring case (macOS, Windows, exFAT).

    A label that is a valid folder name keeps it when no other label holds it (``fox~2`` stays
    ``fox~2``); colliding or unsafe labels get ``~2``, ``~3``... skipping every name already taken.
    ``_unreviewed`` is always taken.
    """
    labels = sorted(set(labels))
    taken = {folder.casefold() for folder in RESERVED_FOLDERS}
    folder_of: dict[str, str] = {}
    for label in labels:  # pass 1: labels that are valid folder names keep them, first come first served
        if safe_folder_name(label) == label and label.casefold() not in taken:
            folder_of[label] = label
            taken.add(label.casefold())
    for label in labels:  # pass 2: the rest, around the names now taken
        if label in folder_of:
            continue
        folder = base = safe_folder_name(label)
        count = 1
        while folder.casefold() in taken:
            count += 1
            folder = f"{base}~{count}"
        folder_of[label] = folder
        taken.add(folder.casefold())
    rows = [{"label": label, "folder": folder_of[label], "changed": folder_of[label] != label} for label in labels]
    return pd.DataFrame(rows, columns=["label", "folder", "changed"])


def labelled(assignments: pd.DataFrame, review: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per photo: label, folder, cluster, file = ``<folder>/<its path in the inbox>``; label -> folder)."""
    folders = label_folders(review.values)
    folder_of = dict(zip(folders["label"], folders["folder"]))
    labels = pd.DataFrame({"image_id": assignments["image_id"]})
    labels["label"] = labels["image_id"].map(review).fillna("")
    labels["folder"] = [folder_of.get(label, UNREVIEWED) if label else UNREVIEWED for label in labels["label"]]
    labels["cluster"] = assignments["cluster"].to_numpy()
    labels["file"] = [f"{folder}/{image_id}" for folder, image_id in zip(labels["folder"], labels["image_id"])]
    if "content_hash" in assignments:
        labels["content_hash"] = assignments["content_hash"].to_numpy()
    return labels, folders


GONE_PROBLEM = "no longer in the inbox: its copy in final/ is kept"


def with_known_labels(review: pd.Series, assignments: pd.DataFrame) -> pd.Series:
    """The review plus the labels the run started from (``status`` known), the review's winning: a
    week's export that lacks last week's photos still files them."""
    known = assignments[(assignments["status"] == "known") & ~assignments["image_id"].isin(review.index)]
    return pd.concat([review, known.set_index("image_id")["label"]])


def kept_copies(placed: Placed, frames: bool) -> pd.DataFrame:
    """labels.csv rows for the copies kept in final/ after their photo left the inbox (or changed);
    ``frames``: a camera-trap run's rows also name the frame."""
    rows = pd.DataFrame(placed.kept_gone, columns=["image_id", "label", "file"])
    rows["folder"] = rows["file"].str.split("/").str[0]
    rows["cluster"] = -1
    rows["problem"] = GONE_PROBLEM
    if frames:
        rows["frame"] = rows["image_id"]
    return rows


def apply_to_photos(
    root: Path | str, assignments: pd.DataFrame, review: pd.Series, final_dir: Path | str, mode: str
) -> tuple[pd.DataFrame, pd.DataFrame, Placed]:
    """Bring final/<label>/ (and final/_unreviewed/) to the review, mirroring the inbox's folders
    (``final/red_fox/cam2/IMG_0010.JPG``); return (labels, label->folder, placed).

    Only files this step wrote into ``final_dir`` before are replaced or removed (see zsc.sorting.placement)."""
    labels, folders = labelled(assignments, review)
    plan, placed = update_shared_folder(Path(root), labels, Path(final_dir), mode)
    labels["file"] = plan["file"].to_numpy()
    labels["problem"] = [placed.refused.get(i, "") for i in labels["image_id"]]
    return labels, folders, placed


def apply_to_frames(
    root: Path | str,
    frames: pd.DataFrame,
    crops: pd.DataFrame,
    assignments: pd.DataFrame,
    review: pd.Series,
    final_dir: Path | str,
    mode: str,
) -> tuple[pd.DataFrame, pd.DataFrame, Placed]:
    """A camera-trap run's review: labels per crop (with frame, burst and whether the burst's crops
    disagree), and frames placed in final/: a frame goes to the folder of each species its crops are
    named, blank, person and vehicle frames to ``blank/``, ``person/``, ``vehicle/``, mirroring the
    inbox's folders. ``frames``: the FRAMES table plus each frame's content_hash; ``crops``: the crops'
    manifest indexed by image_id."""
    from zsc.sorting.frames import crop_labels_with_frames, frame_plan

    labels, folders = labelled(assignments, review)
    labels = crop_labels_with_frames(labels, crops)
    plan = frame_plan(frames, labels[["frame", "label"]])
    plan["content_hash"] = plan["image_id"].map(frames.set_index("image_id")["content_hash"]).fillna("")
    placed_plan, placed = update_shared_folder(Path(root), plan, Path(final_dir), mode)
    files = placed_plan.groupby("image_id")["file"].agg(";".join)
    labels["file"] = labels["frame"].map(files).fillna("")
    labels["problem"] = [placed.refused.get(frame, "") for frame in labels["frame"]]
    return labels, folders, placed
