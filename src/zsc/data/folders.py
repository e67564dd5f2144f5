"""What a photo folder holds, from file names only (cheap enough for every Snakefile parse).

Species and group folders with their image counts, the most images a sampling can draw, and why a
configured folder cannot be scanned. The scan itself (zsc.data.scan) is what decodes and hashes.
"""

from __future__ import annotations

import os
from pathlib import Path

from zsc.data.images import IMAGE_EXTENSIONS

SYSTEM_FOLDERS = frozenset(
    {"/", "/proc", "/sys", "/dev", "/run", "/boot", "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib64"}
)  # walking these would scan the machine, not photos


def root_problem(root: Path | str) -> str | None:
    """Why a configured photo folder cannot be scanned, or None."""
    root = Path(root)
    if root.exists() and str(root.resolve()) in SYSTEM_FOLDERS:
        return f"'{root}' is a system folder, not a photo folder"
    if not root.exists():
        return f"folder '{root}' does not exist"
    if not root.is_dir():
        return f"'{root}' is a file, not a folder"
    if not os.access(root, os.R_OK | os.X_OK):
        return f"folder '{root}' cannot be read (permission denied)"
    return None


def species_folders(root: Path, label_level: int) -> dict[str, int]:
    """Folder name at ``label_level`` (species; groups with group_level) -> number of image-extension
    files below it, from names only (cheap; symlinks not followed)."""
    counts: dict[str, int] = {}
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        folders = Path(folder).relative_to(root).parts
        if not folders or not -len(folders) <= label_level < len(folders):
            continue
        n_images = sum(1 for f in filenames if Path(f).suffix.lower() in IMAGE_EXTENSIONS and not f.startswith("."))
        if n_images:
            counts[folders[label_level]] = counts.get(folders[label_level], 0) + n_images
    return counts


def dataset_species_counts(config: dict, dataset: str) -> dict[str, int] | None:
    """Images per species a dataset offers (from names: cheap), or None while its photos are absent."""
    spec = config["datasets"][dataset]
    if "demo" in spec:
        return {f"species{i}": spec["demo"]["per_species"] for i in range(spec["demo"]["n_species"])}
    if spec.get("labels"):
        if not Path(spec["labels"]).is_file():
            return None
        from zsc.data.scan import read_label_table

        labels = read_label_table(spec["labels"])["label"]
        return labels[labels != ""].value_counts().to_dict()
    root = Path(spec["root"])
    return species_folders(root, spec["label_level"]) if root.is_dir() and not root_problem(root) else None


def sample_size_bound(sampling: dict, species: dict[str, int]) -> int:
    """The most images a sampling can draw from these species (a cell's N, at most)."""
    kept = [n for n in species.values() if n >= sampling["min_per_class"]]
    per_class = sampling.get("per_class") or sampling.get("max_per_class")
    return sum(min(n, per_class) if per_class else n for n in kept)


def image_folders(root: Path) -> dict[str, int]:
    """Relative folder ('.' for the root) -> the image files directly in it (names only, hidden files
    skipped): one walk of a folder serves every check that counts its photos or names its cameras."""
    found = {}
    for folder, dirnames, filenames in os.walk(root):
        n_images = sum(1 for f in filenames if Path(f).suffix.lower() in IMAGE_EXTENSIONS and not f.startswith("."))
        if n_images:
            found[Path(folder).relative_to(root).as_posix()] = n_images
    return found


def species_per_group(spec: dict) -> dict[str, set[str]] | None:
    """Species names per group of a split dataset (from folder names or the labels CSV; cheap), or None."""
    if "demo" in spec:
        return None  # generated: every group has several species
    per_group: dict[str, set[str]] = {}
    if spec.get("labels"):
        from zsc.data.scan import read_label_table

        if not Path(spec["labels"]).is_file():
            return None
        try:
            table = read_label_table(spec["labels"])
        except ValueError:
            return None  # reported by _check_label_table
        for group, label in zip(table["group"], table["label"]):
            if label:
                per_group.setdefault(group, set()).add(label)
        return per_group
    root = Path(spec["root"])
    if spec["group_level"] is None or not root.is_dir() or root_problem(root):
        return None
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        parts = Path(folder).relative_to(root).parts
        levels = (spec["label_level"], spec["group_level"])
        if not parts or not all(-len(parts) <= level < len(parts) for level in levels):
            continue
        if any(Path(f).suffix.lower() in IMAGE_EXTENSIONS and not f.startswith(".") for f in filenames):
            per_group.setdefault(parts[spec["group_level"]], set()).add(parts[spec["label_level"]])
    return per_group


def groups_found(spec: dict) -> list[str] | None:
    """The groups a dataset's photos have (demo spec, labels table or group folders), or None while
    they cannot be read (photos or table absent)."""
    if "demo" in spec:
        from zsc.data.demo import demo_groups

        return demo_groups(spec["demo"]["n_species"]) if spec["demo"]["nested"] else []
    if spec.get("labels"):
        from zsc.data.scan import read_label_table

        if not Path(spec["labels"]).is_file():
            return None
        try:
            return sorted(set(read_label_table(spec["labels"])["group"]) - {""})
        except ValueError:
            return None  # reported by the labels table check
    if spec.get("group_level") is None or not Path(spec["root"]).is_dir() or root_problem(spec["root"]):
        return None
    return sorted(species_folders(Path(spec["root"]), spec["group_level"]))
