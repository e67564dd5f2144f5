"""Steps of workflow/rules/data.smk: demo photos, the scan, samples."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from zsc.data.sampling import draw_sample
from zsc.data.scan import (
    NO_GROUP,
    Layout,
    drop_small_species,
    label_from_table,
    read_label_table,
    reject_where,
    scan_folder,
)
from zsc.io import frame_fingerprint, log, read_metadata, write_table
from zsc.steps.common import print_rejects


def demo_photos(output_dir: str, spec: dict) -> None:
    from zsc.data.demo import generate

    generate(
        output_dir,
        n_species=spec["n_species"],
        per_species=spec["per_species"],
        seed=spec["seed"],
        size=spec["size"],
        nested=spec["nested"],
    )


def scan(
    root: str,
    label_level: int,
    group_level: int | None,
    min_images_per_species: int,
    manifest_path: str,
    rejects_path: str,
    workers: int = 1,
    labels_path: str | None = None,
    split_by_group: bool = False,
    unlabeled: bool = False,
    probe_cache_path: str | None = None,
    fingerprint: str | None = None,
) -> None:
    """Manifest + rejects of a dataset; species from folder names, or from a labels CSV when given.

    With ``split_by_group`` every photo needs a group: one without (a blank ``group`` cell) is a reject.
    ``unlabeled`` (a sort run's inbox): any layout, no species; exact duplicates are kept, since each
    must land in a folder (the sort clusters one copy and files the others beside it)."""
    if unlabeled:
        return scan_inbox(root, manifest_path, rejects_path, workers, probe_cache_path, fingerprint)
    if labels_path:
        manifest, rejects = scan_folder(root, Layout(label_level=None), workers=workers)
        try:
            manifest, rejects = label_from_table(manifest, rejects, read_label_table(labels_path))
        except ValueError as error:
            raise ValueError(f"{labels_path}: {error}") from None
    else:
        manifest, rejects = scan_folder(root, Layout(label_level, group_level), workers=workers)
    if split_by_group:
        manifest, rejects = reject_where(manifest, rejects, manifest["group"] == "", lambda row: NO_GROUP)
    manifest, rejects = drop_small_species(manifest, rejects, min_images_per_species)
    n_species = manifest["label"].nunique()
    write_table(rejects, rejects_path)
    if n_species < 2:
        print_rejects(rejects)  # Snakemake deletes a failed job's outputs; its log stays
        raise ValueError(
            f"{root}: {n_species} usable species after the scan (rejects listed in the job's log); "
            f"clustering needs at least 2"
        )
    log(f"scan {root}: {len(manifest)} images of {n_species} species, {len(rejects)} rejected")
    write_table(manifest, manifest_path, metadata={"root": str(root), "fingerprint": frame_fingerprint(manifest)})


def scan_inbox(
    root: str,
    manifest_path: str,
    rejects_path: str,
    workers: int = 1,
    probe_cache_path: str | None = None,
    fingerprint: str | None = None,
) -> None:
    """Scan unlabeled photos: every usable photo, at any depth, duplicates included. With
    ``probe_cache_path`` (not an output: kept between runs), unchanged photos are not read again,
    unless the folder's ``fingerprint`` (paths, sizes, mtimes) is the one the cache was written for:
    then nothing changed that the fingerprint sees, the rescan was forced (``--forcerun sort_scan``),
    and every photo is read and hashed again (a file rewritten with its old size and mtime is found)."""
    from zsc.data.scan import probe_cache_rows, read_probe_cache

    cache = read_probe_cache(probe_cache_path)
    if cache and fingerprint and read_metadata(probe_cache_path).get("fingerprint") == fingerprint:
        log(f"scan {root}: the folder is as last scanned: a forced rescan, every photo hashed again")
        cache = {}
    manifest, rejects = scan_folder(
        root,
        Layout(label_level=None),
        workers=workers,
        keep_duplicates=True,
        probe_cache=cache,
    )
    if probe_cache_path:
        write_table(probe_cache_rows(manifest, Path(root)), probe_cache_path, metadata={"fingerprint": fingerprint})
    write_table(rejects, rejects_path)
    if manifest.empty:
        print_rejects(rejects)
        raise ValueError(f"{root}: no usable photos to sort (rejects listed in the job's log)")
    log(f"scan {root}: {len(manifest)} photos to sort, {len(rejects)} rejected")
    write_table(manifest, manifest_path, metadata={"root": str(root), "fingerprint": frame_fingerprint(manifest)})


def sample(manifest_path: str, spec: dict, seed: int, output_path: str, group: str | None = None) -> None:
    """Draw the seed's sample; with ``group``, from that split (taxon group) only, as the reference does."""
    manifest = pd.read_parquet(manifest_path)
    if group is not None:
        if group not in set(manifest["group"]):
            raise ValueError(
                f"split '{group}': no usable image in that group; groups found: {sorted(set(manifest['group']))}"
            )
        manifest = manifest[manifest["group"] == group].reset_index(drop=True)
    n_species = manifest["label"].nunique()
    if n_species < 2:
        where = f"split '{group}'" if group is not None else "the dataset"
        raise ValueError(
            f"{where} has {n_species} usable species ({sorted(set(manifest['label']))}); clustering "
            f"needs at least 2: remove it from the dataset's splits, or unset split_by"
        )
    drawn = draw_sample(manifest, spec, seed)
    write_table(
        drawn,
        output_path,
        metadata={
            "spec": spec,
            "seed": seed,
            "split": group,
            "excluded_species": drawn.attrs["excluded"],
            "counts_per_species": drawn.attrs["counts"],
        },
    )
