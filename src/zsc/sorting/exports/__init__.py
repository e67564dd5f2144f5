"""The output formats of an applied review, one module (or folder) each, registered by name.

Each is an ``Export`` (``base.py``): what it needs, what it reads and writes, how it writes. The
workflow makes one rule per entry (``workflow/rules/exports.smk``) and asks ``exports_for`` which a
run gets; adding a format is one module here plus its ``register`` call.
"""

from __future__ import annotations

from zsc.sorting.exports.base import EXPORT_INPUTS, Export

EXPORTS: dict[str, Export] = {}


def register(export: Export) -> Export:
    if export.name in EXPORTS:
        raise ValueError(f"export '{export.name}' registered twice")
    EXPORTS[export.name] = export
    return export


def exports_for(spec: dict) -> list[Export]:
    """The exports a sort run (its config entry) gets once a review is applied."""
    return [export for export in EXPORTS.values() if export.applies_to(spec)]


def missing_notes(run: str, spec: dict) -> list[str]:
    """What the apply says about exports the run cannot get yet (a camera-trap run without deployments)."""
    return [note for export in EXPORTS.values() if (note := export.missing_note(run, spec))]


# the formats, registered at import (each module calls register)
from zsc.sorting.exports import camtrap_dp, frame_labels, md_detections, season_summary  # noqa: E402, F401

__all__ = ["EXPORTS", "EXPORT_INPUTS", "Export", "exports_for", "missing_notes", "register"]
