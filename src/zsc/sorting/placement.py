"""Put a run's photos into output folders (symlinks or verified copies) without touching the user's files.

Three guarantees, each tested:

- a photo appears under its final name complete or not at all (copies go through a temporary name,
  a full disk is one line naming the folder);
- the file placed is the file the scan saw: a symlink in the inbox must lead to a file inside the
  inbox, and a copy's bytes must hash to the scan's content hash, or the photo is refused with a reason;
- in a folder the user may also use (``final/``), the workflow removes only files it wrote itself,
  as kept in a record next to the folder; anything else there stays, and is reported. A copy is
  removed only when the same bytes are placed again (a photo moved to another label): the copy of a
  photo that left the inbox, or whose inbox file now holds other bytes, may be the user's only one.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from zsc.io import ChangedSinceScan, atomic_path, content_hash, copy_verified, symlink_atomic, write_table

LINK_MODES = ("symlink", "copy")
# size and mtime_ns: a copy's stat when written, so a later apply knows it unchanged without hashing it;
# image_id and label: whose copy it is, for a copy kept after its photo left the inbox
RECORD_COLUMNS = ["file", "kind", "target", "content_hash", "size", "mtime_ns", "image_id", "label"]


def inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def locate(root: Path, image_id: str, resolved_root: Path | None = None) -> tuple[Path | None, str | None]:
    """(the photo's real path, None), or (None, why it cannot be placed now: gone, or a link that leads
    outside the root). ``resolved_root``: ``root.resolve()``, passed in by callers that place many photos."""
    source = root / image_id
    if not source.exists():
        return None, "no longer in the inbox (moved or deleted since the scan)"
    real = source.resolve()
    if not inside(real, resolved_root or root.resolve()):
        return None, f"a symlink leading outside the inbox ({real}); not placed"
    return real, None


@dataclass
class Placed:
    """What a placement did: the files written, the photos refused (image_id -> reason), notes for the log,
    the copies kept because their photo left the inbox (record rows), the links removed as dangling."""

    written: list[dict] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    kept_gone: list[dict] = field(default_factory=list)
    dangling_removed: list[str] = field(default_factory=list)


def place_one(
    root: Path, image_id: str, target: Path, mode: str, expected_hash: str | None, resolved_root: Path | None = None
) -> dict:
    """Write one link or verified copy; return its record row. Raises ChangedSinceScan / ValueError."""
    source, problem = locate(root, image_id, resolved_root)
    if problem:
        raise ValueError(problem)
    target.parent.mkdir(parents=True, exist_ok=True)
    if mode == "symlink":
        link = os.path.relpath(source, target.parent)
        symlink_atomic(link, target)
        return {"kind": "symlink", "target": link, "content_hash": expected_hash or "", "size": "", "mtime_ns": ""}
    copy_verified(source, target, expected_hash)
    return {"kind": "copy", "target": "", "content_hash": expected_hash or content_hash(target), **file_stat(target)}


def file_stat(path: Path) -> dict[str, str]:
    """A copy's size and mtime as the record keeps them."""
    stat = path.stat()
    return {"size": str(stat.st_size), "mtime_ns": str(stat.st_mtime_ns)}


def place_photos(root: Path | str, plan: pd.DataFrame, output_dir: Path | str, mode: str) -> Placed:
    """Place every row of ``plan`` (image_id, file relative to ``output_dir``, optional content_hash)."""
    if mode not in LINK_MODES:
        raise ValueError(f"sort link mode must be one of {LINK_MODES}, got '{mode}'")
    root, output_dir = Path(root), Path(output_dir)
    if plan["file"].duplicated().any():  # output_name is one-to-one: this would be a bug, never overwrite
        raise RuntimeError("two photos map to one output path; nothing written")
    hashes = plan["content_hash"] if "content_hash" in plan else [None] * len(plan)
    labels = plan["label"] if "label" in plan else [""] * len(plan)
    placed = Placed()
    resolved_root = root.resolve()
    for image_id, relative, expected, label in zip(plan["image_id"], plan["file"], hashes, labels):
        try:
            row = place_one(root, image_id, output_dir / relative, mode, expected or None, resolved_root)
        except (ChangedSinceScan, ValueError) as error:
            placed.refused[image_id] = str(error)
            continue
        placed.written.append({"file": relative, **row, "image_id": image_id, "label": label})
    return placed


def write_folder(root: Path | str, plan: pd.DataFrame, output_dir: Path | str, mode: str) -> Placed:
    """A folder only the workflow writes (``clusters/``): built under a temporary name, renamed when whole."""
    output_dir = Path(output_dir)
    with atomic_path(output_dir) as building:
        Path(building).mkdir(parents=True)
        placed = place_photos(root, plan, building, mode)
        if output_dir.exists():  # called outside Snakemake (which removes old outputs first): replace ours
            aside = output_dir.with_name(f".{output_dir.name}.old-{os.getpid()}")
            os.replace(output_dir, aside)
            shutil.rmtree(aside)
    return placed


# ------------------------------------------------------------------ folders shared with the user


def record_path(output_dir: Path | str) -> Path:
    """Where the record of what the workflow wrote into ``output_dir`` lives: next to it, not inside it."""
    output_dir = Path(output_dir)
    return output_dir.with_name(f"{output_dir.name}.written.csv")


def read_record(output_dir: Path | str) -> pd.DataFrame:
    """What the workflow wrote into ``output_dir`` (``RECORD_COLUMNS``, all text; empty when nothing)."""
    path = record_path(output_dir)
    if not path.is_file():
        return pd.DataFrame(columns=RECORD_COLUMNS)
    record = pd.read_csv(path, dtype=str, keep_default_na=False)
    return record.reindex(columns=RECORD_COLUMNS, fill_value="")  # a record written before size/mtime_ns


def applied_content(output_dir: Path | str) -> dict[str, set[tuple[str, str]]]:
    """image_id -> the (label, content hash) pairs the workflow filed for it in ``output_dir`` under a
    label (a record written before labels were recorded says nothing)."""
    record = read_record(output_dir)
    applied: dict[str, set[tuple[str, str]]] = {}
    for image_id, label, digest in zip(record["image_id"], record["label"], record["content_hash"]):
        if image_id and label and digest:
            applied.setdefault(image_id, set()).add((label, digest))
    return applied


def still_ours(path: Path, row: dict, stat_suffices: bool = False) -> bool:
    """Is the file at ``path`` still exactly what the workflow wrote there (not replaced or edited)?
    A copy is hashed, unless ``stat_suffices`` (the file is to be left alone, so a wrong answer loses
    nothing) and its size and mtime are the recorded ones. A file to be removed is always hashed."""
    if row["kind"] == "symlink":  # an empty target: recorded before the write (a killed apply), any link of ours
        return path.is_symlink() and (not row["target"] or os.readlink(path) == row["target"])
    if path.is_symlink() or not path.is_file():
        return False
    if stat_suffices and row.get("mtime_ns") and file_stat(path) == {"size": row["size"], "mtime_ns": row["mtime_ns"]}:
        return True
    return not row["content_hash"] or content_hash(path) == row["content_hash"]


def user_files(output_dir: Path, ours: set[str]) -> list[str]:
    """Files under ``output_dir`` the workflow did not write (relative paths)."""
    if not output_dir.is_dir():
        return []
    found = []
    for folder, _, names in os.walk(output_dir):
        for name in names:
            relative = (Path(folder) / name).relative_to(output_dir).as_posix()
            if relative not in ours:
                found.append(relative)
    return sorted(found)


def free_name(output_dir: Path, relative: str, taken: set[str]) -> str:
    """``relative``, or ``<stem>~zsc<n><suffix>`` when a file of the user's holds that name."""
    path = Path(relative)
    candidate, count = relative, 1
    while candidate in taken or os.path.lexists(output_dir / candidate):
        candidate = (path.parent / f"{path.stem}~zsc{count}{path.suffix}").as_posix()
        count += 1
    return candidate


def planned_identity(source: Path, target: Path, mode: str, expected_hash: str | None) -> dict:
    """The record row ``place_one`` would write for the photo at ``source`` (its real path), without
    writing (to leave an unchanged file alone)."""
    if mode == "symlink":
        return {
            "kind": "symlink",
            "target": os.path.relpath(source, target.parent),
            "content_hash": expected_hash or "",
        }
    return {"kind": "copy", "target": "", "content_hash": expected_hash or ""}


def update_shared_folder(
    root: Path | str, plan: pd.DataFrame, output_dir: Path | str, mode: str
) -> tuple[pd.DataFrame, Placed]:
    """Bring ``output_dir`` to ``plan``, touching only files the workflow wrote there before.

    A file of ours that is planned again unchanged is left alone; one no longer planned is removed;
    one the user edited or replaced is kept and reported; a user's file holding a planned name keeps
    it (the photo gets a ``~zsc1`` name, returned in the plan's ``file`` column). The record is
    extended before any write, so a killed apply never turns the workflow's own files into files it
    does not know.
    """
    root, output_dir = Path(root), Path(output_dir)
    record = read_record(output_dir)
    hashes = plan["content_hash"] if "content_hash" in plan else [""] * len(plan)
    labels = plan["label"] if "label" in plan else [""] * len(plan)
    wanted = {
        relative: (image_id, expected or None, label)
        for image_id, relative, expected, label in zip(plan["image_id"], plan["file"], hashes, labels)
    }
    placed_again = {expected for _, expected, _ in wanted.values() if expected}
    unchanged, kept_edited, kept_gone, dangling = [], [], [], []
    resolved_root = root.resolve()
    for row in record.to_dict("records"):
        path = output_dir / row["file"]
        if not os.path.lexists(path):
            continue
        planned_again = False
        if row["file"] in wanted:
            image_id, expected, label = wanted[row["file"]]
            source, problem = locate(root, image_id, resolved_root)
            identity = planned_identity(source, path, mode, expected) if problem is None else {}
            planned_again = all(str(identity.get(key)) == str(row[key]) for key in ("kind", "target", "content_hash"))
        only_copy = not planned_again and row["kind"] == "copy" and row["content_hash"] not in placed_again
        if not still_ours(path, row, stat_suffices=planned_again or only_copy):
            kept_edited.append(row["file"])
            continue
        if planned_again:
            if row["kind"] == "copy" and not row["mtime_ns"]:  # verified by its hash: record its stat
                row.update(file_stat(path))
            unchanged.append({**row, "image_id": image_id, "label": label})
            continue
        if only_copy:  # its photo left the inbox, or now holds other bytes: this may be the only copy
            kept_gone.append({**row, "image_id": row["image_id"] or _image_id_of(row["file"])})
            continue
        if row["kind"] == "symlink" and not path.exists():
            dangling.append(row["file"])
        path.unlink()
        _remove_empty_parents(path.parent, output_dir)
    kept = {row["file"] for row in unchanged}
    plan = plan.copy()
    taken: set[str] = kept | {row["file"] for row in kept_gone}
    files = []
    for relative in plan["file"]:
        if relative not in kept:
            relative = free_name(output_dir, relative, taken)
            taken.add(relative)
        files.append(relative)
    renamed = [new for new, old in zip(files, plan["file"]) if new != old]
    plan["file"] = files
    todo = plan[~plan["file"].isin(kept)]
    pending = pd.DataFrame(
        {"file": todo["file"], "kind": mode, "target": "", "content_hash": "", "size": "", "mtime_ns": ""}
    ).reindex(columns=RECORD_COLUMNS, fill_value="")
    write_table(pd.concat([record, pending], ignore_index=True).drop_duplicates("file"), record_path(output_dir))
    placed = place_photos(root, todo, output_dir, mode)
    placed.written = unchanged + kept_gone + placed.written
    placed.kept_gone, placed.dangling_removed = kept_gone, dangling
    write_table(pd.DataFrame(placed.written, columns=RECORD_COLUMNS), record_path(output_dir))
    others = user_files(output_dir, {row["file"] for row in placed.written})
    if kept_edited:
        placed.notes.append(
            f"{len(kept_edited)} file(s) the workflow wrote were changed since and are kept: {kept_edited[:10]}"
        )
    if kept_gone:
        placed.notes.append(
            f"{len(kept_gone)} copy(ies) kept in {output_dir.name}/ although their photo is no longer in the inbox "
            f"(or holds other bytes now), as they may be your only copy: "
            f"{[row['file'] for row in kept_gone[:10]]}"
        )
    if dangling:
        placed.notes.append(
            f"{len(dangling)} link(s) removed from {output_dir.name}/: their photo is no longer in the inbox: {dangling[:10]}"
        )
    if renamed:
        placed.notes.append(
            f"{len(renamed)} photo(s) placed under another name because a file of yours holds theirs: {renamed[:10]}"
        )
    if others:
        placed.notes.append(
            f"{len(others)} file(s) in {output_dir} were not written by the workflow and were left "
            f"as they are: {others[:10]}"
        )
    return plan, placed


def _image_id_of(relative: str) -> str:
    """The photo a file of an older record (without image_id) holds: ``<folder>/<its inbox path>``."""
    return relative.split("/", 1)[-1]


def _remove_empty_parents(folder: Path, stop: Path) -> None:
    while folder != stop and inside(folder, stop):
        try:
            folder.rmdir()  # only if empty: never removes a file
        except OSError:
            return
        folder = folder.parent
