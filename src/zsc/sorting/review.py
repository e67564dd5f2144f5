"""Review a sort run in the browser, then apply the reviewer's labels back in the workflow.

``review.html`` is one self-contained page (data inline, thumbnails by relative path, no server,
no external asset): a person names clusters, merges, splits, moves and accepts doubtful photos,
and exports ``image_id,label``. ``apply_review`` turns that CSV into ``final/<label>/`` folders
plus ``labels.csv``; photos without a label go to ``final/_unreviewed/``.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import unicodedata
from importlib import resources
from pathlib import Path

import pandas as pd

from zsc.io import normalise_label, read_user_csv
from zsc.sorting.assign import MAX_NAME_BYTES, output_name
from zsc.sorting.placement import Placed, update_shared_folder

UNREVIEWED = "_unreviewed"
REVIEW_COLUMNS = ("image_id", "label")
PAGE_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#222}
header{position:sticky;top:0;z-index:2;background:#f6f6f6;border-bottom:1px solid #ccc;padding:.5em 1em;
 display:flex;flex-wrap:wrap;gap:.6em;align-items:center;font-size:.9em}
#progress{font-weight:600} #saved,#selection{color:#555}
main{padding:0 1em 4em}
h2{font-size:1em;margin:1.4em 0 .4em;border-bottom:1px solid #ccc;padding-bottom:.3em;display:flex;gap:.5em;align-items:center;flex-wrap:wrap}
h2 .count{color:#666;font-weight:normal} h2 input.name{font-size:1em;padding:2px 4px;min-width:14em}
section.doubtful h2{color:#a33}
.grid{display:flex;flex-wrap:wrap;gap:8px}
figure{margin:0;width:160px;font-size:.7em;word-break:break-all;cursor:pointer;border:3px solid transparent;border-radius:4px}
figure.sel{border-color:#1769e0;background:#e8f0fd}
figure img,.noimg{width:160px;height:160px;object-fit:cover;display:block;background:#eee}
.noimg{display:flex;align-items:center;justify-content:center;color:#888}
.hint{color:#666;display:block} .accept{font-size:.95em;margin-top:2px}
button.more{align-self:center;height:3em}
.notice{background:#fff4d6;border:1px solid #d9a400;padding:.6em;border-radius:4px}
details{font-size:.9em} kbd{border:1px solid #aaa;border-radius:3px;padding:0 3px;background:#fff}
"""
HELP = (
    "<details id=help><summary>Shortcuts</summary>click a photo to select it, <kbd>shift</kbd>-click for a range, "
    "drag selected photos onto a cluster to move them · <kbd>n</kbd> name the cluster of the last clicked photo · "
    "<kbd>m</kbd> choose where to move the selection (<kbd>Enter</kbd> moves) · <kbd>a</kbd> accept suggestions for "
    "selected doubtful photos · <kbd>u</kbd> or <kbd>Ctrl</kbd>+<kbd>z</kbd> undo · <kbd>e</kbd> export CSV · "
    "<kbd>j</kbd>/<kbd>k</kbd> next/previous cluster · <kbd>Esc</kbd> clear selection · <kbd>?</kbd> this help</details>"
)


def review_state_key(assignments: pd.DataFrame) -> str:
    """Identifies one clustering of one set of photos: saved review work applies only to it."""
    text = "\n".join(
        f"{i}\t{c}\t{d}" for i, c, d in zip(assignments["image_id"], assignments["cluster"], assignments["doubtful"])
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def page_data(run: str, assignments: pd.DataFrame, thumbs: dict[str, str]) -> dict:
    """The page's inline data: one compact row per photo."""
    rows = [
        [image_id, thumbs.get(image_id, ""), int(c), int(bool(d)), int(n), round(float(dist), 4), reason or ""]
        for image_id, c, d, n, dist, reason in zip(
            assignments["image_id"],
            assignments["cluster"],
            assignments["doubtful"],
            assignments["nearest_cluster"],
            assignments["distance_to_cluster"],
            assignments["reason"].fillna(""),
        )
    ]
    clusters = sorted(int(c) for c in set(assignments.loc[~assignments["doubtful"].astype(bool), "cluster"]))
    return {"run": run, "key": review_state_key(assignments), "images": rows, "clusters": clusters}


def render_review_page(run: str, assignments: pd.DataFrame, thumbs: dict[str, str], facts: str = "") -> str:
    """The review page's HTML (thumbnail paths relative to the page)."""
    data = json.dumps(page_data(run, assignments, thumbs), separators=(",", ":")).replace("</", "<\\/")
    script = resources.files("zsc.sorting").joinpath("assets/review.js").read_text()
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>Review: {html.escape(run)}</title><style>{PAGE_STYLE}</style></head><body>"
        f"<header><strong>Review {html.escape(run)}</strong> <span id=progress></span>"
        "<label>move selected to <select id=moveTo></select></label>"
        "<input id=newName placeholder='new group name' hidden> <button id=moveBtn>move (m)</button>"
        "<button id=acceptBtn>accept suggestions (a)</button> <button id=undoBtn>undo (u)</button>"
        "<button id=exportBtn>export CSV (e)</button> <span id=selection></span> <span id=saved></span>"
        f"{HELP}</header><main><p id=notice class=notice hidden></p><p>{html.escape(facts)}</p><div id=sections></div></main>"
        f"<script type='application/json' id=zsc-data>{data}</script><script>{script}</script></body></html>"
    )


# ------------------------------------------------------------------------------- applying a review


def read_review(path: Path | str, image_ids) -> tuple[pd.Series, list[str]]:
    """(image_id -> label, reviewed ids no longer among the run's photos) from an exported review CSV.

    Empty labels mean "not reviewed". A photo that left the inbox since the review is listed, not an
    error; a CSV none of whose ids are photos of the run, or one image with two labels, is an error.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"review CSV {path} does not exist (export it from the run's review.html)")
    table = read_user_csv(path, "review CSV")
    missing = [c for c in REVIEW_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"review CSV {path} lacks column(s) {missing}; expected the header 'image_id,label'")
    table["label"] = table["label"].map(normalise_label)
    known = set(image_ids)
    unknown = sorted(set(table["image_id"]) - known)
    if unknown and len(unknown) == table["image_id"].nunique():
        raise ValueError(
            f"review CSV {path}: none of its {len(unknown)} image id(s) is a photo of this run, "
            f"e.g. {unknown[:3]} (a CSV exported from another run?)"
        )
    labelled = table.loc[
        (table["label"] != "") & table["image_id"].isin(known), ["image_id", "label"]
    ].drop_duplicates()
    twice = labelled["image_id"][labelled["image_id"].duplicated()]
    if len(twice):
        raise ValueError(
            f"review CSV {path}: {twice.nunique()} image(s) have two different labels, e.g. '{twice.iloc[0]}'"
        )
    return labelled.set_index("image_id")["label"], unknown


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
    if name.casefold() == UNREVIEWED.casefold():  # '_Unreviewed' is the same folder on macOS, Windows, exFAT
        name = UNREVIEWED + "_label"
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
    taken = {UNREVIEWED.casefold()}
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


def apply_review(
    root: Path | str, assignments: pd.DataFrame, review: pd.Series, final_dir: Path | str, mode: str
) -> tuple[pd.DataFrame, pd.DataFrame, Placed]:
    """Bring final/<label>/ (and final/_unreviewed/) to the review; return (labels, label->folder, placed).

    Only files this step wrote into ``final_dir`` before are replaced or removed (see zsc.sorting.placement)."""
    folders = label_folders(review.values)
    folder_of = dict(zip(folders["label"], folders["folder"]))
    labels = pd.DataFrame({"image_id": assignments["image_id"]})
    labels["label"] = labels["image_id"].map(review).fillna("")
    labels["folder"] = [folder_of.get(label, UNREVIEWED) if label else UNREVIEWED for label in labels["label"]]
    labels["cluster"] = assignments["cluster"].to_numpy()
    labels["file"] = [f"{folder}/{output_name(i)}" for folder, i in zip(labels["folder"], labels["image_id"])]
    if "content_hash" in assignments:
        labels["content_hash"] = assignments["content_hash"].to_numpy()
    plan, placed = update_shared_folder(Path(root), labels, Path(final_dir), mode)
    labels["file"] = plan["file"].to_numpy()
    labels["problem"] = [placed.refused.get(i, "") for i in labels["image_id"]]
    return labels, folders, placed
