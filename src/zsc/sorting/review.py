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
from typing import NamedTuple

import numpy as np
import pandas as pd

from zsc.io import InputError, normalise_label, read_user_csv
from zsc.sorting.assign import MAX_NAME_BYTES
from zsc.sorting.placement import Placed, update_shared_folder

UNREVIEWED = "_unreviewed"
REVIEW_COLUMNS = ("image_id", "label")  # and ``content``, written by the page's export (see read_review)
CONTENT_PREFIX = "sha256:"  # a review CSV's content cells: text no spreadsheet turns into a number
PREVIEW_SIZE = 1024  # the large view's image: long side in px (never the original bytes)
MAP_SCALE = 10_000  # map coordinates travel as integers 0..MAP_SCALE
PAGE_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#222}
header{position:sticky;top:0;z-index:3;background:#f6f6f6;border-bottom:1px solid #ccc;padding:.4em 1em;
 display:flex;flex-wrap:wrap;gap:.5em;align-items:center;font-size:.9em}
#progress{font-weight:600} #saved,#selection{color:#555} #selection{font-weight:600;color:#1769e0}
#panel{position:fixed;top:3.2em;bottom:0;left:0;width:15em;overflow-y:auto;border-right:1px solid #ccc;
 background:#fafafa;font-size:.85em;z-index:2}
#panel input{width:calc(100% - 1em);margin:.4em .5em;box-sizing:border-box}
#entries div{display:flex;gap:.3em;padding:0 .5em;height:20px;line-height:20px;overflow:hidden;cursor:pointer;border-bottom:1px solid #eee}
#entries div:hover,#entries div.over{background:#e8f0fd} #entries .n{margin-left:auto;color:#666}
#entries .done{color:#2a7d2a} #entries .unnamed{color:#777;font-style:italic} #entries .vocab{color:#557}
main{padding:0 1em 4em 16em}
section{content-visibility:auto;contain-intrinsic-size:auto 400px} #panel{contain:strict}
h2{font-size:1em;margin:1.2em 0 .4em;border-bottom:1px solid #ccc;padding-bottom:.3em;display:flex;gap:.5em;
 align-items:center;flex-wrap:wrap}
h2 .title{font-weight:700} h2 .sub{color:#777;font-weight:normal} h2 .count{color:#666;font-weight:normal}
h2 input.name{font-size:1em;padding:2px 4px;min-width:14em} .warn{color:#b35c00;font-weight:normal}
section.doubtful h2,section.suggest h2{color:#a33} section.done h2{color:#2a7d2a}
body.hidedone section.done{display:none}
.grid{display:flex;flex-wrap:wrap;gap:8px}
figure{margin:0;width:160px;font-size:.7em;word-break:break-all;cursor:pointer;border:3px solid transparent;border-radius:4px}
figure.sel{border-color:#1769e0;background:#e8f0fd}
figure img,.noimg{width:160px;height:160px;object-fit:cover;display:block;background:#eee}
.noimg{display:flex;align-items:center;justify-content:center;color:#888}
.hint{color:#666;display:block}
figcaption button{font-size:1em;margin:1px 1px 0 0;padding:0 3px;border:1px solid #bcd;background:#f3f7fc;border-radius:3px}
figure.quiet .extra .sg{visibility:hidden} figure.quiet:hover .extra .sg{visibility:visible}
.examples{font-size:.75em;color:#555;display:flex;gap:4px;align-items:center;margin:0 0 .4em}
.examples img{width:64px;height:64px;object-fit:cover;opacity:.85}
.coreend{flex-basis:100%;border-top:2px dashed #d9a400;color:#8a6d00;font-size:.8em;padding-top:2px}
button.more{align-self:center;height:3em}
.notice{background:#fff4d6;border:1px solid #d9a400;padding:.6em;border-radius:4px}
details{font-size:.9em} kbd{border:1px solid #aaa;border-radius:3px;padding:0 3px;background:#fff;color:#222}
#viewer,#mapbox{position:fixed;inset:0;background:#1e1e1e;z-index:10;color:#eee;display:flex;
 flex-direction:column;align-items:center;padding:1em;box-sizing:border-box}
#viewer[hidden],#mapbox[hidden],#mover[hidden]{display:none}
#viewer img.big{max-width:96vw;max-height:68vh;object-fit:contain;background:#333}
#viewer .facts{margin:.5em;text-align:center} #viewer .strip{display:flex;gap:4px;overflow-x:auto;max-width:96vw}
#viewer .strip img{width:96px;height:96px;object-fit:cover;cursor:pointer}
#mapbox canvas{background:#fff;cursor:crosshair} #maptip{position:fixed;pointer-events:none;z-index:11}
#maptip img{width:120px;height:120px;object-fit:cover;border:2px solid #fff}
#mover{position:fixed;top:4em;left:50%;transform:translateX(-50%);z-index:12;background:#fff;border:2px solid #1769e0;
 padding:.6em;border-radius:6px;box-shadow:0 4px 20px rgba(0,0,0,.3)} #mover input{font-size:1.1em;width:20em}
"""
HELP = (
    "<details id=help><summary>How to review (shortcuts)</summary>"
    "Name each cluster in its heading (<kbd>Enter</kbd> goes to the next unnamed one); giving two clusters the same "
    "name makes them one group. Inside a cluster, photos are in similarity order; those after the dashed line are "
    "the ones whose neighbours lie elsewhere. Click a photo to select it, <kbd>shift</kbd>-click for a range, then "
    "click a name in the left panel (or drop there, or <kbd>m</kbd>, type a name, <kbd>Enter</kbd>) to move them. "
    "A photo's <em>→ name</em> button moves it to what its nearest photos are named. "
    "<kbd>Space</kbd> or double-click: large view (<kbd>←</kbd>/<kbd>→</kbd> step, <kbd>Esc</kbd> closes) · "
    "<kbd>n</kbd> name this cluster · <kbd>a</kbd> accept the selection's suggestions · <kbd>d</kbd> mark this "
    "cluster done · <kbd>p</kbd> map (drag to lasso) · <kbd>v</kbd> strip: the whole run in one similarity order · "
    "<kbd>u</kbd> or <kbd>Ctrl</kbd>+<kbd>z</kbd> undo · <kbd>e</kbd> export · <kbd>j</kbd>/<kbd>k</kbd> next/previous "
    "cluster · <kbd>Esc</kbd> clear selection · <kbd>?</kbd> this help</details>"
)


def review_state_key(assignments: pd.DataFrame) -> str:
    """Identifies one clustering of one set of photos: saved review work applies only to it."""
    text = "\n".join(
        f"{i}\t{c}\t{d}" for i, c, d in zip(assignments["image_id"], assignments["cluster"], assignments["doubtful"])
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def page_places(assignments: pd.DataFrame) -> np.ndarray:
    """Where each photo starts on the page: its cluster, or -1 for the doubtful section."""
    return np.where(assignments["doubtful"].astype(bool), -1, assignments["cluster"].astype(int))


def review_extras(assignments: pd.DataFrame, embeddings: np.ndarray) -> dict:
    """Neighbours, similarity order, core flags and split sub-groups of a run's photos (rows as assignments')."""
    from zsc.sorting import similarity

    if not len(assignments):  # a week with nothing new: the page shows the reviewed species only
        empty = np.zeros(0, int)
        return {"neighbours": np.zeros((0, 0), int), "order": empty, "core": empty, "sub": empty, "centres": empty}
    places = page_places(assignments)
    neighbours, _ = similarity.nearest_neighbours(embeddings)
    order, core = similarity.similarity_order(embeddings, places, neighbours)
    return {
        "neighbours": neighbours,
        "order": order,
        "core": core,
        "sub": similarity.subgroups(embeddings, places),
        "centres": similarity.nearest_other_centres(embeddings, places, 3),
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
) -> dict:
    """The page's inline data, one array per field (compact for 100,000 photos).

    A week's page (a run started from reviewed labels) also has ``preset`` (cluster -> species name,
    the groups of photos assigned to reviewed species), ``examples`` (cluster -> reviewed photos shown
    beside it), ``known`` (the reviewed labels the export carries: names, ids, codes) and ``support``
    (percent of the nearest reviewed photos, -1 for none). ``hashes``: the photos' content, so saved
    work carries over to a rerun photo by photo. ``sequence``: a camera-trap page's burst per crop
    (an integer, -1 for none): a move takes the burst's other crops along."""
    extras = extras or {}
    previews = previews or {}
    ids = assignments["image_id"].tolist()
    n = len(ids)
    reasons = assignments["reason"].fillna("").tolist()
    neighbours = extras.get("neighbours")
    return {
        "run": run,
        "key": review_state_key(assignments),
        "ids": ids,
        **_paths("thumb", [thumbs.get(i, "") for i in ids]),
        **_paths("preview", [previews.get(i, "") for i in ids]),
        "cluster": assignments["cluster"].astype(int).tolist(),
        "doubtful": assignments["doubtful"].astype(bool).astype(int).tolist(),
        "reasons": {str(i): reason for i, reason in enumerate(reasons) if reason},
        "order": np.asarray(extras.get("order", np.arange(n))).tolist(),
        "core": np.asarray(extras.get("core", np.ones(n, bool))).astype(int).tolist(),
        "sub": np.asarray(extras.get("sub", np.full(n, -1))).tolist(),
        "centres": [] if "centres" not in extras else np.asarray(extras["centres"]).ravel().tolist(),
        "k": 0 if neighbours is None else int(neighbours.shape[1]),
        "neighbours": [] if neighbours is None else np.asarray(neighbours).ravel().tolist(),
        "map": _map_coordinates(assignments),
        "vocabulary": list(vocabulary or []),
        "apply": apply or {},
        "preset": preset or {},
        "examples": {
            group: [[image_id, thumbs.get(image_id, "")] for image_id in image_ids]
            for group, image_ids in (examples or {}).items()
        },
        "known": known or {"names": [], "ids": [], "codes": []},
        "support": [] if support is None else np.asarray(support).astype(int).tolist(),
        "hashes": [h[:8] for h in hashes] if hashes else [],
        "sequence": [] if sequence is None else np.asarray(sequence).astype(int).tolist(),
    }


_HTML_UNSAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def json_for_html(data) -> str:
    """``data`` as JSON safe inside an HTML ``<script>``: ``<``, ``>`` and ``&`` escaped, so no file name,
    label or EXIF field (``<!--<script>``, ``</script>``) can end or re-open the script element."""
    return json.dumps(data, separators=(",", ":")).translate(_HTML_UNSAFE)


def render_review_page(
    run: str,
    assignments: pd.DataFrame,
    thumbs: dict[str, str],
    facts: str = "",
    **page_extras,
) -> str:
    """The review page's HTML (thumbnail paths relative to the page); ``page_extras`` as ``page_data``'s."""
    data = json_for_html(page_data(run, assignments, thumbs, **page_extras))
    script = resources.files("zsc.sorting").joinpath("assets/review.js").read_text()
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>Review: {html.escape(run)}</title><style>{PAGE_STYLE}</style></head><body>"
        f"<header><strong>Review {html.escape(run)}</strong> <span id=progress></span>"
        "<button id=stripBtn>strip (v)</button><button id=mapBtn>map (p)</button>"
        "<span>accept all suggestions with ≥ <input id=threshold type=number min=1 step=1 style='width:3.2em'>"
        " of <span id=kcount></span> neighbours agreeing: <button id=acceptAllBtn>accept <span id=candidates>0</span></button></span>"
        "<button id=undoBtn>undo (u)</button><button id=exportBtn>export CSV (e)</button>"
        "<label><input type=checkbox id=hideDone> hide done</label>"
        "<label id=burstsBox hidden title='a move takes the other crops of the same burst along'>"
        "<input type=checkbox id=bursts checked> move whole bursts</label>"
        f"<span id=selection></span> <span id=saved></span>{HELP}</header>"
        "<aside id=panel><input id=search placeholder='find a cluster or name' autocomplete=off>"
        "<div id=entries></div></aside>"
        f"<main><p id=notice class=notice hidden></p><p id=facts>{html.escape(facts)}</p>"
        "<p id=applyHelp class=notice hidden></p><div id=sections></div></main>"
        "<div id=viewer hidden></div><div id=mapbox hidden></div><div id=maptip></div>"
        "<div id=mover hidden><label>move <span id=moverCount></span> to <input id=moveName list=names "
        "autocomplete=off placeholder='a name: existing or new'></label> <span id=moverWarn class=warn></span></div>"
        "<datalist id=names></datalist>"
        f"<script type='application/json' id=zsc-data>{data}</script><script>{script}</script></body></html>"
    )


# ------------------------------------------------------------------------------- applying a review


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


def apply_review(
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
