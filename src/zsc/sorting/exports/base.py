"""What an export format is: the shape every one of them has (``Export``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

# the run tables an export may read, by the name its rule's input gets (the workflow maps them to paths)
EXPORT_INPUTS = ("frames", "crops", "labels", "assignments", "deployments", "detections")


@dataclass(frozen=True)
class Export:
    """One output format of an applied review.

    ``name``: its rule is ``sort_<name>``; ``output``: the ``zsc.layout`` pattern it writes (a folder when
    ``directory``); ``needs``: the sort run's config keys without which it is not made (``missing``: what
    the apply says when only those beyond ``detections`` are absent); ``inputs``: what it reads, from
    ``EXPORT_INPUTS``; ``params``: the run's config keys it takes; ``write(inputs, output, context)``
    reads its inputs (paths by name) and writes ``output``; ``context`` holds ``run`` (the run's
    name), ``root`` (its inbox) and the ``params``."""

    name: str
    output: str
    directory: bool
    needs: tuple[str, ...]
    inputs: tuple[str, ...]
    write: Callable[[dict, str, dict], None]
    params: tuple[str, ...] = ()
    missing: str = ""
    doc: str = ""
    caption: str = ""  # a figure for `snakemake --report` ("Sort runs"): its caption, relative to the rules

    def __post_init__(self):
        unknown = set(self.inputs) - set(EXPORT_INPUTS)
        if unknown:
            raise ValueError(f"export '{self.name}': unknown inputs {sorted(unknown)}; known: {EXPORT_INPUTS}")

    def applies_to(self, spec: dict) -> bool:
        """Whether a sort run (its config entry) gets this export once a review is applied."""
        return all(spec.get(key) for key in self.needs)

    def missing_note(self, run: str, spec: dict) -> str:
        """What the apply says when the run is of this export's kind but lacks a key it needs."""
        lacking = [key for key in self.needs if not spec.get(key)]
        if not self.missing or not spec.get("detections") or not lacking:
            return ""
        return f"note: no {self.doc or self.name} for sort run '{run}': {self.missing.format(run=run)}"
