"""Scan a folder of species folders into a manifest and a rejects table.

Every file under the root ends up in exactly one of the two tables.
"""

from __future__ import annotations

import hashlib
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from zsc.data.images import ImageRejected, probe, skip_reason
from zsc.io import content_hash, normalise_label, read_user_csv

MANIFEST_COLUMNS = ["image_id", "label", "group", "size_bytes", "width", "height", "format", "content_hash"]
REJECT_COLUMNS = ["image_id", "stage", "reason"]
# Snakemake's own marker in a directory() output (e.g. generated demo folders): not a user file.
WORKFLOW_MARKERS = frozenset({".snakemake_timestamp"})


@dataclass(frozen=True)
class Layout:
    """Which folder level names the species (label) and, optionally, the taxon (group).

    Levels index the folders of an image's relative path: 0 is the first folder
    under the root, -1 the folder that holds the file.
    """

    label_level: int | None = -1  # None: unlabeled photos (sorting), any depth, files at the root too
    group_level: int | None = None

    def label_and_group(self, folders: tuple[str, ...]) -> tuple[str, str]:
        label = folders[self.label_level] if self.label_level is not None else ""
        group = folders[self.group_level] if self.group_level is not None else ""
        return label, group

    def depth_ok(self, folders: tuple[str, ...]) -> bool:
        levels = [level for level in (self.label_level, self.group_level) if level is not None]
        return all(-len(folders) <= level < len(folders) for level in levels)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def printable_name(text: str) -> str:
    """A path as text any table can hold: undecodable bytes and control characters as ``\\xNN``."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def name_problem(name: str) -> str | None:
    """Why a file or folder name cannot become an image id (a CSV cell, a URL, a folder name), or None."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "name is not valid UTF-8 (rename the file)"
    if _CONTROL.search(name):
        return "name contains a control character such as a line break (rename the file)"
    return None


def link_problem(path: Path, root: Path) -> str | None:
    """A symlink may lead anywhere inside the root, never outside it (nor dangle)."""
    if not path.is_symlink():
        return None
    if not path.exists():
        return "broken symlink"
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return "symlink to a file outside the root (not followed)"
    return None


def _folder_problem(folder: Path) -> str | None:
    """Why a sub-folder is not walked (unreadable, empty), or None."""
    try:
        with os.scandir(folder) as entries:
            return None if any(True for _ in entries) else "empty folder"
    except PermissionError:
        return "unreadable folder (permission denied)"
    except OSError as error:
        return f"unreadable folder ({error.strerror or type(error).__name__})"


def list_entries(root: Path, labeled: bool = True) -> tuple[list[Path], list[tuple[str, str]]]:
    """All files to try, plus (relative path, reason) for entries never tried."""
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        folder_path = Path(folder)
        walked = []
        for dirname in sorted(dirnames):
            sub = folder_path / dirname
            relative = printable_name(sub.relative_to(root).as_posix()) + "/"
            if sub.is_symlink():
                skipped.append((relative, "symlinked folder not followed (could loop)"))
            elif dirname.startswith("."):
                skipped.append((relative, "hidden folder not scanned"))
            elif bad_name := name_problem(dirname):
                skipped.append((relative, f"folder {bad_name}; its files are not scanned"))
            else:
                problem = _folder_problem(sub)
                if problem:
                    skipped.append((relative, problem))
                else:
                    walked.append(dirname)
        dirnames[:] = walked
        for filename in sorted(set(filenames) - WORKFLOW_MARKERS):
            path = folder_path / filename
            relative = printable_name(path.relative_to(root).as_posix())
            reason = name_problem(filename) or skip_reason(path) or link_problem(path, root)
            if reason is None and labeled and path.parent == root:
                reason = "not inside a species folder"
            if reason:
                skipped.append((relative, reason))
            else:
                files.append(path)
    return files, skipped


def _probe_one(path: Path) -> dict | str:
    try:
        return {**probe(path), "content_hash": content_hash(path)}
    except ImageRejected as error:
        return str(error)
    except OSError as error:  # unreadable file, permission denied...
        return f"unreadable: {error}"


def original_first(relative_paths: list[str]) -> list[str]:
    """Copies of one photo, the likely original first: the shortest name (``IMG_1.jpg`` before
    ``IMG_1 (1).jpg`` and ``IMG_1 - Copy.jpg``), then name order."""
    return sorted(relative_paths, key=lambda relative: (len(relative), relative))


PROBE_COLUMNS = ["image_id", "size_bytes", "mtime_ns", "width", "height", "format", "content_hash"]


def probe_cache_rows(manifest: pd.DataFrame, root: Path) -> pd.DataFrame:
    """What a later scan may reuse of this one: each photo's probe and hash with its size and mtime."""
    mtimes = [os.stat(root / image_id).st_mtime_ns for image_id in manifest["image_id"]]
    return manifest.assign(mtime_ns=np.asarray(mtimes, dtype="int64"))[PROBE_COLUMNS]


def read_probe_cache(path: Path | str | None) -> dict[str, tuple]:
    """relative path -> (size, mtime_ns, probe); empty when there is none or it cannot be read."""
    if not path or not Path(path).is_file():
        return {}
    try:
        table = pd.read_parquet(path, columns=PROBE_COLUMNS)
    except (OSError, ValueError, KeyError):
        return {}
    return {
        row.image_id: (
            row.size_bytes,
            row.mtime_ns,
            {"width": row.width, "height": row.height, "format": row.format, "content_hash": row.content_hash},
        )
        for row in table.itertuples(index=False)
    }


def _reuse(path: Path, cached: tuple | None) -> dict | None:
    """The cached probe of an unchanged file (same size and modification time), else None."""
    if cached is None:
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    return cached[2] if (stat.st_size, stat.st_mtime_ns) == (cached[0], cached[1]) else None


def scan_folder(
    root: Path | str,
    layout: Layout,
    workers: int = 1,
    keep_duplicates: bool = False,
    probe_cache: dict[str, tuple] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (manifest, rejects) for ``root``, both sorted by image_id.

    Exact duplicates are rejected, keeping the likely original (a benchmark must not weight a photo
    twice), or with ``keep_duplicates`` (a sort run, where every photo must land in a folder) kept.
    ``probe_cache`` (``read_probe_cache``): files unchanged since an earlier scan (size, mtime) are not
    decoded or hashed again, so a season's weekly rescan reads only the week's photos."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset root is not a folder: {root}")
    if not os.access(root, os.R_OK | os.X_OK):
        raise PermissionError(f"cannot read the photo folder {root} (permission denied)")
    files, skipped = list_entries(root, labeled=layout.label_level is not None)
    probe_cache = probe_cache or {}
    results: list = [_reuse(path, probe_cache.get(path.relative_to(root).as_posix())) for path in files]
    todo = [path for path, result in zip(files, results) if result is None]
    if workers > 1 and len(todo) > 64:
        with ProcessPoolExecutor(workers) as pool:
            probed = list(pool.map(_probe_one, todo, chunksize=32))
    else:
        probed = [_probe_one(path) for path in todo]
    fresh = iter(probed)
    results = [result if result is not None else next(fresh) for result in results]

    rows, rejects = [], [(relative, "scan", reason) for relative, reason in skipped]
    copies: dict[str, list[str]] = {}
    for path, result in zip(files, results):
        if not isinstance(result, str):
            copies.setdefault(result["content_hash"], []).append(path.relative_to(root).as_posix())
    original = {relative: kept[0] for kept in map(original_first, copies.values()) for relative in kept}
    for path, result in zip(files, results):
        relative = path.relative_to(root)
        folders = relative.parts[:-1]
        if isinstance(result, str):
            rejects.append((relative.as_posix(), "scan", result))
        elif not layout.depth_ok(folders):
            rejects.append(
                (relative.as_posix(), "scan", f"folder depth {len(folders)} does not fit label/group levels")
            )
        elif not keep_duplicates and original[relative.as_posix()] != relative.as_posix():
            # adds no information, would weight a species twice
            rejects.append((relative.as_posix(), "scan", f"exact duplicate of {original[relative.as_posix()]}"))
        else:
            label, group = layout.label_and_group(folders)
            rows.append(
                {
                    "image_id": relative.as_posix(),
                    "label": label,
                    "group": group,
                    "size_bytes": path.stat().st_size,
                    **result,
                }
            )
    manifest = pd.DataFrame(rows, columns=MANIFEST_COLUMNS).sort_values("image_id", ignore_index=True)
    manifest = manifest.astype({"size_bytes": "int64", "width": "int32", "height": "int32"})
    reject_table = pd.DataFrame(rejects, columns=REJECT_COLUMNS).sort_values("image_id", ignore_index=True)
    return manifest, reject_table


def folder_fingerprint(root: Path | str) -> str:
    """Hash of every path, size and mtime under ``root``: changes when the content does.

    A symlink contributes its target's path, size and mtime, so pointing it elsewhere is seen;
    names that are not valid UTF-8 are hashed as bytes (the scan rejects them with a reason). Folders
    themselves count only as links: a new empty folder (next week's card, not filled yet) changes
    nothing a run depends on."""
    root = Path(root)
    digest = hashlib.sha256()
    if not root.exists():
        return "missing"
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        linked = [d + "/" for d in dirnames if (Path(folder) / d).is_symlink()]
        for name in sorted(filenames) + linked:
            path = Path(folder) / name.rstrip("/")
            try:
                stat = path.lstat()
                target = b""
                if path.is_symlink():
                    target = os.fsencode(os.readlink(path))
                    stat = path.stat() if path.exists() else stat
            except OSError:
                continue
            digest.update(
                os.fsencode(str(path.relative_to(root)))
                + b"\0"
                + target
                + f"\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
            )
    return digest.hexdigest()[:16]


def portable_id(image_id: str) -> str:
    """An image id as the scan writes it: '/' between folders (a table made on Windows has '\\'), no './'."""
    image_id = image_id.replace("\\", "/")
    return image_id[2:] if image_id.startswith("./") else image_id


def read_label_table(path: Path | str) -> pd.DataFrame:
    """A labels CSV (``image_id,label`` and optionally ``group``), e.g. a reviewed sort run's labels.csv.

    Rows with an empty label are kept (they become rejects: "no label"); one image with two
    different labels is an error.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"labels CSV {path} does not exist")
    table = read_user_csv(path, "labels CSV")
    missing = [c for c in ("image_id", "label") if c not in table.columns]
    if missing:
        raise ValueError(
            f"labels CSV {path} lacks column(s) {missing}; expected 'image_id,label' (and optionally 'group')"
        )
    if "group" not in table.columns:
        table["group"] = ""
    table = table[["image_id", "label", "group"]].apply(lambda column: column.map(normalise_label))
    table = table.drop_duplicates()
    twice = table["image_id"][table["image_id"].duplicated()]
    if len(twice):
        raise ValueError(
            f"labels CSV {path}: {twice.nunique()} image(s) listed with two labels, e.g. '{twice.iloc[0]}'"
        )
    return table.reset_index(drop=True)


def label_from_table(
    manifest: pd.DataFrame, rejects: pd.DataFrame, table: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labels (and groups) from a labels table instead of folder names; unlabeled photos become rejects.

    A listed image that is not a usable photo under the root is a reject too, so every row of the
    table is accounted for. Ids written on Windows (``cam1\\IMG_1.jpg``) match their photo; a table
    none of whose ids matches a photo is an error saying so.
    """
    photos = set(manifest["image_id"])
    table = table.assign(image_id=[i if i in photos else portable_id(i) for i in table["image_id"]])
    table = table.drop_duplicates("image_id", keep="first")
    if len(table) and not set(table["image_id"]) & photos:
        raise ValueError(
            f"labels CSV: none of its {len(table)} image id(s) matches a photo under the root, e.g. "
            f"'{table['image_id'].iloc[0]}' vs photos like '{min(photos) if photos else '(none)'}'; "
            f"ids are paths relative to the root, with '/' between folders"
        )
    known = table.set_index("image_id")
    labelled = manifest["image_id"].map(known["label"]).fillna("")
    unlabelled = manifest[labelled == ""]
    absent = sorted(set(table["image_id"]) - set(manifest["image_id"]) - set(rejects["image_id"]))
    extra = pd.DataFrame(
        [(i, "scan", "no label in the labels CSV") for i in unlabelled["image_id"]]
        + [(i, "scan", "listed in the labels CSV but not found under the root") for i in absent],
        columns=REJECT_COLUMNS,
    )
    kept = manifest[labelled != ""].copy()
    kept["label"] = kept["image_id"].map(known["label"])
    kept["group"] = kept["image_id"].map(known["group"])
    rejects = pd.concat([rejects, extra], ignore_index=True).sort_values("image_id", ignore_index=True)
    return kept.reset_index(drop=True), rejects


NO_GROUP = "no group (split_by: group clusters each group apart; give this photo a group)"


def reject_where(manifest: pd.DataFrame, rejects: pd.DataFrame, mask, reason) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Move the manifest rows under ``mask`` to the rejects, each with ``reason(row)`` (stage scan)."""
    moved = manifest[mask]
    extra = pd.DataFrame(
        {"image_id": moved["image_id"], "stage": "scan", "reason": [reason(row) for row in moved.itertuples()]},
        columns=REJECT_COLUMNS,
    )
    rejects = pd.concat([rejects, extra], ignore_index=True).sort_values("image_id", ignore_index=True)
    return manifest[~mask].reset_index(drop=True), rejects


def drop_small_species(
    manifest: pd.DataFrame, rejects: pd.DataFrame, minimum: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A species with fewer than ``minimum`` usable images is rejected whole, each image with the reason."""
    sizes = manifest.groupby("label").size()
    return reject_where(
        manifest,
        rejects,
        manifest["label"].map(sizes) < minimum,
        lambda row: (
            f"species '{row.label}' has {sizes[row.label]} usable image(s), fewer than "
            f"scan.min_images_per_species={minimum}"
        ),
    )
