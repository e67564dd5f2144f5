"""Scan a folder of species folders into a manifest and a rejects table.

Every file under the root ends up in exactly one of the two tables.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from zsc.images import ImageRejected, probe, skip_reason

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
            relative = sub.relative_to(root).as_posix() + "/"
            if sub.is_symlink():
                skipped.append((relative, "symlinked folder not followed (could loop)"))
            elif dirname.startswith("."):
                skipped.append((relative, "hidden folder not scanned"))
            else:
                problem = _folder_problem(sub)
                if problem:
                    skipped.append((relative, problem))
                else:
                    walked.append(dirname)
        dirnames[:] = walked
        for filename in sorted(set(filenames) - WORKFLOW_MARKERS):
            path = folder_path / filename
            relative = path.relative_to(root).as_posix()
            reason = skip_reason(path)
            if reason is None and path.is_symlink() and not path.exists():
                reason = "broken symlink"
            if reason is None and labeled and path.parent == root:
                reason = "not inside a species folder"
            if reason:
                skipped.append((relative, reason))
            else:
                files.append(path)
    return files, skipped


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:24]


def _probe_one(path: Path) -> dict | str:
    try:
        return {**probe(path), "content_hash": content_hash(path)}
    except ImageRejected as error:
        return str(error)
    except OSError as error:  # unreadable file, permission denied...
        return f"unreadable: {error}"


def scan_folder(root: Path | str, layout: Layout, workers: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (manifest, rejects) for ``root``, both sorted by image_id."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset root is not a folder: {root}")
    if not os.access(root, os.R_OK | os.X_OK):
        raise PermissionError(f"cannot read the photo folder {root} (permission denied)")
    files, skipped = list_entries(root, labeled=layout.label_level is not None)
    if workers > 1 and len(files) > 64:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(_probe_one, files, chunksize=32))
    else:
        results = [_probe_one(path) for path in files]

    rows, rejects = [], [(relative, "scan", reason) for relative, reason in skipped]
    first_with_hash: dict[str, str] = {}
    for path, result in zip(files, results):
        relative = path.relative_to(root)
        folders = relative.parts[:-1]
        if isinstance(result, str):
            rejects.append((relative.as_posix(), "scan", result))
        elif not layout.depth_ok(folders):
            rejects.append((relative.as_posix(), "scan", f"folder depth {len(folders)} does not fit label/group levels"))
        elif result["content_hash"] in first_with_hash:  # adds no information, would weight a species twice
            rejects.append((relative.as_posix(), "scan", f"exact duplicate of {first_with_hash[result['content_hash']]}"))
        else:
            first_with_hash[result["content_hash"]] = relative.as_posix()
            label, group = layout.label_and_group(folders)
            rows.append(
                {"image_id": relative.as_posix(), "label": label, "group": group,
                 "size_bytes": path.stat().st_size, **result}
            )
    manifest = pd.DataFrame(rows, columns=MANIFEST_COLUMNS).sort_values("image_id", ignore_index=True)
    manifest = manifest.astype({"size_bytes": "int64", "width": "int32", "height": "int32"})
    reject_table = pd.DataFrame(rejects, columns=REJECT_COLUMNS).sort_values("image_id", ignore_index=True)
    return manifest, reject_table


def folder_fingerprint(root: Path | str) -> str:
    """Hash of every path, size and mtime under ``root``: changes when the content does."""
    root = Path(root)
    digest = hashlib.sha256()
    if not root.exists():
        return "missing"
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames) + [d + "/" for d in dirnames]:
            path = Path(folder) / name.rstrip("/")
            try:
                stat = path.lstat()
            except OSError:
                continue
            digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def read_label_table(path: Path | str) -> pd.DataFrame:
    """A labels CSV (``image_id,label`` and optionally ``group``), e.g. a reviewed sort run's labels.csv.

    Rows with an empty label are kept (they become rejects: "no label"); one image with two
    different labels is an error.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"labels CSV {path} does not exist")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in ("image_id", "label") if c not in table.columns]
    if missing:
        raise ValueError(f"labels CSV {path} lacks column(s) {missing}; expected 'image_id,label' (and optionally 'group')")
    if "group" not in table.columns:
        table["group"] = ""
    table = table[["image_id", "label", "group"]].apply(lambda column: column.str.strip()).drop_duplicates()
    twice = table["image_id"][table["image_id"].duplicated()]
    if len(twice):
        raise ValueError(f"labels CSV {path}: {twice.nunique()} image(s) listed with two labels, e.g. '{twice.iloc[0]}'")
    return table.reset_index(drop=True)


def label_from_table(manifest: pd.DataFrame, rejects: pd.DataFrame,
                     table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labels (and groups) from a labels table instead of folder names; unlabeled photos become rejects.

    A listed image that is not a usable photo under the root is a reject too, so every row of the
    table is accounted for.
    """
    known = table.set_index("image_id")
    labelled = manifest["image_id"].map(known["label"]).fillna("")
    unlabelled = manifest[labelled == ""]
    absent = sorted(set(table["image_id"]) - set(manifest["image_id"]) - set(rejects["image_id"]))
    extra = pd.DataFrame(
        [(i, "scan", "no label in the labels CSV") for i in unlabelled["image_id"]]
        + [(i, "scan", "listed in the labels CSV but not found under the root") for i in absent],
        columns=REJECT_COLUMNS)
    kept = manifest[labelled != ""].copy()
    kept["label"] = kept["image_id"].map(known["label"])
    kept["group"] = kept["image_id"].map(known["group"])
    rejects = pd.concat([rejects, extra], ignore_index=True).sort_values("image_id", ignore_index=True)
    return kept.reset_index(drop=True), rejects
